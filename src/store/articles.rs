//! Articles and pages, their authors, categories and tags.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use sqlx::any::AnyArguments;
use sqlx::query::QueryAs;
use sqlx::{Any, AssertSqlSafe, Transaction};

use super::{Store, StoreError, StoreResult, invalidations};
use crate::domain::article::{CategoryPath, Kind};
use crate::domain::cache_tags::{self, Placement};
use crate::domain::slug::Slug;

/// A named thing with an archive: author, category or tag.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct NamedRef {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// A category with its place in the tree.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CategoryRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub parent_id: Option<i64>,
}

/// One article or page with everything its page shows.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArticleRecord {
    pub id: i64,
    pub kind: String,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_html: String,
    pub agency: Option<String>,
    pub status: String,
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub image_src: Option<String>,
    pub image_alt: Option<String>,
    pub image_caption: Option<String>,
    pub image_credit: Option<String>,
    pub image_width: Option<i64>,
    pub image_height: Option<i64>,
    pub comments_open: i64,
    pub comment_count: i64,
    pub author_id: Option<i64>,
    pub author_slug: Option<String>,
    pub author_name: Option<String>,
    #[sqlx(skip)]
    pub categories: Vec<NamedRef>,
    #[sqlx(skip)]
    pub tags: Vec<NamedRef>,
}

impl ArticleRecord {
    /// Public at `now`: published and its time has come.
    pub fn is_public(&self, now: i64) -> bool {
        self.status == "published" && self.published_at.is_some_and(|at| at <= now)
    }
}

/// An article as a listing shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ArticleSummary {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub published_at: i64,
    pub updated_at: i64,
    pub agency: Option<String>,
    pub image_src: Option<String>,
    pub image_width: Option<i64>,
    pub image_height: Option<i64>,
    pub author_slug: Option<String>,
    pub author_name: Option<String>,
    pub category_slug: Option<String>,
    pub category_name: Option<String>,
    pub comment_count: i64,
}

/// Which public articles a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Front,
    /// A category and everything under it.
    Category(i64),
    Tag(i64),
    Author(i64),
    /// Published in `[from, to)`, Unix seconds.
    Between(i64, i64),
}

impl Listing {
    /// The extra condition, with the listing's own binds from `$2`.
    fn condition(self) -> &'static str {
        match self {
            Listing::Front => "",
            Listing::Category(_) => {
                " AND a.id IN (SELECT ac.article_id FROM article_categories ac WHERE ac.category_id IN (
                    WITH RECURSIVE sub(id) AS (
                        SELECT CAST($2 AS BIGINT)
                        UNION ALL SELECT c.id FROM categories c JOIN sub ON c.parent_id = sub.id)
                    SELECT id FROM sub))"
            }
            Listing::Tag(_) => " AND a.id IN (SELECT article_id FROM article_tags WHERE tag_id = $2)",
            Listing::Author(_) => " AND a.author_id = $2",
            Listing::Between(..) => " AND a.published_at >= $2 AND a.published_at < $3",
        }
    }

    fn bind<'q, O>(self, query: QueryAs<'q, Any, O, AnyArguments>) -> QueryAs<'q, Any, O, AnyArguments> {
        match self {
            Listing::Front => query,
            Listing::Category(id) | Listing::Tag(id) | Listing::Author(id) => query.bind(id),
            Listing::Between(from, to) => query.bind(from).bind(to),
        }
    }
}

const PUBLIC_ARTICLES: &str = "FROM articles a LEFT JOIN authors au ON au.id = a.author_id
     WHERE a.kind = 'article' AND a.status = 'published' AND a.published_at <= $1";

const RECORD_COLUMNS: &str = "SELECT a.id, a.kind, a.slug, a.headline, a.standfirst, a.body_html, a.agency, a.status,
        a.published_at, a.created_at, a.updated_at, a.image_src, a.image_alt, a.image_caption, a.image_credit, a.image_width,
        a.image_height, a.comments_open, a.comment_count, a.author_id, au.slug AS author_slug, au.name AS author_name
     FROM articles a LEFT JOIN authors au ON au.id = a.author_id";

/// The featured image as stored: a URL plus its words and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedImage {
    pub src: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// Everything to create or update one article or page, resolved and rendered.
#[derive(Debug, Clone)]
pub struct SaveArticle<'a> {
    pub kind: Kind,
    pub slug: &'a Slug,
    pub headline: &'a str,
    pub standfirst: &'a str,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub byline: Option<&'a str>,
    pub agency: Option<&'a str>,
    pub categories: &'a [CategoryPath],
    pub tags: &'a [String],
    pub image: Option<SavedImage>,
    pub publish: PublishAt,
    pub comments_open: bool,
    pub now: i64,
    /// Which article this save is for.
    pub target: Target,
    /// The account creating it, which then owns it.
    pub created_by: Option<i64>,
}

/// Which article a save is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The one with this kind and slug, created if there is none (`publish`).
    BySlug,
    /// A new one; a slug already in use is refused (the admin's "new").
    New,
    /// A known one, as of a version (the admin's editor).
    Edit(Edit),
}

/// An article being edited, and the version the change was made to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    pub id: i64,
    pub version: i64,
}

/// When a saved article is public.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishAt {
    Draft,
    /// From this Unix second (later than now: scheduled).
    At(i64),
    /// Keep the date it already has; publish now if it has none.
    KeepElseNow,
}

/// The result of a save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    pub id: i64,
    pub created: bool,
    /// The version this save made.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    slug: String,
    version: i64,
    headline: String,
    standfirst: String,
    body_markdown: String,
    published_at: Option<i64>,
    author_id: Option<i64>,
}

impl Store {
    /// One article or page by slug, whatever its status, without its
    /// categories and tags (one query, for the comment pipeline).
    pub async fn article_row(&self, kind: Kind, slug: &str) -> StoreResult<ArticleRecord> {
        let sql = format!("{RECORD_COLUMNS} WHERE a.kind = $1 AND a.slug = $2");
        sqlx::query_as(AssertSqlSafe(sql))
            .bind(kind.as_str())
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// One article or page by slug, whatever its status; the caller checks visibility.
    pub async fn article_by_slug(&self, kind: Kind, slug: &str) -> StoreResult<ArticleRecord> {
        let mut record = self.article_row(kind, slug).await?;
        (record.categories, record.tags) = self.article_taxonomy(record.id).await?;
        Ok(record)
    }

    /// An article's categories and tags, each in its order: one query.
    pub async fn article_taxonomy(&self, article_id: i64) -> StoreResult<(Vec<NamedRef>, Vec<NamedRef>)> {
        type Row = (i64, i64, i64, String, String);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT CAST(0 AS BIGINT) AS which, CAST(ac.position AS BIGINT) AS position, c.id, c.slug, c.name
                FROM article_categories ac JOIN categories c ON c.id = ac.category_id WHERE ac.article_id = $1
             UNION ALL
             SELECT CAST(1 AS BIGINT), CAST(at.position AS BIGINT), t.id, t.slug, t.name
                FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id = $1
             ORDER BY which, position",
        )
        .bind(article_id)
        .fetch_all(&self.pool)
        .await?;
        let (categories, tags): (Vec<Row>, Vec<Row>) = rows.into_iter().partition(|(which, ..)| *which == 0);
        let named =
            |rows: Vec<Row>| rows.into_iter().map(|(_, _, id, slug, name)| NamedRef { id, slug, name }).collect();
        Ok((named(categories), named(tags)))
    }

    /// The newest `limit` articles of a listing, whole (a feed's items): three
    /// queries, however many articles.
    pub async fn listed_records(&self, listing: Listing, now: i64, limit: u32) -> StoreResult<Vec<ArticleRecord>> {
        let chosen = format!(
            "SELECT a.id {PUBLIC_ARTICLES}{} ORDER BY a.published_at DESC, a.id DESC LIMIT {limit}",
            listing.condition()
        );
        let sql = format!("{RECORD_COLUMNS} WHERE a.id IN ({chosen}) ORDER BY a.published_at DESC, a.id DESC");
        let mut records: Vec<ArticleRecord> =
            listing.bind(sqlx::query_as(AssertSqlSafe(sql)).bind(now)).fetch_all(&self.pool).await?;
        let categories = self.listed_terms(listing, now, &chosen, "article_categories", "categories", "category_id");
        let tags = self.listed_terms(listing, now, &chosen, "article_tags", "tags", "tag_id");
        let (categories, tags) = tokio::try_join!(categories, tags)?;
        for record in &mut records {
            record.categories = categories.iter().filter(|(a, _)| *a == record.id).map(|(_, t)| t.clone()).collect();
            record.tags = tags.iter().filter(|(a, _)| *a == record.id).map(|(_, t)| t.clone()).collect();
        }
        Ok(records)
    }

    /// The categories or tags of the articles `chosen` selects, in order, by article.
    async fn listed_terms(
        &self,
        listing: Listing,
        now: i64,
        chosen: &str,
        join: &str,
        table: &str,
        column: &str,
    ) -> StoreResult<Vec<(i64, NamedRef)>> {
        let sql = format!(
            "SELECT j.article_id, t.id, t.slug, t.name FROM {join} j JOIN {table} t ON t.id = j.{column}
             WHERE j.article_id IN ({chosen}) ORDER BY j.article_id, j.position"
        );
        let rows: Vec<(i64, i64, String, String)> =
            listing.bind(sqlx::query_as(AssertSqlSafe(sql)).bind(now)).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(article, id, slug, name)| (article, NamedRef { id, slug, name })).collect())
    }

    /// A page of a listing, newest first.
    pub async fn list_articles(
        &self,
        listing: Listing,
        now: i64,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<ArticleSummary>> {
        let sql = format!(
            "SELECT a.id, a.slug, a.headline, a.standfirst, a.published_at, a.updated_at, a.agency, a.image_src, a.comment_count,
                    a.image_width, a.image_height, au.slug AS author_slug, au.name AS author_name,
                    (SELECT c.slug FROM article_categories ac JOIN categories c ON c.id = ac.category_id
                      WHERE ac.article_id = a.id ORDER BY ac.position LIMIT 1) AS category_slug,
                    (SELECT c.name FROM article_categories ac JOIN categories c ON c.id = ac.category_id
                      WHERE ac.article_id = a.id ORDER BY ac.position LIMIT 1) AS category_name
             {PUBLIC_ARTICLES}{} ORDER BY a.published_at DESC, a.id DESC LIMIT {limit} OFFSET {offset}",
            listing.condition()
        );
        let query = sqlx::query_as::<_, ArticleSummary>(AssertSqlSafe(sql)).bind(now);
        Ok(listing.bind(query).fetch_all(&self.pool).await?)
    }

    /// How many public articles a listing has.
    pub async fn count_articles(&self, listing: Listing, now: i64) -> StoreResult<i64> {
        let sql = format!("SELECT COUNT(*) {PUBLIC_ARTICLES}{}", listing.condition());
        let query = sqlx::query_as::<_, (i64,)>(AssertSqlSafe(sql)).bind(now);
        let (n,) = listing.bind(query).fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Every category, for navigation and hierarchical addresses.
    pub async fn categories(&self) -> StoreResult<Vec<CategoryRow>> {
        Ok(sqlx::query_as("SELECT id, slug, name, parent_id FROM categories ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn tag_by_slug(&self, slug: &str) -> StoreResult<NamedRef> {
        sqlx::query_as("SELECT id, slug, name FROM tags WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn author_by_slug(&self, slug: &str) -> StoreResult<NamedRef> {
        sqlx::query_as("SELECT id, slug, name FROM authors WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)
    }

    /// Published static pages, for the footer.
    pub async fn public_pages(&self, now: i64) -> StoreResult<Vec<NamedRef>> {
        Ok(sqlx::query_as(
            "SELECT id, slug, headline AS name FROM articles
             WHERE kind = 'page' AND status = 'published' AND published_at <= $1 ORDER BY headline",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Creates or updates (by kind and slug) one article or page in one
    /// transaction: the previous text becomes a revision, and the cache tags of
    /// every page that showed it before or shows it now are logged.
    pub async fn save_article(&self, input: &SaveArticle<'_>) -> StoreResult<Saved> {
        let mut tx = self.begin_write().await?;
        const EXISTING: &str = "SELECT id, slug, version, headline, standfirst, body_markdown, published_at, author_id
             FROM articles";
        let taken = |kind: Kind, slug: &Slug| {
            StoreError::Rejected(format!(
                "the address {:?} is already used by another {}: choose another slug",
                slug.as_str(),
                kind.as_str()
            ))
        };
        let existing: Option<Existing> = match input.target {
            Target::BySlug | Target::New => {
                let found: Option<Existing> =
                    sqlx::query_as(AssertSqlSafe(format!("{EXISTING} WHERE kind = $1 AND slug = $2")))
                        .bind(input.kind.as_str())
                        .bind(input.slug.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                if input.target == Target::New && found.is_some() {
                    return Err(taken(input.kind, input.slug));
                }
                found
            }
            Target::Edit(edit) => {
                let old: Existing = sqlx::query_as(AssertSqlSafe(format!("{EXISTING} WHERE kind = $1 AND id = $2")))
                    .bind(input.kind.as_str())
                    .bind(edit.id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                if old.version != edit.version {
                    return Err(StoreError::Conflict);
                }
                if old.slug != input.slug.as_str() {
                    let other: Option<(i64,)> = sqlx::query_as("SELECT id FROM articles WHERE kind = $1 AND slug = $2")
                        .bind(input.kind.as_str())
                        .bind(input.slug.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                    if other.is_some() {
                        return Err(taken(input.kind, input.slug));
                    }
                }
                Some(old)
            }
        };

        let published_at = match input.publish {
            PublishAt::Draft => None,
            PublishAt::At(at) => Some(at),
            PublishAt::KeepElseNow => Some(existing.as_ref().and_then(|old| old.published_at).unwrap_or(input.now)),
        };
        let mut tags: Vec<(String, i64)> = Vec::new();
        if let Some(old) = &existing {
            let old_placement =
                placement(&mut tx, input.kind, old.id, old.published_at, old.author_id, self.time_zone).await?;
            tags.extend(old_placement.tags().into_iter().map(|t| (t, input.now)));
        }

        let author_id = match input.byline {
            Some(name) => {
                let id = upsert_named(&mut tx, "authors", name).await?;
                // A byline that is one account's display name is that
                // account's (it hears of comments on its articles).
                sqlx::query(
                    "UPDATE authors SET user_id = (SELECT MIN(id) FROM users WHERE display_name = authors.name
                                                   HAVING COUNT(*) = 1)
                     WHERE id = $1 AND user_id IS NULL",
                )
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Some(id)
            }
            None => None,
        };
        let mut new_category = false;
        let mut category_ids = Vec::new();
        for path in input.categories {
            let (id, created) = ensure_category(&mut tx, path).await?;
            new_category |= created;
            if !category_ids.contains(&id) {
                category_ids.push(id);
            }
        }
        let mut tag_ids = Vec::new();
        for name in input.tags {
            let id = upsert_named(&mut tx, "tags", name).await?;
            if !tag_ids.contains(&id) {
                tag_ids.push(id);
            }
        }

        // A new article gets its row first; then new and old take the same update.
        let id = match &existing {
            Some(old) => {
                if old.headline != input.headline
                    || old.standfirst != input.standfirst
                    || old.body_markdown != input.body_markdown
                {
                    sqlx::query(
                        "INSERT INTO revisions (article_id, headline, standfirst, body_markdown, saved_at)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(old.id)
                    .bind(&old.headline)
                    .bind(&old.standfirst)
                    .bind(&old.body_markdown)
                    .bind(input.now)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query("DELETE FROM article_categories WHERE article_id = $1")
                    .bind(old.id)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM article_tags WHERE article_id = $1").bind(old.id).execute(&mut *tx).await?;
                old.id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO articles (kind, slug, headline, body_markdown, body_html, status, created_at, updated_at,
                        created_by, version)
                     VALUES ($1, $2, '', '', '', 'draft', $3, $3, $4, 0) RETURNING id",
                )
                .bind(input.kind.as_str())
                .bind(input.slug.as_str())
                .bind(input.now)
                .bind(input.created_by)
                .fetch_one(&mut *tx)
                .await?;
                id
            }
        };
        let image = input.image.as_ref();
        sqlx::query(
            "UPDATE articles SET headline = $1, standfirst = $2, body_markdown = $3, body_html = $4,
                author_id = $5, agency = $6, status = $7, published_at = $8, updated_at = $9,
                image_src = $10, image_alt = $11, image_caption = $12, image_credit = $13,
                image_width = $14, image_height = $15, comments_open = $16, slug = $18, version = version + 1,
                admin_note = NULL
             WHERE id = $17",
        )
        .bind(input.headline)
        .bind(input.standfirst)
        .bind(input.body_markdown)
        .bind(input.body_html)
        .bind(author_id)
        .bind(input.agency)
        .bind(if published_at.is_some() { "published" } else { "draft" })
        .bind(published_at)
        .bind(input.now)
        .bind(image.map(|i| i.src.as_str()))
        .bind(image.map(|i| i.alt.as_str()))
        .bind(image.map(|i| i.caption.as_str()))
        .bind(image.map(|i| i.credit.as_str()))
        .bind(image.and_then(|i| i.width))
        .bind(image.and_then(|i| i.height))
        .bind(i64::from(input.comments_open))
        .bind(id)
        .bind(input.slug.as_str())
        .execute(&mut *tx)
        .await?;
        for (position, category_id) in category_ids.iter().enumerate() {
            sqlx::query("INSERT INTO article_categories (article_id, category_id, position) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(category_id)
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
        }
        for (position, tag_id) in tag_ids.iter().enumerate() {
            sqlx::query("INSERT INTO article_tags (article_id, tag_id, position) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(tag_id)
                .bind(position as i64)
                .execute(&mut *tx)
                .await?;
        }

        if let Some(public_from) = published_at {
            let new_placement =
                placement(&mut tx, input.kind, id, Some(public_from), author_id, self.time_zone).await?;
            let due = public_from.max(input.now);
            tags.extend(new_placement.tags().into_iter().map(|t| (t, due)));
        }
        // Pages are listed in every footer; new categories in every navigation bar.
        let page_listing_changed = input.kind == Kind::Page
            && existing.as_ref().is_none_or(|old| old.headline != input.headline || old.published_at != published_at);
        if new_category || page_listing_changed {
            let due = published_at.unwrap_or(input.now).max(input.now);
            tags.push((cache_tags::SITE.to_owned(), input.now));
            if due > input.now {
                tags.push((cache_tags::SITE.to_owned(), due));
            }
        }
        // The sitemaps and the comments feed list it by address and headline:
        // whenever a page that shows it changes, so do they.
        let mut dues: Vec<i64> = tags.iter().map(|(_, due)| *due).collect();
        dues.push(input.now);
        for due in dues {
            tags.push((cache_tags::SITEMAPS.to_owned(), due));
            tags.push((cache_tags::COMMENTS.to_owned(), due));
        }
        tags.sort();
        tags.dedup();
        invalidations::log(&mut tx, &tags).await?;
        super::search::index_article(&mut tx, self.backend, id).await?;
        let version = existing.as_ref().map_or(1, |old| old.version + 1);
        tx.commit().await?;
        Ok(Saved { id, created: existing.is_none(), version })
    }
}

/// Where an article shows up, read inside the transaction.
pub(super) async fn placement(
    tx: &mut Transaction<'static, Any>,
    kind: Kind,
    id: i64,
    published_at: Option<i64>,
    author_id: Option<i64>,
    tz: Tz,
) -> StoreResult<Placement> {
    // The categories (with every parent) and the tags, in one round trip:
    // 0 marks a category, 1 a tag.
    let ids: Vec<(i64, i64)> = sqlx::query_as(
        "WITH RECURSIVE up(id, parent_id) AS (
             SELECT c.id, c.parent_id FROM categories c JOIN article_categories ac ON ac.category_id = c.id
              WHERE ac.article_id = $1
             UNION SELECT c.id, c.parent_id FROM categories c JOIN up ON c.id = up.parent_id)
         SELECT CAST(0 AS BIGINT), id FROM up
         UNION ALL SELECT CAST(1 AS BIGINT), tag_id FROM article_tags WHERE article_id = $1",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let of = |which: i64| ids.iter().filter(move |(w, _)| *w == which).map(|(_, id)| *id).collect();
    let month = published_at.and_then(|at| DateTime::<Utc>::from_timestamp(at, 0)).map(|at| {
        let local = at.with_timezone(&tz);
        cache_tags::month(local.year(), local.month())
    });
    Ok(Placement { id, kind, month, author_id, category_ids: of(0), tag_ids: of(1) })
}

/// Finds or creates an author or tag by the slug of its name.
async fn upsert_named(tx: &mut Transaction<'static, Any>, table: &'static str, name: &str) -> StoreResult<i64> {
    let slug = Slug::from_title(name).map_err(StoreError::Rejected)?;
    let sql = format!(
        "INSERT INTO {table} (slug, name) VALUES ($1, $2)
         ON CONFLICT (slug) DO UPDATE SET name = excluded.name RETURNING id"
    );
    let (id,): (i64,) = sqlx::query_as(AssertSqlSafe(sql)).bind(slug.as_str()).bind(name).fetch_one(&mut **tx).await?;
    Ok(id)
}

/// Finds or creates each level of a category path; true when any was created.
/// A name already used under another parent gets its parent's slug as prefix.
async fn ensure_category(tx: &mut Transaction<'static, Any>, path: &CategoryPath) -> StoreResult<(i64, bool)> {
    let mut parent: Option<(i64, String)> = None;
    let mut created = false;
    for name in &path.0 {
        let base = Slug::from_title(name).map_err(StoreError::Rejected)?.to_string();
        let mut candidates = vec![base.clone()];
        if let Some((_, parent_slug)) = &parent {
            candidates.push(format!("{parent_slug}-{base}"));
        }
        let mut found = None;
        for slug in &candidates {
            let row: Option<(i64, Option<i64>)> =
                sqlx::query_as("SELECT id, parent_id FROM categories WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&mut **tx)
                    .await?;
            match row {
                Some((id, parent_id)) if parent_id == parent.as_ref().map(|p| p.0) => {
                    found = Some((id, slug.clone()));
                    break;
                }
                Some(_) => continue,
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO categories (slug, name, parent_id) VALUES ($1, $2, $3) RETURNING id",
                    )
                    .bind(slug)
                    .bind(name)
                    .bind(parent.as_ref().map(|p| p.0))
                    .fetch_one(&mut **tx)
                    .await?;
                    created = true;
                    found = Some((id, slug.clone()));
                    break;
                }
            }
        }
        let taken = || StoreError::Rejected(format!("category {name:?}: its slugs are taken by other categories"));
        parent = Some(found.ok_or_else(taken)?);
    }
    let (id, _) = parent.ok_or_else(|| StoreError::Rejected("a category path cannot be empty".to_owned()))?;
    Ok((id, created))
}
