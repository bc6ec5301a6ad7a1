//! Full-text search over public articles: SQLite's FTS5 or PostgreSQL's text
//! search behind one method, with the same query rules on both.
//!
//! A reader's query never reaches either engine as syntax: it is cut into
//! words (letters and digits, diacritics folded, lower case), at most
//! [`MAX_TERMS`] of them, and every word must appear. Ranking is the engine's
//! relevance (BM25 on SQLite, cover density on PostgreSQL, both weighting the
//! headline over the standfirst, tags and author over the body) plus a boost
//! for recent news.

use std::sync::LazyLock;

use rusqlite::{Connection, named_params};
use sqlx::{Any, Transaction};

use super::{Backend, Store, StoreResult};
use crate::domain::markdown;
use crate::domain::search_text::{WordFinder, fold};

/// Most words of a query that count.
pub const MAX_TERMS: usize = 12;
/// Longest word that counts, in characters.
const MAX_TERM_CHARS: usize = 64;
/// Most bytes of words that count: the search's address, percent-encoded,
/// stays well within the longest path served (`routes::MAX_PATH`).
const MAX_QUERY_BYTES: usize = 480;
/// A reader's query, cut into the words that must appear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<String>,
}

impl SearchQuery {
    /// Cuts `text` into words; `None` when it has none.
    pub fn parse(text: &str) -> Option<SearchQuery> {
        let folded = fold(text);
        let mut terms: Vec<String> = Vec::new();
        for word in folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let word: String = word.chars().take(MAX_TERM_CHARS).collect();
            if terms.iter().map(|t| t.len() + 1).sum::<usize>() + word.len() > MAX_QUERY_BYTES {
                break;
            }
            if !terms.contains(&word) {
                terms.push(word);
            }
            if terms.len() == MAX_TERMS {
                break;
            }
        }
        (!terms.is_empty()).then_some(SearchQuery { terms })
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// FTS5: every word, each a quoted string (the words hold no quotes).
    fn fts5(&self) -> String {
        self.terms.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(" ")
    }

    /// PostgreSQL: the words for `plainto_tsquery`, which ANDs them.
    fn plain(&self) -> String {
        self.terms.join(" ")
    }

    /// FTS5: every word, or a longer one it begins.
    pub(crate) fn fts5_prefixes(&self) -> String {
        self.terms.iter().map(|t| format!("\"{t}\"*")).collect::<Vec<_>>().join(" ")
    }

    /// PostgreSQL's `to_tsquery`: every word, or a longer one it begins (the
    /// words are letters and digits only, so they carry no operators).
    pub(crate) fn tsquery_prefixes(&self) -> String {
        self.terms.iter().map(|t| format!("{t}:*")).collect::<Vec<_>>().join(" & ")
    }
}

/// One public article found, with a snippet of its text around the words.
#[derive(Debug, Clone)]
pub struct SearchHit {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub published_at: i64,
    pub author_name: Option<String>,
    /// Text with the matched words between marks (see `domain::search_text`);
    /// empty when only the headline, standfirst, tags or author matched.
    pub snippet: String,
}

/// Recent news ranks higher: relevance is multiplied by 2 for an article
/// published now, 1.5 at `RECENCY_SECONDS` old, 1.33 at twice that.
const RECENCY_SECONDS: f64 = 14.0 * 86_400.0;

/// A found article as read, with the text its snippet comes from.
#[derive(sqlx::FromRow)]
struct HitRow {
    id: i64,
    slug: String,
    headline: String,
    standfirst: String,
    published_at: i64,
    author_name: Option<String>,
    body: String,
}

/// Words in a result's snippet.
const SNIPPET_WORDS: usize = 30;

/// Public articles only (`$1` is now).
const PUBLIC: &str = "a.kind = 'article' AND a.status = 'published' AND a.published_at <= $1";

/// SQLite: every public match ranked, as a count and one list of ids (each
/// row would otherwise be a step of its own). CROSS JOIN keeps the index
/// first (the other way round, SQLite walks every public article and matches
/// each one: 0.3 s at 10,000 articles instead of 1 ms), and `articles_public`
/// says whether a match is public without reading its row. bm25() works only
/// in the index's own query, hence the materialized matches.
static SQLITE_RANKED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH matches AS MATERIALIZED (
            SELECT a.id, a.published_at, bm25(article_search, 8.0, 3.0, 1.0, 3.0, 3.0)
                   * (1.0 + 1.0 / (1.0 + MAX($1 - a.published_at, 0) / {RECENCY_SECONDS:.1})) AS score
            FROM article_search s CROSS JOIN articles a INDEXED BY articles_public ON a.id = s.rowid
            WHERE article_search MATCH $2 AND {PUBLIC})
         SELECT COUNT(*), group_concat(id, ',' ORDER BY score, published_at DESC) FROM matches"
    )
});

/// SQLite: the page's articles with their text, for ids bound as one list
/// (so the statement is prepared once).
const SQLITE_PAGE: &str = "SELECT a.id, a.slug, a.headline, a.standfirst, a.published_at, au.name, s.body
     FROM articles a CROSS JOIN article_search s ON s.rowid = a.id
     LEFT JOIN authors au ON au.id = a.author_id
     WHERE a.id IN (SELECT value FROM json_each('[' || $1 || ']'))";

/// PostgreSQL: as [`SQLITE_RANKED`].
static POSTGRES_RANKED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT COUNT(*), string_agg(id::text, ',' ORDER BY score DESC, published_at DESC) FROM (
            SELECT a.id, a.published_at, ts_rank_cd(s.document, plainto_tsquery('simple', $2))
                   * (1.0 + 1.0 / (1.0 + GREATEST($1 - a.published_at, 0) / {RECENCY_SECONDS:.1})) AS score
            FROM article_search s JOIN articles a ON a.id = s.article_id
            WHERE s.document @@ plainto_tsquery('simple', $2) AND {PUBLIC}) ranked"
    )
});

/// PostgreSQL: as [`SQLITE_PAGE`].
const POSTGRES_PAGE: &str =
    "SELECT a.id, a.slug, a.headline, a.standfirst, a.published_at, au.name AS author_name, s.body
     FROM articles a JOIN article_search s ON s.article_id = a.id
     LEFT JOIN authors au ON au.id = a.author_id
     WHERE a.id IN (SELECT CAST(id AS BIGINT) FROM unnest(string_to_array($1, ',')) AS ids (id))";

/// What the engine found: how many match, the page's ids best first, and their rows.
struct Found {
    total: i64,
    page: Vec<i64>,
    rows: Vec<HitRow>,
}

/// The ids of one page out of the ranked list `ranked` (`1,5,3`).
fn page_of(ranked: Option<&str>, offset: u32, limit: u32) -> Vec<i64> {
    ranked
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
        .skip(offset as usize)
        .take(limit as usize)
        .collect()
}

/// The page's ids as one parameter (`1,5,3`): the statement is prepared once
/// whatever the page's length.
fn id_list(page: &[i64]) -> String {
    page.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// Both queries on SQLite, on the calling thread.
fn sqlite_search(conn: &Connection, query: &SearchQuery, now: i64, limit: u32, offset: u32) -> rusqlite::Result<Found> {
    // Only numbers of ours are formatted in; the reader's words are bound.
    let (total, ranked): (i64, Option<String>) = conn
        .prepare_cached(&SQLITE_RANKED)?
        .query_row(named_params! { "$1": now, "$2": query.fts5() }, |row| Ok((row.get(0)?, row.get(1)?)))?;
    let page = page_of(ranked.as_deref(), offset, limit);
    if page.is_empty() {
        return Ok(Found { total, page, rows: Vec::new() });
    }
    let ids = id_list(&page);
    let rows = conn
        .prepare_cached(SQLITE_PAGE)?
        .query_map(named_params! { "$1": ids }, |row| {
            Ok(HitRow {
                id: row.get(0)?,
                slug: row.get(1)?,
                headline: row.get(2)?,
                standfirst: row.get(3)?,
                published_at: row.get(4)?,
                author_name: row.get(5)?,
                body: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<HitRow>>>()?;
    Ok(Found { total, page, rows })
}

impl Store {
    /// One page of public articles matching `query`, best first, and how many match.
    ///
    /// The engine ranks and counts every match; then the page's
    /// articles are read with their text, and snippets made from it. Making
    /// snippets in the ranked query would make one for every match. On SQLite
    /// both queries run on the calling thread ([`reads`](super::reads)).
    pub async fn search_articles(
        &self,
        query: &SearchQuery,
        now: i64,
        limit: u32,
        offset: u32,
    ) -> StoreResult<(i64, Vec<SearchHit>)> {
        // The store has read connections of its own exactly when it is on SQLite.
        let Found { total, page, rows } = match &self.reads {
            Some(reads) => reads.read(|conn| sqlite_search(conn, query, now, limit, offset))?,
            None => self.postgres_search(query, now, limit, offset).await?,
        };
        let finder = WordFinder::new(query.terms());
        let mut hits: Vec<SearchHit> = rows
            .into_iter()
            .map(|row| SearchHit {
                snippet: finder.snippet(&row.body, SNIPPET_WORDS),
                id: row.id,
                slug: row.slug,
                headline: row.headline,
                standfirst: row.standfirst,
                published_at: row.published_at,
                author_name: row.author_name,
            })
            .collect();
        hits.sort_by_key(|hit| page.iter().position(|id| *id == hit.id));
        Ok((total, hits))
    }

    /// Both queries on PostgreSQL.
    async fn postgres_search(&self, query: &SearchQuery, now: i64, limit: u32, offset: u32) -> StoreResult<Found> {
        let (total, ranked): (i64, Option<String>) =
            sqlx::query_as(POSTGRES_RANKED.as_str()).bind(now).bind(query.plain()).fetch_one(&self.pool).await?;
        let page = page_of(ranked.as_deref(), offset, limit);
        if page.is_empty() {
            return Ok(Found { total, page, rows: Vec::new() });
        }
        let ids = id_list(&page);
        let rows: Vec<HitRow> = sqlx::query_as(POSTGRES_PAGE).bind(ids).fetch_all(&self.pool).await?;
        Ok(Found { total, page, rows })
    }

    /// Indexes every article the search index lacks (after the migration
    /// that adds it, or an import); returns how many.
    pub async fn index_missing_articles(&self) -> StoreResult<u64> {
        let missing_sql = match self.backend {
            Backend::Sqlite => "SELECT id FROM articles WHERE id NOT IN (SELECT rowid FROM article_search) ORDER BY id",
            Backend::Postgres => {
                "SELECT id FROM articles WHERE id NOT IN (SELECT article_id FROM article_search) ORDER BY id"
            }
        };
        let missing: Vec<(i64,)> = sqlx::query_as(missing_sql).fetch_all(&self.pool).await?;
        for (id,) in &missing {
            let mut tx = self.begin_write().await?;
            index_article(&mut tx, self.backend, *id).await?;
            tx.commit().await?;
        }
        Ok(missing.len() as u64)
    }

    /// On SQLite, merges the search index's segments so that searches read
    /// fewer of them; returns how many there were and are, or `None` when
    /// there was nothing to merge (or on PostgreSQL, whose index needs no
    /// such care).
    ///
    /// FTS5 keeps the index as b-trees ("segments"): every save adds a small
    /// one, and FTS5 merges only some as it goes, so that after a bulk load
    /// or a day of single saves a search reads 8 to 16 of them. Searches over
    /// 10,000 articles took 1.7 times as long over the 8 segments that
    /// publishing them left as over one (BENCHMARKS.md). The small segments are
    /// merged with each other; when they hold an eighth of the largest, all
    /// are merged into one, so the index is rewritten once for each eighth it
    /// grows. The work is done [`MERGE_STEP_PAGES`] at a time, each step its
    /// own short write, with a pause as long as the step between steps, so
    /// that comments and saves are never held up for long.
    pub async fn tidy_search_index(&self) -> StoreResult<Option<Tidied>> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let before = self.search_segments().await?;
        if before.len() < 2 {
            return Ok(None);
        }
        let largest = before.iter().copied().max().unwrap_or_default();
        let rest: i64 = before.iter().sum::<i64>() - largest;
        // A negative step merges every segment, whatever its level, into one.
        let step = if rest * MERGE_ALL_AT < largest { MERGE_STEP_PAGES } else { -MERGE_STEP_PAGES };
        // Each step writes about MERGE_STEP_PAGES pages, and the sizes read
        // count about twice the pages: room for the index twice over and a margin.
        let most_steps = 2 * (largest + rest) / MERGE_STEP_PAGES + 8;
        let mut steps = 0;
        let mut merged = false;
        while steps < most_steps {
            let started = std::time::Instant::now();
            let mut tx = self.begin_write().await?;
            let (changes_before,): (i64,) = sqlx::query_as("SELECT total_changes()").fetch_one(&mut *tx).await?;
            sqlx::query("INSERT INTO article_search (article_search, rank) VALUES ('merge', $1)")
                .bind(step)
                .execute(&mut *tx)
                .await?;
            let (changes_after,): (i64,) = sqlx::query_as("SELECT total_changes()").fetch_one(&mut *tx).await?;
            tx.commit().await?;
            steps += 1;
            // The command itself counts as one change: fewer than two, and nothing was merged.
            if changes_after - changes_before < 2 {
                break;
            }
            merged = true;
            tokio::time::sleep(started.elapsed().max(std::time::Duration::from_millis(1))).await;
        }
        // Small segments on different levels: the positive merge has nothing to do.
        if !merged {
            return Ok(None);
        }
        let after = self.search_segments().await?;
        Ok(Some(Tidied { segments_before: before.len(), segments_after: after.len(), steps }))
    }

    /// The SQLite search index's segments, each as the highest page number
    /// its page index names: a measure of its size (about twice its leaf
    /// pages), read without reading the index itself.
    async fn search_segments(&self) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT MAX(pgno) FROM article_search_idx GROUP BY segid").fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(|(pages,)| pages.max(1)).collect())
    }
}

/// Pages of the search index merged in one write (about 2 MB, 30 ms here).
const MERGE_STEP_PAGES: i64 = 500;
/// All segments are merged into one when the others hold `1 / MERGE_ALL_AT` of the largest.
const MERGE_ALL_AT: i64 = 8;

/// What [`Store::tidy_search_index`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tidied {
    /// Segments a search read before.
    pub segments_before: usize,
    /// Segments a search reads now.
    pub segments_after: usize,
    /// Writes it took.
    pub steps: i64,
}

/// (Re)indexes one article from its stored text, inside the transaction that changed it.
pub(crate) async fn index_article(tx: &mut Transaction<'static, Any>, backend: Backend, id: i64) -> StoreResult<()> {
    let (headline, standfirst, body, author): (String, String, String, Option<String>) = sqlx::query_as(
        "SELECT a.headline, a.standfirst, a.body_markdown, au.name FROM articles a
         LEFT JOIN authors au ON au.id = a.author_id WHERE a.id = $1",
    )
    .bind(id)
    .fetch_one(&mut **tx)
    .await?;
    let tags: Vec<(String,)> = sqlx::query_as(
        "SELECT t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id WHERE at.article_id = $1 ORDER BY at.position",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await?;
    let tags = tags.into_iter().map(|(t,)| t).collect::<Vec<_>>().join(" ");
    let text = IndexText {
        headline: &headline,
        standfirst: &standfirst,
        body: &markdown::plain_text(&body),
        tags: &tags,
        author: author.as_deref().unwrap_or_default(),
    };
    index_text(tx, backend, id, &text).await
}

/// What search reads of an article: its words as readers see them.
pub struct IndexText<'a> {
    pub headline: &'a str,
    pub standfirst: &'a str,
    /// The body as plain text ([`markdown::plain_text`]).
    pub body: &'a str,
    /// Tag names, space-separated.
    pub tags: &'a str,
    pub author: &'a str,
}

/// (Re)indexes several articles from their words, already in hand: on
/// SQLite in two statements, on PostgreSQL one by one.
pub(crate) async fn index_texts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    rows: &[(i64, IndexText<'_>)],
) -> StoreResult<()> {
    if backend == Backend::Postgres || rows.len() < 2 {
        for (id, text) in rows {
            index_text(tx, backend, *id, text).await?;
        }
        return Ok(());
    }
    let list = |from: usize, each: usize| {
        (0..rows.len())
            .map(|r| {
                let params: Vec<String> = (0..each).map(|c| format!("${}", from + r * each + c)).collect();
                format!("({})", params.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let ids = (1..=rows.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
    let mut delete = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM article_search WHERE rowid IN ({ids})")));
    for (id, _) in rows {
        delete = delete.bind(*id);
    }
    delete.execute(&mut **tx).await?;
    let sql =
        format!("INSERT INTO article_search (rowid, headline, standfirst, body, tags, author) VALUES {}", list(1, 6));
    let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, t) in rows {
        insert = insert.bind(*id).bind(t.headline).bind(t.standfirst).bind(t.body).bind(t.tags).bind(t.author);
    }
    insert.execute(&mut **tx).await?;
    Ok(())
}

/// (Re)indexes one article from its words, already in hand.
pub(crate) async fn index_text(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    id: i64,
    text: &IndexText<'_>,
) -> StoreResult<()> {
    let IndexText { headline, standfirst, body, tags, author } = *text;
    let sql = match backend {
        Backend::Sqlite => {
            sqlx::query("DELETE FROM article_search WHERE rowid = $1").bind(id).execute(&mut **tx).await?;
            "INSERT INTO article_search (rowid, headline, standfirst, body, tags, author) VALUES ($1, $2, $3, $4, $5, $6)"
        }
        Backend::Postgres => {
            "INSERT INTO article_search (article_id, headline, standfirst, body, tags, author, document)
             VALUES ($1, $2, $3, $4, $5, $6,
                setweight(to_tsvector('simple', $7), 'A') || setweight(to_tsvector('simple', $8), 'B')
                || setweight(to_tsvector('simple', $9), 'B') || setweight(to_tsvector('simple', $10), 'D'))
             ON CONFLICT (article_id) DO UPDATE SET headline = $2, standfirst = $3, body = $4, tags = $5,
                author = $6, document = EXCLUDED.document"
        }
    };
    let mut query = sqlx::query(sql).bind(id).bind(headline).bind(standfirst).bind(body).bind(tags).bind(author);
    if backend == Backend::Postgres {
        // PostgreSQL's document is of the folded text (SQLite's tokenizer folds by itself).
        query =
            query.bind(fold(headline)).bind(fold(standfirst)).bind(fold(&format!("{tags} {author}"))).bind(fold(body));
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_only_words() {
        let q = SearchQuery::parse("  \"Ferry\" AND (trial* OR NOT) -Ibáñez NEAR/3 ferry ").expect("words");
        assert_eq!(q.terms(), ["ferry", "and", "trial", "or", "not", "ibanez", "near", "3"]);
        assert_eq!(q.fts5(), "\"ferry\" \"and\" \"trial\" \"or\" \"not\" \"ibanez\" \"near\" \"3\"");
        assert_eq!(SearchQuery::parse("*** ''' ---"), None);
        assert_eq!(SearchQuery::parse(""), None);
        let long = "word ".repeat(2000) + &"x".repeat(10_000);
        let q = SearchQuery::parse(&long).expect("words");
        assert!(q.terms().len() <= MAX_TERMS && q.terms().iter().all(|t| t.chars().count() <= MAX_TERM_CHARS));
        // Long words of a script that takes 3 bytes a letter, then percent-encoded 3 times over.
        let long = format!("{} ", "漢".repeat(100)).repeat(50) + "ferry";
        let q = SearchQuery::parse(&long).expect("words");
        assert!(q.terms().iter().map(|t| t.len() + 1).sum::<usize>() <= MAX_QUERY_BYTES + 1);
        assert!(q.terms().iter().map(|t| t.len() * 3 + 1).sum::<usize>() + "/search//".len() < 2048);
    }

    #[test]
    fn queries_keep_every_script() {
        assert_eq!(SearchQuery::parse("مرحبا بالعالم 🌊").expect("words").terms(), ["مرحبا", "بالعالم"]);
    }
}
