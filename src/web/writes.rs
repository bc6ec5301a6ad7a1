//! On PostgreSQL, a thread of its own, with database connections of its own, for the
//! database work of a reader's comment.
//!
//! A comment post waits for about ten round trips to the database: the
//! article, the posting checks, then the group commit's transaction. On the
//! server's runtime each answer from the database waits its turn behind every
//! page request the workers have queued; in a news spike that is dozens of
//! cache hits a time, and the post, a hundredth of the requests, made most of
//! the slowest hundredth (on two servers on PostgreSQL, median post 30 ms
//! against 3 ms for a page). Here the connections belong to a runtime on this
//! thread alone: an answer wakes the thread, and the post goes on at once.

use std::future::Future;

use anyhow::Context;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::config::DatabaseUrl;
use crate::store::{Backend, Store, StoreError, StoreResult};

/// Connections of the write thread's own: the group commit's transaction
/// holds one while the next posts' checks use the others.
const CONNECTIONS: u32 = 4;

/// The write thread: its runtime and its connections. Dropping it stops the thread.
///
/// On PostgreSQL only. On SQLite every query already runs on its connection's
/// own thread, and the extra hand-offs cost more than they save (comment
/// posts alone, `scripts/bench-comments.sh`: 4,350 a second through the
/// thread, 5,160 without): the work runs where it is asked for.
pub struct WriteThread {
    runtime: Option<(Handle, oneshot::Sender<()>)>,
    store: Store,
}

impl WriteThread {
    /// Starts the thread and opens its connections to the (migrated)
    /// database, on PostgreSQL; on SQLite, runs work with `store`.
    pub async fn start(store: &Store, url: &DatabaseUrl) -> anyhow::Result<WriteThread> {
        if store.backend() == Backend::Sqlite {
            return Ok(WriteThread { runtime: None, store: store.clone() });
        }
        let main = store.clone();
        let (ready, started) = oneshot::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let url = url.clone();
        std::thread::Builder::new()
            .name("comment-writes".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        let _ = ready.send(Err(anyhow::Error::from(err)));
                        return;
                    }
                };
                let store = runtime.block_on(main.connect_again(&url, CONNECTIONS));
                let _ = ready.send(store.map(|store| (runtime.handle().clone(), store)));
                // Runs the work handed over until the server drops its end.
                let _ = runtime.block_on(stopped);
            })
            .context("cannot start the thread for comment writes")?;
        let (runtime, store) = started.await.context("the thread for comment writes stopped")??;
        Ok(WriteThread { runtime: Some((runtime, stop)), store })
    }

    /// Runs `work` on the write thread with its connections; its result.
    pub async fn run<T, F>(&self, work: impl FnOnce(Store) -> F) -> StoreResult<T>
    where
        F: Future<Output = StoreResult<T>> + Send + 'static,
        T: Send + 'static,
    {
        let work = work(self.store.clone());
        match &self.runtime {
            // A batch's commit is spawned by the comment queue, wherever it
            // runs: a request dropped meanwhile (the reader gave up) costs no
            // other comment its answer.
            Some((runtime, _)) => {
                runtime.spawn(work).await.unwrap_or(Err(StoreError::Other(sqlx::Error::WorkerCrashed)))
            }
            None => work.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `writes` runs work, and whether it reaches `main`'s database.
    async fn runs(writes: &WriteThread, main: &Store) -> Option<String> {
        let (thread, counts) = writes
            .run(|store| async move {
                let thread = std::thread::current().name().map(str::to_owned);
                Ok((thread, store.content_counts().await?))
            })
            .await
            .expect("ran");
        assert_eq!(counts, main.content_counts().await.expect("counts"), "the same database");
        thread
    }

    #[tokio::test]
    async fn on_sqlite_work_runs_where_it_is_asked_for() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = DatabaseUrl::new(format!("sqlite://{}", dir.path().join("site.db").display()));
        let main = Store::connect(&url, chrono_tz::UTC).await.expect("database");
        let writes = WriteThread::start(&main, &url).await.expect("write thread");
        assert_ne!(runs(&writes, &main).await.as_deref(), Some("comment-writes"));
    }

    /// On PostgreSQL (`BROADSHEET_TEST_POSTGRES`), on the write thread with its own connections.
    #[tokio::test]
    async fn on_postgres_work_runs_on_the_write_thread_with_its_own_connections() {
        let Ok(url) = std::env::var("BROADSHEET_TEST_POSTGRES") else { return };
        let url = DatabaseUrl::new(url);
        let main = Store::connect(&url, chrono_tz::UTC).await.expect("database");
        let writes = WriteThread::start(&main, &url).await.expect("write thread");
        let opened = main.pool_use().0;
        assert_eq!(runs(&writes, &main).await.as_deref(), Some("comment-writes"));
        assert_eq!(main.pool_use().0, opened, "the write thread's connections are its own");
    }
}
