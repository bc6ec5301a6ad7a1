//! Reading the whole site out, for `broadsheet export wxr`.

use super::{Store, StoreResult};

/// An author (byline), with the address of the account behind it, if any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportAuthor {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub email: Option<String>,
}

/// A category or tag; `parent` is the parent category's slug.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportTerm {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub parent: Option<String>,
}

/// An article's link to a category or tag.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportTermLink {
    pub article_id: i64,
    /// "category" or "tag".
    pub taxonomy: String,
    pub slug: String,
    pub name: String,
}

/// An article or page, as a WordPress export carries it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportArticle {
    pub id: i64,
    pub kind: String,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_html: String,
    pub status: String,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub author_id: Option<i64>,
    pub comments_open: i64,
    pub sticky: i64,
    pub parent_id: Option<i64>,
    pub image_src: Option<String>,
}

/// A comment, with everything a moderator sees.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportComment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body_html: String,
    pub status: String,
    pub is_staff: i64,
    pub ip: Option<String>,
    pub created_at: i64,
}

/// A media-library entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportMedia {
    pub id: i64,
    pub url: String,
    pub original_name: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub created_at: i64,
}

/// A featured image outside the media library: address, alt, caption, credit, first use.
type FeaturedOnly = (String, Option<String>, Option<String>, Option<String>, i64);

impl Store {
    pub async fn export_authors(&self) -> StoreResult<Vec<ExportAuthor>> {
        Ok(sqlx::query_as(
            "SELECT a.id, a.slug, a.name, u.email FROM authors a LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Categories (parents before their children) and tags.
    pub async fn export_terms(&self) -> StoreResult<(Vec<ExportTerm>, Vec<ExportTerm>)> {
        let categories = sqlx::query_as(
            "WITH RECURSIVE tree(id, depth) AS (
                 SELECT id, 0 FROM categories WHERE parent_id IS NULL
                 UNION ALL SELECT c.id, tree.depth + 1 FROM categories c JOIN tree ON c.parent_id = tree.id
                 WHERE tree.depth < 32)
             SELECT c.id, c.slug, c.name, p.slug AS parent FROM tree
             JOIN categories c ON c.id = tree.id LEFT JOIN categories p ON p.id = c.parent_id
             ORDER BY tree.depth, c.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let tags =
            sqlx::query_as("SELECT id, slug, name, NULL AS parent FROM tags ORDER BY id").fetch_all(&self.pool).await?;
        Ok((categories, tags))
    }

    /// Every article's categories and tags, in their order.
    pub async fn export_term_links(&self) -> StoreResult<Vec<ExportTermLink>> {
        Ok(sqlx::query_as(
            "SELECT ac.article_id, 'category' AS taxonomy, c.slug, c.name FROM article_categories ac
               JOIN categories c ON c.id = ac.category_id
             UNION ALL
             SELECT at.article_id, 'tag' AS taxonomy, t.slug, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Articles and pages, a slice at a time (by id, after `after`).
    pub async fn export_articles(&self, after: i64, limit: u32) -> StoreResult<Vec<ExportArticle>> {
        let sql = format!(
            "SELECT id, kind, slug, headline, standfirst, body_html, status, published_at, created_at, author_id,
                    comments_open, sticky, parent_id, image_src
             FROM articles WHERE id > $1 ORDER BY id LIMIT {limit}"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(after).fetch_all(&self.pool).await?)
    }

    /// One article's comments, oldest first.
    pub async fn export_comments(&self, article_id: i64) -> StoreResult<Vec<ExportComment>> {
        Ok(sqlx::query_as(
            "SELECT id, parent_id, author_name, author_email, author_url, body_html, status, is_staff, ip, created_at
             FROM comments WHERE article_id = $1 ORDER BY id",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The media library, then the featured images that are not in it (an
    /// address elsewhere, or a file published with an article), numbered after it.
    pub async fn export_media(&self) -> StoreResult<Vec<ExportMedia>> {
        let mut media: Vec<ExportMedia> =
            sqlx::query_as("SELECT id, url, original_name, alt, caption, credit, created_at FROM media ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let others: Vec<FeaturedOnly> = sqlx::query_as(
            "SELECT image_src, max(image_alt), max(image_caption), max(image_credit), min(created_at) FROM articles
             WHERE image_src IS NOT NULL AND image_src NOT IN (SELECT url FROM media)
             GROUP BY image_src ORDER BY min(id)",
        )
        .fetch_all(&self.pool)
        .await?;
        let first = media.last().map_or(0, |m| m.id) + 1;
        for (id, (url, alt, caption, credit, created_at)) in (first..).zip(others) {
            let original_name = url.rsplit('/').next().unwrap_or_default().to_owned();
            media.push(ExportMedia {
                id,
                url,
                original_name,
                alt: alt.unwrap_or_default(),
                caption: caption.unwrap_or_default(),
                credit: credit.unwrap_or_default(),
                created_at,
            });
        }
        Ok(media)
    }

    /// The largest article id (attachments are numbered after it in an export).
    pub async fn max_article_id(&self) -> StoreResult<i64> {
        let (n,): (Option<i64>,) = sqlx::query_as("SELECT max(id) FROM articles").fetch_one(&self.pool).await?;
        Ok(n.unwrap_or(0))
    }
}
