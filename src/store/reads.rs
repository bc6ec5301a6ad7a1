//! Reads of a SQLite database made on the thread that asks for them.
//!
//! sqlx runs each SQLite connection on a thread of its own: a query is handed
//! to that thread and every row handed back. For a query of a fraction of a
//! millisecond the two hand-offs cost about as much as the query (a third of
//! the server's CPU on searches that find nothing; see BENCHMARKS.md). The
//! connections here are used where they are asked for, like any other work a
//! request does, and kept for the next reader: as many as have ever read at
//! once, at most [`KEEP_IDLE`] of them idle.
//!
//! They only read (`PRAGMA query_only`); WAL lets them read beside the pool's
//! writer, each statement seeing what was committed when it began.

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// Idle connections kept open for the next reader.
const KEEP_IDLE: usize = 16;

/// Read-only connections to one SQLite file.
pub(crate) struct SqliteReads {
    file: Arc<Path>,
    idle: Mutex<Vec<Connection>>,
}

impl fmt::Debug for SqliteReads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteReads").field("file", &self.file).finish_non_exhaustive()
    }
}

impl SqliteReads {
    /// Reads of `file`, a database the pool has already opened and migrated.
    pub(crate) fn new(file: Arc<Path>) -> SqliteReads {
        SqliteReads { file, idle: Mutex::new(Vec::new()) }
    }

    /// The database file.
    pub(crate) fn file(&self) -> &Path {
        &self.file
    }

    /// Runs `read` on an idle connection, or on a new one when none is idle.
    pub(crate) fn read<T>(&self, read: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> rusqlite::Result<T> {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open()?,
        };
        let result = read(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < KEEP_IDLE {
            idle.push(conn);
        }
        result
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.file, flags)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        // As the pool's connections: the index's pages through a shared memory map.
        conn.execute_batch("PRAGMA query_only = ON; PRAGMA mmap_size = 268435456;")?;
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_was_committed_and_never_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file: Arc<Path> = Arc::from(dir.path().join("site.db"));
        let writer = Connection::open(&file).expect("open");
        writer
            .execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);")
            .expect("setup");
        let reads = SqliteReads::new(file);
        let count =
            |reads: &SqliteReads| reads.read(|c| c.query_row("SELECT COUNT(*) FROM t", [], |r| r.get::<_, i64>(0)));
        assert_eq!(count(&reads).expect("read"), 1);
        writer.execute("INSERT INTO t VALUES (2)", []).expect("insert");
        assert_eq!(count(&reads).expect("read again"), 2, "a kept connection sees the new row");
        let refused = reads.read(|c| c.execute("INSERT INTO t VALUES (3)", []));
        assert!(refused.is_err(), "a read connection never writes");
        assert_eq!(reads.idle.lock().expect("lock").len(), 1, "one connection served every read");
    }
}
