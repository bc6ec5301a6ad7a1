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
        .form(&[("csrf", csrf.as_str()), ("moderation", "none"), ("comments", "1")])
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
    drained(&app).await;
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

/// The site-relative path of the first link in `text` to `prefix`.
fn link_path(text: &str, base: &str, prefix: &str) -> String {
    let start = text.find(&format!("{base}{prefix}")).unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    let url: String = text[start..].chars().take_while(|c| !c.is_whitespace() && *c != '>' && *c != '"').collect();
    url[base.len()..].to_owned()
}

/// The id of the newest comment `email` wrote.
async fn newest_comment(app: &TestApp, email: &str) -> i64 {
    app.store.comments_by_email(email).await.expect("comments").iter().map(|c| c.id).max().expect("a comment")
}

/// Waits until the sender has sent everything queued.
async fn drained(app: &TestApp) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.store.mail_waiting().await.expect("count") > 0 {
        assert!(Instant::now() < deadline, "the queue did not empty");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn readers_confirm_hear_of_replies_and_unsubscribe() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = site_mailing_to(&sink).await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let base = app.config.base_url.trim_end_matches('/').to_owned();
    let path = app.article_at("ferry-replies", "").await;
    let to_ana = |m: &Received| m.to == "ana@example.net";

    // Ana asks to hear of replies: only a confirmation request is sent, and it does not quote her comment.
    let ana = app.browser();
    let question = "Which pier will the night ferry use while the works last?";
    let mut form = fields(question, "Ana", "ana@example.net");
    form.push(("subscribe", "1"));
    assert_eq!(app.comment(&ana, &path, &form).await.status(), 303);
    let ana_comment = newest_comment(&app, "ana@example.net").await;
    let request = sink.wait_for(1, |m| to_ana(m) && m.subject.contains("Confirm:")).await.remove(0);
    assert!(request.subject.ends_with("Confirm: replies to your comment on \"Story ferry-replies\""));
    assert!(!request.raw.contains("night ferry use"), "whoever typed the address may not own it: no quote");
    assert!(request.header("List-Unsubscribe").is_none());
    let confirm = link_path(&request.text, &base, "/subscriptions/");
    assert!(confirm.ends_with("/confirm"), "{confirm}");
    assert!(request.html.contains(&format!("{base}{confirm}")));

    // Before she confirms, a reply sends her nothing.
    let ben = app.browser_from([127, 0, 0, 2]);
    let parent = ana_comment.to_string();
    let mut reply = fields("Pier 4, according to the port authority's notice.", "Ben", "ben@example.net");
    reply.push(("parent", &parent));
    assert_eq!(app.comment(&ben, &path, &reply).await.status(), 303);
    drained(&app).await;
    assert!(!sink.received().iter().any(|m| to_ana(m) && m.subject.contains("New reply")), "no mail without opt-in");

    // The link opens a page with a button (a mail scanner following links confirms nothing).
    let page = ana.get(app.url(&confirm)).send().await.expect("confirm page");
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("body");
    assert!(page.contains("Confirm your subscription") && page.contains("Story ferry-replies"));
    assert!(app.store.reply_subscribers(ana_comment).await.expect("read").is_empty());
    let confirmed = ana.post(app.url(&confirm)).send().await.expect("confirm");
    assert_eq!(confirmed.status(), 200);
    assert!(confirmed.text().await.expect("body").contains("Subscription confirmed"));
    assert_eq!(app.store.reply_subscribers(ana_comment).await.expect("read").len(), 1);

    // The next reply reaches her, with one-click unsubscribe headers.
    let answer = "The port says pier 4 until March, then back to pier 1.";
    let mut reply = fields(answer, "Ben", "ben@example.net");
    reply.push(("parent", &parent));
    assert_eq!(app.comment(&ben, &path, &reply).await.status(), 303);
    let ben_reply = newest_comment(&app, "ben@example.net").await;
    let notice = sink.wait_for(1, |m| to_ana(m) && m.subject.contains("New reply")).await.remove(0);
    assert!(notice.subject.ends_with("New reply to your comment on \"Story ferry-replies\""));
    assert!(notice.text.contains(answer) && notice.text.contains("Ben wrote:"));
    assert!(notice.text.contains(&format!("{base}{path}#comment-{ben_reply}")), "links to the reply");
    assert!(!notice.raw.contains("ben@example.net"), "the replier's address is not quoted");
    let header = notice.header("List-Unsubscribe").expect("List-Unsubscribe").to_owned();
    assert_eq!(notice.header("List-Unsubscribe-Post"), Some("List-Unsubscribe=One-Click"));
    let unsubscribe = link_path(header.trim_start_matches('<'), &base, "/subscriptions/");
    assert!(
        unsubscribe.ends_with("/unsubscribe") && notice.text.contains(&format!("Unsubscribe: {base}{unsubscribe}"))
    );

    // Her own follow-up in the thread does not mail her.
    let mut own = fields("Thanks, that helps a lot.", "Ana", "ana@example.net");
    own.push(("parent", &parent));
    assert_eq!(app.comment(&ana, &path, &own).await.status(), 303);

    // The export lists the subscription.
    let export = app.cli(&["privacy", "export", "ana@example.net"]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let export: serde_json::Value = serde_json::from_slice(&export.stdout).expect("json");
    assert_eq!(export["reply_subscriptions"][0]["replies_to_comment"], ana_comment);

    // One click, as a mail provider sends it (RFC 8058), and nothing more arrives.
    let provider = reqwest::Client::new();
    let stopped = provider
        .post(app.url(&unsubscribe))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("unsubscribe");
    assert_eq!(stopped.status(), 200);
    assert!(app.store.reply_subscribers(ana_comment).await.expect("read").is_empty());
    let mut late = fields("Pier 1 reopens a week early, says the port.", "Ben", "ben@example.net");
    late.push(("parent", &parent));
    assert_eq!(app.comment(&ben, &path, &late).await.status(), 303);
    drained(&app).await;
    let replies = sink.received().into_iter().filter(|m| to_ana(m) && m.subject.contains("New reply")).count();
    assert_eq!(
        replies, 1,
        "one reply notice: none before confirming, none for her own words, none after unsubscribing"
    );

    // A token that names nothing is a 404; so is any other text.
    assert_eq!(app.get(&format!("/subscriptions/{}/confirm", "0".repeat(48))).await.status(), 404);
    assert_eq!(app.get("/subscriptions/%3Cscript%3E/unsubscribe").await.status(), 404);

    // Erasure forgets the subscription.
    let erase = app.cli(&["privacy", "erase", "ana@example.net"]);
    assert!(erase.status.success(), "{}", String::from_utf8_lossy(&erase.stderr));
    assert!(app.store.subscriptions_of("ana@example.net").await.expect("read").is_empty());
    app.stop().await;
}

#[tokio::test]
async fn authors_hear_of_approved_comments_on_their_articles() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = site_mailing_to(&sink).await;
    app.relax_timing().await;
    // An article whose byline is an account's display name is that account's.
    app.add_user("writer@example.com", Role::Author).await;
    let path = app.article_at("ferry-byline", "byline = \"Sam Editor\"").await;
    let reader = app.browser();
    let text = "Good reporting: the timetable table was very clear.";
    assert_eq!(app.comment(&reader, &path, &fields(text, "Carla", "carla@example.net")).await.status(), 303);
    // Held first (a first-time commenter): the author hears when a moderator approves it.
    drained(&app).await;
    assert!(!sink.received().iter().any(|m| m.to == "writer@example.com"), "not while it is held");
    let id = newest_comment(&app, "carla@example.net").await;
    broadsheet::discussion::moderate(
        &app.store,
        &app.spam,
        &app.notifier,
        id,
        broadsheet::discussion::Action::Approve,
        chrono::Utc::now().timestamp(),
    )
    .await
    .expect("approve");
    let notice = sink.wait_for(1, |m| m.to == "writer@example.com").await.remove(0);
    assert!(notice.subject.ends_with("Comment: \"Story ferry-byline\""), "{}", notice.subject);
    assert!(notice.text.contains(text) && notice.text.contains("Carla wrote:"));
    assert!(!notice.raw.contains("carla@example.net"));

    // Unticked on the notifications page (an author has no moderation choice): no more messages.
    let password = format!("correct horse {}", "writer@example.com");
    let browser = app.browser_from([127, 0, 0, 3]);
    assert_eq!(app.sign_in(&browser, "writer@example.com", &password).await.status(), 303);
    let page = browser.get(app.url("/admin/notifications")).send().await.expect("page").text().await.expect("body");
    assert!(!page.contains("name=\"moderation\"") && page.contains("name=\"comments\" value=\"1\" checked"));
    let csrf = crate::helpers::hidden(&page, "csrf");
    let saved =
        browser.post(app.url("/admin/notifications")).form(&[("csrf", csrf.as_str())]).send().await.expect("post");
    assert_eq!(saved.status(), 200);
    let more = "And the map of the new piers was useful too.";
    let carla = app.browser();
    assert_eq!(app.comment(&carla, &path, &fields(more, "Carla", "carla@example.net")).await.status(), 303);
    drained(&app).await;
    assert_eq!(app.store.comment(newest_comment(&app, "carla@example.net").await).await.expect("c").status, "approved");
    assert_eq!(sink.received().iter().filter(|m| m.to == "writer@example.com").count(), 1, "the author said no more");
    app.stop().await;
}

#[tokio::test]
async fn a_daily_digest_lists_what_was_held_and_caught() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = site_mailing_to(&sink).await;
    app.relax_timing().await;
    let (editor, csrf) = app.signed_in("digest@example.com", Role::Editor).await;
    let chosen = editor
        .post(app.url("/admin/notifications"))
        .form(&[("csrf", csrf.as_str()), ("moderation", "digest")])
        .send()
        .await
        .expect("post");
    assert!(chosen.text().await.expect("body").contains("value=\"digest\" checked"));
    let path = app.article_at("ferry-digest", "").await;
    let held = "Could the late ferry carry bicycles, as the day boats do?";
    assert_eq!(app.comment(&app.browser(), &path, &fields(held, "Dora", "dora@example.net")).await.status(), 303);
    let bot = app.browser_from([127, 0, 0, 2]);
    let mut form = fields("Cheap watches at unbeatable prices", "Bot", "bot@example.org");
    form.push(("website2", "http://spam.example"));
    assert_eq!(app.comment(&bot, &path, &form).await.status(), 303);
    drained(&app).await;
    assert!(!sink.received().iter().any(|m| m.to == "digest@example.com"), "no message for each comment");

    // Not due before a day has passed; then one digest, once.
    let now = chrono::Utc::now().timestamp();
    assert_eq!(app.notifier.moderation_digests(now + 3600).await.expect("digests"), 0);
    assert_eq!(app.notifier.moderation_digests(now + 86_400 + 60).await.expect("digests"), 1);
    assert_eq!(app.notifier.moderation_digests(now + 86_400 + 60).await.expect("digests"), 0, "sent once");
    let digest = sink.wait_for(1, |m| m.to == "digest@example.com").await.remove(0);
    assert!(digest.subject.ends_with("Daily digest: 1 held, 1 caught as spam"), "{}", digest.subject);
    assert!(digest.text.contains(held) && digest.text.contains("Dora:") && digest.text.contains("Why: first"));
    assert!(digest.text.contains("Caught as spam on \"Story ferry-digest\""), "{}", digest.text);
    let base = app.config.base_url.trim_end_matches('/');
    assert!(digest.text.contains(&format!("{base}/admin/comments?status=spam")));
    assert!(!digest.raw.contains("dora@example.net") && !digest.raw.contains("bot@example.org"));
    assert!(digest.html.contains("Held comments") && digest.html.contains(held));
    assert!(!sink.received().iter().any(|m| m.to == "admin@localhost" && m.subject.contains("Daily digest")));
    app.stop().await;
}

#[tokio::test]
async fn one_recipient_gets_at_most_twenty_messages_an_hour() {
    let app = TestApp::spawn_empty().await;
    let now = chrono::Utc::now().timestamp();
    for n in 0..25 {
        let mail = broadsheet::store::OutgoingMail {
            recipient: "busy@example.org".into(),
            kind: "test",
            subject: format!("Message {n}"),
            text_body: "Text.".into(),
            html_body: "<p>Text.</p>".into(),
            unsubscribe_url: None,
        };
        app.store.enqueue_mail(&mail, now).await.expect("queued");
    }
    // The server's sender (no SMTP configured: to the log) takes them.
    let limit = broadsheet::mail::sender::MAX_PER_RECIPIENT_PER_HOUR;
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.store.mail_sent_to("busy@example.org", now - 60).await.expect("sent").len() < limit {
        assert!(Instant::now() < deadline, "the sender did not send");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(app.store.mail_sent_to("busy@example.org", now - 60).await.expect("sent").len(), limit);
    assert_eq!(app.store.mail_waiting().await.expect("count"), 5, "the rest wait their turn, none is lost");
    assert!(!app.store.mail_due(now + 60).await.expect("due"), "not before the hour is over");
    assert!(app.store.mail_due(now + 3601).await.expect("due"));
    app.stop().await;
}

/// An SMTP server that refuses every recipient for good (550), like a
/// mailbox that does not exist.
struct RefusingSmtp {
    port: u16,
    child: Child,
}

impl RefusingSmtp {
    fn start() -> Option<RefusingSmtp> {
        let mut sink = SmtpSink::stopped();
        if !sink.resume() {
            return None;
        }
        sink.stop();
        let script = "import sys, time\n\
            from aiosmtpd.controller import Controller\n\
            class Refuse:\n    \
                async def handle_RCPT(self, server, session, envelope, address, options):\n        \
                    return '550 5.1.1 No such user here'\n\
            Controller(Refuse(), hostname='127.0.0.1', port=int(sys.argv[1])).start()\n\
            while True: time.sleep(60)\n";
        let child = Command::new("python3")
            .args(["-c", script, &sink.port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", sink.port)).is_err() {
            assert!(Instant::now() < deadline, "the refusing server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(RefusingSmtp { port: sink.port, child })
    }
}

impl Drop for RefusingSmtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_message_refused_for_good_is_given_up_after_three_tries() {
    let Some(server) = RefusingSmtp::start() else { return };
    let url = format!("smtp://127.0.0.1:{}", server.port);
    let app =
        TestApp::spawn_configured(StartOptions { demo: true }, move |config| config.mail.smtp_url = Some(url)).await;
    app.relax_timing().await;
    let path = app.article_at("ferry-refused", "").await;
    let text = "Does the late boat take dogs on a lead?";
    assert_eq!(app.comment(&app.browser(), &path, &fields(text, "Olga", "olga@example.net")).await.status(), 303);
    // Tries at about 0, 2 and 6 s, then no more.
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.store.mail_given_up_list(10).await.expect("list").is_empty() {
        assert!(Instant::now() < deadline, "the message was never given up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let given_up = app.store.mail_given_up_list(10).await.expect("list");
    assert_eq!(given_up.len(), 1);
    assert_eq!((given_up[0].1.as_str(), given_up[0].2.as_str()), ("admin@localhost", "moderation"));
    assert!(given_up[0].3.as_deref().is_some_and(|e| e.contains("550")), "{:?}", given_up[0].3);
    assert_eq!(app.store.mail_waiting().await.expect("count"), 0, "not waiting any more");
    app.stop().await;
}
