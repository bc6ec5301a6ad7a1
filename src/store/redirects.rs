//! Old addresses of an imported site, and where they lead now.

use super::{Store, StoreResult};

/// What an old address names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Article(i64),
    Category(i64),
    Tag(i64),
    Author(i64),
    Media(i64),
}

impl Target {
    pub(crate) fn parts(self) -> (&'static str, i64) {
        match self {
            Target::Article(id) => ("article", id),
            Target::Category(id) => ("category", id),
            Target::Tag(id) => ("tag", id),
            Target::Author(id) => ("author", id),
            Target::Media(id) => ("media", id),
        }
    }

    fn from_parts(kind: &str, id: i64) -> Option<Target> {
        Some(match kind {
            "article" => Target::Article(id),
            "category" => Target::Category(id),
            "tag" => Target::Tag(id),
            "author" => Target::Author(id),
            "media" => Target::Media(id),
            _ => return None,
        })
    }
}

/// Where a target lives now, for the web layer to make its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A public article or page: kind ("article" or "page"), slug, publication time.
    Article {
        kind: String,
        slug: String,
        published_at: i64,
    },
    /// A category's slugs, outermost first.
    Category(Vec<String>),
    Tag(String),
    Author(String),
    /// A media file's address.
    Media(String),
}

/// One row of the admin's list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RedirectRow {
    pub old: String,
    pub target_kind: String,
    pub target_id: i64,
    pub hits: i64,
    pub last_hit_at: Option<i64>,
}

impl RedirectRow {
    pub fn target(&self) -> Option<Target> {
        Target::from_parts(&self.target_kind, self.target_id)
    }
}

impl Store {
    /// What an old address names, if it is one.
    pub async fn redirect(&self, old: &str) -> StoreResult<Option<Target>> {
        let row: Option<(String, i64)> = sqlx::query_as("SELECT target_kind, target_id FROM redirects WHERE old = $1")
            .bind(old)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|(kind, id)| Target::from_parts(&kind, id)))
    }

    /// Counts a use of an old address.
    pub async fn redirect_hit(&self, old: &str, now: i64) -> StoreResult<()> {
        sqlx::query("UPDATE redirects SET hits = hits + 1, last_hit_at = $1 WHERE old = $2")
            .bind(now)
            .bind(old)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Where a target lives now: `None` if it is gone or not public.
    pub async fn place(&self, target: Target, now: i64) -> StoreResult<Option<Place>> {
        Ok(match target {
            Target::Article(id) => {
                let row: Option<(String, String, i64)> = sqlx::query_as(
                    "SELECT kind, slug, published_at FROM articles
                     WHERE id = $1 AND status = 'published' AND published_at <= $2",
                )
                .bind(id)
                .bind(now)
                .fetch_optional(&self.pool)
                .await?;
                row.map(|(kind, slug, published_at)| Place::Article { kind, slug, published_at })
            }
            Target::Category(id) => {
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "WITH RECURSIVE up(id, slug, parent_id, depth) AS (
                         SELECT id, slug, parent_id, 0 FROM categories WHERE id = $1
                         UNION ALL SELECT c.id, c.slug, c.parent_id, up.depth + 1
                           FROM categories c JOIN up ON c.id = up.parent_id WHERE up.depth < 16)
                     SELECT slug, depth FROM up ORDER BY depth DESC",
                )
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
                (!rows.is_empty()).then(|| Place::Category(rows.into_iter().map(|(slug, _)| slug).collect()))
            }
            Target::Tag(id) => self.slug_of("tags", id).await?.map(Place::Tag),
            Target::Author(id) => self.slug_of("authors", id).await?.map(Place::Author),
            Target::Media(id) => {
                let row: Option<(String,)> =
                    sqlx::query_as("SELECT url FROM media WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
                row.map(|(url,)| Place::Media(url))
            }
        })
    }

    async fn slug_of(&self, table: &'static str, id: i64) -> StoreResult<Option<String>> {
        let sql = format!("SELECT slug FROM {table} WHERE id = $1");
        let row: Option<(String,)> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(|(slug,)| slug))
    }

    /// Old addresses, most used first.
    pub async fn redirects(&self, limit: u32, offset: u32) -> StoreResult<Vec<RedirectRow>> {
        let sql = format!(
            "SELECT old, target_kind, target_id, hits, last_hit_at FROM redirects
             ORDER BY hits DESC, old LIMIT {limit} OFFSET {offset}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?)
    }

    /// Whether there are any old addresses.
    pub async fn has_redirects(&self) -> StoreResult<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT 1 FROM redirects LIMIT 1").fetch_optional(&self.pool).await?;
        Ok(row.is_some())
    }

    /// How many old addresses there are.
    pub async fn count_redirects(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM redirects").fetch_one(&self.pool).await?;
        Ok(n)
    }
}
