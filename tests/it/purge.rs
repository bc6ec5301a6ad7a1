//! The CDN purge webhook: a change's cache tags reach the configured
//! address, signed, and a failed call is made again until it succeeds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use broadsheet::app::StartOptions;
use broadsheet::config::PurgeWebhook;

use crate::helpers::{TestApp, article};

const SECRET: &str = "a purge secret shared with the CDN relay";

/// Each call the webhook received: its signature header and body.
type Calls = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A webhook that fails its first call and takes the rest.
async fn webhook() -> (String, Calls) {
    async fn receive(State(calls): State<Calls>, headers: HeaderMap, body: Bytes) -> StatusCode {
        let signature = headers.get("x-broadsheet-signature").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let mut calls = calls.lock().expect("calls");
        calls.push((signature, body.to_vec()));
        if calls.len() == 1 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::NO_CONTENT }
    }
    let calls = Calls::default();
    let router = Router::new().route("/purge", post(receive)).with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("webhook") });
    (format!("http://{addr}/purge"), calls)
}

#[tokio::test]
async fn a_change_is_sent_to_the_cdn_signed_and_again_after_a_failure() {
    let (url, calls) = webhook().await;
    let app = TestApp::spawn_configured(StartOptions { demo: false }, |config| {
        config.purge = Some(PurgeWebhook { url, secret: Some(SECRET.to_owned()) });
    })
    .await;
    let id = app.publish(&article("Purged at the edge", "slug = \"purged\"", "Text.")).await;
    let tag = format!("article:{id}");
    let started = Instant::now();
    let delivered = loop {
        let found = calls
            .lock()
            .expect("calls")
            .iter()
            .skip(1)
            .find(|(_, body)| String::from_utf8_lossy(body).contains(&format!("\"{tag}\"")))
            .cloned();
        if let Some(call) = found {
            break call;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no successful purge call: {:?}",
            calls.lock().expect("calls")
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let calls = calls.lock().expect("calls").clone();
    let (first_signature, first_body) = &calls[0];
    assert_eq!(
        String::from_utf8_lossy(first_body),
        String::from_utf8_lossy(&delivered.1),
        "the failed call is made again"
    );
    assert_eq!(first_signature, &broadsheet::purge::signature(SECRET, first_body));
    let (signature, body) = delivered;
    assert_eq!(signature, broadsheet::purge::signature(SECRET, &body), "signed with the shared secret");
    let sent: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    let keys: Vec<&str> = sent["keys"].as_array().expect("keys").iter().filter_map(|k| k.as_str()).collect();
    assert!(keys.contains(&tag.as_str()) && keys.contains(&"front"), "{keys:?}");
    // The same names the page carries for the CDN.
    let page = app.get(&crate::helpers::link_to(&app.page("/").await, "purged")).await;
    let carried = page.headers()["surrogate-key"].to_str().expect("ascii").to_owned();
    assert!(carried.split(' ').any(|k| k == tag), "{carried}");
    app.stop().await;
}
