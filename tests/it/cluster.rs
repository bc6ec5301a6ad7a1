//! Two servers on one PostgreSQL, as behind a load balancer: every change
//! made through one (publish, edit, an approved comment, a moderator's spam
//! lesson, a settings change, a revoked API key, a sign-out) is seen by the
//! other within a second, announced by `NOTIFY` rather than found by the
//! two-second poll; and again after the listening connection was cut.

use std::time::{Duration, Instant};

use broadsheet::discussion::{self, Action};
use broadsheet::domain::comment::Status;
use broadsheet::domain::role::Role;
use broadsheet::spam::SpamInput;
use chrono::Utc;
use sqlx::Connection;

use crate::helpers::{TestApp, article, fields, link_to, location, settings_form};
use crate::postgres::fresh_database;

/// Well under the two-second poll: what arrives within it was announced.
const WITHIN: Duration = Duration::from_secs(1);

/// Waits until `seen` holds, for at most [`WITHIN`]; how long it took.
async fn seen_within<F, Fut>(what: &str, mut seen: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if seen().await {
            let took = started.elapsed();
            eprintln!("{what}: seen by the other server after {} ms", took.as_millis());
            return took;
        }
        assert!(started.elapsed() < WITHIN, "{what}: not seen by the other server within {WITHIN:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn body(app: &TestApp, path: &str) -> String {
    app.get(path).await.text().await.expect("body")
}

#[tokio::test]
async fn a_change_through_one_server_is_seen_by_the_other_within_a_second() {
    let Some(url) = fresh_database().await else { return };
    let a = TestApp::spawn_on(&url).await;
    let b = TestApp::spawn_on(&url).await;
    // Both have the front page cached before each change.
    let front = body(&b, "/").await;
    let lead = link_to(&front, "harbour-night-ferry-trial");

    // Published through A.
    body(&a, "/").await;
    a.publish(&article("Cluster night edition", "slug = \"cluster-night\"", "First text.")).await;
    seen_within("a publish", || async { body(&b, "/").await.contains("Cluster night edition") }).await;

    // Edited through A.
    let path = link_to(&body(&b, "/").await, "cluster-night");
    assert!(body(&b, &path).await.contains("First text."));
    a.publish(&article("Cluster night edition", "slug = \"cluster-night\"", "Corrected text.")).await;
    seen_within("an edit", || async { body(&b, &path).await.contains("Corrected text.") }).await;

    // A comment held on A, approved there.
    a.relax_timing().await;
    let posted =
        a.comment(&a.browser(), &lead, &fields("A question about the cluster.", "Ana", "ana@example.org")).await;
    assert_eq!(posted.status(), 303);
    let held = a.store.list_comments(Some(Status::Pending), 1).await.expect("list").remove(0);
    assert!(!body(&b, &lead).await.contains("A question about the cluster."));
    discussion::moderate(&a.store, &a.spam, &a.notifier, held.id, Action::Approve, Utc::now().timestamp())
        .await
        .expect("approve");
    seen_within("an approved comment", || async { body(&b, &lead).await.contains("A question about the cluster.") })
        .await;

    // A moderator's spam lesson on A changes B's filter for this site.
    let input = SpamInput::of_comment("A question about the cluster.", Some("Ana"), None, None);
    let before = b.spam.check(broadsheet::spam::LOCAL_SITE, &input).probability;
    discussion::moderate(&a.store, &a.spam, &a.notifier, held.id, Action::Spam, Utc::now().timestamp())
        .await
        .expect("spam");
    seen_within("a spam lesson", || async { b.spam.check(broadsheet::spam::LOCAL_SITE, &input).probability > before })
        .await;

    // A settings change through A's admin.
    let (admin, csrf) = a.signed_in("root@example.org", Role::Administrator).await;
    let settings = settings_form(&csrf, "The Cluster Courier");
    let saved = admin.post(a.url("/admin/settings")).form(&settings).send().await.expect("post");
    assert_eq!(location(&saved), "/admin/settings?saved=1");
    seen_within("a settings change", || async { body(&b, "/").await.contains("The Cluster Courier") }).await;

    // An API key revoked through A (B holds its keys for 5 seconds otherwise).
    let key = "00aa11bb22cc";
    a.store.create_api_key(key, "https://blog.example.org", "", Utc::now().timestamp()).await.expect("key");
    let verify = || async {
        let form = [("key", key), ("blog", "https://blog.example.org")];
        b.client.post(b.url("/1.1/verify-key")).form(&form).send().await.expect("verify").text().await.expect("body")
    };
    seen_within("a new API key", || async { verify().await == "valid" }).await;
    a.store.revoke_api_key(key, Utc::now().timestamp()).await.expect("revoke");
    seen_within("a revoked API key", || async { verify().await == "invalid" }).await;

    // Signed out through A: the same session cookie no longer opens B's admin.
    assert_eq!(admin.get(b.url("/admin/")).send().await.expect("get").status(), 200, "one session, both servers");
    let out = admin.post(a.url("/admin/sign-out")).form(&[("csrf", csrf.as_str())]).send().await.expect("post");
    assert_eq!(out.status(), 303);
    seen_within("a sign-out", || async { admin.get(b.url("/admin/")).send().await.expect("get").status() == 303 })
        .await;

    // B's listening connection is cut; the change made meanwhile is read from the log
    // once B is listening again.
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE query LIKE 'LISTEN%' AND pid <> pg_backend_pid() AND datname = current_database()",
    )
    .execute(&mut conn)
    .await
    .expect("cut B's listening connections");
    a.publish(&article("Published while B was away", "slug = \"while-away\"", "Text.")).await;
    seen_within("a publish while B reconnected", || async {
        body(&b, "/").await.contains("Published while B was away")
    })
    .await;
    a.stop().await;
    b.stop().await;
}
