//! The product on PostgreSQL: the same server, pages, comment pipeline
//! (group commit), moderation, privacy requests and admin, against a real
//! PostgreSQL server. `scripts/test.sh` starts one and sets
//! `BROADSHEET_TEST_POSTGRES` (an administrator's URL); each test gets a
//! fresh database of its own.

use broadsheet::discussion::{self, Action};
use broadsheet::domain::comment::Status;
use broadsheet::domain::role::Role;
use chrono::Utc;
use sqlx::Connection;

use crate::helpers::{TestApp, fields, first_picture, hidden, link_to, location, settings_form, test_server};

/// A new, empty database on the test server; `None` (outside CI) when there is no server.
pub async fn fresh_database() -> Option<String> {
    let admin_url = test_server("BROADSHEET_TEST_POSTGRES", "PostgreSQL")?;
    sqlx::any::install_default_drivers();
    let name = format!("broadsheet_test_{}", rand::random::<u64>());
    let mut conn = sqlx::AnyConnection::connect(&admin_url).await.expect("connect to the test PostgreSQL server");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.expect("database");
    let (base, _) = admin_url.rsplit_once('/').expect("a database URL");
    Some(format!("{base}/{name}"))
}

#[tokio::test]
async fn the_site_and_its_discussion_on_postgresql() {
    let Some(url) = fresh_database().await else { return };
    let app = TestApp::spawn_on(&url).await;
    assert!(app.config.database_url.expose().starts_with("postgres"));
    // The demo's discussion is stored on PostgreSQL too (a staff reply has no spam score).
    let demo = app.store.list_comments(None, 50).await.expect("list");
    assert!(demo.iter().any(|c| c.spam_score.is_none()) && demo.iter().any(|c| c.status == "spam"));
    app.clear_discussion().await;
    // Settings first: changes made beside the server (as here, or by the
    // command line) reach a PostgreSQL-backed server by its 2-second poll.
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    app.set("per_page", "5").await;
    let front = app.page("/").await;
    assert!(front.contains("night-time ferry trial"), "the demo site is installed");
    let article = link_to(&front, "harbour-night-ferry-trial");
    let discovery = [
        "/feed/",
        "/feed/atom/",
        "/comments/feed/",
        "/category/news/feed/",
        "/tag/harbour/feed/atom/",
        "/robots.txt",
        "/sitemap.xml",
        "/sitemap-pages.xml",
        "/sitemap-categories.xml",
        "/sitemap-tags.xml",
        "/sitemap-authors.xml",
        "/news-sitemap.xml",
    ];
    let article_feed = format!("{article}feed/");
    for path in
        [article.as_str(), "/category/news/", "/tag/harbour/", "/privacy/", &article_feed].iter().chain(&discovery)
    {
        assert_eq!(app.get(path).await.status(), 200, "{path}");
    }
    assert_eq!(app.get("/no-such-page/").await.status(), 404);
    assert!(app.page("/feed/").await.contains("night-time ferry trial"), "the feed lists the demo articles");
    let index = app.page("/sitemap.xml").await;
    let month = index.split("<loc>").nth(1).and_then(|s| s.split("</loc>").next()).expect("a sitemap");
    let month_path = month.trim_start_matches(app.config.base_url.trim_end_matches('/'));
    assert!(app.page(month_path).await.contains("<url><loc>"), "{month_path} lists articles");
    assert!(app.page("/sitemap-tags.xml").await.contains("/tag/harbour/"));
    // Search, as on SQLite: a word of one article's body only, diacritics folded.
    let found = crate::search::search(&app, "DREDGING").await;
    assert!(found.contains("Eelgrass meadows return") && found.contains("<mark>dredging</mark>"), "{found}");
    assert!(crate::search::search(&app, "ibanez").await.contains("night-time ferry trial"), "the author's name");
    assert!(crate::search::search(&app, "zeppelin ferry").await.contains("No articles match"));

    // Concurrent readers: one group commit, every comment on its page.
    let posts = (0..12).map(|n| {
        let (app, article) = (&app, &article);
        async move {
            let text = format!("Comment {n} on the ferry.");
            let (name, email) = (format!("Reader {n}"), format!("reader{n}@example.org"));
            let response = app.comment(&app.browser(), article, &fields(&text, &name, &email)).await;
            assert_eq!(response.status(), 303, "comment {n}");
            location(&response)
        }
    });
    let locations = futures_util::future::join_all(posts).await;
    assert!(locations.iter().any(|l| l.contains("comment-page-3/")), "12 comments, 5 a page: {locations:?}");
    assert!(app.page(&article).await.contains("12 comments"));
    let again = fields("Comment 3 on the ferry.", "Reader 3", "reader3@example.org");
    // Sent again at once from the same address: answered as before, stored once.
    assert_eq!(app.comment(&app.browser(), &article, &again).await.status(), 303);
    assert!(app.page(&article).await.contains("12 comments"));

    // Moderation teaches the spam filter; privacy requests reach everything.
    let stored = app.store.list_comments(Some(Status::Approved), 1).await.expect("list").remove(0);
    discussion::moderate(&app.store, &app.spam, &app.notifier, stored.id, Action::Spam, Utc::now().timestamp())
        .await
        .expect("spam");
    assert_eq!(app.store.lessons_after(0).await.expect("lessons").len(), 1);
    let export = discussion::export(&app.store, &stored.author_email.to_uppercase()).await.expect("export");
    assert_eq!(export["comments"].as_array().map(Vec::len), Some(1), "email matched in any case");
    assert_eq!(export["spam_filter_lessons"].as_array().map(Vec::len), Some(1));
    let erased = discussion::erase(&app.store, &stored.author_email, true, Utc::now().timestamp()).await;
    assert_eq!(erased.expect("erase"), 1);
    assert!(app.store.lessons_after(0).await.expect("lessons").is_empty());
    // Another reader's history is untouched (the comments were posted at
    // once, so any of them may be the one that was erased).
    let other = (0..12).find(|n| format!("reader{n}@example.org") != stored.author_email).expect("another reader");
    let (name, email, body) =
        (format!("Reader {other}"), format!("reader{other}@example.org"), format!("Comment {other} on the ferry."));
    let probe = broadsheet::store::Probe {
        article_id: stored.article_id,
        parent_id: None,
        name: &name,
        email: &email,
        body: &body,
        ip: "127.0.0.1",
        flood_since: Utc::now().timestamp() - 60,
        history_since: 0,
    };
    let checks = app.store.posting_checks(&probe).await.expect("checks");
    assert!(checks.duplicate.is_some() && checks.last_post.is_some() && checks.history.approved == 1, "{checks:?}");
    app.stop().await;
}

#[tokio::test]
async fn the_admin_on_postgresql() {
    let Some(url) = fresh_database().await else { return };
    let app = TestApp::spawn_on(&url).await;
    let (editor, csrf) = app.signed_in("ed@example.org", Role::Editor).await;
    let dashboard = editor.get(app.url("/admin/")).send().await.expect("get").text().await.expect("body");
    assert!(dashboard.contains("Articles published</dt><dd>10<"), "the dashboard counts on PostgreSQL");

    // Write, publish, edit, and a conflicting save.
    let new = [("csrf", csrf.as_str()), ("headline", "Postgres piece"), ("body", "First."), ("intent", "publish")];
    let saved = editor.post(app.url("/admin/articles/new")).form(&new).send().await.expect("post");
    assert_eq!(saved.status(), 303);
    let path = location(&saved).split('?').next().expect("path").to_owned();
    assert!(app.page("/").await.contains("Postgres piece"));
    let page = editor.get(app.url(&path)).send().await.expect("get").text().await.expect("body");
    let version = hidden(&page, "version");
    let edit = |body: &'static str| {
        [
            ("csrf", csrf.clone()),
            ("version", version.clone()),
            ("headline", "Postgres piece".into()),
            ("body", body.into()),
            ("intent", "publish".into()),
        ]
    };
    assert_eq!(editor.post(app.url(&path)).form(&edit("Second.")).send().await.expect("post").status(), 303);
    assert_eq!(editor.post(app.url(&path)).form(&edit("Stale.")).send().await.expect("post").status(), 409);
    let taken = [
        ("csrf", csrf.as_str()),
        ("headline", "x"),
        ("slug", "harbour-night-ferry-trial"),
        ("body", "y"),
        ("intent", "draft"),
    ];
    assert_eq!(editor.post(app.url("/admin/articles/new")).form(&taken).send().await.expect("post").status(), 422);
    let listed = editor.get(app.url("/admin/articles?q=postgres&status=published")).send().await.expect("get");
    assert!(listed.text().await.expect("body").contains("Postgres piece"), "search and filters on PostgreSQL");

    // Categories, the queue, settings.
    let add = [("csrf", csrf.as_str()), ("do", "add"), ("name", "Maritime"), ("parent", "")];
    assert_eq!(
        location(&editor.post(app.url("/admin/categories")).form(&add).send().await.expect("post")),
        "/admin/categories?done=added"
    );
    assert_eq!(editor.get(app.url("/admin/comments?status=spam")).send().await.expect("get").status(), 200);
    let (admin, admin_csrf) = app.signed_in("root@example.org", Role::Administrator).await;
    let settings = settings_form(&admin_csrf, "Courier");
    assert_eq!(
        location(&admin.post(app.url("/admin/settings")).form(&settings).send().await.expect("post")),
        "/admin/settings?saved=1"
    );
    assert!(app.page("/").await.contains("Courier"));
    app.stop().await;
}

#[tokio::test]
async fn a_change_committed_out_of_id_order_still_reaches_the_cache() {
    let Some(url) = fresh_database().await else { return };
    let app = TestApp::spawn_on(&url).await;
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let record =
        app.store.article_by_slug(broadsheet::domain::article::Kind::Article, "harbour-night-ferry-trial").await;
    let id = record.expect("demo article").id;
    assert!(!app.page(&article).await.contains("Late edition"), "cached before the edit");

    // A writer takes an invalidation id, and commits only after a later one
    // (a larger id) was committed and read by the server.
    let mut slow = sqlx::AnyConnection::connect(&url).await.expect("connect");
    let mut fast = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::query("BEGIN").execute(&mut slow).await.expect("begin");
    sqlx::query("UPDATE articles SET headline = 'Late edition', body_html = '<p>Late edition</p>' WHERE id = $1")
        .bind(id)
        .execute(&mut slow)
        .await
        .expect("update");
    let tag = format!("article:{id}");
    sqlx::query("INSERT INTO cache_invalidations (tag, due_at) VALUES ($1, 0)")
        .bind(&tag)
        .execute(&mut slow)
        .await
        .expect("log");
    sqlx::query("INSERT INTO cache_invalidations (tag, due_at) VALUES ('tag:999999', 0)")
        .execute(&mut fast)
        .await
        .expect("later id, committed first");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await; // the server's poll reads it
    assert!(!app.page(&article).await.contains("Late edition"));
    sqlx::query("COMMIT").execute(&mut slow).await.expect("commit");
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await; // and the next poll
    assert!(app.page(&article).await.contains("Late edition"), "the earlier id, committed later, was not skipped");
    app.stop().await;
}

#[tokio::test]
async fn a_wordpress_import_on_postgresql() {
    let Some(url) = fresh_database().await else { return };
    let app = TestApp::spawn_on(&url).await;
    let pool = sqlx::AnyPool::connect(&url).await.expect("database");
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&pool).await.expect(sql);
            n
        }
    };
    let demo_articles = count("SELECT count(*) FROM articles").await;
    let file = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/datasets/wordpress/themeunittestdata.wordpress.xml");
    let file = file.to_str().expect("path");
    let run = app.cli(&["import", "wxr", file]);
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert!(run.status.success(), "{out}{}", String::from_utf8_lossy(&run.stderr));
    // 58 posts and 21 pages, beside the demo site's own; 33 comments, 10 of them replies.
    assert_eq!(count("SELECT count(*) FROM articles").await, demo_articles + 58 + 21, "{out}");
    assert_eq!(
        count("SELECT count(*) FROM comments WHERE id IN (SELECT local_id FROM imported WHERE kind = 'comment')").await,
        33
    );
    assert_eq!(count("SELECT count(*) FROM comments c JOIN imported i ON i.local_id = c.id AND i.kind = 'comment' WHERE c.parent_id IS NOT NULL").await, 10);
    let (slug, at): (String, i64) = sqlx::query_as(
        "SELECT slug, published_at FROM articles WHERE slug = 'template-comments' AND status = 'published'",
    )
    .fetch_one(&pool)
    .await
    .expect("an imported post");
    let tz: chrono_tz::Tz = crate::helpers::TIME_ZONE.parse().expect("zone");
    let path = broadsheet::publishing::permalink(broadsheet::domain::article::Kind::Article, &slug, Some(at), tz);
    let page = app.page(&path).await;
    assert!(page.contains("Template: Comments"), "{path}");
    assert!(app.page("/search/alignment/").await.contains("Markup: Image Alignment"), "search finds imported posts");
    // An old address answers with a 301 to where its post is now.
    let (comments_id,): (String,) = sqlx::query_as(
        "SELECT i.source_id FROM imported i JOIN articles a ON a.id = i.local_id
         WHERE i.kind = 'post' AND a.slug = 'template-comments'",
    )
    .fetch_one(&pool)
    .await
    .expect("imported");
    let old = app.get(&format!("/?p={comments_id}")).await;
    assert_eq!(old.status(), 301);
    assert_eq!(location(&old), path);
    let again = app.cli(&["import", "wxr", file]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("Nothing changed"));
    assert_eq!(count("SELECT count(*) FROM articles").await, demo_articles + 58 + 21);
    pool.close().await;
    app.stop().await;
}

#[tokio::test]
async fn the_spam_apis_figures_on_postgresql() {
    let Some(url) = fresh_database().await else { return };
    let app = TestApp::spawn_on(&url).await;
    let key = "abcdef012345";
    app.store.create_api_key(key, "https://blog.example.org", "", Utc::now().timestamp()).await.expect("key");
    let call = |method: &'static str, author: &'static str| {
        let form = [
            ("api_key", key),
            ("blog", "https://blog.example.org"),
            ("user_ip", "203.0.113.7"),
            ("comment_author", author),
            ("comment_content", "A fair point about the timetable."),
        ];
        app.client.post(app.url(&format!("/1.1/{method}"))).form(&form).send()
    };
    // Twice each, so that the second count is added to the first month's row.
    for _ in 0..2 {
        assert_eq!(call("comment-check", "Sam").await.expect("check").text().await.expect("body"), "false");
        assert_eq!(
            call("comment-check", "akismet-guaranteed-spam").await.expect("check").text().await.expect("body"),
            "true"
        );
        assert_eq!(call("submit-ham", "Sam").await.expect("submit").status(), 200);
        let stats = app
            .client
            .post(app.url("/1.1/get-stats"))
            .form(&[("key", key), ("blog", "https://blog.example.org")])
            .send()
            .await
            .expect("stats")
            .text()
            .await
            .expect("body");
        assert!(stats.starts_with('{'), "{stats}");
    }
    let totals = app.store.api_traffic_totals().await.expect("totals");
    assert_eq!(totals.len(), 1);
    let (_, traffic, lessons) = totals[0];
    assert_eq!((traffic.spam, traffic.ham, traffic.false_positives, lessons), (2, 2, 2, 2));
    app.stop().await;
}

#[tokio::test]
async fn a_backup_on_postgresql_restores_into_another_database() {
    let Some(url) = fresh_database().await else { return };
    let Some(other) = fresh_database().await else { return };
    let app = TestApp::spawn_on(&url).await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let posted = app.comment(&app.browser(), &article, &fields("Kept in the dump.", "Ana", "ana@example.org")).await;
    assert_eq!(posted.status(), 303);
    let out = tempfile::tempdir().expect("temp dir");
    let archive = out.path().join("site.tar.gz");
    let made = app.cli(&["backup", archive.to_str().expect("utf-8")]);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    assert!(String::from_utf8_lossy(&made.stdout).contains("postgres database"));

    let dir = tempfile::tempdir().expect("temp dir");
    let restored = std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .args(["restore", archive.to_str().expect("utf-8")])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BROADSHEET_DATA_DIR", dir.path())
        .env("BROADSHEET_DATABASE_URL", &other)
        .output()
        .expect("broadsheet runs");
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    let copy = TestApp::spawn_on(&other).await;
    let page = copy.page(&article).await;
    assert!(page.contains("Kept in the dump."), "the comment came back");
    assert_eq!(copy.store.content_counts().await.expect("counts"), app.store.content_counts().await.expect("counts"));
    copy.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn a_sqlite_site_moves_to_postgresql_whole() {
    let Some(url) = fresh_database().await else { return };
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let first = app.comment(&app.browser(), &article, &fields("Moving house, are we?", "Ana", "ana@example.org")).await;
    assert_eq!(first.status(), 303, "{}", location(&first));
    let password = app.add_user("editor@example.org", Role::Editor).await;
    let page = app.page(&article).await;
    let image = first_picture(&page);
    let (headlines, discussion, _) = crate::backup::snapshot(&app, &article, &image).await;
    assert!(discussion.contains("Moving house, are we?"));

    let moved = app.cli(&["migrate-to", &url]);
    let said = format!("{}{}", String::from_utf8_lossy(&moved.stdout), String::from_utf8_lossy(&moved.stderr));
    assert!(moved.status.success(), "{said}");
    let comments = app.store.list_comments(None, 100).await.expect("list").len();
    assert!(said.contains(&format!("{comments} comments")) && said.contains("Moved to"), "{said}");
    assert!(!said.contains("postgres@"), "the URL's user and password are not repeated: {said}");
    let again = app.cli(&["migrate-to", &url]);
    let refused = String::from_utf8_lossy(&again.stderr).into_owned();
    assert!(!again.status.success() && refused.contains("already holds a site"), "{refused}");
    let not_pg = app.cli(&["migrate-to", "mysql://example/db"]);
    assert!(!not_pg.status.success());

    // The same site on PostgreSQL (the media folder is this test's other
    // server's; a cluster shares a bucket instead).
    let pg = TestApp::spawn_on(&url).await;
    let (pg_headlines, pg_discussion, _) = crate::backup::snapshot(&pg, &article, &image).await;
    assert_eq!((pg_headlines, pg_discussion), (headlines, discussion), "the same pages and discussion");
    // Accounts moved, and new rows take new ids after the copied ones.
    let browser = pg.browser();
    assert_eq!(pg.sign_in(&browser, "editor@example.org", &password).await.status(), 303);
    let second =
        pg.comment(&pg.browser(), &article, &fields("And now from PostgreSQL.", "Ben", "ben@example.org")).await;
    assert_eq!(second.status(), 303, "{}", location(&second));
    let discussion = pg.page(&article).await;
    assert!(discussion.contains("Moving house, are we?") && discussion.contains("And now from PostgreSQL."));
    assert_eq!(pg.store.content_counts().await.expect("counts").1 as usize, comments + 1);
    app.stop().await;
    pg.stop().await;
}
