//! Real readers' comments through the article form: split D's newspaper
//! comments (`../shared/datasets/news-comments/sfu-ctc.csv`, all legitimate),
//! sent as first-time commenters who give a website, 15 s after loading the
//! form. None may land in Spam: a doubtful one waits for a moderator.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use crate::helpers::TestApp;

/// Every 8th comment of split D, in file order (141 of 1,121); `None` without the data sets.
fn sample() -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/datasets/news-comments/sfu-ctc.csv");
    let Ok(file) = File::open(&path) else {
        eprintln!("SKIPPED: no {}", path.display());
        return None;
    };
    let comments = spamfilter::corpus::news_csv(BufReader::new(file), "comment").expect("split D parses");
    Some(comments.into_iter().step_by(8).map(|e| e.text).collect())
}

#[tokio::test]
async fn news_readers_comments_never_land_in_spam_through_the_form() {
    let Some(sample) = sample() else { return };
    assert!(sample.len() > 100, "{} comments", sample.len());
    let app = TestApp::spawn_empty().await;
    // One test client posts them all: the flood limit would refuse all but the first.
    app.set("flood_seconds", "0").await;
    let path = app.article_at("readers", "").await;
    for (i, text) in sample.iter().enumerate() {
        // A new reader each time, in their own browser, sending the form 15 s after loading it.
        let browser = app.browser();
        let (name, email) = (format!("Reader {i}"), format!("reader{i}@example.net"));
        let url = format!("https://reader{i}.example.net/");
        let mut fields = crate::helpers::fields(text, &name, &email);
        fields.push(("url", url.as_str()));
        let response = app.comment_after(&browser, &path, &fields, 15).await;
        assert_eq!(response.status(), 303, "comment {i} was refused: {text}");
    }
    let stored = app.store.list_comments(None, 10_000).await.expect("comments");
    assert_eq!(stored.len(), sample.len(), "every comment is stored");
    let spam: Vec<_> = stored.iter().filter(|c| c.status == "spam").collect();
    assert!(
        spam.is_empty(),
        "{} of {} readers' comments went to Spam: {:?}",
        spam.len(),
        stored.len(),
        spam.iter().map(|c| (&c.body, &c.reason)).collect::<Vec<_>>()
    );
    // First-time commenters wait for a moderator, with the filter's opinion.
    assert!(stored.iter().all(|c| c.status == "pending"), "first comments are held");
    assert!(stored.iter().all(|c| c.reason.as_deref().is_some_and(|r| r.contains("spam filter"))));
    app.stop().await;
}

/// The comments of `data/reader-comments.txt`: one per paragraph, `#` lines are notes.
fn reader_comments() -> Vec<String> {
    include_str!("data/reader-comments.txt")
        .split("\n\n")
        .map(|p| p.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n"))
        .filter(|p| !p.trim().is_empty())
        .collect()
}

#[tokio::test]
#[ignore = "the shipped model still sends 1 of these 30 to Spam (issue #13 is open): \
            'I subscribe to the Broadsheet because of coverage like this…' (p 0.56)"]
async fn comments_a_moderator_would_approve_stay_out_of_spam_by_form_and_api() {
    let comments = reader_comments();
    assert!(comments.len() >= 30, "{} comments", comments.len());
    let app = TestApp::spawn_empty().await;
    app.set("flood_seconds", "0").await;
    let path = app.article_at("flood", "").await;
    for (i, text) in comments.iter().enumerate() {
        let browser = app.browser();
        let (name, email) = (format!("Reader {i}"), format!("reader{i}@example.net"));
        let url = format!("https://reader{i}.example.net/");
        let mut fields = crate::helpers::fields(text, &name, &email);
        // Half of them give a website.
        if i % 2 == 0 {
            fields.push(("url", url.as_str()));
        }
        assert_eq!(app.comment(&browser, &path, &fields).await.status(), 303, "{text}");
    }
    let stored = app.store.list_comments(None, 1000).await.expect("comments");
    let spam: Vec<_> = stored.iter().filter(|c| c.status == "spam").map(|c| (&c.body, &c.reason)).collect();
    assert!(spam.is_empty(), "sent to Spam: {spam:?}");

    // The Akismet API says "not spam" for each, sent as WordPress sends it.
    let key = "k3ysiteone12";
    app.store
        .create_api_key(key, "https://blog.example.org", "blog", chrono::Utc::now().timestamp())
        .await
        .expect("key");
    for (i, text) in comments.iter().enumerate() {
        let email = format!("reader{i}@example.net");
        let url = if i % 2 == 0 { format!("https://reader{i}.example.net/") } else { String::new() };
        let form = [
            ("api_key", key),
            ("blog", "https://blog.example.org"),
            ("user_ip", "203.0.113.7"),
            ("user_agent", "Mozilla/5.0 (X11; Linux x86_64)"),
            ("comment_type", "comment"),
            ("comment_author", "A Reader"),
            ("comment_author_email", email.as_str()),
            ("comment_author_url", url.as_str()),
            ("comment_content", text.as_str()),
        ];
        let answer = app.client.post(app.url("/1.1/comment-check")).form(&form).send().await.expect("check");
        assert_eq!(answer.text().await.expect("body"), "false", "{text}");
    }
    app.stop().await;
}
