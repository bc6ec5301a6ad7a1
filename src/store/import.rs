//! Writing an import: everything inside one transaction, so that a file that
//! turns out to be bad half-way leaves the site as it was, and a dry run is
//! the same work rolled back at the end.

use std::collections::HashMap;

use futures_util::TryStreamExt;
use sqlx::{Any, Transaction};

use super::{Backend, IndexText, RedirectTarget, Store, StoreError, StoreResult, invalidations, search};
use crate::domain::cache_tags;
use crate::domain::slug::{RESERVED, Slug};

/// What an earlier import brought over from one site, by `(kind, source id)`:
/// the row here and the digest of the item as it was then.
pub type Known = HashMap<(String, String), (i64, String)>;

/// An article or page as the importer files it.
#[derive(Debug, Clone)]
pub struct ImportArticle<'a> {
    /// "article" or "page".
    pub kind: &'a str,
    /// The slug it would like; another is chosen if a different row holds it.
    pub slug: &'a str,
    pub headline: &'a str,
    pub standfirst: &'a str,
    pub body_markdown: &'a str,
    pub body_html: &'a str,
    pub author_id: Option<i64>,
    /// `None`: a draft.
    pub published_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub comments_open: bool,
    pub sticky: bool,
    pub admin_note: Option<&'a str>,
    pub image: Option<ImportImage<'a>>,
}

/// A featured image.
#[derive(Debug, Clone, Copy)]
pub struct ImportImage<'a> {
    pub src: &'a str,
    pub alt: &'a str,
    pub caption: &'a str,
    pub credit: &'a str,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// A reader comment as the importer files it.
#[derive(Debug, Clone)]
pub struct ImportComment<'a> {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub author_url: Option<&'a str>,
    pub body: &'a str,
    pub body_html: &'a str,
    /// pending, approved, spam or trash.
    pub status: &'a str,
    pub is_staff: bool,
    pub ip: Option<&'a str>,
    pub created_at: i64,
}

/// A media-library entry for an attachment.
#[derive(Debug, Clone)]
pub struct ImportMedia<'a> {
    pub url: &'a str,
    pub original_name: &'a str,
    pub content_type: &'a str,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub alt: &'a str,
    pub caption: &'a str,
    pub created_at: i64,
}

/// An import under way: one write transaction.
pub struct ImportTx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    /// Articles whose comments changed: their counts are made again at the end.
    touched: Vec<i64>,
    any_article: bool,
    scheduled: Vec<i64>,
    memory: Vec<Memory>,
    /// Articles' and pages' slugs, by kind and slug (read once, then kept here).
    slugs: Option<HashMap<(String, String), i64>>,
    /// Category and tag links waiting for the next batch: (tag?, article, term, position).
    links: Vec<(bool, i64, i64, i64)>,
    /// Search texts waiting for the next batch: (article, headline, standfirst, body, tags, author).
    texts: Vec<(i64, [String; 5])>,
    /// Old addresses waiting for the next batch.
    redirects: Vec<(String, RedirectTarget)>,
}

/// A row of `imported`, waiting for the next batch.
struct Memory {
    origin: String,
    kind: String,
    source_id: String,
    local_id: i64,
    digest: String,
    old_url: Option<String>,
}

/// Rows written by one statement. More saves little: binding slows down
/// with the number of parameters in a statement.
const BATCH: usize = 100;

/// `($1, $2, $3), ($4, $5, $6)…` for `rows` rows of `columns` values.
fn placeholders(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for c in 0..columns {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", r * columns + c + 1));
        }
        out.push(')');
    }
    out
}

/// An import reads through system calls, not a memory map: the map would
/// count every page of a large archive it looked at in the process's memory.
const IMPORT_MMAP: &str = "PRAGMA mmap_size = 0";
/// As the store sets it for every connection (see `Store::connect`).
const SERVING_MMAP: &str = "PRAGMA mmap_size = 268435456";

impl Store {
    /// Starts an import (on SQLite this takes the write lock until it ends).
    pub async fn begin_import(&self) -> StoreResult<ImportTx> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query(IMPORT_MMAP).execute(&mut *tx).await?;
        }
        Ok(ImportTx {
            tx,
            backend: self.backend,
            touched: Vec::new(),
            any_article: false,
            scheduled: Vec::new(),
            memory: Vec::new(),
            slugs: None,
            links: Vec::new(),
            texts: Vec::new(),
            redirects: Vec::new(),
        })
    }
}

impl ImportTx {
    /// What was imported from `origin` before and is still here (a newsroom
    /// may have deleted an imported row since: it is then imported anew).
    pub async fn known(&mut self, origin: &str) -> StoreResult<Known> {
        let mut rows = sqlx::query_as::<_, (String, String, i64, String)>(
            "SELECT i.kind, i.source_id, i.local_id, i.digest FROM imported i
             WHERE i.origin = $1 AND CASE i.kind
                WHEN 'post' THEN EXISTS (SELECT 1 FROM articles t WHERE t.id = i.local_id)
                WHEN 'page' THEN EXISTS (SELECT 1 FROM articles t WHERE t.id = i.local_id)
                WHEN 'comment' THEN EXISTS (SELECT 1 FROM comments t WHERE t.id = i.local_id)
                WHEN 'category' THEN EXISTS (SELECT 1 FROM categories t WHERE t.id = i.local_id)
                WHEN 'tag' THEN EXISTS (SELECT 1 FROM tags t WHERE t.id = i.local_id)
                WHEN 'attachment' THEN EXISTS (SELECT 1 FROM media t WHERE t.id = i.local_id)
                ELSE FALSE END",
        )
        .bind(origin)
        .fetch(&mut *self.tx);
        let mut known = Known::new();
        while let Some((kind, source, local, digest)) = rows.try_next().await? {
            known.insert((kind, source), (local, digest));
        }
        Ok(known)
    }

    /// Records (or updates) where an item went. Written in batches (the
    /// importer keeps what it needs of them in memory).
    pub async fn remember(
        &mut self,
        origin: &str,
        kind: &str,
        source_id: &str,
        local_id: i64,
        digest: &str,
        old_url: Option<&str>,
    ) -> StoreResult<()> {
        self.memory.push(Memory {
            origin: origin.to_owned(),
            kind: kind.to_owned(),
            source_id: source_id.to_owned(),
            local_id,
            digest: digest.to_owned(),
            old_url: old_url.map(str::to_owned),
        });
        if self.memory.len() >= BATCH {
            self.flush_memory().await?;
        }
        Ok(())
    }

    async fn flush_memory(&mut self) -> StoreResult<()> {
        if self.memory.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.memory);
        let sql = format!(
            "INSERT INTO imported (origin, kind, source_id, local_id, digest, old_url) VALUES {}
             ON CONFLICT (origin, kind, source_id) DO UPDATE SET local_id = excluded.local_id,
                digest = excluded.digest, old_url = excluded.old_url",
            placeholders(rows.len(), 6)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in &rows {
            query = query
                .bind(&m.origin)
                .bind(&m.kind)
                .bind(&m.source_id)
                .bind(m.local_id)
                .bind(&m.digest)
                .bind(&m.old_url);
        }
        query.execute(&mut *self.tx).await?;
        Ok(())
    }

    /// The article or page at an address of this site, or at an old address
    /// an earlier import recorded (`/{yyyy}/{mm}/{dd}/{slug}/` is an article,
    /// `/{slug}/` a page, else an article of that slug).
    pub async fn article_at(&mut self, path: &str, _tz: chrono_tz::Tz) -> StoreResult<Option<i64>> {
        let redirect: Option<(i64,)> =
            sqlx::query_as("SELECT target_id FROM redirects WHERE old = $1 AND target_kind = 'article'")
                .bind(path)
                .fetch_optional(&mut *self.tx)
                .await?;
        if let Some((id,)) = redirect {
            return Ok(Some(id));
        }
        let parts: Vec<&str> = path.trim_matches('/').split('/').filter(|p| !p.is_empty()).collect();
        let dated = parts.len() == 4 && parts[..3].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
        let candidates: &[(&str, &str)] = match (dated, parts.as_slice()) {
            (true, [.., slug]) => &[("article", slug)],
            (false, [slug]) => &[("page", slug), ("article", slug)],
            _ => &[],
        };
        for (kind, slug) in candidates {
            let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM articles WHERE kind = $1 AND slug = $2")
                .bind(*kind)
                .bind(*slug)
                .fetch_optional(&mut *self.tx)
                .await?;
            if let Some((id,)) = row {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The user and byline of an old site's author: an existing user with the
    /// same address is reused as they are; otherwise a new one is made without
    /// a password (they cannot sign in until an administrator sends them an
    /// invitation or a reset).
    pub async fn author(
        &mut self,
        email: &str,
        display_name: &str,
        login: &str,
        now: i64,
    ) -> StoreResult<(i64, i64, bool)> {
        let existing: Option<(i64, String)> =
            sqlx::query_as("SELECT id, display_name FROM users WHERE lower(email) = lower($1)")
                .bind(email)
                .fetch_optional(&mut *self.tx)
                .await?;
        let (user_id, name, created) = match existing {
            Some((id, name)) => (id, name, false),
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO users (email, display_name, role, password_hash, must_change_password, created_at)
                     VALUES ($1, $2, 'author', '', 1, $3) RETURNING id",
                )
                .bind(email)
                .bind(display_name)
                .bind(now)
                .fetch_one(&mut *self.tx)
                .await?;
                (id, display_name.to_owned(), true)
            }
        };
        let byline: Option<(i64,)> = sqlx::query_as("SELECT id FROM authors WHERE user_id = $1 ORDER BY id LIMIT 1")
            .bind(user_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        let author_id = match byline {
            Some((id,)) => id,
            None => {
                let base = Slug::from_title(if name.trim().is_empty() { login } else { &name })
                    .or_else(|_| Slug::from_title(login))
                    .map_or_else(|_| format!("author-{user_id}"), |s| s.to_string());
                let slug = self.free_slug("authors", None, &base, None).await?;
                let (id,): (i64,) =
                    sqlx::query_as("INSERT INTO authors (slug, name, user_id) VALUES ($1, $2, $3) RETURNING id")
                        .bind(&slug)
                        .bind(&name)
                        .bind(user_id)
                        .fetch_one(&mut *self.tx)
                        .await?;
                id
            }
        };
        Ok((user_id, author_id, created))
    }

    /// Every article's and page's slug, read on first use.
    async fn article_slugs(&mut self) -> StoreResult<&mut HashMap<(String, String), i64>> {
        if self.slugs.is_none() {
            let rows: Vec<(String, String, i64)> =
                sqlx::query_as("SELECT kind, slug, id FROM articles").fetch_all(&mut *self.tx).await?;
            self.slugs = Some(rows.into_iter().map(|(kind, slug, id)| ((kind, slug), id)).collect());
        }
        Ok(self.slugs.get_or_insert_with(HashMap::new))
    }

    /// `base`, or `base-2`, `base-3`… whichever no other row of `table`
    /// (of `kind`, for articles) holds.
    async fn free_slug(
        &mut self,
        table: &str,
        kind: Option<&str>,
        base: &str,
        own: Option<i64>,
    ) -> StoreResult<String> {
        let reserved = kind == Some("page") && RESERVED.contains(&base);
        if let Some(kind) = kind.filter(|_| table == "articles") {
            let slugs = self.article_slugs().await?;
            for n in 1..10_000 {
                if n == 1 && reserved {
                    continue;
                }
                let slug = if n == 1 { base.to_owned() } else { format!("{base}-{n}") };
                match slugs.get(&(kind.to_owned(), slug.clone())) {
                    None => return Ok(slug),
                    Some(&id) if Some(id) == own => return Ok(slug),
                    Some(_) => {}
                }
            }
            return Err(StoreError::Rejected(format!("no free address for {base:?}")));
        }
        for n in 1..10_000 {
            let slug = if n == 1 && !reserved { base.to_owned() } else { format!("{base}-{n}") };
            if n == 1 && reserved {
                continue;
            }
            let holder: Option<(i64,)> = match kind {
                Some(kind) => {
                    let sql = format!("SELECT id FROM {table} WHERE slug = $1 AND kind = $2");
                    sqlx::query_as(sqlx::AssertSqlSafe(sql))
                        .bind(&slug)
                        .bind(kind)
                        .fetch_optional(&mut *self.tx)
                        .await?
                }
                None => {
                    let sql = format!("SELECT id FROM {table} WHERE slug = $1");
                    sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(&slug).fetch_optional(&mut *self.tx).await?
                }
            };
            match holder {
                None => return Ok(slug),
                Some((id,)) if Some(id) == own => return Ok(slug),
                Some(_) => {}
            }
        }
        Err(StoreError::Rejected(format!("no free address for {base:?}")))
    }

    /// Adds or updates a category or tag (`existing`: the row an earlier
    /// import made). A term with the same slug made here is reused.
    pub async fn term(
        &mut self,
        table: Table,
        existing: Option<i64>,
        slug: &str,
        name: &str,
        parent_id: Option<i64>,
    ) -> StoreResult<i64> {
        let table_name = table.name();
        let with_parent = table == Table::Categories;
        if let Some(id) = existing {
            let query = if with_parent {
                sqlx::query("UPDATE categories SET name = $1, parent_id = $2 WHERE id = $3").bind(name).bind(parent_id)
            } else {
                sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {table_name} SET name = $1 WHERE id = $2"))).bind(name)
            };
            query.bind(id).execute(&mut *self.tx).await?;
            return Ok(id);
        }
        let found: Option<(i64,)> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id FROM {table_name} WHERE slug = $1")))
                .bind(slug)
                .fetch_optional(&mut *self.tx)
                .await?;
        if let Some((id,)) = found {
            return Ok(id);
        }
        let sql = if with_parent {
            "INSERT INTO categories (slug, name, parent_id) VALUES ($1, $2, $3) RETURNING id".to_owned()
        } else {
            format!("INSERT INTO {table_name} (slug, name) VALUES ($1, $2) RETURNING id")
        };
        let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(slug).bind(name);
        if with_parent {
            query = query.bind(parent_id);
        }
        let (id,): (i64,) = query.fetch_one(&mut *self.tx).await?;
        Ok(id)
    }

    /// Adds an article or page, or updates the one an earlier import made.
    pub async fn article(&mut self, existing: Option<i64>, a: &ImportArticle<'_>) -> StoreResult<i64> {
        let base = Slug::parse(a.slug).map(|s| s.to_string()).map_err(StoreError::Rejected)?;
        let slug = self.free_slug("articles", Some(a.kind), &base, existing).await?;
        const COLUMNS: &str = "slug, headline, standfirst, body_markdown, body_html, author_id, status, published_at,
            updated_at, comments_open, sticky, admin_note, image_src, image_alt, image_caption, image_credit,
            image_width, image_height, created_at";
        let sql = match existing {
            None => format!(
                "INSERT INTO articles ({COLUMNS}, kind, version) VALUES ({}, 1) RETURNING id",
                (1..=20).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ")
            ),
            Some(_) => {
                let sets: Vec<String> =
                    COLUMNS.split(',').enumerate().map(|(n, c)| format!("{} = ${}", c.trim(), n + 1)).collect();
                format!("UPDATE articles SET {}, version = version + 1 WHERE id = $20 RETURNING id", sets.join(", "))
            }
        };
        let image = a.image.as_ref();
        let query = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(slug.clone())
            .bind(a.headline)
            .bind(a.standfirst)
            .bind(a.body_markdown)
            .bind(a.body_html)
            .bind(a.author_id)
            .bind(if a.published_at.is_some() { "published" } else { "draft" })
            .bind(a.published_at)
            .bind(a.updated_at)
            .bind(i64::from(a.comments_open))
            .bind(i64::from(a.sticky))
            .bind(a.admin_note)
            .bind(image.map(|i| i.src))
            .bind(image.map(|i| i.alt))
            .bind(image.map(|i| i.caption))
            .bind(image.map(|i| i.credit))
            .bind(image.and_then(|i| i.width))
            .bind(image.and_then(|i| i.height))
            .bind(a.created_at);
        let query = match existing {
            None => query.bind(a.kind),
            Some(id) => query.bind(id),
        };
        let (id,): (i64,) = query.fetch_one(&mut *self.tx).await?;
        self.article_slugs().await?.insert((a.kind.to_owned(), slug), id);
        self.any_article = true;
        if let Some(at) = a.published_at {
            self.scheduled.push(at);
        }
        Ok(id)
    }

    /// Indexes an article for search from its words, already in hand.
    pub async fn index(&mut self, id: i64, text: &IndexText<'_>) -> StoreResult<()> {
        let words = [text.headline, text.standfirst, text.body, text.tags, text.author].map(str::to_owned);
        self.texts.push((id, words));
        if self.texts.len() >= BATCH / 4 {
            self.flush_texts().await?;
        }
        Ok(())
    }

    async fn flush_texts(&mut self) -> StoreResult<()> {
        let texts = std::mem::take(&mut self.texts);
        let rows: Vec<(i64, IndexText)> = texts
            .iter()
            .map(|(id, [headline, standfirst, body, tags, author])| {
                (*id, IndexText { headline, standfirst, body, tags, author })
            })
            .collect();
        search::index_texts(&mut self.tx, self.backend, &rows).await
    }

    /// Sends an old address (a path, or a query address such as `/?p=12`) to
    /// `target` from now on; a later import may point it elsewhere.
    pub async fn redirect(&mut self, old: String, target: RedirectTarget, now: i64) -> StoreResult<()> {
        self.redirects.push((old, target));
        if self.redirects.len() >= BATCH {
            self.flush_redirects(now).await?;
        }
        Ok(())
    }

    async fn flush_redirects(&mut self, now: i64) -> StoreResult<()> {
        let mut rows = std::mem::take(&mut self.redirects);
        // One row per address in a statement (the last word wins).
        rows.reverse();
        let mut seen = std::collections::HashSet::new();
        rows.retain(|(old, _)| seen.insert(old.clone()));
        for chunk in rows.chunks(BATCH) {
            let sql = format!(
                "INSERT INTO redirects (old, target_kind, target_id, created_at) VALUES {}
                 ON CONFLICT (old) DO UPDATE SET target_kind = excluded.target_kind, target_id = excluded.target_id",
                placeholders(chunk.len(), 4)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (old, target) in chunk {
                let (kind, id) = target.parts();
                query = query.bind(old.as_str()).bind(kind).bind(id).bind(now);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn flush_links(&mut self) -> StoreResult<()> {
        let links = std::mem::take(&mut self.links);
        for (is_tag, table, column) in [(false, "article_categories", "category_id"), (true, "article_tags", "tag_id")]
        {
            let rows: Vec<&(bool, i64, i64, i64)> = links.iter().filter(|l| l.0 == is_tag).collect();
            for chunk in rows.chunks(BATCH) {
                let sql = format!(
                    "INSERT INTO {table} (article_id, {column}, position) VALUES {}",
                    placeholders(chunk.len(), 3)
                );
                let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
                for (_, article, term, position) in chunk {
                    query = query.bind(*article).bind(*term).bind(*position);
                }
                query.execute(&mut *self.tx).await?;
            }
        }
        Ok(())
    }

    /// Sets an article's categories and tags (`fresh`: a new article, with none yet).
    pub async fn article_terms(&mut self, id: i64, categories: &[i64], tags: &[i64], fresh: bool) -> StoreResult<()> {
        for (table, ids, column) in
            [("article_categories", categories, "category_id"), ("article_tags", tags, "tag_id")]
        {
            if !fresh {
                let sql = format!("DELETE FROM {table} WHERE article_id = $1");
                sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).execute(&mut *self.tx).await?;
            }
            let mut unique: Vec<i64> = Vec::with_capacity(ids.len());
            for &term in ids {
                if !unique.contains(&term) {
                    unique.push(term);
                }
            }
            let is_tag = column == "tag_id";
            self.links.extend(unique.iter().enumerate().map(|(position, &term)| (is_tag, id, term, position as i64)));
        }
        if self.links.len() >= BATCH {
            self.flush_links().await?;
        }
        Ok(())
    }

    /// Sets a page's parent page.
    pub async fn page_parent(&mut self, id: i64, parent_id: Option<i64>) -> StoreResult<()> {
        sqlx::query("UPDATE articles SET parent_id = $1 WHERE id = $2")
            .bind(parent_id)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// A category's parent, once both are filed.
    pub async fn category_parent(&mut self, id: i64, parent_id: i64) -> StoreResult<()> {
        if id == parent_id {
            return Ok(());
        }
        sqlx::query("UPDATE categories SET parent_id = $1 WHERE id = $2")
            .bind(parent_id)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    /// A media-library entry's address and size.
    pub async fn media_row(&mut self, id: i64) -> StoreResult<(String, Option<i64>, Option<i64>)> {
        Ok(sqlx::query_as("SELECT url, width, height FROM media WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *self.tx)
            .await?)
    }

    /// Adds an attachment to the media library (or finds the entry at its
    /// address), or updates the entry an earlier import made.
    pub async fn media(&mut self, existing: Option<i64>, m: &ImportMedia<'_>) -> StoreResult<i64> {
        if let Some(id) = existing {
            sqlx::query(
                "UPDATE media SET url = $1, original_name = $2, content_type = $3, bytes = $4, width = $5,
                    height = $6, alt = $7, caption = $8 WHERE id = $9",
            )
            .bind(m.url)
            .bind(m.original_name)
            .bind(m.content_type)
            .bind(m.bytes)
            .bind(m.width)
            .bind(m.height)
            .bind(m.alt)
            .bind(m.caption)
            .bind(id)
            .execute(&mut *self.tx)
            .await?;
            return Ok(id);
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO media (url, original_name, content_type, bytes, width, height, alt, caption, credit,
                uploaded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '', NULL, $9)
             ON CONFLICT (url) DO UPDATE SET alt = excluded.alt, caption = excluded.caption
             RETURNING id",
        )
        .bind(m.url)
        .bind(m.original_name)
        .bind(m.content_type)
        .bind(m.bytes)
        .bind(m.width)
        .bind(m.height)
        .bind(m.alt)
        .bind(m.caption)
        .bind(m.created_at)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(id)
    }

    /// A lesson for the spam filter, as a moderator's decision on an imported
    /// comment would give it (servers learn it as they learn any lesson).
    pub async fn lesson(
        &mut self,
        site: i64,
        is_spam: bool,
        comment: &str,
        comment_id: i64,
        now: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO spam_lessons (site, is_spam, comment, comment_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(site)
        .bind(i64::from(is_spam))
        .bind(comment)
        .bind(comment_id)
        .bind(now)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Adds new comments; their ids, in the same order.
    pub async fn new_comments(&mut self, rows: &[ImportComment<'_>]) -> StoreResult<Vec<i64>> {
        let mut ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(BATCH).filter(|c| !c.is_empty()) {
            let sql = format!(
                "INSERT INTO comments (article_id, parent_id, author_name, author_email, author_url, body,
                    body_html, status, is_staff, ip, created_at, status_changed_at)
                 VALUES {} RETURNING id",
                placeholders(chunk.len(), 12)
            );
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for c in chunk {
                query = query
                    .bind(c.article_id)
                    .bind(c.parent_id)
                    .bind(c.author_name)
                    .bind(c.author_email)
                    .bind(c.author_url)
                    .bind(c.body)
                    .bind(c.body_html)
                    .bind(c.status)
                    .bind(i64::from(c.is_staff))
                    .bind(c.ip)
                    .bind(c.created_at)
                    .bind(c.created_at);
                self.touched.push(c.article_id);
            }
            // Rows get their ids in the order of the VALUES list; RETURNING
            // may give them back in any order.
            let mut returned: Vec<(i64,)> = query.fetch_all(&mut *self.tx).await?;
            returned.sort_unstable();
            ids.extend(returned.into_iter().map(|(id,)| id));
        }
        Ok(ids)
    }

    /// Adds a comment, or updates the one an earlier import made.
    pub async fn comment(&mut self, existing: Option<i64>, c: &ImportComment<'_>) -> StoreResult<i64> {
        let id = match existing {
            Some(id) => {
                sqlx::query(
                    "UPDATE comments SET article_id = $1, parent_id = $2, author_name = $3, author_email = $4,
                        author_url = $5, body = $6, body_html = $7, status = $8, is_staff = $9, ip = $10,
                        created_at = $11, status_changed_at = $11
                     WHERE id = $12",
                )
                .bind(c.article_id)
                .bind(c.parent_id)
                .bind(c.author_name)
                .bind(c.author_email)
                .bind(c.author_url)
                .bind(c.body)
                .bind(c.body_html)
                .bind(c.status)
                .bind(i64::from(c.is_staff))
                .bind(c.ip)
                .bind(c.created_at)
                .bind(id)
                .execute(&mut *self.tx)
                .await?;
                id
            }
            None => {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO comments (article_id, parent_id, author_name, author_email, author_url, body,
                        body_html, status, is_staff, ip, created_at, status_changed_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
                )
                .bind(c.article_id)
                .bind(c.parent_id)
                .bind(c.author_name)
                .bind(c.author_email)
                .bind(c.author_url)
                .bind(c.body)
                .bind(c.body_html)
                .bind(c.status)
                .bind(i64::from(c.is_staff))
                .bind(c.ip)
                .bind(c.created_at)
                .fetch_one(&mut *self.tx)
                .await?;
                id
            }
        };
        self.touched.push(c.article_id);
        Ok(id)
    }

    /// Ends the import: recounts the comments of the articles whose
    /// discussion changed, empties every server's page cache (now, and when
    /// each scheduled article goes public), then commits, or, for a dry run,
    /// rolls everything back.
    pub async fn finish(mut self, now: i64, dry_run: bool) -> StoreResult<()> {
        self.flush_memory().await?;
        self.flush_links().await?;
        self.flush_texts().await?;
        self.flush_redirects(now).await?;
        self.touched.sort_unstable();
        self.touched.dedup();
        for chunk in self.touched.chunks(BATCH) {
            let ids = (1..=chunk.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
            let sql = format!(
                "UPDATE articles SET comment_count =
                    (SELECT count(*) FROM comments c WHERE c.article_id = articles.id AND c.status = 'approved')
                 WHERE id IN ({ids})"
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *self.tx).await?;
        }
        if self.any_article || !self.touched.is_empty() {
            let mut tags = vec![(cache_tags::SITE.to_owned(), now)];
            self.scheduled.sort_unstable();
            self.scheduled.dedup();
            tags.extend(self.scheduled.iter().filter(|&&at| at > now).map(|&at| (cache_tags::SITE.to_owned(), at)));
            invalidations::log(&mut self.tx, &tags).await?;
        }
        if self.backend == Backend::Sqlite {
            // The connection goes back to the pool as it came.
            sqlx::query(SERVING_MMAP).execute(&mut *self.tx).await?;
        }
        if dry_run {
            self.tx.rollback().await?;
        } else {
            self.tx.commit().await?;
        }
        Ok(())
    }
}

/// Tables an import writes rows of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Articles,
    Categories,
    Tags,
    Comments,
    Media,
    Authors,
}

impl Table {
    fn name(self) -> &'static str {
        match self {
            Table::Articles => "articles",
            Table::Categories => "categories",
            Table::Tags => "tags",
            Table::Comments => "comments",
            Table::Media => "media",
            Table::Authors => "authors",
        }
    }
}
