//! Comments: the pipeline's reads (history, flood, duplicates), storing a
//! new comment, moderation, and privacy requests.

use chrono_tz::Tz;
use sqlx::{Any, Transaction};

use super::articles::placement;
use super::invalidations::{self, Invalidation};
use super::{Store, StoreError, StoreResult};
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

/// An approved comment with the article it is under, for the comments feed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FeedComment {
    pub id: i64,
    pub author_name: String,
    pub body_html: String,
    pub created_at: i64,
    pub article_kind: String,
    pub article_slug: String,
    pub article_headline: String,
    pub article_published_at: Option<i64>,
}

/// A comment in the moderation queue: everything stored, and where it was left.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QueuedComment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body_html: String,
    pub status: String,
    pub reason: Option<String>,
    pub spam_score: Option<f64>,
    pub ip: Option<String>,
    pub is_staff: i64,
    pub created_at: i64,
    pub article_id: i64,
    pub article_kind: String,
    pub article_slug: String,
    pub article_headline: String,
    pub article_published_at: Option<i64>,
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

/// A new comment, as the posting pipeline's checks see it.
#[derive(Debug, Clone, Copy)]
pub struct Probe<'a> {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub name: &'a str,
    pub email: &'a str,
    pub body: &'a str,
    pub ip: &'a str,
    /// Posts since this second count for the flood limit.
    pub flood_since: i64,
    /// Spam from the IP since this second counts against it.
    pub history_since: i64,
}

/// A stored comment that a new one repeats word for word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    pub id: i64,
    pub status: Status,
    pub created_at: i64,
    pub ip: String,
}

/// What the database says about a new comment before it is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checks {
    /// The same author said the same thing in the same place already: the
    /// newest such comment, with its status, when it was stored and from
    /// which address.
    pub duplicate: Option<Duplicate>,
    /// The newest post from the same email or IP address since `flood_since`.
    pub last_post: Option<i64>,
    pub history: History,
}

/// A new comment, validated and decided.
#[derive(Debug, Clone)]
pub struct NewComment {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub body_html: String,
    pub status: Status,
    pub reason: Option<String>,
    pub spam_score: Option<f64>,
    pub is_staff: bool,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub now: i64,
}

/// A comment just stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Inserted {
    pub id: i64,
    /// For a top-level comment: how many approved top-level comments come
    /// before it (which comment page it is on).
    pub top_level_before: Option<i64>,
}

/// What the INSERT of new comments returns: the number and how to tell the row.
type Returned = (i64, Option<i64>, String, String, String);

/// Comments stored by one INSERT statement (14 parameters each).
const INSERT_ROWS: usize = 64;

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
        if !own_pending.is_empty() {
            let sql = format!(
                "SELECT id, parent_id, author_name, author_url, body_html, status, is_staff, created_at FROM comments
                 WHERE article_id = $1 AND status = 'pending' AND id IN ({})",
                placeholders(2, own_pending.len())
            );
            // Only numbered placeholders are formatted in; the ids are bound.
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(article_id);
            for id in own_pending {
                query = query.bind(id);
            }
            let pending: Vec<PublicComment> = query.fetch_all(&self.pool).await?;
            comments.extend(pending);
        }
        comments.sort_by_key(|c| c.id);
        Ok(comments)
    }

    /// The newest approved comments under public articles and pages, newest first.
    pub async fn recent_comments(&self, now: i64, limit: u32) -> StoreResult<Vec<FeedComment>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.author_name, c.body_html, c.created_at, a.kind AS article_kind, a.slug AS article_slug,
                    a.headline AS article_headline, a.published_at AS article_published_at
             FROM comments c JOIN articles a ON a.id = c.article_id
             WHERE c.status = 'approved' AND a.status = 'published' AND a.published_at <= $1
             ORDER BY c.id DESC LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Those of `ids` that are still held for moderation.
    pub async fn still_pending(&self, ids: &[i64]) -> StoreResult<Vec<i64>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id FROM comments WHERE status = 'pending' AND id IN ({}) ORDER BY id",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(sql));
        for id in ids {
            query = query.bind(id);
        }
        Ok(query.fetch_all(&self.pool).await?.into_iter().map(|(id,)| id).collect())
    }

    /// When the article's discussion last changed: a comment posted, or one
    /// moved between states (approved, held, spam, trash).
    pub async fn discussion_changed_at(&self, article_id: i64) -> StoreResult<Option<i64>> {
        let (at,): (Option<i64>,) = sqlx::query_as("SELECT MAX(status_changed_at) FROM comments WHERE article_id = $1")
            .bind(article_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(at)
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

    /// Everything the posting pipeline asks of the database about a new
    /// comment, in one round trip: is it a duplicate, when did its author
    /// (email or IP) last post, and their record.
    pub async fn posting_checks(&self, probe: &Probe<'_>) -> StoreResult<Checks> {
        type Row = (Option<i64>, Option<i64>, Option<i64>, i64, i64, i64);
        let (duplicate, last_email, last_ip, approved, spam, ip_spam): Row = sqlx::query_as(
            "SELECT
                (SELECT MAX(id) FROM comments WHERE article_id = $1 AND author_email = $2
                    AND COALESCE(parent_id, 0) = $3 AND author_name = $4 AND body = $5 AND status <> 'trash'),
                (SELECT MAX(created_at) FROM comments WHERE author_email = $2 AND created_at >= $6),
                (SELECT MAX(created_at) FROM comments WHERE ip = $7 AND created_at >= $6),
                (SELECT COUNT(*) FROM comments WHERE author_email = $2 AND status = 'approved' AND author_name = $4),
                (SELECT COUNT(*) FROM comments WHERE author_email = $2 AND status = 'spam'),
                (SELECT COUNT(*) FROM comments WHERE ip = $7 AND status = 'spam' AND created_at >= $8)",
        )
        .bind(probe.article_id)
        .bind(probe.email)
        .bind(probe.parent_id.unwrap_or(0))
        .bind(probe.name)
        .bind(probe.body)
        .bind(probe.flood_since)
        .bind(probe.ip)
        .bind(probe.history_since)
        .fetch_one(&self.pool)
        .await?;
        let duplicate = match duplicate {
            None => None,
            Some(id) => {
                let row: Option<(String, i64, String)> =
                    sqlx::query_as("SELECT status, created_at, ip FROM comments WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                row.map(|(status, created_at, ip)| Duplicate {
                    id,
                    status: Status::parse(&status).unwrap_or(Status::Pending),
                    created_at,
                    ip,
                })
            }
        };
        Ok(Checks { duplicate, last_post: last_email.max(last_ip), history: History { approved, spam, ip_spam } })
    }

    /// Where comment `id` sits in its article's thread: how many approved
    /// top-level comments come before the top-level comment it belongs to.
    /// `parent` is the comment's own parent, when the caller knows it.
    pub async fn comment_position(&self, article_id: i64, id: i64, parent: Option<i64>) -> StoreResult<i64> {
        let mut root = id;
        let mut next = parent;
        for _ in 0..32 {
            let Some(up) = next else { break };
            root = up;
            let row: Option<(Option<i64>,)> = sqlx::query_as("SELECT parent_id FROM comments WHERE id = $1")
                .bind(up)
                .fetch_optional(&self.pool)
                .await?;
            next = row.and_then(|(parent,)| parent);
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

    /// Stores new comments in one transaction (one commit, one sync to disk:
    /// a group commit), committed before this returns. Approved comments
    /// invalidate their article page and the listings that count them, once
    /// per article. Should the batch fail, each comment is tried on its own,
    /// so that one bad comment cannot cost the others their place.
    ///
    /// Also returns the invalidation rows logged, for this server to apply
    /// without reading them back.
    pub async fn insert_comments(&self, comments: &[NewComment]) -> (Vec<StoreResult<Inserted>>, Vec<Invalidation>) {
        if comments.len() > 1 {
            match self.insert_batch(comments).await {
                Ok((ids, logged)) => return (ids.into_iter().map(Ok).collect(), logged),
                Err(err) => {
                    tracing::warn!(error = %err, count = comments.len(), "comment batch failed; storing one by one")
                }
            }
        }
        let mut results = Vec::with_capacity(comments.len());
        let mut logged = Vec::new();
        for comment in comments {
            let result = self.insert_batch(std::slice::from_ref(comment)).await.and_then(|(done, rows)| {
                logged.extend(rows);
                done.into_iter().next().ok_or(StoreError::NotFound)
            });
            results.push(result);
        }
        (results, logged)
    }

    async fn insert_batch(&self, comments: &[NewComment]) -> StoreResult<(Vec<Inserted>, Vec<Invalidation>)> {
        let mut tx = self.begin_write().await?;
        let mut ids = Vec::with_capacity(comments.len());
        for chunk in comments.chunks(INSERT_ROWS) {
            let mut sql = String::from(
                "INSERT INTO comments (article_id, parent_id, author_name, author_email, author_url, body, body_html,
                    status, reason, spam_score, is_staff, ip, user_agent, created_at, status_changed_at) VALUES ",
            );
            for row in 0..chunk.len() {
                let p = row * 14;
                // Through the `Any` driver, PostgreSQL refuses a missing score
                // (a staff reply's) bound as such: it is sent as -1, which no
                // probability is, and stored as NULL.
                let tuple: Vec<String> = (1..=14)
                    .map(|n| if n == 10 { format!("NULLIF(${}, -1.0)", p + n) } else { format!("${}", p + n) })
                    .collect();
                let sep = if row == 0 { "" } else { ", " };
                sql.push_str(&format!("{sep}({}, ${})", tuple.join(", "), p + 14));
            }
            sql.push_str(" RETURNING id, parent_id, author_name, author_email, body");
            let mut query = sqlx::query_as::<_, Returned>(sqlx::AssertSqlSafe(sql));
            for comment in chunk {
                query = query
                    .bind(comment.article_id)
                    .bind(comment.parent_id)
                    .bind(&comment.author_name)
                    .bind(&comment.author_email)
                    .bind(comment.author_url.as_deref())
                    .bind(&comment.body)
                    .bind(&comment.body_html)
                    .bind(comment.status.as_str())
                    .bind(comment.reason.as_deref())
                    .bind(comment.spam_score.unwrap_or(-1.0))
                    .bind(i64::from(comment.is_staff))
                    .bind(comment.ip.as_deref())
                    .bind(comment.user_agent.as_deref())
                    .bind(comment.now);
            }
            // Neither database promises to number the rows in the order of
            // the VALUES list, nor RETURNING to keep it: each returned row is
            // matched to its comment by what it says. (Two identical comments
            // in one batch may swap numbers, which changes nothing.)
            let mut returned = query.fetch_all(&mut *tx).await?;
            for comment in chunk {
                let found = returned.iter().position(|(_, parent, name, email, body)| {
                    *parent == comment.parent_id
                        && *name == comment.author_name
                        && *email == comment.author_email
                        && *body == comment.body
                });
                let Some(found) = found else {
                    return Err(StoreError::Rejected("the database did not return a stored comment".into()));
                };
                ids.push(returned.swap_remove(found).0);
            }
        }
        // Each article's counts move once per batch. Comments in the batch are
        // newer than every stored one, so a top-level comment comes after all
        // the article's approved top-level comments stored before the batch
        // and after those of the batch with lower numbers.
        let mut articles: Vec<i64> = comments.iter().map(|c| c.article_id).collect();
        articles.sort_unstable();
        articles.dedup();
        let mut inserted: Vec<Inserted> = ids.iter().map(|&id| Inserted { id, top_level_before: None }).collect();
        let mut logged = Vec::new();
        for article_id in articles {
            let of_article = || comments.iter().zip(0..).filter(move |(c, _)| c.article_id == article_id);
            let approved = of_article().filter(|(c, _)| c.status == Status::Approved);
            let added = approved.clone().count() as i64;
            let added_top = approved.clone().filter(|(c, _)| c.parent_id.is_none()).count() as i64;
            let (top_level, kind, published_at, author_id): (i64, String, Option<i64>, Option<i64>) = sqlx::query_as(
                "UPDATE articles SET comment_count = comment_count + $1, top_level_count = top_level_count + $2
                 WHERE id = $3 RETURNING top_level_count, kind, published_at, author_id",
            )
            .bind(added)
            .bind(added_top)
            .bind(article_id)
            .fetch_one(&mut *tx)
            .await?;
            let mut top: Vec<(i64, usize)> =
                of_article().filter(|(c, _)| c.parent_id.is_none()).map(|(_, i)| (ids[i], i)).collect();
            top.sort_unstable();
            let mut before = top_level - added_top;
            for (_, i) in top {
                inserted[i].top_level_before = Some(before);
                before += i64::from(comments[i].status == Status::Approved);
            }
            if added > 0 {
                let now = of_article().map(|(c, _)| c.now).max().unwrap_or_default();
                let article = (kind, published_at, author_id);
                logged.extend(log_discussion_change(&mut tx, self.time_zone, article_id, article, now).await?);
            }
        }
        tx.commit().await?;
        Ok((inserted, logged))
    }

    /// Moves a comment to another state; returns its article.
    pub async fn set_comment_status(
        &self,
        id: i64,
        status: Status,
        reason: Option<&str>,
        now: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let (article_id, old, parent_id): (i64, String, Option<i64>) =
            sqlx::query_as("SELECT article_id, status, parent_id FROM comments WHERE id = $1")
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
            if parent_id.is_none() {
                sqlx::query("UPDATE articles SET top_level_count = top_level_count + $1 WHERE id = $2")
                    .bind(delta)
                    .bind(article_id)
                    .execute(&mut *tx)
                    .await?;
            }
            count_changed(&mut tx, self.time_zone, article_id, delta, now).await?;
        }
        tx.commit().await?;
        Ok(article_id)
    }

    /// Deletes a comment for good; its replies stay, as top-level comments.
    pub async fn delete_comment(&self, id: i64, now: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
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

    /// One page of the moderation queue for a state, newest first.
    pub async fn moderation_queue(&self, status: Status, limit: u32, offset: u32) -> StoreResult<Vec<QueuedComment>> {
        let sql = format!(
            "SELECT c.id, c.parent_id, c.author_name, c.author_email, c.author_url, c.body_html, c.status, c.reason,
                    c.spam_score, c.ip, c.is_staff, c.created_at, a.id AS article_id, a.kind AS article_kind,
                    a.slug AS article_slug, a.headline AS article_headline, a.published_at AS article_published_at
             FROM comments c JOIN articles a ON a.id = c.article_id
             WHERE c.status = $1 ORDER BY c.id DESC LIMIT {limit} OFFSET {offset}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(status.as_str()).fetch_all(&self.pool).await?)
    }

    /// How many comments are in each state: pending, approved, spam, trash.
    pub async fn comment_counts(&self) -> StoreResult<[i64; 4]> {
        let (pending, approved, spam, trash): (i64, i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM comments WHERE status = 'pending'),
                    (SELECT COUNT(*) FROM comments WHERE status = 'approved'),
                    (SELECT COUNT(*) FROM comments WHERE status = 'spam'),
                    (SELECT COUNT(*) FROM comments WHERE status = 'trash')",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok([pending, approved, spam, trash])
    }

    /// Everything stored about the commenter with this email address.
    pub async fn comments_by_email(&self, email: &str) -> StoreResult<Vec<StoredComment>> {
        let sql = format!("{STORED_COLUMNS} WHERE LOWER(author_email) = LOWER($1) ORDER BY id");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(email).fetch_all(&self.pool).await?)
    }

    /// Erases a commenter: their comments anonymised (kept as "Anonymous",
    /// without email, website, IP or browser) or deleted. Returns how many.
    pub async fn erase_commenter(&self, email: &str, delete: bool, now: i64) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
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
    let article: Placed = sqlx::query_as(
        "UPDATE articles SET
            comment_count = (SELECT COUNT(*) FROM comments WHERE article_id = $1 AND status = 'approved'),
            top_level_count = (SELECT COUNT(*) FROM comments
                WHERE article_id = $1 AND status = 'approved' AND parent_id IS NULL)
         WHERE id = $1 RETURNING kind, published_at, author_id",
    )
    .bind(article_id)
    .fetch_one(&mut **tx)
    .await?;
    log_discussion_change(tx, tz, article_id, article, now).await.map(drop)
}

/// Adds `delta` to an article's count of approved comments.
async fn count_changed(
    tx: &mut Transaction<'static, Any>,
    tz: Tz,
    article_id: i64,
    delta: i64,
    now: i64,
) -> StoreResult<()> {
    let article: Placed = sqlx::query_as(
        "UPDATE articles SET comment_count = comment_count + $1 WHERE id = $2 RETURNING kind, published_at, author_id",
    )
    .bind(delta)
    .bind(article_id)
    .fetch_one(&mut **tx)
    .await?;
    log_discussion_change(tx, tz, article_id, article, now).await.map(drop)
}

/// An article's kind, publication time and author, as the update of its
/// comment count returns them: what the log of the change needs.
type Placed = (String, Option<i64>, Option<i64>);

/// Logs the pages that show an article's comments or their count: its page
/// and the listings it appears in.
async fn log_discussion_change(
    tx: &mut Transaction<'static, Any>,
    tz: Tz,
    article_id: i64,
    (kind, published_at, author_id): Placed,
    now: i64,
) -> StoreResult<Vec<Invalidation>> {
    let kind = if kind == "page" { Kind::Page } else { Kind::Article };
    let tags = match published_at {
        Some(_) => placement(tx, kind, article_id, published_at, author_id, tz).await?.tags(),
        None => vec![cache_tags::article(article_id)],
    };
    let mut rows: Vec<(String, i64)> = tags.into_iter().map(|tag| (tag, now)).collect();
    rows.push((cache_tags::COMMENTS.to_owned(), now));
    invalidations::log_discussion(tx, &rows).await
}

/// `$first, $first+1, …`: `n` numbered placeholders for an `IN` list.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}
