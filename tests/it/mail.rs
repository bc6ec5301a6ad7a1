//! Outgoing mail against a real SMTP server: Python's aiosmtpd, one per
//! test, saving what it receives in a maildir the test reads.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use broadsheet::app::StartOptions;
use broadsheet::domain::role::Role;
use broadsheet::store::ModerationNotice;

use crate::helpers::{TestApp, fields};

/// A message as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub headers: Vec<(String, String)>,
    pub raw: String,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A running aiosmtpd and the maildir it delivers to.
pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl SmtpSink {
    /// An SMTP server on a free port; `None` outside CI when aiosmtpd is not installed.
    pub fn start() -> Option<SmtpSink> {
        let mut sink = SmtpSink::stopped();
        sink.resume().then_some(sink)
    }

    /// A free port with no server on it yet ([`resume`](Self::resume) starts one).
    pub fn stopped() -> SmtpSink {
        let port = TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("addr").port();
        SmtpSink { port, dir: tempfile::tempdir().expect("temp dir"), child: None }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Starts the server; false when aiosmtpd is missing (outside CI only).
    pub fn resume(&mut self) -> bool {
        let installed = Command::new("python3").args(["-c", "import aiosmtpd"]).status().is_ok_and(|s| s.success());
        if !installed {
            assert!(std::env::var_os("CI").is_none(), "aiosmtpd is missing on CI (scripts/test.sh installs it)");
            eprintln!("aiosmtpd is not installed: the mail tests are skipped (scripts/test.sh installs it)");
            return false;
        }
        let maildir = self.maildir();
        let child = Command::new("python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port)])
            .args(["-c", "aiosmtpd.handlers.Mailbox", maildir.to_str().expect("utf-8 path")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("aiosmtpd starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        true
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Every message received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(self.maildir().join("new"))
            .map(|dir| {
                dir.filter_map(Result::ok)
                    .map(|e| (e.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH), e.path()))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.into_iter().map(|(_, path)| parse(&std::fs::read(path).expect("message"))).collect()
    }

    /// Waits until `count` messages for which `wanted` holds have arrived.
    pub async fn wait_for(&self, count: usize, wanted: impl Fn(&Received) -> bool) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let found: Vec<Received> = self.received().into_iter().filter(|m| wanted(m)).collect();
            if found.len() >= count {
                return found;
            }
            assert!(Instant::now() < deadline, "expected {count} messages, received: {:#?}", self.received());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop();
    }
}

fn parse(raw: &[u8]) -> Received {
    let message = mail_parser::MessageParser::default().parse(raw).expect("a message");
    let to =
        message.to().and_then(|to| to.first()).and_then(|addr| addr.address()).map(str::to_owned).unwrap_or_default();
    let headers = message
        .headers_raw()
        .map(|(name, value)| (name.to_owned(), value.split_whitespace().collect::<Vec<_>>().join(" ")))
        .collect();
    Received {
        to,
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
        html: message.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
        headers,
        raw: String::from_utf8_lossy(raw).into_owned(),
    }
}

/// A demo site sending its mail to `sink`.
pub async fn site_mailing_to(sink: &SmtpSink) -> TestApp {
    let url = sink.url();
    TestApp::spawn_configured(StartOptions { demo: true }, move |config| config.mail.smtp_url = Some(url)).await
}

#[tokio::test]
async fn moderators_hear_of_held_and_caught_comments() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = site_mailing_to(&sink).await;
    app.relax_timing().await;
    app.add_user("desk@example.com", Role::Editor).await;
    app.add_user("writer@example.com", Role::Author).await;
    // An editor turns the messages off on the notifications page.
    let (quiet, csrf) = app.signed_in("quiet@example.com", Role::Editor).await;
    let page = quiet.get(app.url("/admin/notifications")).send().await.expect("page").text().await.expect("body");
    assert!(page.contains("value=\"each\" checked"), "each comment is the default");
    let forged =
        quiet.post(app.url("/admin/notifications")).form(&[("moderation", "none")]).send().await.expect("post");
    assert_eq!(forged.status(), 403, "the form needs its CSRF token");
    let saved = quiet
        .post(app.url("/admin/notifications"))
        .form(&[("csrf", csrf.as_str()), ("moderation", "none")])
        .send()
        .await
        .expect("post");
    assert_eq!(saved.status(), 200);
    assert!(saved.text().await.expect("body").contains("value=\"none\" checked"));
    let quiet_id = app.store.find_user("quiet@example.com").await.expect("user").id;
    assert_eq!(app.store.notification_choices(quiet_id).await.expect("choices").0, ModerationNotice::None);
    let path = app.article_at("ferry-mail", "").await;

    // A first-time commenter is held.
    let reader = app.browser();
    let text = "The ferry timetable change will hurt night-shift workers at the hospital.";
    let response = app.comment(&reader, &path, &fields(text, "Ana Reader", "ana.reader@example.net")).await;
    assert_eq!(response.status(), 303);
    let held = sink.wait_for(2, |m| m.subject.contains("Please moderate")).await;
    let mut to: Vec<&str> = held.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["admin@localhost", "desk@example.com"], "moderators who asked, not authors or quiet editors");
    let message = &held[0];
    assert_eq!(message.subject, format!("[{}] Please moderate: \"Story ferry-mail\"", app.config.site_name));
    assert!(message.text.contains(text) && message.html.contains("night-shift workers"));
    assert!(message.text.contains("Ana Reader"));
    let site = |path: &str| format!("{}{path}", app.config.base_url.trim_end_matches('/'));
    let queue = site("/admin/comments?status=pending");
    assert!(message.text.contains(&queue), "links to the queue: {}", message.text);
    assert!(message.html.contains(&queue.replace('&', "&amp;")) || message.html.contains(&queue));
    assert!(message.text.contains(&site(&path)), "links to the article");
    assert!(message.text.contains("Why: "), "says why it was held: {}", message.text);
    assert!(!message.raw.contains("ana.reader@example.net"), "a commenter's address is never quoted to others");
    assert!(message.header("List-Unsubscribe").is_none(), "staff notices are not a mailing list");
    assert!(message.header("Message-ID").is_some() && message.header("Date").is_some());

    // The honeypot sends a comment to spam: moderators hear of that too.
    let bot = app.browser_from([127, 0, 0, 2]);
    let mut form = fields("Cheap watches at unbeatable prices", "Bot", "bot@example.org");
    form.push(("website2", "http://spam.example"));
    assert_eq!(app.comment(&bot, &path, &form).await.status(), 303);
    let caught = sink.wait_for(2, |m| m.subject.contains("Caught as spam")).await;
    assert!(caught.iter().all(|m| m.text.contains(&site("/admin/comments?status=spam"))));
    assert!(caught.iter().all(|m| !m.raw.contains("bot@example.org")));
    assert_eq!(app.store.mail_waiting().await.expect("count"), 0);
    assert!(sink.received().iter().all(|m| m.to != "writer@example.com" && m.to != "quiet@example.com"));
    app.stop().await;
}

#[tokio::test]
async fn a_mail_server_that_is_down_delays_messages_but_loses_none() {
    let mut sink = SmtpSink::stopped();
    let app = site_mailing_to(&sink).await;
    app.relax_timing().await;
    let path = app.article_at("ferry-outage", "").await;
    let reader = app.browser();
    let text = "Will the night ferry still stop at the island pier during the works?";
    assert_eq!(app.comment(&reader, &path, &fields(text, "Luis", "luis@example.net")).await.status(), 303);
    // The first try fails (nothing listens); the message waits in the queue.
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.store.mail_last_error().await.expect("read").is_none() {
        assert!(Instant::now() < deadline, "the sender never tried");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(app.store.mail_waiting().await.expect("count"), 1);
    if !sink.resume() {
        return;
    }
    let arrived = sink.wait_for(1, |m| m.subject.contains("Please moderate")).await;
    assert!(arrived[0].text.contains(text));
    assert_eq!(app.store.mail_waiting().await.expect("count"), 0);
    app.stop().await;
}

#[tokio::test]
async fn the_queue_works_on_postgres_too() {
    let Some(database_url) = crate::postgres::fresh_database().await else { return };
    let Some(sink) = SmtpSink::start() else { return };
    let url = sink.url();
    let app = TestApp::spawn_configured(StartOptions { demo: true }, move |config| {
        config.database_url = broadsheet::config::DatabaseUrl::new(database_url);
        config.mail.smtp_url = Some(url);
    })
    .await;
    app.relax_timing().await;
    let path = app.article_at("ferry-postgres", "").await;
    let text = "Does the new timetable apply on public holidays as well?";
    assert_eq!(app.comment(&app.browser(), &path, &fields(text, "Ines", "ines@example.net")).await.status(), 303);
    let arrived = sink.wait_for(1, |m| m.subject.contains("Please moderate")).await;
    assert!(arrived[0].text.contains(text));
    assert_eq!(app.store.mail_waiting().await.expect("count"), 0);
    app.stop().await;
}
