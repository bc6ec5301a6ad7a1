//! The comment pipeline against the real server: validation, policies,
//! threads, held-comment visibility, flood, duplicates, CSRF, moderation.

use broadsheet::app::StartOptions;
use broadsheet::discussion::{self, Action};
use broadsheet::domain::comment::Status;
use chrono::Utc;

use crate::helpers::{TestApp, fields, form_token, location};

/// The newest stored comment.
async fn last_comment(app: &TestApp) -> broadsheet::store::StoredComment {
    app.store.list_comments(None, 1).await.expect("list").into_iter().next().expect("a comment")
}

async fn approve(app: &TestApp, id: i64) {
    discussion::moderate(&app.store, &app.spam, &app.notifier, id, Action::Approve, Utc::now().timestamp())
        .await
        .expect("approved");
}

#[tokio::test]
async fn each_validation_error_reshows_the_form_with_the_input_kept() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    let path = app.article_at("debate", "").await;
    let browser = app.browser();
    let long = "x".repeat(65_526);
    let long_name = "n".repeat(246);
    // (the form as sent, the field whose message shows, the message)
    type Case<'a> = (Vec<(&'a str, &'a str)>, &'a str, &'a str);
    let cases: Vec<Case> = vec![
        (vec![("author", "Ana"), ("email", "ana@example.org")], "comment-error", "Please type your comment."),
        (
            vec![("comment", "   \n  "), ("author", "Ana"), ("email", "ana@example.org")],
            "comment-error",
            "Please type your comment.",
        ),
        (vec![("comment", "Kept text 1"), ("email", "ana@example.org")], "author-error", "Please give your name."),
        (vec![("comment", "Kept text 2"), ("author", "Ana")], "email-error", "Please give your email address."),
        (vec![("comment", "Kept text 3"), ("author", "Ana"), ("email", "ana@nowhere")], "email-error", "valid email"),
        (
            vec![("comment", "Kept text 4"), ("author", "Ana"), ("email", "a@b.co"), ("url", "javascript:alert(1)")],
            "url-error",
            "http://",
        ),
        (vec![("comment", long.as_str()), ("author", "Ana"), ("email", "a@b.co")], "comment-error", "too long"),
        (
            vec![("comment", "Kept text 5"), ("author", long_name.as_str()), ("email", "a@b.co")],
            "author-error",
            "too long",
        ),
    ];
    for (form, field, message) in cases {
        let response = app.comment(&browser, &path, &form).await;
        assert_eq!(response.status(), 422, "{field}: {message}");
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        let page = response.text().await.expect("body");
        assert!(page.contains(&format!("id=\"{field}\"")) && page.contains(message), "{field}: {message}");
        for (name, value) in &form {
            if value.len() < 100 && !value.trim().is_empty() && *name != "url" {
                assert!(page.contains(value), "{field}: the reader's {name} is kept");
            }
        }
    }
    assert!(app.store.list_comments(None, 10).await.expect("list").is_empty(), "nothing stored");
    app.stop().await;
}

#[tokio::test]
async fn first_comments_are_held_and_only_their_author_sees_them() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    let path = app.article_at("harbour", "").await;
    let author = app.browser();
    let response = app.comment(&author, &path, &fields("My first comment", "Ana Ruiz", "ana@example.org")).await;
    let location = response.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(location.starts_with(&path) && location.contains("#comment-"), "{location}");
    let own = app.follow(&author, response).await;
    assert!(own.contains("My first comment") && own.contains("Your comment is awaiting moderation"));

    let stranger = app.browser();
    let public = stranger.get(app.url(&path)).send().await.expect("page").text().await.expect("body");
    assert!(!public.contains("My first comment"), "another reader does not see a held comment");
    assert!(public.contains("No comments yet"));
    let stored = last_comment(&app).await;
    assert_eq!(stored.status, "pending");
    assert!(stored.reason.as_deref().unwrap_or("").contains("first comment"));

    // Once approved, everyone sees it, numbered; the author's next comment passes.
    approve(&app, stored.id).await;
    let public = stranger.get(app.url(&path)).send().await.expect("page").text().await.expect("body");
    assert!(public.contains("My first comment") && public.contains("1 comment") && public.contains("#1"));
    assert!(!public.contains("awaiting moderation"));
    let front = stranger.get(app.url("/")).send().await.expect("front").text().await.expect("body");
    assert!(front.contains("1 comment"), "listings show the count");
    let second = app.comment(&author, &path, &fields("Second thoughts", "Ana Ruiz", "ana@example.org")).await;
    let page = app.follow(&author, second).await;
    assert!(page.contains("Second thoughts") && !page.contains("awaiting moderation"), "previously approved passes");
    assert_eq!(last_comment(&app).await.status, "approved");
    app.stop().await;
}

#[tokio::test]
async fn replies_thread_under_their_parent() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let path = app.article_at("thread", "").await;
    let browser = app.browser();
    let top = app.comment(&browser, &path, &fields("Top-level point", "Ana", "ana@example.org")).await;
    assert_eq!(top.status(), 303);
    let parent = last_comment(&app).await.id;
    let parent_text = parent.to_string();
    let mut reply = fields("A reply to that", "Ben", "ben@example.org");
    reply.push(("parent", &parent_text));
    let page = app.follow(&browser, app.comment(&browser, &path, &reply).await).await;
    let parent_at = page.find(&format!("id=\"comment-{parent}\"")).expect("parent shown");
    let children_at = page[parent_at..].find("<ol class=\"children\">").expect("nested list") + parent_at;
    let reply_at = page.find("A reply to that").expect("reply shown");
    assert!(parent_at < children_at && children_at < reply_at, "the reply is nested under its parent");
    assert!(page.contains(&format!("?replytocom={parent}#respond")), "a reply link");
    let reply_form = browser.get(app.url(&format!("{path}?replytocom={parent}"))).send().await.expect("page");
    let reply_form = reply_form.text().await.expect("body");
    assert!(reply_form.contains("Reply to Ana") && reply_form.contains(&format!("name=\"parent\" value=\"{parent}\"")));

    let mut orphan = fields("Reply to nothing", "Cy", "cy@example.org");
    orphan.push(("parent", "999999"));
    assert_eq!(app.comment(&browser, &path, &orphan).await.status(), 422);
    app.stop().await;
}

#[tokio::test]
async fn moderation_policies() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    app.set("hold_words", "casino\nlottery").await;
    app.set("block_words", "viagra").await;
    let path = app.article_at("policy", "").await;
    let browser = app.browser();
    let cases: [(&str, &str, &str); 7] = [
        ("A fair point, well made.", "approved", ""),
        ("See http://a.example and http://b.example and http://c.example", "pending", "3 links"),
        (
            "The harbour board's minutes are at http://a.example and the budget at http://b.example: page four \
             has the ferry figures, which the article quotes correctly.",
            "approved",
            "",
        ),
        // Within the link limit, the spam filter decides: two bare links and no words are spam to it.
        ("See http://a.example and http://b.example", "spam", "spam filter"),
        ("The new Casino is a disgrace", "pending", "moderation word"),
        ("cheap VIAGRA here", "spam", "blocked word"),
        ("A lottery of a decision", "pending", "moderation word"),
    ];
    for (n, (text, status, reason)) in cases.iter().enumerate() {
        let email = format!("reader{n}@example.org");
        let response = app.comment(&browser, &path, &fields(text, &format!("Reader {n}"), &email)).await;
        assert_eq!(response.status(), 303, "{text}");
        let stored = last_comment(&app).await;
        assert_eq!(stored.status, *status, "{text}");
        assert!(stored.reason.as_deref().unwrap_or("").contains(reason), "{text}: {:?}", stored.reason);
    }
    app.set("manual_approval", "true").await;
    app.comment(&browser, &path, &fields("Held for everyone now", "Reader 9", "reader9@example.org")).await;
    assert_eq!(last_comment(&app).await.status, "pending");

    // The honeypot sends a comment to spam; a form sent back too fast is held.
    app.set("manual_approval", "false").await;
    let mut trap = fields("I am a bot", "Bot", "bot@example.org");
    trap.push(("website2", "http://spam.example"));
    app.comment(&browser, &path, &trap).await;
    let stored = last_comment(&app).await;
    assert_eq!((stored.status.as_str(), stored.reason.as_deref().unwrap_or("").contains("honeypot")), ("spam", true));
    app.set("min_seconds_to_submit", "30").await;
    let page = browser.get(app.url(&path)).send().await.expect("page").text().await.expect("body");
    let token = crate::helpers::form_token(&page);
    let mut fast = fields("Speedy", "Fast", "fast@example.org");
    fast.push(("token", &token));
    assert_eq!(browser.post(app.url(&path)).form(&fast).send().await.expect("post").status(), 303);
    let stored = last_comment(&app).await;
    assert_eq!(stored.status, "pending");
    assert!(stored.reason.as_deref().unwrap_or("").contains("after the form was shown"));
    app.stop().await;
}

#[tokio::test]
async fn closed_comments_are_refused() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    let closed = app.article_at("closed", "comments = false").await;
    let browser = app.browser();
    let page = browser.get(app.url(&closed)).send().await.expect("page").text().await.expect("body");
    assert!(page.contains("Comments are closed.") && !page.contains("name=\"token\""));
    let response =
        browser.post(app.url(&closed)).form(&fields("Let me in", "Ana", "ana@example.org")).send().await.expect("post");
    assert_eq!(response.status(), 403);
    assert!(response.text().await.expect("body").contains("Comments are closed"));

    // Articles older than the limit close too.
    let old_date = (Utc::now() - chrono::Duration::days(40)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let old = app.article_at("old", &format!("date = {old_date}")).await;
    let open = browser.get(app.url(&old)).send().await.expect("page").text().await.expect("body");
    assert!(open.contains("Leave a comment"));
    app.set("close_after_days", "30").await;
    let page = browser.get(app.url(&old)).send().await.expect("page").text().await.expect("body");
    assert!(page.contains("Comments are closed."), "a settings change reaches cached pages at once");
    assert!(app.store.list_comments(None, 10).await.expect("list").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn flood_and_duplicates_are_refused() {
    // Behind a proxy that names the reader's address, so that a second reader can be played.
    let app = TestApp::spawn_configured(StartOptions { demo: false }, |config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("network")];
    })
    .await;
    app.set("min_seconds_to_submit", "0").await;
    app.set("hold_first_time", "false").await;
    let path = app.article_at("busy", "").await;
    let browser = app.browser();
    assert_eq!(app.comment(&browser, &path, &fields("First!", "Ana", "ana@example.org")).await.status(), 303);
    let flood = app.comment(&browser, &path, &fields("Second!", "Ana", "ana@example.org")).await;
    assert_eq!(flood.status(), 429);
    assert!(flood.headers().contains_key("retry-after"));
    let page = flood.text().await.expect("body");
    assert!(page.contains("too quickly") && page.contains("Second!"), "message and the text kept");

    app.set("flood_seconds", "0").await;
    // The same form sent again at once (a double click, a retry after a lost
    // answer) is answered as the first was, and stored once.
    let first = app.store.list_comments(None, 10).await.expect("list").remove(0);
    let resent = app.comment(&browser, &path, &fields("First!", "Ana", "ana@example.org")).await;
    assert_eq!(resent.status(), 303);
    assert!(location(&resent).ends_with(&format!("#comment-{}", first.id)), "{}", location(&resent));
    assert_eq!(app.store.list_comments(None, 10).await.expect("list").len(), 1);
    // The same words from elsewhere are a repetition.
    let mut elsewhere = reqwest::header::HeaderMap::new();
    elsewhere.insert("x-forwarded-for", reqwest::header::HeaderValue::from_static("203.0.113.9"));
    let other = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .default_headers(elsewhere)
        .build()
        .expect("client");
    let duplicate = app.comment(&other, &path, &fields("First!", "Ana", "ana@example.org")).await;
    assert_eq!(duplicate.status(), 409);
    assert!(duplicate.text().await.expect("body").contains("Duplicate comment detected"));
    assert_eq!(app.store.list_comments(None, 10).await.expect("list").len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn forms_from_elsewhere_are_refused() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    let path = app.article_at("csrf", "").await;
    let browser = app.browser();
    let page = browser.get(app.url(&path)).send().await.expect("page").text().await.expect("body");
    let token = crate::helpers::form_token(&page);
    let mut form = fields("Forged", "Eve", "eve@example.org");
    form.push(("token", &token));
    let cross =
        browser.post(app.url(&path)).header("origin", "https://evil.example").form(&form).send().await.expect("post");
    assert_eq!(cross.status(), 403);
    let fetch_site =
        browser.post(app.url(&path)).header("sec-fetch-site", "cross-site").form(&form).send().await.expect("post");
    assert_eq!(fetch_site.status(), 403);
    let mut bad_token = fields("No token", "Eve", "eve@example.org");
    bad_token.push(("token", "1.2.3"));
    let response = browser.post(app.url(&path)).form(&bad_token).send().await.expect("post");
    assert_eq!(response.status(), 400);
    let body = response.text().await.expect("body");
    assert!(body.contains("expired") && body.contains("No token"), "message, text kept, a fresh form");
    let same_origin =
        browser.post(app.url(&path)).header("origin", app.url("")).form(&form).send().await.expect("post");
    assert_eq!(same_origin.status(), 303);
    assert_eq!(app.store.list_comments(None, 10).await.expect("list").len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn comments_page_and_moderation_invalidates() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    app.set("per_page", "5").await;
    let path = app.article_at("long-thread", "").await;
    let browser = app.browser();
    for n in 1..=7 {
        let response =
            app.comment(&browser, &path, &fields(&format!("Comment number {n}."), "Ana", "ana@example.org")).await;
        let location = response.headers()["location"].to_str().expect("ascii").to_owned();
        if n == 7 {
            assert!(location.contains("comment-page-2/?posted="), "the newest lands on the last page: {location}");
        }
    }
    let first = app.page(&path).await;
    assert!(first.contains("Comment number 5.") && !first.contains("Comment number 6."));
    assert!(first.contains("comment-page-2/#comments") && first.contains("7 comments"));
    let second = app.page(&format!("{path}comment-page-2/")).await;
    assert!(second.contains("Comment number 7.") && !second.contains("Comment number 1."));
    assert_eq!(app.get(&format!("{path}comment-page-3/")).await.status(), 404);

    // Moderation from the command line takes effect on the cached page at once.
    let spam = last_comment(&app).await;
    let output = app.cli(&["comments", "spam", &spam.id.to_string()]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let second = app.page(&format!("{path}comment-page-2/")).await;
    assert!(second.contains("Comment number 6.") && !second.contains("Comment number 7."));
    assert!(app.page(&path).await.contains("6 comments"));
    let listed = app.cli(&["comments", "list", "--status", "spam"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("Comment number 7."));
    let missing = app.cli(&["comments", "approve", "999999"]);
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("no comment 999999"));
    assert_eq!(app.store.comment_status(spam.id).await.expect("stored").1, Status::Spam);
    app.stop().await;
}

#[tokio::test]
async fn the_spam_filter_judges_comments_and_learns_from_moderators() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let path = app.article_at("spam", "").await;
    let browser = app.browser();
    let spam_text = "Check out my channel subscribe http://bit.ly/x";
    let response = app.comment(&browser, &path, &fields(spam_text, "Bob", "bob@example.org")).await;
    assert_eq!(response.status(), 303);
    let stored = last_comment(&app).await;
    assert_eq!(stored.status, "spam");
    let reason = stored.reason.clone().unwrap_or_default();
    assert!(reason.contains("spam filter") && reason.contains("1 link"), "the moderator sees why: {reason}");
    assert!(stored.spam_score.is_some_and(|p| p > 0.5));

    let fine =
        app.comment(&browser, &path, &fields("The timetable change is welcome.", "Ana", "ana@example.org")).await;
    assert_eq!(fine.status(), 303);
    let ham = last_comment(&app).await;
    assert_eq!(ham.status, "approved");
    assert!(
        ham.reason.unwrap_or_default().starts_with("spam filter: p="),
        "the filter's opinion is kept for approved ones too"
    );

    // Each correction is a lesson, kept in the database.
    let input = broadsheet::discussion::spam_input(&stored);
    let before = app.spam.check(broadsheet::spam::LOCAL_SITE, &input).probability;
    approve(&app, stored.id).await;
    let after = app.spam.check(broadsheet::spam::LOCAL_SITE, &input).probability;
    assert!(after < before, "approving from spam teaches ham: {before} -> {after}");
    discussion::moderate(&app.store, &app.spam, &app.notifier, ham.id, Action::Spam, Utc::now().timestamp())
        .await
        .expect("spam");
    assert_eq!(app.store.lessons_after(0).await.expect("lessons").len(), 2);
    let taught = app.spam.check(broadsheet::spam::LOCAL_SITE, &input).probability;
    // A fresh engine on the same database (a restart) knows both lessons.
    let restarted = broadsheet::spam::SpamEngine::load(None).expect("model");
    assert_eq!(restarted.catch_up(&app.store).await.expect("replay"), 2);
    let replayed = restarted.check(broadsheet::spam::LOCAL_SITE, &input).probability;
    assert!((replayed - taught).abs() < 1e-6, "same state after replay: {taught} vs {replayed}");
    app.stop().await;
}

#[tokio::test]
async fn concurrent_posts_are_committed_together_and_each_lands_on_its_page() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    app.set("per_page", "5").await; // the smallest page allowed
    let path = app.article_at("busy", "").await;
    // A reply, so that the batch mixes top-level comments and replies.
    let first = app.comment(&app.browser(), &path, &fields("The first word.", "Ana", "ana@example.org")).await;
    assert_eq!(first.status(), 303);
    let root = last_comment(&app).await.id;
    let root_field = root.to_string();

    let posts = (0..24).map(|n| {
        let (app, path, root_field) = (&app, &path, &root_field);
        async move {
            let text = format!("Comment {n} from a busy evening.");
            let (name, email) = (format!("Reader {n}"), format!("reader{n}@example.org"));
            let mut form = fields(&text, &name, &email);
            if n % 6 == 5 {
                form.push(("parent", root_field.as_str()));
            }
            let response = app.comment(&app.browser(), path, &form).await;
            assert_eq!(response.status(), 303, "comment {n}");
            response.headers()["location"].to_str().expect("ascii").to_owned()
        }
    });
    let locations = futures_util::future::join_all(posts).await;

    let stored = app.store.list_comments(Some(Status::Approved), 100).await.expect("list");
    assert_eq!(stored.len(), 25, "every acknowledged comment is stored");
    let mut top_level: Vec<i64> = stored.iter().filter(|c| c.parent_id.is_none()).map(|c| c.id).collect();
    top_level.sort_unstable();
    for location in &locations {
        let id: i64 = location.rsplit("#comment-").next().and_then(|id| id.parse().ok()).expect("an anchor");
        let comment = stored.iter().find(|c| c.id == id).expect("the anchor is a stored comment");
        let root_of = comment.parent_id.unwrap_or(id);
        let page = top_level.iter().position(|&c| c == root_of).expect("a top-level comment") / 5 + 1;
        let expected =
            if page == 1 { format!("{path}?posted={id}") } else { format!("{path}comment-page-{page}/?posted={id}") };
        assert_eq!(
            location,
            &format!("{expected}#comment-{id}"),
            "comment {id} lands on page {page}: {locations:?} {top_level:?}"
        );
        let shown = app.page(location.split('#').next().unwrap_or("/")).await;
        assert!(shown.contains(&format!("id=\"comment-{id}\"")), "comment {id} is on the page it was sent to");
    }
    assert!(app.page(&path).await.contains("25 comments"), "the count moved once per comment");
    app.stop().await;
}

#[tokio::test]
async fn behind_a_trusted_proxy_the_readers_address_is_recorded() {
    let app = TestApp::spawn_configured(broadsheet::app::StartOptions { demo: false }, |config| {
        config.trusted_proxies = vec!["127.0.0.1/32".parse().expect("network")];
    })
    .await;
    app.relax_timing().await;
    let path = app.article_at("proxied", "").await;
    let browser = app.browser();
    let page = browser.get(app.url(&path)).send().await.expect("page").text().await.expect("body");
    let article_id: i64 = form_token(&page).split('.').next().and_then(|id| id.parse().ok()).expect("token");
    let token = app.signer.form_token(article_id, Utc::now().timestamp() - 60);
    for (n, forwarded) in ["203.0.113.9", "1.1.1.1, 198.51.100.4"].into_iter().enumerate() {
        let text = format!("Posted through the proxy, number {n}.");
        let form = [("token", token.as_str()), ("comment", &text), ("author", "Ana"), ("email", "ana@example.org")];
        let response =
            browser.post(app.url(&path)).header("x-forwarded-for", forwarded).form(&form).send().await.expect("post");
        assert_eq!(response.status(), 303);
    }
    let stored = app.store.list_comments(None, 10).await.expect("list");
    let ips: Vec<_> = stored.iter().rev().map(|c| c.ip.clone().unwrap_or_default()).collect();
    assert_eq!(ips, ["203.0.113.9", "198.51.100.4"], "the proxy's word, not what the reader wrote on the left");
    app.stop().await;

    // Without a trusted proxy, the header proves nothing.
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    let path = app.article_at("direct", "").await;
    let browser = app.browser();
    let page = browser.get(app.url(&path)).send().await.expect("page").text().await.expect("body");
    let article_id: i64 = form_token(&page).split('.').next().and_then(|id| id.parse().ok()).expect("token");
    let token = app.signer.form_token(article_id, Utc::now().timestamp() - 60);
    let form = [("token", token.as_str()), ("comment", "Hello."), ("author", "Ana"), ("email", "ana@example.org")];
    let response = browser.post(app.url(&path)).header("x-forwarded-for", "203.0.113.9").form(&form).send().await;
    assert_eq!(response.expect("post").status(), 303);
    assert_eq!(last_comment(&app).await.ip.as_deref(), Some("127.0.0.1"));
    app.stop().await;
}

#[tokio::test]
async fn last_modified_moves_with_the_discussion() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let path = app.article_at("dated", "").await;
    let before = app.get(&path).await;
    let last_modified = before.headers()["last-modified"].to_str().expect("ascii").to_owned();
    // Last-Modified counts whole seconds.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let response = app.comment(&app.browser(), &path, &fields("A new point.", "Ana", "ana@example.org")).await;
    assert_eq!(response.status(), 303);
    let conditional = app.client.get(app.url(&path)).header("if-modified-since", &last_modified).send().await;
    let conditional = conditional.expect("get");
    assert_eq!(conditional.status(), 200, "not 304: the page changed with its new comment");
    assert_ne!(conditional.headers()["last-modified"].to_str().expect("ascii"), last_modified);
    assert!(conditional.text().await.expect("body").contains("A new point."));
    app.stop().await;
}

#[tokio::test]
async fn the_demo_has_a_discussion_and_a_moderation_queue() {
    let app = TestApp::spawn().await;
    let page = app.page("/").await;
    let article = crate::helpers::link_to(&page, "harbour-night-ferry-trial");
    let page = app.page(&article).await;
    let discussion = page.split("id=\"comments\"").nth(1).expect("a discussion");
    for name in ["Nora Quayle (demo)", "Marta Ibáñez (demo)", "Tomás Reid (demo)", "Ewan Mackie (demo)"] {
        assert!(discussion.contains(name), "{name} is in the discussion");
    }
    assert!(discussion.contains("<ol class=\"children\">"), "threaded");
    assert!(!discussion.contains("Priya Natt") && !discussion.contains("replica"), "held and caught are not shown");
    assert!(!page.contains("@example.org") && !page.contains("replica-deals"), "no address in public");
    let queued = app.store.list_comments(Some(broadsheet::domain::comment::Status::Pending), 10).await.expect("list");
    assert_eq!(queued.len(), 1);
    assert!(queued[0].reason.as_deref().is_some_and(|r| r.contains("first comment") && r.contains("spam filter")));
    let caught = app.store.list_comments(Some(broadsheet::domain::comment::Status::Spam), 10).await.expect("list");
    assert_eq!(caught.len(), 1);
    let reason = caught[0].reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("spam filter") && reason.contains("visit my"), "the filter's reasons: {reason}");
    // What an editor sees on a first visit.
    let (editor, _) = app.signed_in("desk@example.org", broadsheet::domain::role::Role::Editor).await;
    let queue = editor.get(app.url("/admin/comments")).send().await.expect("queue").text().await.expect("body");
    assert!(queue.contains("Pending <span class=\"count\">(1)</span>") && queue.contains("step-free access"));
    let spam =
        editor.get(app.url("/admin/comments?status=spam")).send().await.expect("spam").text().await.expect("body");
    assert!(spam.contains("Best Deals (demo)") && spam.contains("visit my"));
    app.stop().await;
}
