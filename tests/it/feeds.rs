//! Feeds against the real server: RSS 2.0 and Atom at WordPress's addresses,
//! parsed by a feed reader (`feed-rs`) and by Python's `feedparser`; an
//! article published, edited or unpublished shows in every feed that lists it
//! on the next request; comments feeds show approved comments and no email.

use broadsheet::discussion::{self, Action};
use chrono::Utc;

use crate::helpers::{TestApp, article, fields, python};

/// Fetches a feed, checks its content type and parses it as a feed reader would.
async fn feed(app: &TestApp, path: &str) -> (feed_rs::model::Feed, String) {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    let kind = response.headers()["content-type"].to_str().expect("ascii").to_owned();
    let expected = if path.ends_with("/atom/") { "application/atom+xml" } else { "application/rss+xml" };
    assert!(kind.starts_with(expected), "{path}: {kind}");
    let text = response.text().await.expect("body");
    let parsed =
        feed_rs::parser::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{path} does not parse: {e}\n{text}"));
    (parsed, text)
}

fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries.iter().map(|e| e.title.as_ref().map(|t| t.content.clone()).unwrap_or_default()).collect()
}

/// Python's feedparser: `bozo` 0 (well-formed) and the entries' titles.
fn feedparser(text: &str) -> Option<(i64, Vec<String>)> {
    let script = "import sys, json, feedparser\n\
                  d = feedparser.parse(sys.stdin.buffer.read())\n\
                  print(json.dumps([int(d.bozo), d.get('version', ''), [e.get('title', '') for e in d.entries]]))";
    let output = python("feedparser", script, text)?;
    let (bozo, version, titles): (i64, String, Vec<String>) = serde_json::from_str(&output).expect("feedparser output");
    assert!(!version.is_empty(), "feedparser recognised no feed format");
    Some((bozo, titles))
}

const ADDRESSES: [&str; 10] = [
    "/feed/",
    "/feed/atom/",
    "/category/news/feed/",
    "/category/news/feed/atom/",
    "/tag/sea/feed/",
    "/tag/sea/feed/atom/",
    "/author/ana-ruiz/feed/",
    "/author/ana-ruiz/feed/atom/",
    "/comments/feed/",
    "/comments/feed/atom/",
];

#[tokio::test]
async fn every_feed_parses_and_follows_publish_edit_and_unpublish() {
    let app = TestApp::spawn_empty().await;
    let front_matter = "slug = \"tides\"\nbyline = \"Ana Ruiz\"\ncategories = [\"News\"]\ntags = [\"sea\"]\n\
                        agency = \"Harbour Wire\"\nstandfirst = \"The new tables & what changes.\"";
    app.publish(&article("Tide tables revised", front_matter, "See the [tables](/tables/) & <b>more</b>.")).await;
    app.publish(&article("Library opens late", "slug = \"library\"\ncategories = [\"Culture\"]", "Unrelated.")).await;

    for path in ADDRESSES {
        let (parsed, text) = feed(&app, path).await;
        let listed = titles(&parsed);
        if path.starts_with("/comments/") {
            assert!(listed.is_empty(), "{path}: no comments yet");
        } else {
            assert!(listed.contains(&"Tide tables revised".to_owned()), "{path}: {listed:?}");
            assert_eq!(listed.contains(&"Library opens late".to_owned()), path.starts_with("/feed/"), "{path}");
        }
        if let Some((bozo, python_titles)) = feedparser(&text) {
            assert_eq!(bozo, 0, "{path} is not well-formed for feedparser");
            assert_eq!(python_titles, listed, "{path}");
        }
    }

    // What the site feed says about the article.
    let (parsed, text) = feed(&app, "/feed/").await;
    let entry = parsed.entries.iter().find(|e| e.title.as_ref().is_some_and(|t| t.content == "Tide tables revised"));
    let entry = entry.expect("the article");
    assert!(entry.links[0].href.starts_with("https://news.example.org/") && entry.links[0].href.ends_with("/tides/"));
    assert!(entry.published.is_some());
    assert_eq!(entry.authors[0].name.as_deref(), Some("Ana Ruiz"));
    let body = entry.content.as_ref().and_then(|c| c.body.clone()).expect("full text");
    assert!(body.contains("href=\"https://news.example.org/tables/\""), "links made absolute: {body}");
    assert!(text.contains("<dc:creator>Harbour Wire</dc:creator>"), "the agency is credited");
    let categories: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
    assert!(categories.contains(&"News") && categories.contains(&"sea"), "{categories:?}");
    let (atom, _) = feed(&app, "/feed/atom/").await;
    let atom_entry = atom.entries.iter().find(|e| e.title.as_ref().is_some_and(|t| t.content == "Tide tables revised"));
    let atom_entry = atom_entry.expect("the article in Atom");
    assert_eq!(atom_entry.summary.as_ref().map(|s| s.content.as_str()), Some("The new tables & what changes."));
    assert_eq!(atom_entry.authors[0].uri.as_deref(), Some("https://news.example.org/author/ana-ruiz/"));

    // Edited: every feed that lists it shows the new headline on the next request.
    app.publish(&article("Tide tables revised again", front_matter, "Second version.")).await;
    for path in ADDRESSES.iter().filter(|p| !p.starts_with("/comments/")) {
        let listed = titles(&feed(&app, path).await.0);
        assert!(listed.contains(&"Tide tables revised again".to_owned()), "{path}: {listed:?}");
        assert!(!listed.contains(&"Tide tables revised".to_owned()), "{path}: {listed:?}");
    }

    // Unpublished: gone from all of them.
    let draft = format!("{front_matter}\nstatus = \"draft\"");
    app.publish(&article("Tide tables revised again", &draft, "Withdrawn.")).await;
    for path in ["/feed/", "/feed/atom/", "/category/news/feed/", "/tag/sea/feed/atom/", "/author/ana-ruiz/feed/"] {
        let listed = titles(&feed(&app, path).await.0);
        assert!(!listed.iter().any(|t| t.starts_with("Tide tables")), "{path}: {listed:?}");
    }
    app.stop().await;
}

#[tokio::test]
async fn comment_feeds_show_approved_comments_and_never_an_email() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    let path = app.article_at("harbour", "").await;
    let browser = app.browser();
    // The first comment is held (a first-time commenter); the feeds wait for a moderator.
    let text = "The harbour & the quay <script>alert(1)</script> deserve [better](https://harbour.example.org/plan).";
    let response = app.comment(&browser, &path, &fields(text, "Ana", "ana.secret@example.org")).await;
    assert_eq!(response.status(), 303);
    let id = app.store.list_comments(None, 1).await.expect("list")[0].id;
    let article_feed = format!("{path}feed/");
    for feed_path in ["/comments/feed/", article_feed.as_str()] {
        assert!(titles(&feed(&app, feed_path).await.0).is_empty(), "{feed_path}: held comments are not in feeds");
    }

    discussion::moderate(&app.store, &app.spam, &app.notifier, id, Action::Approve, Utc::now().timestamp())
        .await
        .expect("approved");
    for feed_path in ["/comments/feed/", "/comments/feed/atom/", article_feed.as_str(), &format!("{path}feed/atom/")] {
        let (parsed, text) = feed(&app, feed_path).await;
        assert_eq!(titles(&parsed), ["Comment on Story harbour by Ana"], "{feed_path}");
        let entry = &parsed.entries[0];
        assert!(entry.links[0].href.ends_with(&format!("{path}#comment-{id}")), "{}", entry.links[0].href);
        let body = entry.content.as_ref().and_then(|c| c.body.clone()).unwrap_or_default();
        assert!(body.contains("deserve <a") && !body.contains("<script"), "{body}");
        assert!(body.contains("href=\"https://harbour.example.org/plan\"") && body.contains("nofollow ugc"), "{body}");
        assert!(!text.contains("ana.secret") && !text.contains("example.org\""), "no email in {feed_path}");
        if let Some((bozo, _)) = feedparser(&text) {
            assert_eq!(bozo, 0, "{feed_path}");
        }
    }
    // An article that does not exist, or under the wrong date, has no feed.
    assert_eq!(app.get("/2020/01/01/harbour/feed/").await.status(), 404);
    assert_eq!(app.get("/2020/01/01/nothing/feed/").await.status(), 404);
    assert_eq!(app.get("/tag/nothing/feed/").await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn feeds_are_cached_with_etags_and_named_in_every_page_head() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article("Bridge closed", "slug = \"bridge\"\ntags = [\"roads\"]", "Closed.")).await;
    let first = app.get("/feed/").await;
    let etag = first.headers()["etag"].clone();
    let again = app.client.get(app.url("/feed/")).header("if-none-match", etag.clone()).send().await.expect("get");
    assert_eq!(again.status(), 304);
    let rss2 = app.get("/feed/rss2/").await;
    assert_eq!(rss2.status(), 301, "WordPress's other address redirects");
    assert_eq!(crate::helpers::location(&rss2), "/feed/");

    let front = app.page("/").await;
    assert!(
        front.contains(
            r#"<link rel="alternate" type="application/rss+xml" title="The Test Gazette (RSS)" href="/feed/">"#
        )
    );
    assert!(front.contains(r#"type="application/atom+xml""#) && front.contains(r#"href="/comments/feed/""#));
    let tag = app.page("/tag/roads/").await;
    assert!(tag.contains(r#"href="/tag/roads/feed/""#) && tag.contains(r#"href="/tag/roads/feed/atom/""#));
    let path = crate::helpers::link_to(&front, "bridge");
    let page = app.page(&path).await;
    assert!(page.contains(&format!(r#"href="{path}feed/""#)), "the article names its comments feed");
    app.stop().await;
}

/// The `<loc>` and `<lastmod>` of every entry of a sitemap, read by an XML parser.
async fn sitemap(app: &TestApp, path: &str) -> Vec<(String, String)> {
    let response = app.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("application/xml"));
    let text = response.text().await.expect("body");
    let doc =
        roxmltree::Document::parse(&text).unwrap_or_else(|e| panic!("{path} is not well-formed XML: {e}\n{text}"));
    let child_text = |node: roxmltree::Node, name: &str| {
        node.children().find(|c| c.tag_name().name() == name).and_then(|c| c.text()).unwrap_or_default().to_owned()
    };
    let entries: Vec<(String, String)> = doc
        .descendants()
        .filter(|n| matches!(n.tag_name().name(), "url" | "sitemap"))
        .map(|n| (child_text(n, "loc"), child_text(n, "lastmod")))
        .collect();
    entries
}

fn has(entries: &[(String, String)], suffix: &str) -> bool {
    entries.iter().any(|(loc, _)| loc.starts_with("https://news.example.org/") && loc.ends_with(suffix))
}

#[tokio::test]
async fn sitemaps_and_robots_follow_publish_edit_and_unpublish() {
    let app = TestApp::spawn_empty().await;
    let front_matter = "slug = \"tides\"\nbyline = \"Ana Ruiz\"\ncategories = [\"News > Local\"]\ntags = [\"sea\"]";
    app.publish(&article("Tides & times", front_matter, "First.")).await;
    let old = "slug = \"archive\"\ndate = 2026-01-15T10:00:00Z";
    app.publish(&article("An older story", old, "Old.")).await;
    app.publish(&article("About us", "slug = \"about\"\nkind = \"page\"", "Who we are.")).await;

    let robots = app.page("/robots.txt").await;
    assert!(robots.contains("Disallow: /admin/"));
    assert!(robots.contains("Sitemap: https://news.example.org/sitemap.xml"));
    assert!(robots.contains("Sitemap: https://news.example.org/news-sitemap.xml"));

    let index = sitemap(&app, "/sitemap.xml").await;
    let month = broadsheet::publishing::permalink(
        broadsheet::domain::article::Kind::Article,
        "x",
        Some(Utc::now().timestamp()),
        app.config.time_zone,
    );
    let this_month = format!("/sitemap-articles-{}.xml", month[1..8].replace('/', "-"));
    for map in [this_month.as_str(), "/sitemap-articles-2026-01.xml", "/sitemap-pages.xml"] {
        assert!(has(&index, map), "{map} in {index:?}");
    }
    for map in ["/sitemap-categories.xml", "/sitemap-tags.xml", "/sitemap-authors.xml"] {
        assert!(has(&index, map), "{map} in {index:?}");
    }
    assert!(index.iter().all(|(_, lastmod)| lastmod.ends_with('Z') && lastmod.len() == 20), "{index:?}");
    assert!(has(&sitemap(&app, &this_month).await, "/tides/"));
    assert!(has(&sitemap(&app, "/sitemap-articles-2026-01.xml").await, "/2026/01/15/archive/"));
    assert!(has(&sitemap(&app, "/sitemap-pages.xml").await, "/about/"));
    let categories = sitemap(&app, "/sitemap-categories.xml").await;
    assert!(has(&categories, "/category/news/local/") && has(&categories, "/category/news/"), "{categories:?}");
    assert!(has(&sitemap(&app, "/sitemap-tags.xml").await, "/tag/sea/"));
    assert!(has(&sitemap(&app, "/sitemap-authors.xml").await, "/author/ana-ruiz/"));
    assert_eq!(app.get("/sitemap-articles-2025-05.xml").await.status(), 404, "a month without articles");

    // Google News: the last 48 hours only, with its publication and title.
    let news = app.page("/news-sitemap.xml").await;
    assert!(news.contains("<news:title>Tides &amp; times</news:title>"), "{news}");
    assert!(
        news.contains("<news:name>The Test Gazette</news:name>") && news.contains("<news:language>en</news:language>")
    );
    assert!(!news.contains("/archive/"), "older than 48 hours");

    // Edited: a new lastmod on the next request.
    let before = sitemap(&app, &this_month).await;
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    app.publish(&article("Tides & times, revised", front_matter, "Second.")).await;
    let after = sitemap(&app, &this_month).await;
    assert_ne!(before, after, "the lastmod moves");
    assert!(app.page("/news-sitemap.xml").await.contains("Tides &amp; times, revised"));

    // Unpublished: gone from every sitemap that listed it.
    app.publish(&article("Tides & times, revised", &format!("{front_matter}\nstatus = \"draft\""), "Gone.")).await;
    assert_eq!(app.get(&this_month).await.status(), 404);
    assert!(!has(&sitemap(&app, "/sitemap.xml").await, &this_month));
    assert!(!app.page("/news-sitemap.xml").await.contains("tides"));
    assert!(!has(&sitemap(&app, "/sitemap-tags.xml").await, "/tag/sea/"));
    assert!(!has(&sitemap(&app, "/sitemap-authors.xml").await, "/author/ana-ruiz/"));
    app.stop().await;
}

#[tokio::test]
async fn scheduled_articles_join_feeds_and_sitemaps_when_due_and_conditional_gets_see_it() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article("Old news", "slug = \"old\"", "Old.")).await;
    let due = Utc::now() + chrono::Duration::seconds(3);
    let when = due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.publish(&article(
        "Embargoed report",
        &format!("slug = \"embargo\"\nstatus = \"scheduled\"\ndate = {when}"),
        "Later.",
    ))
    .await;
    let before = app.get("/feed/").await;
    let last_modified = before.headers()["last-modified"].clone();
    assert!(!before.text().await.expect("body").contains("Embargoed"), "not before it is due");
    assert!(!app.page("/news-sitemap.xml").await.contains("embargo"));
    let index = sitemap(&app, "/sitemap.xml").await;

    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let after = app.client.get(app.url("/feed/")).header("if-modified-since", last_modified).send().await.expect("get");
    assert_eq!(after.status(), 200, "a reader that only sends If-Modified-Since gets the new feed");
    assert!(after.text().await.expect("body").contains("Embargoed report"));
    assert!(app.page("/news-sitemap.xml").await.contains("embargo"));
    assert_ne!(sitemap(&app, "/sitemap.xml").await, index, "the month's lastmod moves");
    app.stop().await;
}

#[tokio::test]
async fn characters_xml_forbids_never_break_a_feed() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article(
        "Odd \u{FFFE}headline",
        "slug = \"odd\"\nstandfirst = \"Profits < costs & <i>more</i>\"",
        "Body.",
    ))
    .await;
    for path in ["/feed/", "/feed/atom/"] {
        let (parsed, text) = feed(&app, path).await;
        assert_eq!(titles(&parsed), ["Odd headline"], "{path}");
        assert!(!text.contains("<i>more</i>"), "{path}: the standfirst is text, not markup");
    }
    let news = app.page("/news-sitemap.xml").await;
    roxmltree::Document::parse(&news).expect("well-formed");
    assert!(news.contains("<news:title>Odd headline</news:title>"));
    app.stop().await;
}

#[tokio::test]
async fn a_sitemap_over_50_000_urls_is_cut_into_parts() {
    let app = TestApp::spawn().await;
    // 50,002 tags on the lead story, written straight into the database
    // (publishing them one by one would take minutes); nothing is cached yet.
    let file = app.dir.path().join("broadsheet.db");
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", file.display())).await.expect("database");
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50002)
         INSERT INTO tags (slug, name) SELECT 'bulk-' || i, 'Bulk ' || i FROM n",
    )
    .execute(&db)
    .await
    .expect("tags");
    sqlx::query(
        "INSERT INTO article_tags (article_id, tag_id, position)
         SELECT (SELECT id FROM articles WHERE slug = 'harbour-night-ferry-trial'), id, 100 + id
         FROM tags WHERE slug LIKE 'bulk-%'",
    )
    .execute(&db)
    .await
    .expect("article tags");
    db.close().await;

    let index = sitemap(&app, "/sitemap.xml").await;
    assert!(has(&index, "/sitemap-tags.xml") && has(&index, "/sitemap-tags-2.xml"), "{index:?}");
    assert!(!has(&index, "/sitemap-tags-3.xml") && !has(&index, "/sitemap-pages-2.xml"));
    let first = sitemap(&app, "/sitemap-tags.xml").await;
    let second = sitemap(&app, "/sitemap-tags-2.xml").await;
    assert_eq!(first.len(), 50_000);
    let mut all: Vec<&str> = first.iter().chain(&second).map(|(loc, _)| loc.as_str()).collect();
    let count = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), count, "no URL in both parts");
    assert!(
        all.contains(&"https://news.example.org/tag/bulk-50002/")
            && all.contains(&"https://news.example.org/tag/harbour/")
    );
    assert_eq!(app.get("/sitemap-tags-3.xml").await.status(), 404);
    assert_eq!(app.get("/sitemap-2.xml").await.status(), 404);
    app.stop().await;
}
