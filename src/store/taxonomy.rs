//! Categories and tags as the admin manages them. Every change here shows in
//! every page's navigation or an archive, so it logs the site-wide cache tag.

use sqlx::{Any, Transaction};

use super::{Store, StoreError, StoreResult, invalidations, search};
use crate::domain::cache_tags;
use crate::domain::slug::Slug;

/// A category or tag with how many articles use it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Term {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<i64>,
    pub articles: i64,
}

impl Store {
    /// Every category with its article count, by name.
    pub async fn categories_with_counts(&self) -> StoreResult<Vec<Term>> {
        Ok(sqlx::query_as(
            "SELECT c.id, c.slug, c.name, c.parent_id,
                    (SELECT COUNT(*) FROM article_categories ac WHERE ac.category_id = c.id) AS articles
             FROM categories c ORDER BY c.name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every tag with its article count, by name.
    pub async fn tags_with_counts(&self) -> StoreResult<Vec<Term>> {
        Ok(sqlx::query_as(
            "SELECT t.id, t.slug, t.name, CAST(NULL AS BIGINT) AS parent_id,
                    (SELECT COUNT(*) FROM article_tags at WHERE at.tag_id = t.id) AS articles
             FROM tags t ORDER BY t.name",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// A new category under `parent`; its address comes from its name (with
    /// the parent's in front if the name alone is taken).
    pub async fn create_category(&self, name: &str, parent: Option<i64>, now: i64) -> StoreResult<i64> {
        let base = Slug::from_title(name).map_err(StoreError::Rejected)?.to_string();
        let mut tx = self.begin_write().await?;
        let parent_slug: Option<String> = match parent {
            Some(parent) => Some(
                sqlx::query_as::<_, (String,)>("SELECT slug FROM categories WHERE id = $1")
                    .bind(parent)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::Rejected("the parent category does not exist (any more)".into()))?
                    .0,
            ),
            None => None,
        };
        let twin: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM categories WHERE LOWER(name) = LOWER($1) AND COALESCE(parent_id, 0) = $2")
                .bind(name)
                .bind(parent.unwrap_or(0))
                .fetch_optional(&mut *tx)
                .await?;
        if twin.is_some() {
            return Err(StoreError::Rejected(format!("there is already a category called {name:?} there")));
        }
        let mut candidates = vec![base.clone()];
        if let Some(parent_slug) = &parent_slug {
            candidates.push(format!("{parent_slug}-{base}"));
        }
        for slug in candidates {
            let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM categories WHERE slug = $1")
                .bind(&slug)
                .fetch_optional(&mut *tx)
                .await?;
            if taken.is_none() {
                let (id,): (i64,) =
                    sqlx::query_as("INSERT INTO categories (slug, name, parent_id) VALUES ($1, $2, $3) RETURNING id")
                        .bind(&slug)
                        .bind(name)
                        .bind(parent)
                        .fetch_one(&mut *tx)
                        .await?;
                invalidations::log(&mut tx, &[(cache_tags::SITE.to_owned(), now)]).await?;
                tx.commit().await?;
                return Ok(id);
            }
        }
        Err(StoreError::Rejected(format!("there is already a category called {name:?} there")))
    }

    /// Renames a category or tag; its
    /// address stays, so links to it keep working.
    pub async fn rename_term(&self, table: Taxonomy, id: i64, name: &str, now: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let sql = format!("UPDATE {} SET name = $1 WHERE id = $2", table.table());
        let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(name).bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if table == Taxonomy::Tag {
            // Tags are searched by name: their articles are found by the new one.
            for article in tagged(&mut tx, id).await? {
                search::index_article(&mut tx, self.backend, article).await?;
            }
        }
        invalidations::log(&mut tx, &[(cache_tags::SITE.to_owned(), now)]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a category or tag. Articles lose it; a category's children
    /// move up to its parent.
    pub async fn delete_term(&self, table: Taxonomy, id: i64, now: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        match table {
            Taxonomy::Category => {
                sqlx::query(
                    "UPDATE categories SET parent_id = (SELECT parent_id FROM categories WHERE id = $1)
                     WHERE parent_id = $1",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                sqlx::query("DELETE FROM article_categories WHERE category_id = $1").bind(id).execute(&mut *tx).await?;
            }
            Taxonomy::Tag => {
                let articles = tagged(&mut tx, id).await?;
                sqlx::query("DELETE FROM article_tags WHERE tag_id = $1").bind(id).execute(&mut *tx).await?;
                // Nor found by it any more.
                for article in articles {
                    search::index_article(&mut tx, self.backend, article).await?;
                }
            }
        }
        let sql = format!("DELETE FROM {} WHERE id = $1", table.table());
        let done = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut *tx).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        invalidations::log(&mut tx, &[(cache_tags::SITE.to_owned(), now)]).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The articles that carry a tag.
async fn tagged(tx: &mut Transaction<'static, Any>, tag: i64) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT article_id FROM article_tags WHERE tag_id = $1")
        .bind(tag)
        .fetch_all(&mut **tx)
        .await?)
}

/// Categories or tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taxonomy {
    Category,
    Tag,
}

impl Taxonomy {
    fn table(self) -> &'static str {
        match self {
            Taxonomy::Category => "categories",
            Taxonomy::Tag => "tags",
        }
    }
}
