//! The outgoing-mail queue and who is told what.
//!
//! A message is enqueued, then claimed by one server's sender for a lease,
//! then marked sent, or given back with the next try's time. Several servers
//! on one PostgreSQL never claim the same message at once (`SKIP LOCKED`);
//! a server that dies mid-send leaves the message to be claimed again when
//! its lease ends.

use super::{Backend, Store, StoreResult};

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    pub recipient: String,
    /// What it is about, for the log and the admin (`moderation`, `reply`, …).
    pub kind: &'static str,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    /// One-click unsubscribe address, for messages a reader asked for.
    pub unsubscribe_url: Option<String>,
}

/// A queued message claimed for sending.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct QueuedMail {
    pub id: i64,
    pub recipient: String,
    pub kind: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub unsubscribe_url: Option<String>,
    /// Tries so far, this one included.
    pub attempts: i64,
    /// When it was queued.
    pub created_at: i64,
}

/// A member of staff to tell, and how they want to be told.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StaffRecipient {
    pub id: i64,
    pub email: String,
    pub display_name: String,
}

/// How a moderator hears of held and caught comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModerationNotice {
    Each,
    Digest,
    None,
}

impl ModerationNotice {
    pub fn parse(value: &str) -> Option<ModerationNotice> {
        match value {
            "each" => Some(ModerationNotice::Each),
            "digest" => Some(ModerationNotice::Digest),
            "none" => Some(ModerationNotice::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ModerationNotice::Each => "each",
            ModerationNotice::Digest => "digest",
            ModerationNotice::None => "none",
        }
    }
}

/// Roles that moderate comments (`Capability::ModerateComments`).
const MODERATORS: &str = "role IN ('administrator', 'editor')";

impl Store {
    /// Queues a message, due at once.
    pub async fn enqueue_mail(&self, mail: &OutgoingMail, now: i64) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO mail_outbox (recipient, kind, subject, text_body, html_body, unsubscribe_url, created_at, next_attempt_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
        )
        .bind(&mail.recipient)
        .bind(mail.kind)
        .bind(&mail.subject)
        .bind(&mail.text_body)
        .bind(&mail.html_body)
        .bind(mail.unsubscribe_url.as_deref())
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// Whether any message is due: read-only, so that an idle sender never takes the write lock.
    pub async fn mail_due(&self, now: i64) -> StoreResult<bool> {
        let due: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 LIMIT 1",
        )
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        Ok(due.is_some())
    }

    /// Claims up to `limit` messages that are due, oldest first, until `lease_until`.
    pub async fn claim_mail(&self, now: i64, lease_until: i64, limit: u32) -> StoreResult<Vec<QueuedMail>> {
        let lock = match self.backend {
            Backend::Sqlite => "",
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        };
        let sql = format!(
            "UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts + 1
             WHERE id IN (SELECT id FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $2
                          ORDER BY id LIMIT $3 {lock})
             RETURNING id, recipient, kind, subject, text_body, html_body, unsubscribe_url, attempts, created_at"
        );
        let mut claimed: Vec<QueuedMail> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(lease_until)
            .bind(now)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        claimed.sort_by_key(|m| m.id);
        Ok(claimed)
    }

    pub async fn mail_sent(&self, id: i64, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE mail_outbox SET sent_at = $1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A try failed: the message is due again at `retry_at`.
    pub async fn mail_failed(&self, id: i64, error: &str, retry_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3")
            .bind(retry_at)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Gives a message up: it is not tried again.
    pub async fn mail_given_up(&self, id: i64, error: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE mail_outbox SET failed_at = $1, last_error = $2 WHERE id = $3")
            .bind(now)
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Messages given up, for the operator: id, recipient, kind, last error.
    pub async fn mail_given_up_list(&self, limit: u32) -> StoreResult<Vec<(i64, String, String, Option<String>)>> {
        Ok(sqlx::query_as(
            "SELECT id, recipient, kind, last_error FROM mail_outbox WHERE failed_at IS NOT NULL ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Not tried (its recipient had enough mail for now): due again at `retry_at`, the claim not counted.
    pub async fn mail_deferred(&self, id: i64, retry_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE mail_outbox SET next_attempt_at = $1, attempts = attempts - 1 WHERE id = $2")
            .bind(retry_at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// When the messages sent to `recipient` since `since` were sent, oldest first.
    pub async fn mail_sent_to(&self, recipient: &str, since: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT sent_at FROM mail_outbox WHERE recipient = $1 AND sent_at IS NOT NULL AND sent_at >= $2
             ORDER BY sent_at",
        )
        .bind(recipient)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| t).collect())
    }

    /// Forgets messages sent, or given up, before `before`; returns how many.
    pub async fn prune_sent_mail(&self, before: i64) -> StoreResult<u64> {
        Ok(sqlx::query("DELETE FROM mail_outbox WHERE COALESCE(sent_at, failed_at) < $1")
            .bind(before)
            .execute(&self.pool)
            .await?
            .rows_affected())
    }

    /// Messages not sent yet.
    pub async fn mail_waiting(&self) -> StoreResult<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL")
                .fetch_one(&self.pool)
                .await?;
        Ok(n)
    }

    /// Why the last failed try failed, if any message is waiting after one.
    pub async fn mail_last_error(&self) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT last_error FROM mail_outbox WHERE sent_at IS NULL AND failed_at IS NULL AND last_error IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(e,)| e))
    }

    /// Staff who moderate comments and want to hear of them `how`.
    pub async fn moderators_to_notify(&self, how: ModerationNotice) -> StoreResult<Vec<StaffRecipient>> {
        let sql = format!(
            "SELECT id, email, display_name FROM users WHERE {MODERATORS} AND notify_moderation = $1 ORDER BY id"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(how.as_str()).fetch_all(&self.pool).await?)
    }

    /// A user's notification choices: moderation notices and comments on their articles.
    pub async fn notification_choices(&self, user_id: i64) -> StoreResult<(ModerationNotice, bool)> {
        let (moderation, comments): (String, i64) =
            sqlx::query_as("SELECT notify_moderation, notify_comments FROM users WHERE id = $1")
                .bind(user_id)
                .fetch_one(&self.pool)
                .await?;
        Ok((ModerationNotice::parse(&moderation).unwrap_or(ModerationNotice::Each), comments != 0))
    }

    /// Saves a user's choices; choosing the digest starts its first day now.
    pub async fn set_notification_choices(
        &self,
        user_id: i64,
        moderation: ModerationNotice,
        comments: bool,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE users SET notify_moderation = $1, notify_comments = $2,
                digest_through = CASE WHEN $1 = 'digest' THEN COALESCE(digest_through, $3) ELSE NULL END
             WHERE id = $4",
        )
        .bind(moderation.as_str())
        .bind(i64::from(comments))
        .bind(now)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Claims the digest of a user whose last one covered up to `due_before`
    /// or earlier: the new one covers up to `now`. Returns where the claimed
    /// period starts; `None` when another server claimed it, or it is not due.
    pub async fn claim_digest(&self, user_id: i64, due_before: i64, now: i64) -> StoreResult<Option<i64>> {
        let mut tx = self.begin_write().await?;
        let row: Option<(Option<i64>,)> = sqlx::query_as(
            "SELECT digest_through FROM users WHERE id = $1 AND notify_moderation = 'digest'
             AND (digest_through IS NULL OR digest_through <= $2)",
        )
        .bind(user_id)
        .bind(due_before)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((since,)) = row else {
            return Ok(None);
        };
        let claimed = sqlx::query(
            "UPDATE users SET digest_through = $1 WHERE id = $2
             AND (digest_through IS NULL OR digest_through <= $3)",
        )
        .bind(now)
        .bind(user_id)
        .bind(due_before)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok((claimed == 1).then(|| since.unwrap_or(due_before)))
    }

    /// Held and caught comments that arrived in `[since, until)`, oldest first.
    pub async fn comments_for_digest(&self, since: i64, until: i64) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, status FROM comments WHERE status IN ('pending', 'spam') AND created_at >= $1
             AND created_at < $2 ORDER BY id",
        )
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// What a message about a comment says of its article.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ArticleNotice {
    pub id: i64,
    pub kind: String,
    pub slug: String,
    pub headline: String,
    pub published_at: Option<i64>,
    /// The account behind the byline, when it has one.
    pub author_user_id: Option<i64>,
    pub author_email: Option<String>,
    pub author_notify_comments: Option<i64>,
}

impl Store {
    pub async fn article_notice(&self, article_id: i64) -> StoreResult<ArticleNotice> {
        sqlx::query_as(
            "SELECT a.id, a.kind, a.slug, a.headline, a.published_at, u.id AS author_user_id,
                    u.email AS author_email, u.notify_comments AS author_notify_comments
             FROM articles a LEFT JOIN authors au ON au.id = a.author_id LEFT JOIN users u ON u.id = au.user_id
             WHERE a.id = $1",
        )
        .bind(article_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(super::StoreError::NotFound)
    }
}

/// A reader's request to hear of replies to one of their comments.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReplySubscription {
    pub id: i64,
    pub comment_id: i64,
    pub email: String,
    pub token: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub unsubscribed_at: Option<i64>,
    /// The article the comment is under.
    pub article_id: i64,
}

const SUBSCRIPTION_COLUMNS: &str = "SELECT s.id, s.comment_id, s.email, s.token, s.created_at, s.confirmed_at,
    s.unsubscribed_at, c.article_id FROM reply_subscriptions s JOIN comments c ON c.id = s.comment_id";

impl Store {
    /// Records a request to hear of replies to `comment_id`, unconfirmed.
    pub async fn add_reply_subscription(&self, comment_id: i64, email: &str, token: &str, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO reply_subscriptions (comment_id, email, token, created_at) VALUES ($1, $2, $3, $4)")
            .bind(comment_id)
            .bind(email)
            .bind(token)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Requests for `email` made since `since` and not confirmed.
    pub async fn unconfirmed_subscriptions(&self, email: &str, since: i64) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM reply_subscriptions
             WHERE LOWER(email) = LOWER($1) AND created_at >= $2 AND confirmed_at IS NULL",
        )
        .bind(email)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    pub async fn reply_subscription(&self, token: &str) -> StoreResult<ReplySubscription> {
        let sql = format!("{SUBSCRIPTION_COLUMNS} WHERE s.token = $1");
        sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(token)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(super::StoreError::NotFound)
    }

    /// Confirms a request (once: a second confirmation changes nothing).
    pub async fn confirm_reply_subscription(&self, token: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE reply_subscriptions SET confirmed_at = COALESCE(confirmed_at, $1) WHERE token = $2")
            .bind(now)
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn unsubscribe_replies(&self, token: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE reply_subscriptions SET unsubscribed_at = COALESCE(unsubscribed_at, $1) WHERE token = $2")
            .bind(now)
            .bind(token)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Confirmed, current subscriptions to replies to `comment_id`.
    pub async fn reply_subscribers(&self, comment_id: i64) -> StoreResult<Vec<ReplySubscription>> {
        let sql = format!(
            "{SUBSCRIPTION_COLUMNS} WHERE s.comment_id = $1 AND s.confirmed_at IS NOT NULL
             AND s.unsubscribed_at IS NULL ORDER BY s.id"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(comment_id).fetch_all(&self.pool).await?)
    }

    /// Every subscription of `email`, for a privacy export.
    pub async fn subscriptions_of(&self, email: &str) -> StoreResult<Vec<ReplySubscription>> {
        let sql = format!("{SUBSCRIPTION_COLUMNS} WHERE LOWER(s.email) = LOWER($1) ORDER BY s.id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email).fetch_all(&self.pool).await?)
    }

    /// Forgets `email`'s subscriptions and the messages to it, sent or not
    /// (a privacy erasure); returns how many subscriptions went.
    pub async fn erase_subscriptions(&self, email: &str) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let gone = sqlx::query("DELETE FROM reply_subscriptions WHERE LOWER(email) = LOWER($1)")
            .bind(email)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM mail_outbox WHERE LOWER(recipient) = LOWER($1)").bind(email).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(gone)
    }
}
