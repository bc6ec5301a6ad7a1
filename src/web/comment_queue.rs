//! Group commit for new comments.
//!
//! SQLite has one writer at a time, and a commit that survives a power cut
//! costs a sync to disk. Fifty readers posting at once would each wait for
//! the write lock in turn (SQLite's busy handler sleeps between tries, which
//! is where tail latency comes from). Instead, a post joins a queue; the first
//! post to find no commit running becomes the leader: it takes everything
//! queued, stores it in one transaction, applies the cache invalidation once,
//! and hands every waiting post its comment number. Posts that arrive during
//! that commit form the next batch. Every post is answered only after its
//! comment is committed and the page cache knows.

use std::sync::{Arc, Mutex};

use chrono::Utc;
use tokio::sync::oneshot;

use super::AppState;
use crate::store::{Inserted, NewComment, Store, StoreError, StoreResult};

/// A comment waiting for the next commit, with where its number goes.
struct Queued {
    comment: NewComment,
    done: oneshot::Sender<StoreResult<Inserted>>,
}

/// Posts waiting to be stored, and the right to store them.
#[derive(Default)]
pub struct CommentQueue {
    waiting: Mutex<Vec<Queued>>,
    committing: Arc<tokio::sync::Mutex<()>>,
}

impl CommentQueue {
    /// Stores `comment` (with whatever else is waiting) through `store` and
    /// returns its number once committed and the page cache knows.
    pub async fn store(&self, state: &AppState, store: &Store, comment: NewComment) -> StoreResult<Inserted> {
        let (done, mut stored) = oneshot::channel();
        self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(Queued { comment, done });
        let turn = Arc::clone(&self.committing).lock_owned().await;
        if let Ok(result) = stored.try_recv() {
            // The previous leader took this comment in its batch.
            return result;
        }
        let batch = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        // The commit runs as its own task, holding the turn: should this
        // request be dropped (the reader gave up), the batch still completes
        // and the others in it still get their answer.
        let state = state.clone();
        let store = store.clone();
        tokio::spawn(async move {
            let (comments, senders): (Vec<_>, Vec<_>) = batch.into_iter().map(|q| (q.comment, q.done)).unzip();
            let (results, logged) = store.insert_comments(&comments).await;
            // The rows just logged are applied here, without reading the log
            // back; other servers read them when told.
            state.changes.apply(&state.cache, logged, Utc::now().timestamp());
            tracing::debug!(comments = comments.len(), "comments committed");
            for (sender, result) in senders.into_iter().zip(results) {
                // A reader who gave up has dropped their receiver: nothing to tell.
                let _ = sender.send(result);
            }
            drop(turn);
        });
        // Dropped unanswered only if the commit task itself failed.
        stored.await.unwrap_or(Err(StoreError::Other(sqlx::Error::WorkerCrashed)))
    }
}
