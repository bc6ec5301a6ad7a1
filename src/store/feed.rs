//! Reading an append-only log by id when ids may commit out of order.
//!
//! SQLite has one writer: rows become visible in id order, and "every row
//! after the last one seen" never misses one. PostgreSQL hands out ids when
//! rows are inserted, not when they commit: a row with a smaller id can
//! appear after a larger one was read. So on PostgreSQL a reader looks back
//! over a window of recent ids and skips the ones it has already taken.

use std::collections::BTreeSet;

/// Where a log reader has got to.
#[derive(Debug, Clone, Default)]
pub struct LogCursor {
    /// The highest id taken.
    last: i64,
    /// How far back to look again (0 on SQLite).
    window: i64,
    /// Ids taken within the window.
    taken: BTreeSet<i64>,
}

impl LogCursor {
    /// Starts after `last`, looking back `window` ids.
    pub fn new(last: i64, window: i64) -> LogCursor {
        LogCursor { last, window, taken: BTreeSet::new() }
    }

    /// Read rows with ids above this.
    pub fn read_after(&self) -> i64 {
        (self.last - self.window).max(0)
    }

    /// True the first time `id` is offered: the row is new and to be applied.
    pub fn take(&mut self, id: i64) -> bool {
        let floor = self.last - self.window;
        if id <= floor || (id <= self.last && self.taken.contains(&id)) {
            return false;
        }
        if self.window > 0 {
            self.taken.insert(id);
        }
        self.last = self.last.max(id);
        let floor = self.last - self.window;
        while self.taken.first().is_some_and(|&first| first <= floor) {
            self.taken.pop_first();
        }
        true
    }

    /// The highest id taken.
    pub fn last(&self) -> i64 {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_commit_with_a_smaller_id_is_still_taken_once() {
        let mut cursor = LogCursor::new(200, 100);
        assert!(cursor.take(202));
        assert_eq!(cursor.read_after(), 102);
        // Id 201 commits after 202 was read: the next read still sees it.
        assert!(cursor.take(201));
        assert!(!cursor.take(202) && !cursor.take(201), "each row once");
        assert!(!cursor.take(50), "further back than the window");
        assert_eq!(cursor.last(), 202);
    }

    #[test]
    fn without_a_window_ids_only_move_forward() {
        let mut cursor = LogCursor::new(0, 0);
        assert!(cursor.take(1) && cursor.take(2));
        assert!(!cursor.take(2) && !cursor.take(1));
        assert_eq!(cursor.read_after(), 2);
    }

    #[test]
    fn the_window_forgets_what_it_no_longer_looks_at() {
        let mut cursor = LogCursor::new(0, 3);
        for id in 1..=10 {
            assert!(cursor.take(id));
        }
        assert_eq!(cursor.read_after(), 7);
        assert_eq!(cursor.taken.len(), 3);
    }
}
