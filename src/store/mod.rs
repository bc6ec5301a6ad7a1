//! The store: every database read and write, over SQLite or PostgreSQL.
//!
//! `Store` holds an `AnyPool`; queries are written once in the dialect both
//! databases share (`$1` placeholders, `RETURNING`, `ON CONFLICT`, Unix-second
//! integers for time) and each backend has its own migrations folder.

mod articles;
mod comments;
mod editing;
mod export;
mod feed;
mod import;
mod invalidations;
mod mail;
mod media;
mod migrate;
mod reads;
mod redirects;
mod search;
mod settings;
mod sitemap;
mod spam;
mod stats;
mod taxonomy;
mod users;

pub use articles::{
    ArticleRecord, ArticleSummary, CategoryRow, Edit, Listing, NamedRef, PublishAt, SaveArticle, Saved, SavedImage,
    Target,
};
pub use comments::{
    Checks, FeedComment, History, Inserted, NewComment, Probe, PublicComment, QueuedComment, StoredComment,
};
pub use editing::{ArticleFilter, ArticleRow, EditableArticle, Revision};
pub use export::{ExportArticle, ExportAuthor, ExportComment, ExportMedia, ExportTerm, ExportTermLink};
pub use feed::LogCursor;
pub use import::{ImportArticle, ImportComment, ImportImage, ImportMedia, ImportTx, Known, Table};
pub use invalidations::{Announcement, CHANNEL as CHANGES_CHANNEL, Invalidation};
pub use mail::{ArticleNotice, ModerationNotice, OutgoingMail, QueuedMail, ReplySubscription, StaffRecipient};
pub use media::{MediaItem, NewMedia};
pub use redirects::{Place, RedirectRow, Target as RedirectTarget};
pub use search::{IndexText, SearchHit, SearchQuery, Tidied};
pub use settings::{
    DISCUSSION_SETTINGS, SiteSettings, check_discussion_setting, discussion_setting_bounds, discussion_setting_value,
};
pub use sitemap::{Archive, ArchiveChange, SitemapEntry};
pub use spam::{ApiKey, ApiTraffic, Lesson, MonthTraffic};
pub use stats::{Day, Totals};
pub use taxonomy::{Taxonomy, Term};
pub use users::{Session, User};
pub use users::{SignInAttack, SignInFailures};

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono_tz::Tz;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use crate::config::DatabaseUrl;

/// What the store reports; callers decide what a missing row means.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// Input the store cannot file, with a message for the user.
    #[error("{0}")]
    Rejected(String),
    /// The row changed since the caller read it (someone else saved first).
    #[error("changed by someone else since it was read")]
    Conflict,
    #[error(transparent)]
    Other(#[from] sqlx::Error),
    /// From a read made on the asking thread ([`reads`]).
    #[error(transparent)]
    Read(#[from] rusqlite::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database, shared by every request and job.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// On SQLite, the database file and connections for reads made without
    /// a hand-off to the pool's threads.
    reads: Option<Arc<reads::SqliteReads>>,
    /// The site's time zone: month archives, and so month cache tags, follow it.
    time_zone: Tz,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

impl Store {
    /// Opens (creating a SQLite file if needed) and migrates the database.
    pub async fn connect(url: &DatabaseUrl, time_zone: Tz) -> anyhow::Result<Store> {
        let store = Store::open(url, time_zone, None).await?;
        let migrator = match store.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&store.pool).await.context("cannot apply database migrations")?;
        let indexed = store.index_missing_articles().await.context("cannot build the search index")?;
        if indexed > 0 {
            tracing::info!(articles = indexed, "search index built");
            if let Err(err) = store.tidy_search_index().await {
                tracing::warn!(error = %err, "cannot merge the search index");
            }
        }
        Ok(store)
    }

    /// More connections to this store's database (`url`, which it was
    /// connected to), at most `max_connections` of them, made on the runtime
    /// that first uses them.
    pub async fn connect_again(&self, url: &DatabaseUrl, max_connections: u32) -> anyhow::Result<Store> {
        Store::open(url, self.time_zone, Some(max_connections)).await
    }

    /// Which database is behind the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    async fn open(url: &DatabaseUrl, time_zone: Tz, max_connections: Option<u32>) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let sqlite_file = url.sqlite_path();
        let backend = if sqlite_file.is_some() || url.expose().starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        if backend == Backend::Sqlite && sqlite_file.is_none() {
            // Each of the pool's connections would hold a database of its own.
            anyhow::bail!("cannot use {url}: a SQLite database must be a file, not in memory");
        }
        let pool = match backend {
            Backend::Sqlite => {
                if let Some(dir) =
                    sqlite_file.as_ref().and_then(|file| file.parent()).filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create directory {}", dir.display()))?;
                }
                let mut url = url.expose().to_owned();
                if !url.contains("mode=") {
                    url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
                }
                let options = AnyConnectOptions::from_str(&url)?;
                AnyPoolOptions::new()
                    .max_connections(max_connections.unwrap_or(8))
                    // A connection to a local file does not go stale: no
                    // round trip to test it each time a query borrows it.
                    .test_before_acquire(false)
                    .min_connections(1)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers run beside the one writer; FULL makes
                            // every acknowledged write survive a power cut.
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA synchronous = FULL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 10000",
                                // After a checkpoint resets it, the WAL file is cut back to 64 MiB.
                                "PRAGMA journal_size_limit = 67108864",
                                // Reads the first 256 MiB of the file through a shared
                                // memory map instead of a read call per page: a search
                                // walks many pages of the index (4x fewer system calls' time).
                                "PRAGMA mmap_size = 268435456",
                            ] {
                                conn.execute(pragma).await?;
                            }
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await
                    .with_context(|| format!("cannot open database {url}"))?
            }
            Backend::Postgres => AnyPoolOptions::new()
                .max_connections(max_connections.unwrap_or(16))
                .acquire_timeout(Duration::from_secs(10))
                .connect(url.expose())
                .await
                .with_context(|| format!("cannot connect to database {url}"))?,
        };
        let reads = sqlite_file.map(|file| Arc::new(reads::SqliteReads::new(Arc::from(file))));
        Ok(Store { pool, backend, reads, time_zone })
    }

    /// A transaction that writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads before it writes
    /// fails at once with "database is locked", without waiting, when another
    /// connection commits in between.
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// How far back a reader of an id-ordered log must look again: on
    /// PostgreSQL ids can commit out of order (see [`LogCursor`]).
    pub fn log_window(&self) -> i64 {
        match self.backend {
            Backend::Sqlite => 0,
            Backend::Postgres => 64,
        }
    }

    /// The same store, dating things in another time zone.
    pub fn with_time_zone(mut self, time_zone: Tz) -> Store {
        self.time_zone = time_zone;
        self
    }

    /// The SQLite database file, when that is the backend.
    pub fn sqlite_file(&self) -> Option<&Path> {
        self.reads.as_deref().map(reads::SqliteReads::file)
    }

    /// On SQLite, copies the write-ahead log into the database and empties it.
    ///
    /// SQLite's own checkpoints run after each write but cannot restart the
    /// log while a reader is still using it; a busy site always has one, so
    /// the log would grow without end. This one waits (briefly, holding off
    /// writers) for those readers, then truncates the file. Returns the pages
    /// copied, or `None` on PostgreSQL or when readers kept it from finishing.
    pub async fn checkpoint(&self) -> StoreResult<Option<i64>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let (busy, _log, copied): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)").fetch_one(&self.pool).await?;
        Ok((busy == 0).then_some(copied))
    }

    /// A consistent copy of the SQLite database in a new file, made while
    /// others keep reading and writing (`VACUUM INTO`).
    pub async fn snapshot_sqlite(&self, to: &Path) -> StoreResult<()> {
        sqlx::query("VACUUM INTO $1").bind(to.to_string_lossy().into_owned()).execute(&self.pool).await?;
        Ok(())
    }

    /// How many articles and pages, and how many comments, the site holds.
    pub async fn content_counts(&self) -> StoreResult<(i64, i64)> {
        Ok(sqlx::query_as("SELECT (SELECT COUNT(*) FROM articles), (SELECT COUNT(*) FROM comments)")
            .fetch_one(&self.pool)
            .await?)
    }

    /// The pool's open connections, and how many of them are idle.
    pub fn pool_use(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    /// A cheap round trip, for the health endpoint.
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Reads a named site flag (such as whether the demo was installed).
    pub async fn flag(&self, name: &str) -> StoreResult<Option<String>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM site_flags WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(v,)| v))
    }

    pub async fn set_flag(&self, name: &str, value: &str) -> StoreResult<()> {
        sqlx::query("INSERT INTO site_flags (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2")
            .bind(name)
            .bind(value)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_in_memory_sqlite_database_is_refused_with_a_reason() {
        for url in ["sqlite::memory:", "sqlite://:memory:"] {
            let err = Store::connect(&DatabaseUrl::new(url), chrono_tz::UTC).await.expect_err(url);
            assert!(err.to_string().contains("must be a file"), "{url}: {err}");
        }
    }
}
