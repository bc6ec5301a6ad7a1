//! Search results: `/search/{words}/` (where `/?s=` and `/search?q=` lead),
//! ranked by relevance with recent news first among equals, with highlighted
//! snippets; no results shows recent stories instead.

use askama::Template;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::listing::{Card, PAGE_SIZE, Pager, card};
use super::{Chrome, HTML, Outcome, Rendered, SiteData};
use crate::app::AppState;
use crate::domain::article::Kind;
use crate::domain::search_text::{MARK_END, MARK_START};
use crate::domain::{cache_tags, dates};
use crate::publishing::permalink;
use crate::store::{Listing, SearchQuery};
use crate::web::error::AppError;

/// The canonical address of a search for `text`: its words joined by `+`,
/// each percent-encoded; `None` when it has no words.
pub fn search_path(text: &str) -> Option<String> {
    let query = SearchQuery::parse(text)?;
    let words: Vec<String> =
        query.terms().iter().map(|t| utf8_percent_encode(t, NON_ALPHANUMERIC).to_string()).collect();
    Some(format!("/search/{}/", words.join("+")))
}

/// One result as the page shows it.
struct HitView {
    href: String,
    headline: String,
    date_iso: String,
    date_text: String,
    byline: Option<String>,
    /// Escaped text with the matched words in `<mark>`.
    snippet_html: String,
}

#[derive(Template)]
#[template(path = "pages/search.html")]
struct SearchPage<'a> {
    chrome: &'a Chrome,
    query: String,
    total: i64,
    hits: Vec<HitView>,
    recent: Vec<Card>,
    pager: Pager,
}

/// Escapes a snippet and turns the engine's marks into `<mark>`: nothing of
/// the article's text or the reader's query becomes markup.
fn snippet_html(snippet: &str) -> String {
    let mut out = String::with_capacity(snippet.len() + 32);
    for c in snippet.chars() {
        match c {
            MARK_START => out.push_str("<mark>"),
            MARK_END => out.push_str("</mark>"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' => {}
            c => out.push(c),
        }
    }
    // A mark the engine opened in a cut-off snippet is closed.
    if out.matches("<mark>").count() > out.matches("</mark>").count() {
        out.push_str("</mark>");
    }
    out
}

pub async fn show_search(
    state: &AppState,
    site: &SiteData,
    now: DateTime<Utc>,
    words: &str,
    page: u32,
) -> Result<Outcome, AppError> {
    let tz = state.config.time_zone;
    let text = words.replace('+', " ");
    let Some(query) = SearchQuery::parse(&text) else {
        return Err(AppError::NotFound);
    };
    let base = search_path(&text).ok_or(AppError::NotFound)?;
    if words != query.terms().join("+") {
        // One address per search: `Night%20Ferry` becomes `night+ferry`.
        return Ok(Outcome::Redirect(if page > 1 { format!("{base}page/{page}/") } else { base }));
    }
    let (total, hits) = state.store.search_articles(&query, now.timestamp(), PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let pages = u32::try_from(total).unwrap_or(u32::MAX).div_ceil(PAGE_SIZE).max(1);
    if page > pages {
        return Err(AppError::NotFound);
    }
    let recent = if hits.is_empty() {
        let summaries = state.store.list_articles(Listing::Front, now.timestamp(), 5, 0).await?;
        summaries.iter().map(|s| card(s, site, tz)).collect()
    } else {
        Vec::new()
    };
    let hits = hits
        .into_iter()
        .map(|hit| {
            let published = DateTime::<Utc>::from_timestamp(hit.published_at, 0).unwrap_or_default();
            HitView {
                href: permalink(Kind::Article, &hit.slug, Some(hit.published_at), tz),
                headline: hit.headline,
                date_iso: dates::machine(published, tz),
                date_text: dates::short_date(published, tz),
                byline: hit.author_name,
                snippet_html: if hit.snippet.trim().is_empty() {
                    snippet_html(&hit.standfirst)
                } else {
                    snippet_html(&hit.snippet)
                },
            }
        })
        .collect();
    let shown = query.terms().join(" ");
    let path = if page > 1 { format!("{base}page/{page}/") } else { base.clone() };
    let mut chrome = Chrome::new(state, site, now, None, &path, format!("Search: {shown}"), String::new());
    chrome.noindex = true;
    let html = SearchPage {
        chrome: &chrome,
        query: shown,
        total,
        hits,
        recent,
        pager: Pager {
            newer: (page > 1).then(|| if page == 2 { base.clone() } else { format!("{base}page/{}/", page - 1) }),
            older: (page < pages).then(|| format!("{base}page/{}/", page + 1)),
            page,
            pages,
        },
    }
    .render()?;
    Ok(Outcome::Page(Rendered {
        status: StatusCode::OK,
        content_type: HTML,
        html,
        // Any change to a public article can change the results.
        tags: vec![cache_tags::SITEMAPS.to_owned()],
        // When it was rendered: an article leaving the results changes them too.
        last_modified: now.timestamp(),
        expires_at: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_are_text_with_marks() {
        let raw = format!("a <b>{MARK_START}ferry{MARK_END}</b> & \"x\" {MARK_START}cut");
        assert_eq!(snippet_html(&raw), "a &lt;b&gt;<mark>ferry</mark>&lt;/b&gt; &amp; &quot;x&quot; <mark>cut</mark>");
    }

    #[test]
    fn search_addresses_are_canonical() {
        assert_eq!(search_path("  Night FERRY ferry ").as_deref(), Some("/search/night+ferry/"));
        assert_eq!(search_path("Ibáñez").as_deref(), Some("/search/ibanez/"));
        assert_eq!(search_path("مرحبا").as_deref(), Some("/search/%D9%85%D8%B1%D8%AD%D8%A8%D8%A7/"));
        assert_eq!(search_path("*** ---"), None);
    }
}
