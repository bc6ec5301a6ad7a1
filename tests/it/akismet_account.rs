//! The calls around the filter that WordPress's Akismet plugin and the
//! client libraries make, with the bodies and headers Akismet documents:
//! `test`, `get-subscription`, `get-stats`, `deactivate`, the 1.2 `key-sites`
//! and `usage-limit`, and text sent with PHP's added slashes.

use broadsheet::app::StartOptions;
use broadsheet::config::AkismetQuotas;
use chrono::Utc;
use serde_json::{Value, json};

use broadsheet::domain::role::Role;

use crate::helpers::TestApp;

const KEY: &str = "0a1b2c3d4e5f";
const OTHER_KEY: &str = "f5e4d3c2b1a0";
const BLOG: &str = "http://127.0.0.1:8081";
const OTHER_BLOG: &str = "https://other.example.net";
/// What WordPress's Akismet plugin sends as its user agent.
const WORDPRESS: &str = "WordPress/6.1.9 | Akismet/5.0.2";

async fn with_keys() -> TestApp {
    let quotas = AkismetQuotas { key_ttl: std::time::Duration::from_millis(200), ..AkismetQuotas::default() };
    let app = TestApp::spawn_configured(StartOptions { demo: false }, |config| config.akismet_quotas = quotas).await;
    let now = Utc::now().timestamp();
    app.store.create_api_key(KEY, BLOG, "a WordPress site", now).await.expect("key");
    app.store.create_api_key(OTHER_KEY, OTHER_BLOG, "another", now).await.expect("key");
    app
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url(path)).header("user-agent", WORDPRESS).form(form).send().await.expect("request")
}

async fn json_of(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json; charset=utf-8");
    serde_json::from_str(&response.text().await.expect("body")).expect("JSON")
}

fn help(response: &reqwest::Response) -> String {
    response.headers().get("x-akismet-debug-help").map(|v| v.to_str().unwrap_or("").to_owned()).unwrap_or_default()
}

fn this_month() -> String {
    Utc::now().format("%Y-%m").to_string()
}

#[tokio::test]
async fn the_plugins_settings_page_calls_answer_as_akismet_does() {
    let app = with_keys().await;
    // The connection test, by GET on every settings page, and by POST.
    let test = app.get("/1.1/test").await;
    assert_eq!(test.status(), 200);
    assert_eq!(test.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(test.text().await.expect("body"), "connected");
    assert_eq!(post(&app, "/1.1/test", &[]).await.text().await.expect("body"), "connected");

    // The subscription of a key being saved: `key` is the new key, `api_key` the one in use.
    let subscription =
        json_of(post(&app, "/1.1/get-subscription", &[("key", KEY), ("blog", BLOG), ("api_key", OTHER_KEY)]).await)
            .await;
    assert_eq!(subscription["status"], "active");
    assert_eq!(subscription["account_name"], "Broadsheet (self-hosted)");
    assert_eq!(subscription["next_billing_date"], Value::Null);
    assert_eq!(subscription["limit_reached"], false);
    let unknown = post(&app, "/1.1/get-subscription", &[("key", "123456789abc"), ("blog", BLOG)]).await;
    assert!(help(&unknown).contains("not valid"), "{}", help(&unknown));
    assert_eq!(unknown.text().await.expect("body"), "invalid");
    let elsewhere = post(&app, "/1.1/get-subscription", &[("key", KEY), ("blog", OTHER_BLOG)]).await;
    assert_eq!(elsewhere.text().await.expect("body"), "invalid");

    let deactivated = post(&app, "/1.1/deactivate", &[("key", KEY), ("blog", BLOG)]).await;
    assert_eq!(deactivated.status(), 200);
    assert_eq!(deactivated.text().await.expect("body"), "deactivated");
    // Deactivating a plugin does not revoke the key.
    assert_eq!(
        post(&app, "/1.1/verify-key", &[("key", KEY), ("blog", BLOG)]).await.text().await.expect("body"),
        "valid"
    );

    // Calls that change or check something are POSTs only; unknown calls are named.
    let get = app.get(&format!("/1.1/comment-check?api_key={KEY}&blog={BLOG}&user_ip=1.2.3.4")).await;
    assert_eq!(get.status(), 405);
    assert_eq!(get.headers()["allow"], "POST");
    assert_eq!(help(&get), "Send this call as a POST.");
    let unknown = post(&app, "/1.1/get-coffee", &[("key", KEY)]).await;
    assert_eq!(unknown.status(), 404);
    assert!(help(&unknown).contains("get-stats"), "{}", help(&unknown));
    app.stop().await;
}

#[tokio::test]
async fn stats_count_each_keys_checks_and_corrections_by_month_and_survive_a_restart() {
    let app = with_keys().await;
    let check = |author: &'static str, text: &'static str, test: bool| {
        let mut form = vec![
            ("api_key", KEY),
            ("blog", BLOG),
            ("user_ip", "203.0.113.7"),
            ("user_agent", "Mozilla/5.0"),
            ("comment_type", "comment"),
            ("comment_author", author),
            ("comment_content", text),
        ];
        if test {
            form.push(("is_test", "1"));
        }
        form
    };
    let ham = "The council should publish the ferry timetable before the trial starts next month.";
    for _ in 0..3 {
        let answer = post(&app, "/1.1/comment-check", &check("Sam", ham, false)).await;
        assert_eq!(answer.text().await.expect("body"), "false");
    }
    for _ in 0..2 {
        let answer = post(&app, "/1.1/comment-check", &check("akismet-guaranteed-spam", ham, false)).await;
        assert_eq!(answer.text().await.expect("body"), "true");
    }
    // Test traffic is not counted.
    post(&app, "/1.1/comment-check", &check("akismet-guaranteed-spam", ham, true)).await;
    // A moderator's corrections.
    let spam = "Buy cheap meds online now at http://pills.example.com best prices";
    post(&app, "/1.1/submit-spam", &check("Max", spam, false)).await;
    post(&app, "/1.1/submit-ham", &check("Sam", ham, false)).await;

    let month = this_month();
    let figures = json!({ "spam": 2, "ham": 3, "missed_spam": 1, "false_positives": 1, "accuracy": 60.0 });
    let mut expected = figures.clone();
    expected["breakdown"] = json!({ month.clone(): figures });
    for from in ["all", "6-months", "60-days"] {
        let stats = json_of(post(&app, "/1.1/get-stats", &[("key", KEY), ("blog", BLOG), ("from", from)]).await).await;
        assert_eq!(stats, expected, "from {from}");
    }
    let since_next_year = format!("{}-01-01", Utc::now().format("%Y").to_string().parse::<i32>().expect("year") + 1);
    let none = json_of(post(&app, "/1.1/get-stats", &[("key", KEY), ("from", &since_next_year)]).await).await;
    assert_eq!(
        none,
        json!({ "spam": 0, "ham": 0, "missed_spam": 0, "false_positives": 0, "accuracy": 100.0, "breakdown": {} })
    );
    let bad = post(&app, "/1.1/get-stats", &[("key", KEY), ("from", "last week")]).await;
    assert!(help(&bad).contains("6-months"), "{}", help(&bad));
    assert_eq!(bad.text().await.expect("body"), "invalid");
    // The other site's key saw none of it.
    let other = json_of(post(&app, "/1.1/get-stats", &[("key", OTHER_KEY), ("blog", OTHER_BLOG)]).await).await;
    assert_eq!(other["spam"], 0);
    assert_eq!(other["ham"], 0);

    // One more check, answered just before the server stops, is counted after the restart.
    post(&app, "/1.1/comment-check", &check("Sam", ham, false)).await;
    let app = app.restart().await;
    let stats = json_of(post(&app, "/1.1/get-stats", &[("key", KEY), ("blog", BLOG)]).await).await;
    assert_eq!(stats["ham"], 4);
    assert_eq!(stats["spam"], 2);
    app.stop().await;
}

#[tokio::test]
async fn key_sites_and_usage_limit_answer_in_akismets_shapes() {
    let app = with_keys().await;
    let month = this_month();
    // Before any traffic: no site has used the key this month.
    let sites = json_of(app.get(&format!("/1.2/key-sites?api_key={KEY}")).await).await;
    assert_eq!(sites, json!({ month.clone(): [], "limit": 500, "offset": 0, "total": 0 }));

    let form = [
        ("api_key", KEY),
        ("blog", BLOG),
        ("user_ip", "203.0.113.7"),
        ("comment_author", "akismet-guaranteed-spam"),
        ("comment_content", "Anything at all"),
    ];
    post(&app, "/1.1/comment-check", &form).await;
    let form = [("api_key", KEY), ("blog", BLOG), ("user_ip", "203.0.113.7"), ("comment_content", "A fair point.")];
    post(&app, "/1.1/comment-check", &form).await;
    post(&app, "/1.1/submit-ham", &form).await;

    let usage = json_of(app.get(&format!("/1.2/usage-limit?api_key={KEY}")).await).await;
    assert_eq!(usage, json!({ "limit": "none", "usage": 2, "percentage": "0.00", "throttled": false }));
    let by_post = json_of(post(&app, "/1.2/usage-limit", &[("api_key", KEY)]).await).await;
    assert_eq!(by_post, usage);

    let row = json!({
        "site": "127.0.0.1", "api_calls": "3", "spam": "1", "ham": "1",
        "missed_spam": "0", "false_positives": "1", "is_revoked": false,
    });
    let sites = json_of(app.get(&format!("/1.2/key-sites?api_key={KEY}&month={month}")).await).await;
    assert_eq!(sites, json!({ month.clone(): [row], "limit": 500, "offset": 0, "total": 1 }));
    let filtered = json_of(app.get(&format!("/1.2/key-sites?api_key={KEY}&filter=example.com")).await).await;
    assert_eq!(filtered["total"], 0);
    let paged = json_of(app.get(&format!("/1.2/key-sites?api_key={KEY}&offset=1&limit=10")).await).await;
    assert_eq!(paged, json!({ month.clone(): [], "limit": 10, "offset": 1, "total": 1 }));

    let csv = app.get(&format!("/1.2/key-sites?api_key={KEY}&format=csv")).await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(
        csv.text().await.expect("body"),
        format!(
            "Active sites for {KEY} during {month} (limit: 500, offset: 0, total: 1).\n\
             Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked\n\
             127.0.0.1,3,1,1,0,1,false\n"
        )
    );
    for (query, named) in [("month=2026-13", "month"), ("format=xml", "format"), ("limit=ten", "limit")] {
        let bad = app.get(&format!("/1.2/key-sites?api_key={KEY}&{query}")).await;
        assert!(help(&bad).contains(named), "{query}: {}", help(&bad));
        assert_eq!(bad.text().await.expect("body"), "invalid");
    }
    let no_key = app.get("/1.2/usage-limit").await;
    assert_eq!(help(&no_key), "Empty \"api_key\" value");
    app.stop().await;
}

#[tokio::test]
async fn text_with_wordpress_slashes_teaches_what_the_clean_text_does() {
    let app = with_keys().await;
    let clean = r#"I'm sure the "new" timetable is a mistake: C:\ferry isn't a port."#;
    let slashed = r#"I\'m sure the \"new\" timetable is a mistake: C:\\ferry isn\'t a port."#;
    let lesson = |text: &'static str, author: &'static str| {
        [
            ("api_key", KEY),
            ("blog", BLOG),
            ("user_ip", "203.0.113.7"),
            ("comment_author", author),
            ("comment_content", text),
        ]
    };
    // From WordPress (its user agent), and from a client that does not say who it is.
    post(&app, "/1.1/submit-ham", &lesson(slashed, r"O\'Brien")).await;
    let plain =
        app.client.post(app.url("/1.1/submit-ham")).form(&lesson(slashed, r"O\'Brien")).send().await.expect("request");
    assert_eq!(plain.status(), 200);
    // The clean text from a client that adds no slashes.
    let clean_client =
        app.client.post(app.url("/1.1/submit-ham")).form(&lesson(clean, "O'Brien")).send().await.expect("request");
    assert_eq!(clean_client.status(), 200);
    let lessons = app.store.lessons_after(0).await.expect("lessons");
    assert_eq!(lessons.len(), 3);
    let read = |json: &str| serde_json::from_str::<Value>(json).expect("lesson JSON");
    for lesson in &lessons {
        let taught = read(&lesson.comment);
        assert_eq!(taught["text"], clean, "{taught}");
        assert_eq!(taught["author_name"], "O'Brien", "{taught}");
    }
    app.stop().await;
}

#[tokio::test]
async fn the_admin_makes_and_revokes_keys_and_shows_each_sites_traffic() {
    let app = with_keys().await;
    let (admin, csrf) = app.signed_in("sam@example.org", Role::Administrator).await;
    let (editor, editor_csrf) = app.signed_in("ed@example.org", Role::Editor).await;
    let make = |csrf: &str, site: &str| {
        [
            ("csrf", csrf.to_owned()),
            ("do", "create".to_owned()),
            ("site", site.to_owned()),
            ("label", "Blog".to_owned()),
        ]
    };
    let refused = editor.post(app.url("/admin/api-keys")).form(&make(&editor_csrf, BLOG)).send().await.expect("post");
    assert_eq!(refused.status(), 403);
    let forged = admin.post(app.url("/admin/api-keys")).form(&make("", BLOG)).send().await.expect("post");
    assert_eq!(forged.status(), 403);
    let bad = admin.post(app.url("/admin/api-keys")).form(&make(&csrf, "blog.example.org")).send().await.expect("post");
    assert_eq!(bad.status(), 422);
    let page = bad.text().await.expect("body");
    assert!(page.contains("is not a site&#39;s address") || page.contains("is not a site's address"), "{page}");
    assert!(page.contains(r#"value="blog.example.org""#), "what was typed is kept");

    let made =
        admin.post(app.url("/admin/api-keys")).form(&make(&csrf, "https://wp.example.com")).send().await.expect("post");
    assert_eq!(made.status(), 200);
    let page = made.text().await.expect("body");
    let key = page
        .split(r#"<code class="one-time">"#)
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the new key, shown once")
        .to_owned();
    assert!(key.len() == 12 && key.bytes().all(|b| b.is_ascii_hexdigit()), "{key}");
    let verify = [("key", key.as_str()), ("blog", "https://wp.example.com")];
    assert_eq!(post(&app, "/1.1/verify-key", &verify).await.text().await.expect("body"), "valid");

    // Its traffic: two checks, one of them spam, and a correction that taught a lesson.
    let check = |author: &'static str| {
        [
            ("api_key", key.clone()),
            ("blog", "https://wp.example.com".to_owned()),
            ("user_ip", "203.0.113.7".to_owned()),
            ("comment_author", author.to_owned()),
            ("comment_content", "The bridge plugin works.".to_owned()),
        ]
    };
    let send = |form: [(&'static str, String); 5], method: &'static str| {
        app.client.post(app.url(&format!("/1.1/{method}"))).form(&form).send()
    };
    assert_eq!(send(check("Sam"), "comment-check").await.expect("check").text().await.expect("body"), "false");
    assert_eq!(
        send(check("akismet-guaranteed-spam"), "comment-check").await.expect("check").text().await.expect("body"),
        "true"
    );
    assert_eq!(send(check("Sam"), "submit-spam").await.expect("submit").status(), 200);
    let page = admin.get(app.url("/admin/api-keys")).send().await.expect("get").text().await.expect("body");
    assert!(!page.contains(&key), "a key is shown only when it is made");
    let row = page.split("https://wp.example.com").nth(1).and_then(|rest| rest.split("</tr>").next()).expect("row");
    let cells: Vec<&str> = row.split("<td>").skip(2).map(|cell| cell.split('<').next().unwrap_or("").trim()).collect();
    // Checks, spam, ham, missed spam, false positives, lessons learnt, accuracy.
    assert_eq!(cells[..7], ["2", "1", "1", "1", "0", "1", "50 %"], "{row}");

    // Revoked: refused once the servers' copy of the keys is read again.
    let revoke_value = page
        .split(r#"name="do" value="revoke:"#)
        .filter_map(|rest| rest.split('"').next())
        .last()
        .expect("a revoke button")
        .to_owned();
    let revoke = [("csrf", csrf.clone()), ("do", format!("revoke:{revoke_value}"))];
    let revoked = admin.post(app.url("/admin/api-keys")).form(&revoke).send().await.expect("post");
    assert_eq!(revoked.status(), 200);
    assert!(revoked.text().await.expect("body").contains("revoked"));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(post(&app, "/1.1/verify-key", &verify).await.text().await.expect("body"), "invalid");
    app.stop().await;
}
