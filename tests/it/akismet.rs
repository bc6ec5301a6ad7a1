//! The Akismet-compatible API, driven as an Akismet client would: every
//! documented response and header, bad input, per-site learning, and
//! lessons that survive a restart.

use broadsheet::app::StartOptions;
use broadsheet::config::AkismetQuotas;
use chrono::Utc;

use crate::helpers::TestApp;

const KEY: &str = "k3ysiteone12";
const OTHER_KEY: &str = "k3ysitetwo34";
const BLOG: &str = "https://blog.example.org";
const OTHER_BLOG: &str = "https://other.example.net";
const SPAMMY: &str = "Check out my channel!!! subscribe to me http://bit.ly/freemoney make money fast";
const HAM: &str = "The council should publish the ferry timetable before the trial starts next month.";

/// How long the servers of these tests trust their copy of the keys.
const KEY_TTL: std::time::Duration = std::time::Duration::from_millis(200);

async fn with_keys() -> TestApp {
    with_keys_and(AkismetQuotas { key_ttl: KEY_TTL, ..AkismetQuotas::default() }).await
}

/// A server with the allowances `quotas` and two sites' keys.
async fn with_keys_and(quotas: AkismetQuotas) -> TestApp {
    let app = TestApp::spawn_configured(StartOptions { demo: false }, |config| config.akismet_quotas = quotas).await;
    let now = Utc::now().timestamp();
    app.store.create_api_key(KEY, BLOG, "site one", now).await.expect("key");
    app.store.create_api_key(OTHER_KEY, OTHER_BLOG, "site two", now).await.expect("key");
    app
}

async fn call(app: &TestApp, method: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url(&format!("/1.1/{method}"))).form(form).send().await.expect("request")
}

/// The parameters a client sends about one comment, to check it and later to report it.
fn comment<'a>(key: &'a str, content: &'a str) -> [(&'static str, &'a str); 7] {
    [
        ("api_key", key),
        ("blog", if key == OTHER_KEY { OTHER_BLOG } else { BLOG }),
        ("user_ip", "203.0.113.7"),
        ("user_agent", "Mozilla/5.0"),
        ("comment_type", "comment"),
        ("comment_author", "Sam"),
        ("comment_content", content),
    ]
}

/// Akismet's line of help in an answer.
fn help(response: &reqwest::Response) -> Option<String> {
    response.headers().get("x-akismet-debug-help").map(|v| v.to_str().unwrap_or("").to_owned())
}

async fn check(app: &TestApp, key: &str, content: &str) -> String {
    call(app, "comment-check", &comment(key, content)).await.text().await.expect("body")
}

#[tokio::test]
async fn a_key_works_only_for_the_site_it_was_made_for() {
    let app = with_keys().await;
    let other_site = "This API key was made for another site: use the key made for this one, \
                      or create one with `broadsheet apikey create --site URL`.";
    let verify = call(&app, "verify-key", &[("key", KEY), ("blog", OTHER_BLOG)]).await;
    assert_eq!(help(&verify).as_deref(), Some(other_site));
    assert_eq!(verify.text().await.expect("body"), "invalid");
    let form = [("api_key", KEY), ("blog", OTHER_BLOG), ("user_ip", "1.2.3.4"), ("comment_content", HAM)];
    let check = call(&app, "comment-check", &form).await;
    assert_eq!(help(&check).as_deref(), Some(other_site));
    assert_eq!(check.text().await.expect("body"), "invalid");
    // The same site however its address is written: www, case, port, a page on it.
    for blog in ["https://www.Blog.Example.org", "http://blog.example.org:8080/news/", "blog.example.org"] {
        let form = [("api_key", KEY), ("blog", blog), ("user_ip", "1.2.3.4"), ("comment_content", HAM)];
        assert_eq!(call(&app, "comment-check", &form).await.text().await.expect("body"), "false", "{blog}");
    }
    app.stop().await;
}

#[tokio::test]
async fn documented_responses_and_headers() {
    let app = with_keys().await;
    let valid = call(&app, "verify-key", &[("key", KEY), ("blog", BLOG)]).await;
    assert_eq!(valid.status(), 200);
    assert_eq!(valid.text().await.expect("body"), "valid");
    let invalid = call(&app, "verify-key", &[("key", "nosuchkey123"), ("blog", BLOG)]).await;
    assert!(invalid.headers().contains_key("x-akismet-debug-help"));
    assert_eq!(invalid.text().await.expect("body"), "invalid");

    // comment-check: a GUID on every answer; WordPress's many extra parameters are ignored.
    let form = [
        ("api_key", KEY),
        ("blog", BLOG),
        ("user_ip", "203.0.113.7"),
        ("user_agent", "Mozilla/5.0"),
        ("referrer", "https://www.google.com/"),
        ("permalink", "https://blog.example.org/2026/11/post/"),
        ("comment_type", "comment"),
        ("comment_author", "Sam"),
        ("comment_author_email", "sam@example.org"),
        ("comment_author_url", ""),
        ("comment_content", HAM),
        ("comment_date_gmt", "2026-11-23T10:00:00Z"),
        ("comment_post_modified_gmt", "2026-11-22T10:00:00Z"),
        ("blog_lang", "en_us"),
        ("blog_charset", "UTF-8"),
        ("is_test", "1"),
        ("POST_akismet_comment_nonce", "abc"),
        ("SERVER_SOFTWARE", "nginx"),
        ("comment_post_ID", "42"),
    ];
    let ham = call(&app, "comment-check", &form).await;
    assert_eq!(ham.status(), 200);
    assert_eq!(ham.headers()["x-akismet-guid"].len(), 32);
    assert_eq!(ham.text().await.expect("body"), "false");
    assert_eq!(check(&app, KEY, SPAMMY).await, "true");

    // Akismet's test values.
    let guaranteed = call(
        &app,
        "comment-check",
        &[
            ("api_key", KEY),
            ("blog", BLOG),
            ("user_ip", "1.2.3.4"),
            ("comment_author", "akismet-guaranteed-spam"),
            ("comment_content", HAM),
        ],
    )
    .await;
    assert_eq!(guaranteed.text().await.expect("body"), "true");
    let admin = call(
        &app,
        "comment-check",
        &[
            ("api_key", KEY),
            ("blog", BLOG),
            ("user_ip", "1.2.3.4"),
            ("user_role", "administrator"),
            ("comment_content", SPAMMY),
        ],
    )
    .await;
    assert_eq!(admin.text().await.expect("body"), "false");

    // Blatant spam carries the discard tip.
    let blatant = [
        ("api_key", KEY),
        ("blog", BLOG),
        ("user_ip", "1.2.3.4"),
        ("comment_author", "Bob"),
        ("comment_content", "Check out my channel subscribe http://bit.ly/x"),
    ];
    let response = call(&app, "comment-check", &blatant).await;
    assert_eq!(response.headers().get("x-akismet-pro-tip").map(|v| v.to_str().unwrap_or("")), Some("discard"));
    assert_eq!(response.text().await.expect("body"), "true");

    for method in ["submit-spam", "submit-ham"] {
        let response = call(
            &app,
            method,
            &[("api_key", KEY), ("blog", BLOG), ("user_ip", "1.2.3.4"), ("comment_content", "x"), ("is_test", "1")],
        )
        .await;
        assert_eq!(response.text().await.expect("body"), "Thanks for making the web a better place.");
    }
    // Older clients put the key in the host name.
    let by_host = app
        .client
        .post(app.url("/1.1/verify-key"))
        .header("host", format!("{KEY}.rest.example.org"))
        .form(&[("blog", BLOG)])
        .send()
        .await
        .expect("request");
    assert_eq!(by_host.text().await.expect("body"), "valid");
    app.stop().await;
}

#[tokio::test]
async fn only_a_confident_verdict_is_spam() {
    let app = with_keys().await;
    // A plain comment sent with every context signal that raises doubt: no
    // user agent, a website, a name stuffed with keywords, an e-mail domain.
    let form = [
        ("api_key", KEY),
        ("blog", BLOG),
        ("user_ip", "203.0.113.7"),
        ("comment_type", "comment"),
        ("comment_author", "best cheap seo online"),
        ("comment_author_email", "seo@example.org"),
        ("comment_author_url", "https://seo.example.org/"),
        ("comment_content", HAM),
    ];
    let input = broadsheet::spam::SpamInput {
        text: HAM.into(),
        author_name: Some("best cheap seo online".into()),
        author_url: Some("https://seo.example.org/".into()),
        email_domain: Some("example.org".into()),
        user_agent_missing: true,
        links: Some(0),
        ..Default::default()
    };
    let verdict = app.spam.check(broadsheet::spam::LOCAL_SITE, &input);
    assert_eq!(verdict.decision, spamfilter::Decision::Doubtful, "{verdict}");
    assert_eq!(call(&app, "comment-check", &form).await.text().await.expect("body"), "false");
    // The same words from a spammer are spam, context or not.
    let spam = [("comment_content", SPAMMY), ("api_key", KEY), ("blog", BLOG), ("user_ip", "203.0.113.7")];
    assert_eq!(call(&app, "comment-check", &spam).await.text().await.expect("body"), "true");
}

#[tokio::test]
async fn bad_requests_get_documented_answers() {
    let app = with_keys().await;
    let no_key = call(&app, "comment-check", &[("blog", BLOG), ("user_ip", "1.2.3.4")]).await;
    assert_eq!(help(&no_key).as_deref(), Some("Empty \"api_key\" value"));
    assert_eq!(no_key.text().await.expect("body"), "invalid");
    let unknown =
        call(&app, "comment-check", &[("api_key", "revokedkey99"), ("blog", BLOG), ("user_ip", "1.2.3.4")]).await;
    assert!(help(&unknown).is_some());
    assert_eq!(unknown.text().await.expect("body"), "invalid");
    let no_blog = call(&app, "comment-check", &[("api_key", KEY), ("user_ip", "1.2.3.4")]).await;
    assert_eq!(help(&no_blog).as_deref(), Some("Empty \"blog\" value"));
    let no_ip = call(&app, "comment-check", &[("api_key", KEY), ("blog", BLOG), ("comment_content", "hi")]).await;
    assert_eq!(no_ip.text().await.expect("body"), "Missing required field: user_ip.");

    let json = app
        .client
        .post(app.url("/1.1/comment-check"))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("request");
    assert_eq!(json.status(), 415);
    assert!(help(&json).is_some());
    let raw = |body: Vec<u8>| {
        app.client
            .post(app.url("/1.1/comment-check"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    let bad_utf8 = raw(b"api_key=k3ysiteone12&blog=x&comment_content=\xff\xfe".to_vec()).await.expect("request");
    assert_eq!(bad_utf8.status(), 400);
    let huge = raw(format!("api_key={KEY}&blog=x&user_ip=1&comment_content={}", "a".repeat(300_000)).into_bytes())
        .await
        .expect("request");
    assert_eq!(huge.status(), 413);
    let unknown_method = call(&app, "comment-delete", &[("api_key", KEY), ("blog", BLOG)]).await;
    assert_eq!(unknown_method.status(), 404);
    let get = app.get("/1.1/comment-check").await;
    assert_eq!(get.status(), 405);

    // A revoked key stops working once the server reads the keys again (every key TTL).
    app.store.revoke_api_key(OTHER_KEY, Utc::now().timestamp()).await.expect("revoke");
    tokio::time::sleep(KEY_TTL).await;
    let revoked = call(&app, "verify-key", &[("key", OTHER_KEY), ("blog", BLOG)]).await;
    assert_eq!(revoked.text().await.expect("body"), "invalid");

    // A flood: every request answered correctly, none fails.
    let mut tasks = Vec::new();
    for _ in 0..500 {
        let client = app.client.clone();
        let url = app.url("/1.1/comment-check");
        tasks.push(tokio::spawn(async move {
            let form = [("api_key", KEY), ("blog", BLOG), ("user_ip", "1.2.3.4"), ("comment_content", HAM)];
            client.post(url).form(&form).send().await.map(|r| r.status().as_u16())
        }));
    }
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("answered"), 200);
    }
    app.stop().await;
}

#[tokio::test]
async fn feedback_teaches_only_its_own_site_and_survives_a_restart() {
    let app = with_keys().await;
    let lesson = "The harbour board meeting minutes are online now, page two has the ferry vote.";
    assert_eq!(check(&app, KEY, lesson).await, "false");
    for _ in 0..12 {
        let response = call(&app, "submit-spam", &comment(KEY, lesson)).await;
        assert_eq!(response.text().await.expect("body"), "Thanks for making the web a better place.");
    }
    assert_eq!(check(&app, KEY, lesson).await, "true", "site one learned");
    assert_eq!(check(&app, OTHER_KEY, lesson).await, "false", "site two is unaffected");

    let app = app.restart().await;
    assert_eq!(check(&app, KEY, lesson).await, "true", "the lessons survive a restart");
    assert_eq!(check(&app, OTHER_KEY, lesson).await, "false");
    app.stop().await;
}

/// Sends `n` requests built by `form(i)`, eight at a time; returns each answer's status, headers and body.
async fn many(
    app: &TestApp,
    method: &str,
    n: usize,
    form: impl Fn(usize) -> Vec<(&'static str, String)>,
) -> Vec<(u16, reqwest::header::HeaderMap, String)> {
    let mut answers = Vec::new();
    let forms: Vec<_> = (0..n).map(form).collect();
    for chunk in forms.chunks(8) {
        let mut tasks = Vec::new();
        for form in chunk {
            let (client, url, form) = (app.client.clone(), app.url(&format!("/1.1/{method}")), form.clone());
            tasks.push(tokio::spawn(async move {
                let r = client.post(url).form(&form).send().await.expect("answered");
                (r.status().as_u16(), r.headers().clone(), r.text().await.expect("body"))
            }));
        }
        for task in tasks {
            answers.push(task.await.expect("task"));
        }
    }
    answers
}

/// A server whose allowances are small and never refill during the test, so
/// that exactly the burst is served and the rest refused, however slow the machine.
async fn with_small_allowances() -> TestApp {
    use std::time::Duration;
    with_keys_and(AkismetQuotas {
        feedback_burst: FEEDBACK_BURST,
        feedback_every: Duration::from_secs(3600),
        lookup_burst: LOOKUP_BURST,
        lookup_every: Duration::from_secs(3600),
        // Every call reads the keys again, so that a new or revoked key counts at once.
        key_ttl: Duration::ZERO,
    })
    .await
}

const FEEDBACK_BURST: u32 = 30;
const LOOKUP_BURST: u32 = 20;

#[tokio::test]
async fn floods_get_a_clear_429_and_lose_nothing_acknowledged() {
    let app = with_small_allowances().await;
    // The client's key is valid.
    assert_eq!(call(&app, "verify-key", &[("key", KEY), ("blog", BLOG)]).await.text().await.expect("body"), "valid");
    let lessons_before = app.store.lessons_after(0).await.expect("lessons").len();

    // Feedback beyond a key's burst is refused with 429, Retry-After and a line of help.
    let sent = FEEDBACK_BURST as usize + 25;
    let answers = many(&app, "submit-spam", sent, |i| {
        vec![
            ("api_key", KEY.to_owned()),
            ("blog", BLOG.to_owned()),
            ("user_ip", "203.0.113.7".to_owned()),
            ("comment_content", format!("Buy cheap watches number {i} at http://watches.example")),
        ]
    })
    .await;
    let thanked = answers.iter().filter(|(status, _, body)| *status == 200 && body.starts_with("Thanks")).count();
    let refused: Vec<_> = answers.iter().filter(|(status, _, _)| *status == 429).collect();
    assert_eq!(thanked, FEEDBACK_BURST as usize, "the burst is served");
    assert_eq!(refused.len(), sent - thanked, "every other answer is a 429");
    for (_, headers, body) in &refused {
        assert_eq!(body, "invalid");
        let wait = headers.get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
        assert!(wait.is_some_and(|s| (1..=3600).contains(&s)), "Retry-After {wait:?}");
        assert!(headers.contains_key("x-akismet-debug-help"));
    }
    // Each thanked lesson is stored; none of the refused ones is.
    let lessons = app.store.lessons_after(0).await.expect("lessons").len();
    assert_eq!(lessons - lessons_before, thanked);
    // Another key's feedback and every key's checks are not held up.
    let other = call(&app, "submit-ham", &comment(OTHER_KEY, HAM)).await;
    assert_eq!(other.text().await.expect("body"), "Thanks for making the web a better place.");
    assert_eq!(check(&app, KEY, HAM).await, "false");

    // An address trying key after key is stopped after its burst.
    let tried = LOOKUP_BURST as usize + 25;
    let answers =
        many(&app, "verify-key", tried, |i| vec![("key", format!("guessedkey{i:06}")), ("blog", BLOG.to_owned())])
            .await;
    let invalid = answers.iter().filter(|(status, _, body)| *status == 200 && body == "invalid").count();
    let limited =
        answers.iter().filter(|(status, headers, _)| *status == 429 && headers.contains_key("retry-after")).count();
    assert_eq!(invalid, LOOKUP_BURST as usize, "the burst is answered");
    assert_eq!(limited, tried - invalid, "the rest is refused");
    // The same address still gets every answer for valid keys, even one it has
    // never used and one made a moment ago: valid keys are never charged.
    for _ in 0..LOOKUP_BURST * 2 {
        assert_eq!(check(&app, KEY, HAM).await, "false");
    }
    assert_eq!(check(&app, OTHER_KEY, HAM).await, "false");
    app.store.create_api_key("k3ysitethree", BLOG, "site three", Utc::now().timestamp()).await.expect("key");
    assert_eq!(check(&app, "k3ysitethree", HAM).await, "false");
    // A revoked key stops working at once, limits or not.
    app.store.revoke_api_key(KEY, Utc::now().timestamp()).await.expect("revoke");
    assert_eq!(check(&app, KEY, HAM).await, "invalid");
    app.stop().await;
}

#[tokio::test]
async fn keys_that_cannot_be_keys_are_refused_without_a_lookup() {
    let app = with_small_allowances().await;
    let long = "k".repeat(65);
    for key in [long.as_str(), "key with spaces", "kéy", "key;drop"] {
        let answer = call(&app, "comment-check", &comment(key, HAM)).await;
        assert_eq!(answer.status(), 200);
        assert!(answer.headers().contains_key("x-akismet-debug-help"));
        assert_eq!(answer.text().await.expect("body"), "invalid");
    }
    // None of those was charged to the address: its whole burst is left.
    let answers = many(&app, "verify-key", LOOKUP_BURST as usize, |i| {
        vec![("key", format!("guessedkey{i:06}")), ("blog", BLOG.to_owned())]
    })
    .await;
    assert!(answers.iter().all(|(status, _, body)| *status == 200 && body == "invalid"));
    app.stop().await;
}
