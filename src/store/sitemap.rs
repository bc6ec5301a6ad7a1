//! What the sitemaps list: public articles and pages with their dates, and
//! when each archive last changed.

use super::{Store, StoreResult};

/// A public article or page as a sitemap lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SitemapEntry {
    pub kind: String,
    pub slug: String,
    pub headline: String,
    pub published_at: i64,
    pub updated_at: i64,
}

impl SitemapEntry {
    /// When it last changed: edited, or went public (a scheduled article).
    pub fn changed_at(&self) -> i64 {
        self.updated_at.max(self.published_at)
    }
}

/// An archive (category, tag or author) and the newest change among its articles.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArchiveChange {
    pub id: i64,
    pub slug: String,
    pub updated_at: i64,
}

/// The kinds of archive a sitemap lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archive {
    Category,
    Tag,
    Author,
}

const PUBLIC: &str = "a.status = 'published' AND a.published_at <= $1";

impl Store {
    /// Public articles (`kind` "article") or pages ("page") published in
    /// `[from, to)`, newest first, at most `limit` when given.
    pub async fn sitemap_entries(
        &self,
        kind: &str,
        now: i64,
        from: i64,
        to: i64,
        limit: Option<u32>,
    ) -> StoreResult<Vec<SitemapEntry>> {
        let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
        let sql = format!(
            "SELECT a.kind, a.slug, a.headline, a.published_at, a.updated_at FROM articles a
             WHERE a.kind = $2 AND {PUBLIC} AND a.published_at >= $3 AND a.published_at < $4
             ORDER BY a.published_at DESC, a.id DESC{limit}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(kind)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?)
    }

    /// `(published_at, updated_at)` of every public article, for the index's months.
    pub async fn article_dates(&self, now: i64) -> StoreResult<Vec<(i64, i64)>> {
        let sql = format!("SELECT a.published_at, a.updated_at FROM articles a WHERE a.kind = 'article' AND {PUBLIC}");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).fetch_all(&self.pool).await?)
    }

    /// The archives of one kind that list public articles, and when each
    /// last changed (a category: only the articles filed directly under it).
    pub async fn archive_changes(&self, archive: Archive, now: i64) -> StoreResult<Vec<ArchiveChange>> {
        let (table, join) = match archive {
            Archive::Category => (
                "categories",
                "JOIN article_categories l ON l.category_id = t.id JOIN articles a ON a.id = l.article_id",
            ),
            Archive::Tag => ("tags", "JOIN article_tags l ON l.tag_id = t.id JOIN articles a ON a.id = l.article_id"),
            Archive::Author => ("authors", "JOIN articles a ON a.author_id = t.id"),
        };
        let sql = format!(
            "SELECT t.id, t.slug, MAX(CASE WHEN a.published_at > a.updated_at THEN a.published_at ELSE a.updated_at END) AS updated_at FROM {table} t {join}
             WHERE a.kind = 'article' AND {PUBLIC} GROUP BY t.id, t.slug ORDER BY t.slug"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(now).fetch_all(&self.pool).await?)
    }
}
