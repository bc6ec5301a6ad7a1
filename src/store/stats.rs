//! Figures for the admin dashboard.

use super::{Store, StoreResult};

/// Totals shown at the top of the dashboard.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub published: i64,
    pub drafts: i64,
    pub scheduled: i64,
    pub pending: i64,
    pub approved: i64,
    pub spam: i64,
}

/// One day's activity; `day` counts days since 1970-01-01 in the site's time zone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Day {
    pub day: i64,
    pub published: i64,
    pub comments: i64,
    pub spam: i64,
}

impl Store {
    pub async fn totals(&self, now: i64) -> StoreResult<Totals> {
        let (published, drafts, scheduled, pending, approved, spam): (i64, i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT
                (SELECT COUNT(*) FROM articles WHERE kind = 'article' AND status = 'published' AND published_at <= $1),
                (SELECT COUNT(*) FROM articles WHERE kind = 'article' AND status = 'draft'),
                (SELECT COUNT(*) FROM articles WHERE kind = 'article' AND status = 'published' AND published_at > $1),
                (SELECT COUNT(*) FROM comments WHERE status = 'pending'),
                (SELECT COUNT(*) FROM comments WHERE status = 'approved'),
                (SELECT COUNT(*) FROM comments WHERE status = 'spam')",
        )
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(Totals { published, drafts, scheduled, pending, approved, spam })
    }

    /// Comments awaiting moderation, for the admin header.
    pub async fn pending_comments(&self) -> StoreResult<i64> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM comments WHERE status = 'pending'").fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Articles published, comments received (not spam) and spam caught per
    /// day, for the `days` days up to and including `today`. `offset` is the
    /// site's UTC offset in seconds.
    pub async fn activity(&self, today: i64, days: i64, offset: i64) -> StoreResult<Vec<Day>> {
        let first = today - days + 1;
        let since = first * 86_400 - offset;
        let mut out: Vec<Day> = (first..=today).map(|day| Day { day, ..Day::default() }).collect();
        let articles: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT (published_at + $1) / 86400, COUNT(*) FROM articles
             WHERE kind = 'article' AND status = 'published' AND published_at >= $2 AND published_at < $3
             GROUP BY (published_at + $1) / 86400",
        )
        .bind(offset)
        .bind(since)
        .bind((today + 1) * 86_400 - offset)
        .fetch_all(&self.pool)
        .await?;
        let comments: Vec<(i64, i64, i64)> = sqlx::query_as(
            "SELECT (created_at + $1) / 86400,
                    SUM(CASE WHEN status = 'spam' THEN 0 ELSE 1 END), SUM(CASE WHEN status = 'spam' THEN 1 ELSE 0 END)
             FROM comments WHERE created_at >= $2 GROUP BY (created_at + $1) / 86400",
        )
        .bind(offset)
        .bind(since)
        .fetch_all(&self.pool)
        .await?;
        for (day, n) in articles {
            if let Some(slot) = out.iter_mut().find(|d| d.day == day) {
                slot.published = n;
            }
        }
        for (day, ham, spam) in comments {
            if let Some(slot) = out.iter_mut().find(|d| d.day == day) {
                slot.comments = ham;
                slot.spam = spam;
            }
        }
        Ok(out)
    }
}
