//! Each API key's traffic, counted in memory as calls are answered and added
//! to the database by the server's poll job every two seconds (and before
//! any figure is read), so that `comment-check` never waits for a write.
//! Every server adds its own counts, so the figures hold across servers.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{Datelike, Utc};

use crate::store::{ApiTraffic, Store, StoreResult};

/// What a call was answered, or told us.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// `comment-check` answered `true`.
    Spam,
    /// `comment-check` answered `false`.
    Ham,
    /// `submit-spam`: spam the filter let through.
    MissedSpam,
    /// `submit-ham`: a legitimate comment it called spam.
    FalsePositive,
}

/// Counts not yet in the database, by site and month (`YYYY-MM` as `yyyy * 100 + mm`).
#[derive(Default)]
pub struct TrafficCounter {
    pending: Mutex<HashMap<(i64, u32), ApiTraffic>>,
    /// One flush at a time, so that a failed one can put its counts back in order.
    flushing: tokio::sync::Mutex<()>,
}

/// `YYYY-MM` of a month number.
pub fn month_name(month: u32) -> String {
    format!("{:04}-{:02}", month / 100, month % 100)
}

/// This month's number, UTC.
pub fn this_month() -> u32 {
    let now = Utc::now();
    now.year().max(0) as u32 * 100 + now.month()
}

impl TrafficCounter {
    pub fn record(&self, site: i64, outcome: Outcome) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let counts = pending.entry((site, this_month())).or_default();
        match outcome {
            Outcome::Spam => counts.spam += 1,
            Outcome::Ham => counts.ham += 1,
            Outcome::MissedSpam => counts.missed_spam += 1,
            Outcome::FalsePositive => counts.false_positives += 1,
        }
    }

    /// Adds the counts in hand to the database; on failure they are kept for the next try.
    pub async fn flush(&self, store: &Store) -> StoreResult<()> {
        let _one_at_a_time = self.flushing.lock().await;
        let taken = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        if taken.is_empty() {
            return Ok(());
        }
        let rows: Vec<(i64, String, ApiTraffic)> =
            taken.iter().map(|(&(site, month), counts)| (site, month_name(month), *counts)).collect();
        if let Err(err) = store.add_api_traffic(&rows).await {
            let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
            for (key, counts) in taken {
                pending.entry(key).or_default().add(&counts);
            }
            return Err(err);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_are_named_as_akismet_names_them() {
        assert_eq!(month_name(202_612), "2026-12");
        assert_eq!(month_name(202_701), "2027-01");
        assert_eq!(month_name(this_month()), Utc::now().format("%Y-%m").to_string());
    }

    #[test]
    fn accuracy_counts_each_correction_as_a_wrong_answer() {
        let t = ApiTraffic { spam: 90, ham: 110, missed_spam: 1, false_positives: 1 };
        assert_eq!(t.accuracy(), 99.0);
        assert_eq!(t.calls(), 202);
        assert_eq!(ApiTraffic::default().accuracy(), 100.0);
        // More corrections than checks (feedback on comments checked elsewhere) is never below 0.
        assert_eq!(ApiTraffic { spam: 1, ham: 0, missed_spam: 5, false_positives: 0 }.accuracy(), 0.0);
    }
}
