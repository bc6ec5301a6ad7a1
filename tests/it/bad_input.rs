//! Whatever a browser, bot or attacker sends gets a clear 4xx, never a 500.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::TestApp;

/// Sends raw bytes as a request and returns the status line.
async fn raw_status(app: &TestApp, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(app.addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    let mut response = Vec::new();
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read_to_end(&mut response)).await;
    let text = String::from_utf8_lossy(&response);
    text.lines().next().unwrap_or("").to_owned()
}

#[tokio::test]
async fn malformed_paths_and_queries_get_clear_4xx() {
    let app = TestApp::spawn().await;
    let long_query = format!("/?q={}", "a".repeat(50_000));
    let long_path = format!("/{}/", "a".repeat(3_000));
    let cases: Vec<(String, u16, &str)> = vec![
        ("/%FF%FE/".into(), 400, "not valid UTF-8"),
        ("/caf%C3/".into(), 400, "not valid UTF-8"),
        ("/a%00b/".into(), 400, "control characters"),
        ("//".into(), 404, "Page not found"),
        ("/..%2F..%2Fetc%2Fpasswd".into(), 404, "Page not found"),
        ("/2026/99/99/x/".into(), 404, "Page not found"),
        ("/page/-1/".into(), 404, "Page not found"),
        ("/page/99999999999999999999/".into(), 404, "Page not found"),
        ("/category/".into(), 404, "Page not found"),
        ("/wp-login.php".into(), 404, "Page not found"),
        ("/static/../Cargo.toml".into(), 404, ""),
        ("/media/..%2F..%2Fbroadsheet.db".into(), 404, ""),
        (long_path, 414, "too long"),
        (long_query, 414, "too long"),
    ];
    for (path, status, needle) in cases {
        let response = app.get(&path).await;
        assert_eq!(response.status().as_u16(), status, "{}", &path[..path.len().min(60)]);
        let body = response.text().await.expect("body");
        assert!(body.contains(needle), "{}: {body}", &path[..path.len().min(60)]);
    }
    // Odd but harmless queries are ignored: the page is served.
    for query in ["?utm_source=x&utm_source=y", "?%FF=%FE", "?a[]=1&a[]=2", "?;;;", "?=&="] {
        assert_eq!(app.get(&format!("/{query}")).await.status(), 200, "{query}");
    }
    app.stop().await;
}

#[tokio::test]
async fn raw_invalid_requests_are_refused() {
    let app = TestApp::spawn().await;
    let status = raw_status(&app, b"GET /caf\xc3\x28/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(status.starts_with("HTTP/1.1 4"), "invalid UTF-8 bytes in the path: {status}");
    let status = raw_status(&app, b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
    assert!(status.starts_with("HTTP/1.1 4"), "raw high bytes: {status}");
    let status = raw_status(&app, b"GARBAGE\r\n\r\n").await;
    assert!(status.starts_with("HTTP/1.1 4"), "not HTTP: {status}");
    app.stop().await;
}

#[tokio::test]
async fn other_methods_are_refused() {
    let app = TestApp::spawn().await;
    for method in ["POST", "PUT", "DELETE", "PATCH"] {
        let response = app.client.request(method.parse().expect("method"), app.url("/")).send().await.expect("request");
        assert_eq!(response.status(), 405, "{method}");
        assert_eq!(response.headers()["allow"], "GET,HEAD");
    }
    // An article's address also takes POST: the comment form.
    let front = app.page("/").await;
    let article = crate::helpers::link_to(&front, "harbour-night-ferry-trial");
    let put = app.client.put(app.url(&article)).send().await.expect("request");
    assert_eq!(put.status(), 405);
    assert_eq!(put.headers()["allow"], "GET,HEAD,POST");
    let head = app.client.head(app.url("/")).send().await.expect("request");
    assert_eq!(head.status(), 200);
    app.stop().await;
}
