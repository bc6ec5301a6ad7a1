//! API keys of sites using the spam API, and the spam filter's lessons.

use super::invalidations::Announcement;
use super::{Store, StoreError, StoreResult};

/// An API key and the site it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub key: String,
    pub site_url: String,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// One moderator's decision, as the model learns it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Lesson {
    pub id: i64,
    pub site: i64,
    pub is_spam: i64,
    /// The comment as the filter reads it (text and context), JSON.
    pub comment: String,
}

impl Store {
    pub async fn create_api_key(&self, key: &str, site_url: &str, label: &str, now: i64) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO api_keys (key, site_url, label, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(key)
        .bind(site_url)
        .bind(label)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        self.announce(Announcement::Keys).await;
        Ok(id)
    }

    pub async fn api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        Ok(sqlx::query_as("SELECT id, key, site_url, label, created_at, revoked_at FROM api_keys ORDER BY id")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every key that has not been revoked, with its site number and address.
    pub async fn active_api_keys(&self) -> StoreResult<Vec<(String, i64, String)>> {
        Ok(sqlx::query_as("SELECT key, id, site_url FROM api_keys WHERE revoked_at IS NULL")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Revokes a key by its value or its number.
    pub async fn revoke_api_key(&self, key_or_id: &str, now: i64) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE (key = $2 OR CAST(id AS TEXT) = $2) AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(key_or_id)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.announce(Announcement::Keys).await;
        Ok(())
    }

    /// Records a lesson, with the comment of this site it came from;
    /// committed before this returns.
    pub async fn add_lesson(
        &self,
        site: i64,
        is_spam: bool,
        comment: &str,
        comment_id: Option<i64>,
        now: i64,
    ) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO spam_lessons (site, is_spam, comment, comment_id, created_at) VALUES ($1, $2, $3, $4, $5)
             RETURNING id",
        )
        .bind(site)
        .bind(i64::from(is_spam))
        .bind(comment)
        .bind(comment_id)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        self.announce(Announcement::Lessons).await;
        Ok(id)
    }

    /// The lessons taken from the comments of the commenter with this email
    /// address: (lesson, what it keeps of the comment).
    pub async fn lessons_of_commenter(&self, email: &str) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "SELECT id, comment FROM spam_lessons WHERE comment_id IN
                (SELECT id FROM comments WHERE LOWER(author_email) = LOWER($1)) ORDER BY id",
        )
        .bind(email)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Replaces what a lesson keeps of its comment (`None`: forgets the lesson).
    pub async fn rewrite_lesson(&self, id: i64, comment: Option<&str>) -> StoreResult<()> {
        match comment {
            Some(comment) => {
                sqlx::query("UPDATE spam_lessons SET comment = $1 WHERE id = $2")
                    .bind(comment)
                    .bind(id)
                    .execute(&self.pool)
                    .await?
            }
            None => sqlx::query("DELETE FROM spam_lessons WHERE id = $1").bind(id).execute(&self.pool).await?,
        };
        Ok(())
    }

    /// The numbers of the lessons recorded after `id`, in order.
    pub async fn lesson_ids_after(&self, id: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM spam_lessons WHERE id > $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Lessons recorded after `id`, oldest first.
    pub async fn lessons_after(&self, id: i64) -> StoreResult<Vec<Lesson>> {
        Ok(sqlx::query_as("SELECT id, site, is_spam, comment FROM spam_lessons WHERE id > $1 ORDER BY id")
            .bind(id)
            .fetch_all(&self.pool)
            .await?)
    }
}

/// What one API key's site asked of the spam API in a month.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ApiTraffic {
    /// Comments `comment-check` answered as spam.
    pub spam: i64,
    /// Comments `comment-check` answered as not spam.
    pub ham: i64,
    /// Comments sent back with `submit-spam`: spam the filter let through.
    pub missed_spam: i64,
    /// Comments sent back with `submit-ham`: legitimate comments it called spam.
    pub false_positives: i64,
}

impl ApiTraffic {
    pub fn add(&mut self, other: &ApiTraffic) {
        self.spam += other.spam;
        self.ham += other.ham;
        self.missed_spam += other.missed_spam;
        self.false_positives += other.false_positives;
    }

    /// Every call counted: checks and corrections.
    pub fn calls(&self) -> i64 {
        self.spam + self.ham + self.missed_spam + self.false_positives
    }

    /// The share of checked comments answered right, in percent (100 before
    /// the first check): every correction is a comment answered wrong.
    pub fn accuracy(&self) -> f64 {
        let checked = self.spam + self.ham;
        if checked == 0 {
            return 100.0;
        }
        let wrong = (self.missed_spam + self.false_positives).min(checked);
        (10_000.0 * (checked - wrong) as f64 / checked as f64).round() / 100.0
    }
}

/// A month of one site's traffic, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MonthTraffic {
    /// `YYYY-MM`, UTC.
    pub month: String,
    #[sqlx(flatten)]
    pub traffic: ApiTraffic,
}

impl Store {
    /// Adds counts to each site's month, in one transaction.
    pub async fn add_api_traffic(&self, counts: &[(i64, String, ApiTraffic)]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        for (site, month, t) in counts {
            sqlx::query(
                "INSERT INTO api_traffic (site, month, spam, ham, missed_spam, false_positives)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (site, month) DO UPDATE SET
                    spam = api_traffic.spam + excluded.spam,
                    ham = api_traffic.ham + excluded.ham,
                    missed_spam = api_traffic.missed_spam + excluded.missed_spam,
                    false_positives = api_traffic.false_positives + excluded.false_positives",
            )
            .bind(site)
            .bind(month)
            .bind(t.spam)
            .bind(t.ham)
            .bind(t.missed_spam)
            .bind(t.false_positives)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// A site's traffic by month from `from_month` (`YYYY-MM`) on, oldest first.
    pub async fn api_traffic(&self, site: i64, from_month: &str) -> StoreResult<Vec<MonthTraffic>> {
        Ok(sqlx::query_as(
            "SELECT month, spam, ham, missed_spam, false_positives FROM api_traffic
             WHERE site = $1 AND month >= $2 ORDER BY month",
        )
        .bind(site)
        .bind(from_month)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every site's traffic in all, and the lessons its filter has learnt, by site.
    pub async fn api_traffic_totals(&self) -> StoreResult<Vec<(i64, ApiTraffic, i64)>> {
        let totals: Vec<(i64, i64, i64, i64, i64)> = sqlx::query_as(
            "SELECT site, CAST(SUM(spam) AS BIGINT), CAST(SUM(ham) AS BIGINT), CAST(SUM(missed_spam) AS BIGINT),
                    CAST(SUM(false_positives) AS BIGINT)
             FROM api_traffic GROUP BY site",
        )
        .fetch_all(&self.pool)
        .await?;
        let lessons: Vec<(i64, i64)> =
            sqlx::query_as("SELECT site, COUNT(*) FROM spam_lessons WHERE site <> 0 GROUP BY site")
                .fetch_all(&self.pool)
                .await?;
        let mut sites: std::collections::BTreeMap<i64, (ApiTraffic, i64)> = std::collections::BTreeMap::new();
        for (site, spam, ham, missed_spam, false_positives) in totals {
            sites.entry(site).or_default().0 = ApiTraffic { spam, ham, missed_spam, false_positives };
        }
        for (site, n) in lessons {
            sites.entry(site).or_default().1 = n;
        }
        Ok(sites.into_iter().map(|(site, (traffic, lessons))| (site, traffic, lessons)).collect())
    }
}
