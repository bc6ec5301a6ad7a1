//! The background job that empties the mail queue.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lettre::message::Mailbox;

use super::{Transport, Wake};
use crate::store::{QueuedMail, Store, StoreResult};

/// How often the queue is read when nothing rang.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How long a claimed message is this server's: after that, another may try it.
const LEASE_SECONDS: i64 = 120;
/// Messages claimed at a time.
const BATCH: u32 = 20;
/// First wait after a failed try; it doubles with each try, up to [`MAX_BACKOFF_SECONDS`].
const FIRST_BACKOFF_SECONDS: i64 = 2;
const MAX_BACKOFF_SECONDS: i64 = 3600;
/// A message refused for good this many times is given up.
const MAX_PERMANENT_FAILURES: i64 = 3;
/// A message that could not be sent for this long is given up.
const GIVE_UP_AFTER_SECONDS: i64 = 3 * 86_400;
/// Most messages one recipient is sent in an hour; more wait their turn.
pub const MAX_PER_RECIPIENT_PER_HOUR: usize = 20;

/// When a message that failed its `attempts`-th try is tried again.
pub fn retry_at(now: i64, attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    now + FIRST_BACKOFF_SECONDS.saturating_mul(1 << exponent).min(MAX_BACKOFF_SECONDS)
}

/// Sends queued messages until the task is aborted.
pub async fn run(store: Store, transport: Arc<Transport>, from: Mailbox, wake: Wake) {
    loop {
        if let Err(err) = send_due(&store, &transport, &from).await {
            tracing::warn!(error = %err, "cannot read the mail queue");
        }
        tokio::select! {
            () = wake.rung() => {}
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
    }
}

/// Sends every message that is due; returns how many were sent.
pub async fn send_due(store: &Store, transport: &Transport, from: &Mailbox) -> StoreResult<usize> {
    let mut sent = 0;
    loop {
        let now = Utc::now().timestamp();
        if !store.mail_due(now).await? {
            return Ok(sent);
        }
        let claimed = store.claim_mail(now, now + LEASE_SECONDS, BATCH).await?;
        if claimed.is_empty() {
            return Ok(sent);
        }
        for mail in claimed {
            if send_one(store, transport, from, &mail).await? {
                sent += 1;
            }
        }
    }
}

async fn send_one(store: &Store, transport: &Transport, from: &Mailbox, mail: &QueuedMail) -> StoreResult<bool> {
    let now = Utc::now().timestamp();
    let recent = store.mail_sent_to(&mail.recipient, now - 3600).await?;
    if recent.len() >= MAX_PER_RECIPIENT_PER_HOUR {
        // Its turn comes when the oldest of the hour's messages is an hour old.
        let turn = recent[recent.len() - MAX_PER_RECIPIENT_PER_HOUR] + 3600;
        store.mail_deferred(mail.id, turn.max(now + 1)).await?;
        return Ok(false);
    }
    match transport.send(from, mail).await {
        Ok(()) => {
            store.mail_sent(mail.id, Utc::now().timestamp()).await?;
            tracing::info!(mail.id = mail.id, mail.kind = %mail.kind, "mail sent");
            Ok(true)
        }
        Err(err) => {
            let now = Utc::now().timestamp();
            if (err.permanent && mail.attempts >= MAX_PERMANENT_FAILURES)
                || now - mail.created_at >= GIVE_UP_AFTER_SECONDS
            {
                tracing::error!(mail.id = mail.id, mail.kind = %mail.kind, attempts = mail.attempts, error = %err.why, "mail given up");
                store.mail_given_up(mail.id, &err.why, now).await?;
                return Ok(false);
            }
            let again = retry_at(now, mail.attempts);
            tracing::warn!(mail.id = mail.id, attempts = mail.attempts, error = %err.why, retry_in = again - now, "mail not sent");
            store.mail_failed(mail.id, &err.why, again).await?;
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(retry_at(100, 1), 102);
        assert_eq!(retry_at(100, 2), 104);
        assert_eq!(retry_at(100, 5), 132);
        assert_eq!(retry_at(100, 12), 100 + 3600);
        assert_eq!(retry_at(100, 1000), 100 + 3600);
    }
}
