//! Background work of a running server: on PostgreSQL, listening for the
//! changes other processes announce (applied at once); the cache-invalidation
//! poll (which also releases scheduled articles, forgets Akismet API clients
//! whose allowance is full again and saves the API's traffic figures); with a
//! purge webhook, sending changes to the CDN; pruning that log, purging
//! commenters' IP addresses after the retention period, and, every minute,
//! merging SQLite's search index and emptying its write-ahead log.

use std::time::Duration;

use chrono::Utc;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::store::{Announcement, CHANGES_CHANNEL, Store, StoreResult};
use sqlx::postgres::PgListener;

/// How often the invalidation log is read even when nothing hinted at a change.
const POLL_EVERY: Duration = Duration::from_secs(2);
/// How often the SQLite search index is merged and its write-ahead log
/// emptied into the database.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);
/// Sent messages are kept this long (a moderator or the privacy export may ask what was sent).
const KEEP_SENT_MAIL_SECONDS: i64 = 30 * 86_400;
/// Log rows older than this have been applied by every server.
const KEEP_LOG_SECONDS: i64 = 24 * 3600;

/// Starts the jobs; the caller aborts them at shutdown.
pub fn spawn(state: AppState) -> Vec<JoinHandle<()>> {
    let listening = state.clone();
    let purging = state.clone();
    let poll = {
        let state = state.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_EVERY);
            loop {
                tick.tick().await;
                let now = Utc::now().timestamp();
                if let Err(err) = state.changes.pull(&state.cache, now).await {
                    tracing::warn!(error = %err, "cannot read the cache-invalidation log");
                }
                if let Err(err) = state.changes.catch_up(&state.cache, now).await {
                    tracing::warn!(error = %err, "cannot apply scheduled invalidations");
                }
                state.akismet_limits.forget_idle();
                if let Err(err) = state.akismet_traffic.flush(&state.store).await {
                    tracing::warn!(error = %err, "cannot save the spam API's traffic figures");
                }
            }
        })
    };
    let checkpoint = {
        let store = state.store.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.tick().await;
            loop {
                tick.tick().await;
                match store.tidy_search_index().await {
                    Ok(Some(done)) => tracing::debug!(
                        segments_before = done.segments_before,
                        segments_after = done.segments_after,
                        steps = done.steps,
                        "search index merged"
                    ),
                    Ok(None) => {}
                    Err(err) => tracing::warn!(error = %err, "cannot merge the search index"),
                }
                match store.checkpoint().await {
                    Ok(Some(pages)) => tracing::debug!(pages, "write-ahead log checkpointed"),
                    Ok(None) => {}
                    Err(err) => tracing::warn!(error = %err, "cannot checkpoint the write-ahead log"),
                }
            }
        })
    };
    let hourly = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = Utc::now().timestamp();
            match state.store.prune_invalidations(now - KEEP_LOG_SECONDS).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(rows = n, "pruned the cache-invalidation log"),
                Err(err) => tracing::warn!(error = %err, "cannot prune the cache-invalidation log"),
            }
            if let Err(err) = state.store.prune_sign_in_data(now, now - 86_400).await {
                tracing::warn!(error = %err, "cannot prune expired sessions and failed sign-ins");
            }
            if let Err(err) = state.notifier.moderation_digests(now).await {
                tracing::warn!(error = %err, "cannot queue the moderators' daily digests");
            }
            match state.store.prune_sent_mail(now - KEEP_SENT_MAIL_SECONDS).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "forgot sent mail"),
                Err(err) => tracing::warn!(error = %err, "cannot prune sent mail"),
            }
            if let Err(err) = purge_network_data(&state.store, now).await {
                tracing::warn!(error = %err, "cannot purge commenters' IP addresses");
            }
        }
    });
    let sending = match state_mail_from(&purging) {
        Ok(from) => Some(tokio::spawn(crate::mail::sender::run(
            purging.store.clone(),
            std::sync::Arc::clone(&purging.mail),
            from,
            purging.mail_wake.clone(),
        ))),
        Err(err) => {
            tracing::error!(error = %err, "mail will not be sent");
            None
        }
    };
    let mut jobs = vec![poll, checkpoint, hourly];
    jobs.extend(sending);
    // Its own task, so that a slow webhook never holds up the cache poll.
    if purging.purger.is_some() {
        jobs.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_EVERY);
            loop {
                tick.tick().await;
                if let Some(purger) = &purging.purger
                    && let Err(err) = purger.run(&purging.store, Utc::now().timestamp()).await
                {
                    tracing::warn!(error = %err, "cannot read the changes to send to the CDN");
                }
            }
        }));
    }
    if listening.store.announces() {
        jobs.push(tokio::spawn(listen(listening)));
    }
    jobs
}

/// The configuration's From address (checked when the configuration was read).
fn state_mail_from(state: &AppState) -> anyhow::Result<lettre::message::Mailbox> {
    state.config.mail.from.parse().map_err(|err| anyhow::anyhow!("the mail From address: {err}"))
}

/// How long to wait before connecting again after the listening connection failed.
const RECONNECT_AFTER: Duration = Duration::from_millis(200);

/// On PostgreSQL: listens for the changes other servers and commands
/// announce, and applies each at once. After any (re)connection it first
/// reads the log, which holds whatever was announced while it was away.
async fn listen(state: AppState) {
    let url = state.config.database_url.expose().to_owned();
    let mut was_connected = false;
    loop {
        let mut listener = match PgListener::connect(&url).await {
            Ok(listener) => listener,
            Err(err) => {
                if was_connected {
                    tracing::warn!(error = %err, "cannot listen for changes; trying again");
                    was_connected = false;
                }
                tokio::time::sleep(RECONNECT_AFTER).await;
                continue;
            }
        };
        if let Err(err) = listener.listen(CHANGES_CHANNEL).await {
            tracing::warn!(error = %err, "cannot listen for changes; trying again");
            tokio::time::sleep(RECONNECT_AFTER).await;
            continue;
        }
        if !was_connected {
            tracing::info!("listening for changes");
            was_connected = true;
        }
        apply(&state, Announcement::Pages).await;
        state.akismet_keys.expire();
        loop {
            match listener.try_recv().await {
                Ok(Some(notification)) => {
                    let Some((what, at_ms)) = Announcement::parse(notification.payload()) else { continue };
                    apply(&state, what).await;
                    let lag_ms = Utc::now().timestamp_millis() - at_ms;
                    state.metrics.notification_lag.observe(lag_ms.max(0) as f64 / 1000.0);
                }
                // The connection was lost: connect again, and read the log.
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(error = %err, "lost the connection that listens for changes");
                    break;
                }
            }
        }
    }
}

async fn apply(state: &AppState, what: Announcement) {
    match what {
        Announcement::Keys => state.akismet_keys.expire(),
        Announcement::Pages | Announcement::Lessons => {
            if let Err(err) = state.changes.pull(&state.cache, Utc::now().timestamp()).await {
                tracing::warn!(error = %err, "cannot read the changes announced");
            }
        }
    }
}

/// Forgets commenters' IP addresses and browsers after the retention period.
pub async fn purge_network_data(store: &Store, now: i64) -> StoreResult<u64> {
    let days = store.discussion_settings().await?.ip_retention_days;
    let purged = store.purge_comment_network_data(now - i64::from(days) * 86_400).await?;
    if purged > 0 {
        tracing::info!(comments = purged, days, "purged IP addresses and browsers past the retention period");
    }
    Ok(purged)
}
