//! Comments: the pipeline's reads (history, flood, duplicates), storing a
//! new comment, moderation, and privacy requests.

use chrono_tz::Tz;
use sqlx::{Any, Transaction};

use super::articles::placement;
use super::{Store, StoreError, StoreResult, invalidations};
use crate::domain::article::Kind;
use crate::domain::cache_tags;
use crate::domain::comment::Status;

/// A comment as the public page shows it: no email, no IP.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PublicComment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_url: Option<String>,
    pub body_html: String,
    pub status: String,
    pub is_staff: i64,
    pub created_at: i64,
}

/// A comment with everything stored about it, for moderators and privacy requests.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct StoredComment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub status: String,
    pub reason: Option<String>,
    pub spam_score: Option<f64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
    pub status_changed_at: i64,
}

/// A commenter's record, for the moderation policy and the spam filter.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct History {
    pub approved: i64,
    pub spam: i64,
    pub ip_spam: i64,
}

/// A new comment, validated and decided.
#[derive(Debug, Clone)]
pub struct NewComment<'a> {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub author_url: Option<&'a str>,
    pub body: &'a str,
    pub body_html: &'a str,
    pub status: Status,
    pub reason: Option<&'a str>,
    pub spam_score: Option<f64>,
    pub is_staff: bool,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub now: i64,
}

/// One stored comment by number.
const ONE: &str = "WHERE id = $1";

const STORED_COLUMNS: &str =
    "SELECT id, article_id, parent_id, author_name, author_email, author_url, body, status, reason,
        spam_score, ip, user_agent, created_at, status_changed_at FROM comments";

impl Store {
    /// The approved comments of an article, plus the given pending ones (a
    /// reader's own held comments), oldest first.
    pub async fn visible_comments(&self, article_id: i64, own_pending: &[i64]) -> StoreResult<Vec<PublicComment>> {
        let mut comments: Vec<PublicComment> = sqlx::query_as(
            "SELECT id, parent_id, author_name, author_url, body_html, status, is_staff, created_at FROM comments
             WHERE article_id = $1 AND status = 'approved' ORDER BY id",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?;
        for id in own_pending {
            let pending: Option<PublicComment> = sqlx::query_as(
                "SELECT id, parent_id, author_name, author_url, body_html, status, is_staff, created_at FROM comments
                 WHERE id = $1 AND article_id = $2 AND status = 'pending'",
            )
            .bind(id)
            .bind(article_id)
            .fetch_optional(&self.pool)
            .await?;
            comments.extend(pending);
        }
        comments.sort_by_key(|c| c.id);
        Ok(comments)
    }

    /// One comment's article and status, to check a reply's parent.
    pub async fn comment_status(&self, id: i64) -> StoreResult<(i64, Status)> {
        let (article_id, status): (i64, String) =
            sqlx::query_as("SELECT article_id, status FROM comments WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?
                .ok_or(StoreError::NotFound)?;
        Ok((article_id, Status::parse(&status).unwrap_or(Status::Pending)))
    }

    /// What the site knows of a commenter: approved comments under this name
    /// and email, spam from this email, and spam from this IP since `since`.
    pub async fn commenter_history(&self, name: &str, email: &str, ip: &str, since: i64) -> StoreResult<History> {
        let (approved, spam): (i64, i64) = sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN status = 'approved' AND author_name = $2 THEN 1 ELSE 0 END), 0),
                    COALESCE(SUM(CASE WHEN status = 'spam' THEN 1 ELSE 0 END), 0)
             FROM comments WHERE author_email = $1",
        )
        .bind(email)
        .bind(name)
        .fetch_one(&self.pool)
        .await?;
        let (ip_spam,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM comments WHERE ip = $1 AND created_at >= $2 AND status = 'spam'")
                .bind(ip)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok(History { approved, spam, ip_spam })
    }

    /// The newest comment from this IP address or email address since `since`.
    pub async fn last_comment_from(&self, ip: Option<&str>, email: &str, since: i64) -> StoreResult<Option<i64>> {
        let (last,): (Option<i64>,) = sqlx::query_as(
            "SELECT MAX(created_at) FROM comments WHERE created_at >= $1 AND (author_email = $2 OR ip = $3)",
        )
        .bind(since)
        .bind(email)
        .bind(ip)
        .fetch_one(&self.pool)
        .await?;
        Ok(last)
    }

    /// True when the same author said the same thing in the same place already.
    pub async fn is_duplicate(
        &self,
        article_id: i64,
        parent_id: Option<i64>,
        name: &str,
        email: &str,
        body: &str,
    ) -> StoreResult<bool> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM comments WHERE article_id = $1 AND COALESCE(parent_id, 0) = $2 AND author_name = $3
               AND author_email = $4 AND body = $5 AND status <> 'trash' LIMIT 1",
        )
        .bind(article_id)
        .bind(parent_id.unwrap_or(0))
        .bind(name)
        .bind(email)
        .bind(body)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Where comment `id` sits in its article's thread: how many approved
    /// top-level comments come before the top-level comment it belongs to.
    pub async fn comment_position(&self, article_id: i64, id: i64) -> StoreResult<i64> {
        let mut root = id;
        for _ in 0..32 {
            let parent: Option<(Option<i64>,)> = sqlx::query_as("SELECT parent_id FROM comments WHERE id = $1")
                .bind(root)
                .fetch_optional(&self.pool)
                .await?;
            match parent {
                Some((Some(parent),)) => root = parent,
                _ => break,
            }
        }
        let (before,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM comments
             WHERE article_id = $1 AND parent_id IS NULL AND status = 'approved' AND id < $2",
        )
        .bind(article_id)
        .bind(root)
        .fetch_one(&self.pool)
        .await?;
        Ok(before)
    }

    /// Stores a new comment; committed before this returns. An approved
    /// comment invalidates its article page and the listings that count it.
    pub async fn insert_comment(&self, comment: &NewComment<'_>) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO comments (article_id, parent_id, author_name, author_email, author_url, body, body_html, status,
                reason, spam_score, is_staff, ip, user_agent, created_at, status_changed_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(comment.article_id)
        .bind(comment.parent_id)
        .bind(comment.author_name)
        .bind(comment.author_email)
        .bind(comment.author_url)
        .bind(comment.body)
        .bind(comment.body_html)
        .bind(comment.status.as_str())
        .bind(comment.reason)
        .bind(comment.spam_score)
        .bind(i64::from(comment.is_staff))
        .bind(comment.ip)
        .bind(comment.user_agent)
        .bind(comment.now)
        .fetch_one(&mut *tx)
        .await?;
        if comment.status == Status::Approved {
            count_changed(&mut tx, self.time_zone, comment.article_id, 1, comment.now).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Moves a comment to another state; returns its article.
    pub async fn set_comment_status(
        &self,
        id: i64,
        status: Status,
        reason: Option<&str>,
        now: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.pool.begin().await?;
        let (article_id, old): (i64, String) = sqlx::query_as("SELECT article_id, status FROM comments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query(
            "UPDATE comments SET status = $1, reason = COALESCE($2, reason), status_changed_at = $3 WHERE id = $4",
        )
        .bind(status.as_str())
        .bind(reason)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let was_approved = old == Status::Approved.as_str();
        if was_approved != (status == Status::Approved) {
            let delta = if was_approved { -1 } else { 1 };
            count_changed(&mut tx, self.time_zone, article_id, delta, now).await?;
        }
        tx.commit().await?;
        Ok(article_id)
    }

    /// Deletes a comment for good; its replies stay, as top-level comments.
    pub async fn delete_comment(&self, id: i64, now: i64) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let (article_id,): (i64,) = sqlx::query_as("SELECT article_id FROM comments WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("UPDATE comments SET parent_id = NULL WHERE parent_id = $1").bind(id).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM comments WHERE id = $1").bind(id).execute(&mut *tx).await?;
        recount(&mut tx, self.time_zone, article_id, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// One comment with everything stored about it.
    pub async fn comment(&self, id: i64) -> StoreResult<StoredComment> {
        let sql = format!("{STORED_COLUMNS} {ONE}");
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound)
    }

    /// Comments in a state (all states when `None`), newest first.
    pub async fn list_comments(&self, status: Option<Status>, limit: u32) -> StoreResult<Vec<StoredComment>> {
        let sql = format!("{STORED_COLUMNS} WHERE ($1 = '' OR status = $1) ORDER BY id DESC LIMIT {limit}");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(status.map_or("", Status::as_str))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Everything stored about the commenter with this email address.
    pub async fn comments_by_email(&self, email: &str) -> StoreResult<Vec<StoredComment>> {
        let sql = format!("{STORED_COLUMNS} WHERE LOWER(author_email) = LOWER($1) ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email).fetch_all(&self.pool).await?)
    }

    /// Erases a commenter: their comments anonymised (kept as "Anonymous",
    /// without email, website, IP or browser) or deleted. Returns how many.
    pub async fn erase_commenter(&self, email: &str, delete: bool, now: i64) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        let articles: Vec<(i64,)> =
            sqlx::query_as("SELECT DISTINCT article_id FROM comments WHERE LOWER(author_email) = LOWER($1)")
                .bind(email)
                .fetch_all(&mut *tx)
                .await?;
        let done = if delete {
            sqlx::query(
                "UPDATE comments SET parent_id = NULL WHERE parent_id IN
                    (SELECT id FROM comments WHERE LOWER(author_email) = LOWER($1))",
            )
            .bind(email)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM comments WHERE LOWER(author_email) = LOWER($1)")
                .bind(email)
                .execute(&mut *tx)
                .await?
        } else {
            sqlx::query(
                "UPDATE comments SET author_name = 'Anonymous', author_email = '', author_url = NULL, ip = NULL,
                    user_agent = NULL WHERE LOWER(author_email) = LOWER($1)",
            )
            .bind(email)
            .execute(&mut *tx)
            .await?
        };
        for (article_id,) in articles {
            recount(&mut tx, self.time_zone, article_id, now).await?;
        }
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// Forgets IP addresses and browser names of comments older than `before`.
    pub async fn purge_comment_network_data(&self, before: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE comments SET ip = NULL, user_agent = NULL
             WHERE created_at < $1 AND (ip IS NOT NULL OR user_agent IS NOT NULL)",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

/// Recounts an article's approved comments (after bulk changes).
async fn recount(tx: &mut Transaction<'static, Any>, tz: Tz, article_id: i64, now: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE articles SET comment_count =
            (SELECT COUNT(*) FROM comments WHERE article_id = $1 AND status = 'approved') WHERE id = $1",
    )
    .bind(article_id)
    .execute(&mut **tx)
    .await?;
    log_discussion_change(tx, tz, article_id, now).await
}

/// Adds `delta` to an article's count of approved comments.
async fn count_changed(
    tx: &mut Transaction<'static, Any>,
    tz: Tz,
    article_id: i64,
    delta: i64,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("UPDATE articles SET comment_count = comment_count + $1 WHERE id = $2")
        .bind(delta)
        .bind(article_id)
        .execute(&mut **tx)
        .await?;
    log_discussion_change(tx, tz, article_id, now).await
}

/// Logs the pages that show an article's comments or their count: its page
/// and the listings it appears in.
async fn log_discussion_change(
    tx: &mut Transaction<'static, Any>,
    tz: Tz,
    article_id: i64,
    now: i64,
) -> StoreResult<()> {
    let (kind, published_at, author_id): (String, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT kind, published_at, author_id FROM articles WHERE id = $1")
            .bind(article_id)
            .fetch_one(&mut **tx)
            .await?;
    let kind = if kind == "page" { Kind::Page } else { Kind::Article };
    let tags = match published_at {
        Some(_) => placement(tx, kind, article_id, published_at, author_id, tz).await?.tags(),
        None => vec![cache_tags::article(article_id)],
    };
    let rows: Vec<(String, i64)> = tags.into_iter().map(|tag| (tag, now)).collect();
    invalidations::log(tx, &rows).await
}
