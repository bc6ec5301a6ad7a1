//! The cache-invalidation log: how every process that writes tells every
//! server which cached pages its write made stale. On PostgreSQL each write
//! is also announced with `NOTIFY` on [`CHANNEL`], so that servers that
//! `LISTEN` apply it at once rather than at their next poll.

use sqlx::{Any, Transaction};

use super::{Store, StoreResult};

/// One logged invalidation: cache tags (separated by spaces), due at a Unix second.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invalidation {
    pub id: i64,
    pub tag: String,
    pub due_at: i64,
    /// 1 when only a discussion changed (see [`log_discussion`]), else 0.
    pub discussion: i64,
}

/// The channel changes are announced on (PostgreSQL).
pub const CHANNEL: &str = "broadsheet_changes";

/// What an announcement says changed: pages (the log has new rows; lessons
/// come with them), `lessons` alone, or the API `keys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Announcement {
    Pages,
    Lessons,
    Keys,
}

impl Announcement {
    fn word(self) -> &'static str {
        match self {
            Announcement::Pages => "pages",
            Announcement::Lessons => "lessons",
            Announcement::Keys => "keys",
        }
    }

    /// The payload: what changed and when it was announced (ms since the epoch, the sender's clock).
    fn payload(self) -> String {
        format!("{} {}", self.word(), chrono::Utc::now().timestamp_millis())
    }

    /// Reads a payload: what changed, and when it was announced.
    pub fn parse(payload: &str) -> Option<(Announcement, i64)> {
        let (word, at) = payload.split_once(' ')?;
        let what = match word {
            "pages" => Announcement::Pages,
            "lessons" => Announcement::Lessons,
            "keys" => Announcement::Keys,
            _ => return None,
        };
        Some((what, at.parse().ok()?))
    }
}

impl Store {
    /// Announces a committed change to the servers that listen (PostgreSQL
    /// only). The change is made already: if the announcement fails, servers
    /// find it at their next poll of the log.
    pub(super) async fn announce(&self, what: Announcement) {
        if self.backend == super::Backend::Postgres
            && let Err(err) =
                sqlx::query("SELECT pg_notify($1, $2)").bind(CHANNEL).bind(what.payload()).execute(&self.pool).await
        {
            tracing::warn!(error = %err, "cannot announce a change; servers will see it at their next poll");
        }
    }

    /// Whether changes are announced (PostgreSQL), and so worth listening for.
    pub fn announces(&self) -> bool {
        self.backend == super::Backend::Postgres
    }

    /// Rows logged after `id`, oldest first.
    pub async fn invalidations_after(&self, id: i64) -> StoreResult<Vec<Invalidation>> {
        Ok(sqlx::query_as("SELECT id, tag, due_at, discussion FROM cache_invalidations WHERE id > $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The newest row's id (0 when the log is empty).
    pub async fn last_invalidation_id(&self) -> StoreResult<i64> {
        let (id,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM cache_invalidations").fetch_one(&self.pool).await?;
        Ok(id)
    }

    /// Rows still in the future at `now`, for a server that starts after they were logged.
    pub async fn future_invalidations(&self, now: i64) -> StoreResult<Vec<Invalidation>> {
        Ok(sqlx::query_as("SELECT id, tag, due_at, discussion FROM cache_invalidations WHERE due_at > $1 ORDER BY id")
            .bind(now)
            .fetch_all(&self.pool)
            .await?)
    }

    /// Forgets rows every server has long applied.
    pub async fn prune_invalidations(&self, due_before: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM cache_invalidations WHERE due_at < $1")
            .bind(due_before)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }
}

/// Logs cache tags inside the caller's transaction, so they commit with the
/// change: one row per due time, its tags separated by spaces (tags have none).
pub(super) async fn log(tx: &mut Transaction<'static, Any>, tags: &[(String, i64)]) -> StoreResult<()> {
    log_rows(tx, tags, false).await.map(drop)
}

/// Logs the tags of pages that show a discussion that changed (a comment
/// added, approved, edited or removed; a count). Servers answer concurrent
/// readers with the page they hold while one request renders it again, so a
/// hot story's comments do not make every reader wait for a render; the first
/// request after the change always gets the new page. Returns the rows, for
/// the server that made the change to apply at once.
pub(super) async fn log_discussion(
    tx: &mut Transaction<'static, Any>,
    tags: &[(String, i64)],
) -> StoreResult<Vec<Invalidation>> {
    log_rows(tx, tags, true).await
}

async fn log_rows(
    tx: &mut Transaction<'static, Any>,
    tags: &[(String, i64)],
    discussion: bool,
) -> StoreResult<Vec<Invalidation>> {
    let mut by_due: Vec<(i64, String)> = Vec::new();
    for (tag, due_at) in tags {
        match by_due.iter_mut().find(|(due, _)| due == due_at) {
            Some((_, joined)) => {
                joined.push(' ');
                joined.push_str(tag);
            }
            None => by_due.push((*due_at, tag.clone())),
        }
    }
    if by_due.is_empty() {
        return Ok(Vec::new());
    }
    // One statement for every row; on PostgreSQL it also announces the
    // change, which is delivered when (and only if) the transaction commits.
    let values: Vec<String> =
        (0..by_due.len()).map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3)).collect();
    let insert = format!(
        "INSERT INTO cache_invalidations (tag, due_at, discussion) VALUES {} RETURNING id, tag, due_at, discussion",
        values.join(", ")
    );
    let postgres = tx.backend_name() == "PostgreSQL";
    let sql = if postgres {
        // pg_notify in a one-row subquery: PostgreSQL sends identical
        // notifications of one transaction once, however often it runs.
        let n = 3 * by_due.len();
        format!(
            "WITH logged AS ({insert}) SELECT logged.id, logged.tag, logged.due_at, logged.discussion
             FROM logged CROSS JOIN (SELECT pg_notify(${}, ${}) AS told) AS announcement",
            n + 1,
            n + 2
        )
    } else {
        insert
    };
    let mut query = sqlx::query_as::<_, Invalidation>(sqlx::AssertSqlSafe(sql));
    for (due_at, joined) in by_due {
        query = query.bind(joined).bind(due_at).bind(i64::from(discussion));
    }
    if postgres {
        query = query.bind(CHANNEL).bind(Announcement::Pages.payload());
    }
    Ok(query.fetch_all(&mut **tx).await?)
}

impl Store {
    /// Claims up to `limit` logged rows due by `now` that no server has sent
    /// to the CDN yet: their ids and tags. Each row is claimed by one server only.
    pub async fn claim_purges(&self, now: i64, limit: i64) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "UPDATE cache_invalidations SET purged = 1
             WHERE purged = 0 AND id IN
                (SELECT id FROM cache_invalidations WHERE purged = 0 AND due_at <= $1 ORDER BY id LIMIT $2)
             RETURNING id, tag",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Gives claimed rows back, for the next try, after the call failed.
    pub async fn unclaim_purges(&self, ids: &[i64]) -> StoreResult<()> {
        for chunk in ids.chunks(500) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE cache_invalidations SET purged = 0 WHERE id IN ({list})")))
                .execute(&self.pool)
                .await?;
        }
        Ok(())
    }
}
