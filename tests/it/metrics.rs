//! `/metrics`: Prometheus' text format, parsed by the Prometheus project's
//! own Python parser, counting what the server did; never public.

use broadsheet::app::StartOptions;
use chrono::Utc;

use crate::helpers::{TestApp, fields, link_to, python};

const TOKEN: &str = "metrics-token-for-the-tests-0123";

/// The families and samples as Prometheus' parser reads them: one line per
/// sample, `name{labels} value`, labels sorted.
fn parse(text: &str) -> Option<Vec<String>> {
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        print(f"{family.type} {s.name}{{{labels}}} {s.value}")
"#;
    python("prometheus_client", script, text).map(|out| out.lines().map(str::to_owned).collect())
}

fn value(samples: &[String], name_and_labels: &str) -> f64 {
    samples
        .iter()
        .find_map(|line| line.split_once(' ').and_then(|(_, rest)| rest.strip_prefix(name_and_labels)))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sample {name_and_labels} in\n{}", samples.join("\n")))
}

#[tokio::test]
async fn metrics_are_served_only_with_the_token() {
    let open = TestApp::spawn().await;
    assert_eq!(open.get("/metrics").await.status(), 404, "no token configured: no /metrics");
    open.stop().await;

    let app = TestApp::spawn_configured(StartOptions { demo: true }, |config| {
        config.metrics_token = broadsheet::config::Config::resolve(&broadsheet::config::ConfigArgs {
            metrics_token: Some(TOKEN.to_owned()),
            ..Default::default()
        })
        .expect("config")
        .metrics_token;
    })
    .await;
    let scrape = |token: Option<&str>| {
        let request = app.client.get(app.url("/metrics"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
        .send()
    };
    assert_eq!(scrape(None).await.expect("get").status(), 404);
    assert_eq!(scrape(Some("metrics-token-for-the-tests-0124")).await.expect("get").status(), 404);
    assert_eq!(scrape(Some("short")).await.expect("get").status(), 404);

    // Some traffic: a page twice (a miss, then a hit), a comment, a spam check.
    let front = app.page("/").await;
    let article = link_to(&front, "harbour-night-ferry-trial");
    app.page(&article).await;
    app.page(&article).await;
    app.relax_timing().await;
    let browser = app.browser();
    let posted =
        app.comment(&browser, &article, &fields("A thoughtful point about the ferry.", "Ana", "a@example.org")).await;
    assert_eq!(posted.status(), 303);
    app.store
        .create_api_key("0a0b0c0d0e0f", "https://blog.example.org", "", Utc::now().timestamp())
        .await
        .expect("key");
    let form = [
        ("api_key", "0a0b0c0d0e0f"),
        ("blog", "https://blog.example.org"),
        ("user_ip", "203.0.113.7"),
        ("comment_content", "Check out my channel!!! subscribe http://bit.ly/free-money-now"),
    ];
    let checked = app.client.post(app.url("/1.1/comment-check")).form(&form).send().await.expect("check");
    assert_eq!(checked.text().await.expect("body"), "true");

    let response = scrape(Some(TOKEN)).await.expect("get");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_eq!(response.headers()["cache-control"], "no-store");
    let text = response.text().await.expect("body");
    assert!(!text.contains("a@example.org"), "no commenter's address in the metrics");
    let Some(samples) = parse(&text) else { return };
    assert!(value(&samples, r#"broadsheet_http_requests_total{route="page",status="2xx"}"#) >= 2.0);
    assert!(value(&samples, r#"broadsheet_http_requests_total{route="spam_api",status="2xx"}"#) >= 1.0);
    assert!(value(&samples, r#"broadsheet_http_request_duration_seconds_count{route="page"}"#) >= 2.0);
    assert!(value(&samples, "broadsheet_page_cache_hits_total{}") >= 1.0);
    assert!(value(&samples, "broadsheet_page_cache_misses_total{}") >= 1.0);
    assert_eq!(value(&samples, r#"broadsheet_comments_total{outcome="pending"}"#), 1.0, "a first comment waits");
    assert_eq!(value(&samples, r#"broadsheet_spam_verdicts_total{source="api",verdict="blatant_spam"}"#), 1.0);
    assert_eq!(
        samples.iter().filter(|s| s.contains("broadsheet_spam_verdicts_total") && s.contains("comment_form")).count(),
        1,
        "the comment's verdict"
    );
    assert!(value(&samples, "broadsheet_db_pool_connections{}") >= 1.0);
    app.stop().await;
}
