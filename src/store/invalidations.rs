//! The cache-invalidation log: how every process that writes tells every
//! server which cached pages its write made stale.

use sqlx::{Any, Transaction};

use super::{Store, StoreResult};

/// One logged invalidation: cache tags (separated by spaces), due at a Unix second.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Invalidation {
    pub id: i64,
    pub tag: String,
    pub due_at: i64,
}

impl Store {
    /// Rows logged after `id`, oldest first.
    pub async fn invalidations_after(&self, id: i64) -> StoreResult<Vec<Invalidation>> {
        Ok(sqlx::query_as("SELECT id, tag, due_at FROM cache_invalidations WHERE id > $1 ORDER BY id")
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
        Ok(sqlx::query_as("SELECT id, tag, due_at FROM cache_invalidations WHERE due_at > $1 ORDER BY id")
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
    for (due_at, joined) in by_due {
        sqlx::query("INSERT INTO cache_invalidations (tag, due_at) VALUES ($1, $2)")
            .bind(joined)
            .bind(due_at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
