//! Applies the cache-invalidation log to this server's page cache, and new
//! spam-filter lessons to its spam filter.
//!
//! Any process may change the database (`broadsheet publish` runs beside the
//! server). Each change logs the cache tags it touches, in its own
//! transaction. Before answering a request the server looks at the SQLite
//! write-ahead log's size and time, a single `stat`: when they moved, it reads
//! the new log rows at once (it looks at most once a millisecond), so a
//! page published a moment ago is served fresh. A background poll covers what `stat` cannot see (another server on
//! PostgreSQL, two commits within one clock tick). Rows due in the future
//! (scheduled articles) wait in memory until their second comes.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use super::cache::PageCache;
use crate::spam::SpamEngine;
use crate::store::{Invalidation, LogCursor, Store, StoreResult};

/// The write-ahead log's identity, size and modification time.
type WalSignature = Option<(u64, u64, SystemTime)>;

pub struct ChangeFeed {
    store: Store,
    /// Lessons given in another process reach this one's spam filter too.
    spam: Arc<SpamEngine>,
    wal_file: Option<PathBuf>,
    wal_seen: Mutex<WalSignature>,
    /// How far the log has been read (see `LogCursor`).
    cursor: Mutex<LogCursor>,
    /// The earliest due second among `pending`; `i64::MAX` when none.
    next_due: AtomicI64,
    pending: Mutex<BinaryHeap<Reverse<(i64, String)>>>,
    pull_lock: tokio::sync::Mutex<()>,
    /// When the write-ahead log was last looked at (ms since `started`): at
    /// most once a millisecond, however many requests arrive.
    started: Instant,
    wal_looked_ms: AtomicU64,
}

impl ChangeFeed {
    /// Starts after the newest logged row; rows still due later are kept.
    pub async fn start(store: Store, spam: Arc<SpamEngine>, now: i64) -> StoreResult<ChangeFeed> {
        let wal_file = store.sqlite_file().map(|db| {
            let mut name = db.as_os_str().to_owned();
            name.push("-wal");
            PathBuf::from(name)
        });
        let feed = ChangeFeed {
            cursor: Mutex::new(LogCursor::new(store.last_invalidation_id().await?, store.log_window())),
            wal_seen: Mutex::new(None),
            next_due: AtomicI64::new(i64::MAX),
            pending: Mutex::new(BinaryHeap::new()),
            pull_lock: tokio::sync::Mutex::new(()),
            started: Instant::now(),
            wal_looked_ms: AtomicU64::new(0),
            wal_file,
            store,
            spam,
        };
        feed.wal_changed();
        let future = feed.store.future_invalidations(now).await?;
        feed.schedule(future);
        Ok(feed)
    }

    /// Brings the cache up to date with every change committed so far, cheaply
    /// when nothing changed. Called before each cached answer.
    pub async fn catch_up(&self, cache: &PageCache, now: i64) -> StoreResult<()> {
        if self.wal_changed() {
            self.pull(cache, now).await?;
        }
        if now >= self.next_due.load(Ordering::Acquire) {
            self.release_due(cache, now);
        }
        Ok(())
    }

    /// Reads and applies log rows newer than the last one seen.
    pub async fn pull(&self, cache: &PageCache, now: i64) -> StoreResult<()> {
        let _one_at_a_time = self.pull_lock.lock().await;
        self.spam.catch_up(&self.store).await?;
        let after = self.cursor.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).read_after();
        let rows = self.store.invalidations_after(after).await?;
        self.apply(cache, rows, now);
        Ok(())
    }

    /// Invalidates the pages of the rows not applied before; rows due later
    /// wait their time. Rows read from the log come here, and so do those this
    /// server logged itself, as it committed them: the next read skips them.
    pub fn apply(&self, cache: &PageCache, rows: Vec<Invalidation>, now: i64) {
        let rows: Vec<Invalidation> = {
            let mut cursor = self.cursor.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            rows.into_iter().filter(|row| cursor.take(row.id)).collect()
        };
        if rows.is_empty() {
            return;
        }
        let (due, later): (Vec<_>, Vec<_>) = rows.into_iter().partition(|row| row.due_at <= now);
        let mut dropped = 0;
        for row in &due {
            dropped += row
                .tag
                .split_whitespace()
                .map(|tag| if row.discussion != 0 { cache.invalidate_discussion(tag) } else { cache.invalidate(tag) })
                .sum::<usize>();
        }
        self.schedule(later);
        tracing::debug!(rows = due.len(), pages = dropped, "cache invalidated");
    }

    fn schedule(&self, rows: Vec<Invalidation>) {
        if rows.is_empty() {
            return;
        }
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        pending.extend(rows.into_iter().map(|row| Reverse((row.due_at, row.tag))));
        self.next_due.store(pending.peek().map_or(i64::MAX, |Reverse((due, _))| *due), Ordering::Release);
    }

    fn release_due(&self, cache: &PageCache, now: i64) {
        let mut pending = self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some(Reverse((due, _))) = pending.peek() {
            if *due > now {
                break;
            }
            if let Some(Reverse((_, tag))) = pending.pop() {
                for tag in tag.split_whitespace() {
                    cache.invalidate(tag);
                }
            }
        }
        self.next_due.store(pending.peek().map_or(i64::MAX, |Reverse((due, _))| *due), Ordering::Release);
    }

    /// Whether [`catch_up`](Self::catch_up) at `now` would do nothing, known
    /// without looking at anything: the write-ahead log was looked at this
    /// millisecond already (or there is none) and nothing scheduled is due.
    /// A request that sees this needs no wait before reading the cache.
    pub fn known_current(&self, now: i64) -> bool {
        now < self.next_due.load(Ordering::Acquire)
            && (self.wal_file.is_none() || self.wal_looked_ms.load(Ordering::Acquire) == self.elapsed_ms())
    }

    fn elapsed_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// True when the write-ahead log looks different from the last look.
    fn wal_changed(&self) -> bool {
        let Some(wal) = &self.wal_file else { return false };
        let now_ms = self.elapsed_ms();
        if self.wal_looked_ms.swap(now_ms, Ordering::AcqRel) == now_ms {
            return false;
        }
        let now = std::fs::metadata(wal).ok().map(|meta| {
            use std::os::unix::fs::MetadataExt;
            (meta.ino(), meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH))
        });
        let mut seen = self.wal_seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if *seen == now {
            return false;
        }
        *seen = now;
        true
    }
}
