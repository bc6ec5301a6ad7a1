//! Full-text search over public articles: SQLite's FTS5 or PostgreSQL's text
//! search behind one method, with the same query rules on both.
//!
//! A reader's query never reaches either engine as syntax: it is cut into
//! words (letters and digits, diacritics folded, lower case), at most
//! [`MAX_TERMS`] of them, and every word must appear. Ranking is the engine's
//! relevance (BM25 on SQLite, cover density on PostgreSQL, both weighting the
//! headline over the standfirst, tags and author over the body) plus a boost
//! for recent news.

use sqlx::{Any, Transaction};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{Backend, Store, StoreResult};

/// Most words of a query that count.
pub const MAX_TERMS: usize = 12;
/// Longest word that counts, in characters.
const MAX_TERM_CHARS: usize = 64;
/// Marks around a matched word in a snippet (never in article text).
pub const MARK_START: char = '\u{1}';
pub const MARK_END: char = '\u{2}';

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
}

/// Lower case, compatibility forms unified, diacritics removed: what both
/// engines index and what queries are matched against.
pub fn fold(text: &str) -> String {
    text.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// One public article found, with a snippet of its text around the words.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SearchHit {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub published_at: i64,
    pub author_name: Option<String>,
    /// Text with the matched words between [`MARK_START`] and [`MARK_END`].
    pub snippet: String,
}

/// Recent news ranks higher: relevance is multiplied by 2 for an article
/// published now, 1.5 at `RECENCY_SECONDS` old, 1.33 at twice that.
const RECENCY_SECONDS: f64 = 14.0 * 86_400.0;

impl Store {
    /// One page of public articles matching `query`, best first, and how many match.
    pub async fn search_articles(
        &self,
        query: &SearchQuery,
        now: i64,
        limit: u32,
        offset: u32,
    ) -> StoreResult<(i64, Vec<SearchHit>)> {
        const PUBLIC: &str = "a.kind = 'article' AND a.status = 'published' AND a.published_at <= $1";
        let (count_sql, hits_sql, text) = match self.backend {
            Backend::Sqlite => (
                format!(
                    "SELECT COUNT(*) FROM article_search s JOIN articles a ON a.id = s.rowid
                     WHERE article_search MATCH $2 AND {PUBLIC}"
                ),
                format!(
                    "SELECT a.id, a.slug, a.headline, a.standfirst, a.published_at, au.name AS author_name,
                            snippet(article_search, 2, char(1), char(2), '…', 24) AS snippet
                     FROM article_search s JOIN articles a ON a.id = s.rowid LEFT JOIN authors au ON au.id = a.author_id
                     WHERE article_search MATCH $2 AND {PUBLIC}
                     ORDER BY bm25(article_search, 8.0, 3.0, 1.0, 3.0, 3.0)
                              * (1.0 + 1.0 / (1.0 + MAX($1 - a.published_at, 0) / {RECENCY_SECONDS:.1})),
                              a.published_at DESC
                     LIMIT {limit} OFFSET {offset}"
                ),
                query.fts5(),
            ),
            Backend::Postgres => (
                format!(
                    "SELECT COUNT(*) FROM article_search s JOIN articles a ON a.id = s.article_id
                     WHERE s.document @@ plainto_tsquery('simple', $2) AND {PUBLIC}"
                ),
                format!(
                    "SELECT a.id, a.slug, a.headline, a.standfirst, a.published_at, au.name AS author_name,
                            ts_headline('simple', s.body, plainto_tsquery('simple', $2),
                                'StartSel=' || chr(1) || ', StopSel=' || chr(2) || ', MaxWords=30, MinWords=12')
                                AS snippet
                     FROM article_search s JOIN articles a ON a.id = s.article_id
                     LEFT JOIN authors au ON au.id = a.author_id
                     WHERE s.document @@ plainto_tsquery('simple', $2) AND {PUBLIC}
                     ORDER BY ts_rank_cd(s.document, plainto_tsquery('simple', $2))
                              * (1.0 + 1.0 / (1.0 + GREATEST($1 - a.published_at, 0) / {RECENCY_SECONDS:.1})) DESC,
                              a.published_at DESC
                     LIMIT {limit} OFFSET {offset}"
                ),
                query.plain(),
            ),
        };
        // Only numbers of ours are formatted in; the reader's words are bound.
        let (total,): (i64,) =
            sqlx::query_as(sqlx::AssertSqlSafe(count_sql)).bind(now).bind(text.as_str()).fetch_one(&self.pool).await?;
        if total == 0 {
            return Ok((0, Vec::new()));
        }
        let hits =
            sqlx::query_as(sqlx::AssertSqlSafe(hits_sql)).bind(now).bind(text.as_str()).fetch_all(&self.pool).await?;
        Ok((total, hits))
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
    let author = author.unwrap_or_default();
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
    let mut query = sqlx::query(sql).bind(id).bind(&headline).bind(&standfirst).bind(&body).bind(&tags).bind(&author);
    if backend == Backend::Postgres {
        // PostgreSQL's document is of the folded text (SQLite's tokenizer folds by itself).
        query = query
            .bind(fold(&headline))
            .bind(fold(&standfirst))
            .bind(fold(&format!("{tags} {author}")))
            .bind(fold(&body));
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
    }

    #[test]
    fn folding_matches_what_readers_type() {
        assert_eq!(fold("Ibáñez ÉCOLE ﬁsh"), "ibanez ecole fish");
        assert_eq!(SearchQuery::parse("مرحبا بالعالم 🌊").expect("words").terms(), ["مرحبا", "بالعالم"]);
    }
}
