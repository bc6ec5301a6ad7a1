//! Commenters' email and IP addresses never reach public output; privacy
//! requests export and erase; network data is purged after retention.

use std::collections::{BTreeSet, VecDeque};

use broadsheet::discussion::{self, Action};
use chrono::Utc;

use crate::helpers::{TestApp, fields, link_to};

const EMAILS: [&str; 3] = ["ana.private@example.org", "ben.secret@example.net", "cy.hidden@example.com"];

/// A demo site where three readers have commented (approved, held, spam, replies).
async fn site_with_comments() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    app.set("block_words", "viagra").await;
    let front = app.page("/").await;
    let article = link_to(&front, "harbour-night-ferry-trial");
    let browser = app.browser();
    for (n, email) in EMAILS.iter().enumerate() {
        let mut form = fields("Thoughtful words about the ferry.", "Reader", email);
        form[1].1 = ["Ana", "Ben", "Cy"][n];
        form.push(("url", "https://reader.example.org/blog"));
        form.push(("remember", "1"));
        assert_eq!(app.comment(&browser, &article, &form).await.status(), 303);
    }
    // Ana's and Ben's are approved, Cy's (the newest) stays held; the demo's own discussion is left as it is.
    let ours: Vec<_> = app.store.list_comments(None, 50).await.expect("list");
    for c in ours.iter().filter(|c| EMAILS.contains(&c.author_email.as_str())).skip(1) {
        discussion::moderate(&app.store, &app.spam, &app.notifier, c.id, Action::Approve, Utc::now().timestamp())
            .await
            .expect("approve");
    }
    let approved = app.store.list_comments(Some(broadsheet::domain::comment::Status::Approved), 1).await.expect("list");
    let parent = approved[0].id.to_string();
    let mut reply = fields("A reply: I agree about the late timetable.", "Ben", EMAILS[1]);
    reply.push(("parent", &parent));
    assert_eq!(app.comment(&browser, &article, &reply).await.status(), 303);
    assert_eq!(
        app.comment(&browser, &article, &fields("buy viagra", "Spammer", "spam@example.org")).await.status(),
        303
    );
    (app, article)
}

#[tokio::test]
async fn no_email_or_ip_address_appears_in_any_public_output() {
    let (app, article) = site_with_comments().await;
    let article_html = app.page(&article).await;
    assert!(article_html.contains("Thoughtful words about the ferry."), "comments are shown");
    // Crawl every page a visitor can reach, with every response header.
    let mut seen = BTreeSet::new();
    let mut queue =
        VecDeque::from(["/".to_owned(), article.clone(), "/no-such-page/".to_owned(), "/healthz".to_owned()]);
    let mut output = String::new();
    while let Some(path) = queue.pop_front() {
        if !seen.insert(path.clone()) || seen.len() > 400 {
            continue;
        }
        let response = app.get(&path).await;
        for (name, value) in response.headers() {
            output.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
        }
        let body = response.text().await.expect("body");
        for link in body.split("href=\"").skip(1).chain(body.split("src=\"").skip(1)) {
            let target = &link[..link.find('"').unwrap_or(0)];
            let target = target.split('#').next().unwrap_or("");
            if target.starts_with('/') && !target.starts_with("//") {
                queue.push_back(target.to_owned());
            }
        }
        output.push_str(&body);
    }
    assert!(seen.len() > 30, "the crawl reached the site: {} pages", seen.len());
    for needle in EMAILS.iter().copied().chain(["spam@example.org", "127.0.0.1", "gravatar"]) {
        assert!(!output.contains(needle), "{needle} appears in public output");
        assert!(!output.to_lowercase().contains(&needle.to_lowercase()), "{needle} appears in public output");
    }
    app.stop().await;
}

#[tokio::test]
async fn privacy_export_and_erase() {
    let (app, article) = site_with_comments().await;
    // A moderator marks Ben's first comment and Cy's comment as spam: the spam
    // filter keeps what it read of them, and privacy requests must reach that.
    let stored = app.store.list_comments(None, 50).await.expect("list");
    for (email, text) in [(EMAILS[1], "Thoughtful words"), (EMAILS[2], "Thoughtful words")] {
        let comment = stored.iter().find(|c| c.author_email == email && c.body.contains(text)).expect("stored");
        let marked = app.cli(&["comments", "spam", &comment.id.to_string()]);
        assert!(marked.status.success(), "{}", String::from_utf8_lossy(&marked.stderr));
    }
    let lessons = || async { app.store.lessons_after(0).await.expect("lessons") };
    assert_eq!(lessons().await.len(), 2);

    let export = app.cli(&["privacy", "export", EMAILS[1]]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let json: serde_json::Value = serde_json::from_slice(&export.stdout).expect("JSON");
    let comments = json["comments"].as_array().expect("comments");
    assert_eq!(comments.len(), 2, "Ben's comment and reply");
    assert!(comments.iter().all(|c| c["author_email"] == EMAILS[1] && c["ip"] == "127.0.0.1"));
    assert!(comments.iter().any(|c| c["body"].as_str().unwrap_or("").contains("A reply: I agree")));
    let kept = json["spam_filter_lessons"].as_array().expect("the spam filter's copies");
    assert_eq!(kept.len(), 1, "the lesson from Ben's comment: {json}");
    assert_eq!(kept[0]["kept"]["author_name"], "Ben");
    assert_eq!(kept[0]["kept"]["email_domain"], "example.net");

    let erase = app.cli(&["privacy", "erase", EMAILS[1]]);
    assert!(String::from_utf8_lossy(&erase.stdout).contains("2 comment(s)"));
    let page = app.page(&article).await;
    assert!(page.contains("A reply: I agree") && page.contains("Anonymous"), "kept, anonymised");
    let after: serde_json::Value =
        serde_json::from_slice(&app.cli(&["privacy", "export", EMAILS[1]]).stdout).expect("JSON");
    assert_eq!(after["comments"].as_array().map(Vec::len), Some(0), "nothing left under that address");
    let anonymised = lessons().await;
    assert_eq!(anonymised.len(), 2, "anonymised lessons are kept");
    assert!(anonymised.iter().any(|l| l.comment.contains("\"Anonymous\"")));
    assert!(anonymised.iter().all(|l| !l.comment.contains("\"Ben\"") && !l.comment.contains("example.net")));

    let delete = app.cli(&["privacy", "erase", EMAILS[2], "--delete"]);
    assert!(String::from_utf8_lossy(&delete.stdout).contains("1 comment(s)"));
    let stored = app.store.list_comments(None, 50).await.expect("list");
    assert!(stored.iter().all(|c| c.author_email != EMAILS[2]), "deleted");
    assert_eq!(lessons().await.len(), 1, "the lesson from Cy's comment is forgotten");
    app.stop().await;
}

#[tokio::test]
async fn ip_addresses_are_purged_after_the_retention_period() {
    let (app, _) = site_with_comments().await;
    let now = Utc::now().timestamp();
    assert_eq!(broadsheet::jobs::purge_network_data(&app.store, now).await.expect("purge"), 0, "recent ones stay");
    let later = now + 61 * 86_400;
    let with_address = app.store.list_comments(None, 50).await.expect("list").iter().filter(|c| c.ip.is_some()).count();
    let purged = broadsheet::jobs::purge_network_data(&app.store, later).await.expect("purge");
    assert!(with_address >= 5, "the test's five comments and the demo's readers");
    assert_eq!(purged as usize, with_address);
    let stored = app.store.list_comments(None, 50).await.expect("list");
    assert!(stored.iter().all(|c| c.ip.is_none() && c.user_agent.is_none()));
    app.stop().await;
}
