//! What the admin reads to list and edit articles, and their revisions.

use super::{Backend, SearchQuery, Store, StoreError, StoreResult};

/// Which articles the admin's list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleFilter {
    /// "draft", "scheduled" or "published"; any when `None`.
    pub status: Option<String>,
    pub category: Option<i64>,
    /// An author (byline) number.
    pub author: Option<i64>,
    /// Words, or their beginnings, in the headline, standfirst, text, tags or byline.
    pub search: String,
    /// Only articles this account created.
    pub owner: Option<i64>,
}

/// A row of the admin's article list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArticleRow {
    pub id: i64,
    pub kind: String,
    pub slug: String,
    pub headline: String,
    pub status: String,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub author_name: Option<String>,
    pub created_by: Option<i64>,
    pub comment_count: i64,
    /// What the newsroom should know (set by an import, cleared by a save).
    pub admin_note: Option<String>,
}

/// An article as the editor opens it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EditableArticle {
    pub id: i64,
    pub kind: String,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_markdown: String,
    pub byline: Option<String>,
    pub agency: Option<String>,
    pub status: String,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub image_src: Option<String>,
    pub image_alt: Option<String>,
    pub image_caption: Option<String>,
    pub image_credit: Option<String>,
    pub comments_open: i64,
    pub created_by: Option<i64>,
    pub version: i64,
    /// What the newsroom should know (set by an import, cleared by a save).
    pub admin_note: Option<String>,
}

/// An earlier text of an article.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Revision {
    pub id: i64,
    pub headline: String,
    pub standfirst: String,
    pub body_markdown: String,
    pub saved_at: i64,
}

impl Store {
    /// One page of the admin's list of articles and pages, newest change first.
    pub async fn admin_articles(
        &self,
        filter: &ArticleFilter,
        now: i64,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<ArticleRow>> {
        let status = match filter.status.as_deref() {
            Some("draft") => " AND a.status = 'draft'",
            Some("scheduled") => " AND a.status = 'published' AND a.published_at > $1",
            Some("published") => " AND a.status = 'published' AND a.published_at <= $1",
            _ => "",
        };
        // Words go through the search index, which holds every article and
        // page whatever its state; each word may be the start of one.
        let (search, words) = match (SearchQuery::parse(&filter.search), self.backend) {
            (None, _) => ("", String::new()),
            (Some(query), Backend::Sqlite) => {
                (" AND a.id IN (SELECT rowid FROM article_search WHERE article_search MATCH $4)", query.fts5_prefixes())
            }
            (Some(query), Backend::Postgres) => (
                " AND a.id IN (SELECT article_id FROM article_search WHERE document @@ to_tsquery('simple', $4))",
                query.tsquery_prefixes(),
            ),
        };
        let sql = format!(
            "SELECT a.id, a.kind, a.slug, a.headline, a.status, a.published_at, a.updated_at, au.name AS author_name,
                    a.created_by, a.comment_count, a.admin_note
             FROM articles a LEFT JOIN authors au ON au.id = a.author_id
             WHERE ($1 = $1){status}{search}
               AND ($2 = 0 OR a.id IN (SELECT article_id FROM article_categories WHERE category_id = $2))
               AND ($3 = 0 OR a.author_id = $3)
               AND ($4 = $4)
               AND ($5 = 0 OR a.created_by = $5)
             ORDER BY a.updated_at DESC, a.id DESC LIMIT {limit} OFFSET {offset}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(filter.category.unwrap_or(0))
            .bind(filter.author.unwrap_or(0))
            .bind(words)
            .bind(filter.owner.unwrap_or(0))
            .fetch_all(&self.pool)
            .await?)
    }

    /// Everything the editor shows of one article or page.
    pub async fn editable_article(&self, id: i64) -> StoreResult<(EditableArticle, Vec<i64>, Vec<String>)> {
        let article: EditableArticle = sqlx::query_as(
            "SELECT a.id, a.kind, a.slug, a.headline, a.standfirst, a.body_markdown, au.name AS byline, a.agency,
                    a.status, a.published_at, a.updated_at, a.image_src, a.image_alt, a.image_caption, a.image_credit,
                    a.comments_open, a.created_by, a.version, a.admin_note
             FROM articles a LEFT JOIN authors au ON au.id = a.author_id WHERE a.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or(StoreError::NotFound)?;
        let categories: Vec<(i64,)> =
            sqlx::query_as("SELECT category_id FROM article_categories WHERE article_id = $1 ORDER BY position")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        let tags: Vec<(String,)> = sqlx::query_as(
            "SELECT t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id = $1
             ORDER BY at.position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok((article, categories.into_iter().map(|(c,)| c).collect(), tags.into_iter().map(|(t,)| t).collect()))
    }

    /// An article's earlier texts, newest first.
    pub async fn revisions(&self, article_id: i64) -> StoreResult<Vec<Revision>> {
        Ok(sqlx::query_as(
            "SELECT id, headline, standfirst, body_markdown, saved_at FROM revisions WHERE article_id = $1
             ORDER BY saved_at DESC, id DESC",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Bylines, for the list's filter.
    pub async fn authors(&self) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT id, name FROM authors ORDER BY name").fetch_all(&self.pool).await?)
    }
}
