//! A hostile internet: clients that stall, hoard connections, send control
//! characters or oversized forms, and what the server's answers carry.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use broadsheet::app::StartOptions;
use broadsheet::domain::role::Role;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

use crate::helpers::{TestApp, fields, link_to};

/// A raw connection from a loopback address of our choosing.
async fn connect(addr: SocketAddr, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.bind(SocketAddr::from((from, 0))).expect("bind");
    socket.connect(addr).await.expect("connect")
}

/// Everything the server sends until it closes, and how long that took.
async fn until_closed(stream: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "the server kept the connection open for 30 s");
    (String::from_utf8_lossy(&answer).into_owned(), started.elapsed())
}

async fn with_limits(adjust: impl FnOnce(&mut broadsheet::config::EdgeLimits)) -> TestApp {
    TestApp::spawn_configured(StartOptions { demo: true }, |config| adjust(&mut config.limits)).await
}

#[tokio::test]
async fn a_stalled_head_a_stalled_body_and_an_idle_connection_are_cut_off_in_time() {
    let app = with_limits(|limits| {
        limits.head_timeout = Duration::from_secs(1);
        limits.body_timeout = Duration::from_secs(1);
    })
    .await;
    // The head never ends: no blank line.
    let mut stalled = connect(app.addr, [127, 0, 0, 1]).await;
    stalled.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.expect("write");
    let (answer, took) = until_closed(&mut stalled).await;
    assert!(took < Duration::from_secs(4), "head cut off after {took:?}");
    assert!(!answer.contains("200 OK"), "{answer}");

    // The body stops at 11 of 100 bytes.
    let mut short = connect(app.addr, [127, 0, 0, 1]).await;
    short
        .write_all(
            b"POST /1.1/comment-check HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n\
              Content-Length: 100\r\n\r\nblog=abcdef",
        )
        .await
        .expect("write");
    let (answer, took) = until_closed(&mut short).await;
    assert!(took < Duration::from_secs(4), "body cut off after {took:?}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stopped arriving"), "{answer}");

    // A keep-alive connection that goes quiet after its answer.
    let mut idle = connect(app.addr, [127, 0, 0, 1]).await;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let (answer, took) = until_closed(&mut idle).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took < Duration::from_secs(4), "idle connection closed after {took:?}");
    app.stop().await;
}

#[tokio::test]
async fn one_address_past_its_cap_leaves_the_site_answering_everyone_else() {
    let app = with_limits(|limits| limits.max_connections_per_address = 4).await;
    let mut hoard = Vec::new();
    for _ in 0..4 {
        hoard.push(connect(app.addr, [127, 0, 0, 1]).await);
    }
    // The fifth from the same address is told to come back, at once.
    let mut fifth = connect(app.addr, [127, 0, 0, 1]).await;
    fifth.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await.expect("write");
    let (answer, _) = until_closed(&mut fifth).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("Retry-After: 5"), "{answer}");
    assert!(answer.contains("Too many connections from your address"), "{answer}");
    // Another address is answered within a second.
    let reader = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .timeout(Duration::from_secs(1))
        .build()
        .expect("client");
    let front = reader.get(app.url("/")).send().await.expect("answered within 1 s");
    assert_eq!(front.status(), 200);
    // Once the hoarder lets go, its address is served again.
    drop(hoard);
    let mut served = false;
    for _ in 0..50 {
        let mut again = connect(app.addr, [127, 0, 0, 1]).await;
        again.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await.expect("write");
        if until_closed(&mut again).await.0.starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the address gets its places back");
    app.stop().await;
}

#[tokio::test]
async fn a_control_character_in_any_field_of_any_form_or_api_gets_422_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let (admin, csrf) = app.signed_in("ed@example.org", Role::Administrator).await;
    let reader = app.browser();
    let comments_before = app.store.list_comments(None, 1000).await.expect("list").len();
    let nul = "Bob\0Evil";
    // The comment form, field by field.
    for field in ["author", "email", "url", "comment"] {
        let mut form = fields("A fair question about the ferry.", "Bob", "bob@example.org");
        form.push(("url", "https://bob.example.org"));
        form.retain(|(name, _)| *name != field);
        form.push((field, nul));
        let response = app.comment(&reader, &article, &form).await;
        assert_eq!(response.status(), 422, "comment field {field}");
        let body = response.text().await.expect("body");
        assert!(body.contains(&format!("\u{201c}{field}\u{201d}")) && body.contains("control character"), "{body}");
    }
    // Every other form and the Akismet API.
    let forms: Vec<(&str, Vec<(&str, &str)>)> = vec![
        ("/admin/sign-in", vec![("email", nul), ("password", "x")]),
        ("/admin/settings", vec![("csrf", &csrf), ("site_name", nul)]),
        ("/admin/articles/new", vec![("csrf", &csrf), ("headline", nul), ("body", "Text.")]),
        ("/admin/preview", vec![("csrf", &csrf), ("body", nul)]),
        ("/admin/categories", vec![("csrf", &csrf), ("do", "add"), ("name", nul)]),
        ("/admin/users", vec![("csrf", &csrf), ("do", "add"), ("email", "x@example.org"), ("name", nul)]),
        ("/admin/comments", vec![("csrf", &csrf), ("action", "approve"), ("ids", nul)]),
        ("/admin/password", vec![("csrf", &csrf), ("current", "x"), ("new", nul), ("repeat", nul)]),
        ("/1.1/verify-key", vec![("key", nul), ("blog", "https://blog.example.org")]),
        ("/1.1/comment-check", vec![("api_key", "k"), ("blog", "b"), ("comment_author", nul)]),
    ];
    for (path, form) in &forms {
        let response = admin.post(app.url(path)).form(form).send().await.expect("post");
        assert_eq!(response.status(), 422, "{path}");
    }
    // Other control characters too, and in a query string; tab and new lines are text.
    let bell = admin.post(app.url("/admin/settings")).form(&[("csrf", &*csrf), ("tagline", "ring\u{7}")]);
    assert_eq!(bell.send().await.expect("post").status(), 422);
    assert_eq!(app.get("/?s=a%00b").await.status(), 422);
    // The media library's upload form (multipart).
    let upload = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("alt", nul.to_owned())
        .part("file", reqwest::multipart::Part::bytes(vec![0u8; 16]).file_name("x.png"));
    let response = admin.post(app.url("/admin/media")).multipart(upload).send().await.expect("upload");
    assert_eq!(response.status(), 422);
    // Nothing was stored, and the site's name is as it was.
    assert_eq!(app.store.list_comments(None, 1000).await.expect("list").len(), comments_before);
    assert!(!app.page("/").await.contains("Evil"));
    // A comment with tabs and CRLF line breaks, as browsers send them, is welcome.
    let multi_line = fields("First line.\r\nSecond line,\tindented.", "Bob", "bob@example.org");
    assert_eq!(app.comment(&reader, &article, &multi_line).await.status(), 303);
    app.stop().await;
}

#[tokio::test]
async fn an_oversized_comment_form_gets_413() {
    let app = TestApp::spawn().await;
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let huge = "a".repeat(3 * 1024 * 1024);
    let response = app.comment(&app.browser(), &article, &fields(&huge, "Bob", "bob@example.org")).await;
    assert_eq!(response.status(), 413);
    assert!(response.text().await.expect("body").contains("at most 2 MB"));
    app.stop().await;
}

#[tokio::test]
async fn security_headers_and_hsts_when_the_site_is_https() {
    let plain = TestApp::spawn_configured(StartOptions { demo: false }, |c| {
        c.base_url = "http://news.example.org".into();
        c.pinned.base_url = true;
    })
    .await;
    let response = plain.get("/").await;
    let policy = response.headers().get("permissions-policy").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(policy.contains("camera=()") && policy.contains("geolocation=()"), "{policy}");
    assert!(!response.headers().contains_key("strict-transport-security"), "not over plain HTTP");
    plain.stop().await;
    // The tests' sites are at https://news.example.org.
    let https = TestApp::spawn_empty().await;
    let response = https.get("/healthz").await;
    assert_eq!(
        response.headers().get("strict-transport-security").and_then(|v| v.to_str().ok()),
        Some("max-age=31536000")
    );
    https.stop().await;
}

#[tokio::test]
async fn the_remember_me_cookie_keeps_the_email_unreadable_and_every_held_comment_stays_visible() {
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    app.set("manual_approval", "true").await;
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let reader = app.browser();
    let email = "dana.private@example.org";
    let mut posted = Vec::new();
    for n in 1..=25 {
        let text = format!("Held remark number {n} about the night ferry.");
        let mut form = fields(&text, "Dana", email);
        form.push(("remember", "1"));
        let response = app.comment(&reader, &article, &form).await;
        assert_eq!(response.status(), 303, "comment {n}");
        for cookie in response.headers().get_all("set-cookie") {
            let cookie = cookie.to_str().expect("ascii");
            for secret in [email, "dana.private", "dana.private%40example.org", "Dana"] {
                assert!(!cookie.contains(secret), "the cookie shows {secret}: {cookie}");
            }
        }
        posted.push(text);
    }
    let page = reader.get(app.url(&article)).send().await.expect("page").text().await.expect("body");
    for text in &posted {
        assert!(page.contains(text.as_str()), "{text} is not shown to its author");
    }
    assert!(page.contains(email), "the form is filled in again for its owner");
    app.stop().await;
}

#[tokio::test]
async fn the_write_ahead_log_is_emptied_while_readers_keep_reading() {
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    // No moderation mail: its sending would write beside the checkpoint.
    let admin = app.store.find_user(broadsheet::setup::FIRST_ADMIN_EMAIL).await.expect("admin").id;
    app.store
        .set_notification_choices(admin, broadsheet::store::ModerationNotice::None, false, 0)
        .await
        .expect("quiet");
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let wal = app.store.sqlite_file().map(|db| format!("{}-wal", db.display())).expect("a SQLite database");
    // Readers, and writes beside them.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let client = app.client.clone();
            let url = app.url("/");
            tokio::spawn(async move {
                for _ in 0..50 {
                    let _ = client.get(&url).header("cache-control", "no-cache").send().await;
                }
            })
        })
        .collect();
    let reader = app.browser();
    for n in 0..20 {
        let text = format!("Remark {n} on the night ferry.");
        assert_eq!(app.comment(&reader, &article, &fields(&text, "Ana", "ana@example.org")).await.status(), 303);
    }
    assert!(std::fs::metadata(&wal).expect("the WAL").len() > 0, "writes went to the WAL");
    let copied = app.store.checkpoint().await.expect("checkpoint");
    assert!(copied.is_some(), "readers let the checkpoint finish");
    assert_eq!(std::fs::metadata(&wal).expect("the WAL").len(), 0, "the WAL file is emptied");
    for reader in readers {
        reader.await.expect("reader");
    }
    // And the site reads on, with every comment there (held ones for their author).
    let page = reader.get(app.url(&article)).send().await.expect("page").text().await.expect("body");
    assert!(page.contains("Remark 19 on the night ferry."));
    app.stop().await;
}
