//! Sitemaps for search engines: `/sitemap.xml` indexes one sitemap per month
//! of articles and one each for pages, categories, tags and authors;
//! `/news-sitemap.xml` follows Google's News sitemap rules; `/robots.txt`
//! names both and keeps crawlers out of the admin.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};
use quick_xml::escape::escape;

use super::feeds::xml_text;
use super::listing::month_bounds;
use super::{Outcome, Rendered, SiteData};
use crate::app::AppState;
use crate::domain::article::Kind;
use crate::domain::{cache_tags, dates};
use crate::publishing::permalink;
use crate::store::Archive;
use crate::web::error::AppError;
use crate::web::routes::Sitemap;

/// The most URLs one sitemap may hold (sitemaps.org).
pub const MAX_URLS: u32 = 50_000;
/// Google News: articles of the last two days, at most 1,000.
pub const NEWS_WINDOW_SECONDS: i64 = 48 * 3600;
pub const NEWS_MAX: u32 = 1_000;

const XML: &str = "application/xml; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";
const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

/// A rendered sitemap or robots.txt. `Last-Modified` is when it was rendered:
/// an article leaving a sitemap changes it as much as one joining it.
fn page(content_type: &'static str, body: String, tag: &str, rendered_at: i64, expires_at: Option<i64>) -> Outcome {
    Outcome::Page(Rendered {
        status: StatusCode::OK,
        content_type,
        html: body,
        tags: vec![tag.to_owned()],
        last_modified: rendered_at,
        expires_at,
    })
}

/// `/robots.txt`.
pub fn robots(state: &AppState) -> Outcome {
    let base = state.config.base_url.trim_end_matches('/');
    let body =
        format!("User-agent: *\nDisallow: /admin/\n\nSitemap: {base}/sitemap.xml\nSitemap: {base}/news-sitemap.xml\n");
    page(TEXT, body, cache_tags::SITE, 0, None)
}

/// One part of one of the sitemaps (each part at most [`MAX_URLS`] URLs); a
/// month without articles, or a part beyond the last, is not found.
pub async fn show_sitemap(
    state: &AppState,
    site: &SiteData,
    now: DateTime<Utc>,
    sitemap: Sitemap,
    part: u32,
) -> Result<Outcome, AppError> {
    let base = state.config.base_url.trim_end_matches('/');
    let at = now.timestamp();
    if sitemap == Sitemap::Index {
        return Ok(page(XML, index(state, site, at).await?, cache_tags::SITEMAPS, at, None));
    }
    let urls = urls_of(state, site, sitemap, at).await?;
    if matches!(sitemap, Sitemap::Articles { .. }) && urls.is_empty() {
        return Err(AppError::NotFound);
    }
    let mut parts = urls.chunks(MAX_URLS as usize);
    let chunk = match parts.nth(part.saturating_sub(1) as usize) {
        Some(chunk) => chunk,
        None if part == 1 => &[],
        None => return Err(AppError::NotFound),
    };
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{SITEMAP_NS}\">\n");
    for (path, updated) in chunk {
        let _ = writeln!(
            xml,
            "<url><loc>{base}{}</loc><lastmod>{}</lastmod></url>",
            escape(path.as_str()),
            dates::utc_seconds(*updated)
        );
    }
    xml.push_str("</urlset>\n");
    Ok(page(XML, xml, cache_tags::SITEMAPS, at, None))
}

/// `/sitemap.xml`: every part of every sitemap, with the newest change in it.
async fn index(state: &AppState, site: &SiteData, at: i64) -> Result<String, AppError> {
    let base = state.config.base_url.trim_end_matches('/');
    let tz = state.config.time_zone;
    // Per month: how many articles, and the newest change.
    let mut months: BTreeMap<(i32, u32), (usize, i64)> = BTreeMap::new();
    for (published, updated) in state.store.article_dates(at).await? {
        let local = DateTime::<Utc>::from_timestamp(published, 0).unwrap_or_default().with_timezone(&tz);
        let month = months.entry((local.year(), local.month())).or_insert((0, i64::MIN));
        *month = (month.0 + 1, month.1.max(updated.max(published)));
    }
    let mut parts: Vec<(String, i64)> = Vec::new();
    for ((year, month), (count, newest)) in months.into_iter().rev() {
        // A month's later parts are dated by its newest change (one a crawler can trust).
        for part in 1..=count.div_ceil(MAX_URLS as usize) {
            parts.push((Sitemap::Articles { year, month }.part_path(part as u32), newest));
        }
    }
    for sitemap in [Sitemap::Pages, Sitemap::Categories, Sitemap::Tags, Sitemap::Authors] {
        let urls = urls_of(state, site, sitemap, at).await?;
        for (n, chunk) in urls.chunks(MAX_URLS as usize).enumerate() {
            if let Some(newest) = chunk.iter().map(|(_, updated)| *updated).max() {
                parts.push((sitemap.part_path(n as u32 + 1), newest));
            }
        }
    }
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{SITEMAP_NS}\">\n");
    for (path, updated) in parts {
        let _ = writeln!(
            xml,
            "<sitemap><loc>{base}{path}</loc><lastmod>{}</lastmod></sitemap>",
            dates::utc_seconds(updated)
        );
    }
    xml.push_str("</sitemapindex>\n");
    Ok(xml)
}

/// Every (address, lastmod) a sitemap lists, in a stable order, before it is
/// cut into parts.
async fn urls_of(state: &AppState, site: &SiteData, sitemap: Sitemap, at: i64) -> Result<Vec<(String, i64)>, AppError> {
    let tz = state.config.time_zone;
    Ok(match sitemap {
        Sitemap::Index => Vec::new(),
        Sitemap::Articles { year, month } => {
            let (from, to) = month_bounds(year, month, tz).ok_or(AppError::NotFound)?;
            let entries = state.store.sitemap_entries(Kind::Article.as_str(), at, from, to, None).await?;
            entries
                .iter()
                .map(|e| (permalink(Kind::Article, &e.slug, Some(e.published_at), tz), e.changed_at()))
                .collect()
        }
        Sitemap::Pages => {
            let entries = state.store.sitemap_entries(Kind::Page.as_str(), at, i64::MIN, i64::MAX, None).await?;
            entries.iter().map(|e| (permalink(Kind::Page, &e.slug, Some(e.published_at), tz), e.changed_at())).collect()
        }
        Sitemap::Categories => {
            // A parent's archive lists its children's articles too.
            let mut newest: BTreeMap<i64, i64> = BTreeMap::new();
            for change in state.store.archive_changes(Archive::Category, at).await? {
                let mut current = Some(change.id);
                for _ in 0..16 {
                    let Some(id) = current else { break };
                    let entry = newest.entry(id).or_insert(change.updated_at);
                    *entry = (*entry).max(change.updated_at);
                    current = site.categories.iter().find(|c| c.id == id).and_then(|c| c.parent_id);
                }
            }
            newest.into_iter().map(|(id, updated)| (site.category_href(id), updated)).collect()
        }
        Sitemap::Tags | Sitemap::Authors => {
            let (archive, prefix) =
                if sitemap == Sitemap::Tags { (Archive::Tag, "tag") } else { (Archive::Author, "author") };
            let changes = state.store.archive_changes(archive, at).await?;
            changes.into_iter().map(|c| (format!("/{prefix}/{}/", c.slug), c.updated_at)).collect()
        }
    })
}

/// `/news-sitemap.xml`: the articles of the last 48 hours, newest first.
pub async fn show_news_sitemap(state: &AppState, site: &SiteData, now: DateTime<Utc>) -> Result<Outcome, AppError> {
    let base = state.config.base_url.trim_end_matches('/');
    let tz = state.config.time_zone;
    let at = now.timestamp();
    let entries = state
        .store
        .sitemap_entries(Kind::Article.as_str(), at, at - NEWS_WINDOW_SECONDS, at + 1, Some(NEWS_MAX))
        .await?;
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{SITEMAP_NS}\" xmlns:news=\"{NEWS_NS}\">\n"
    );
    for e in &entries {
        let _ = writeln!(
            xml,
            "<url><loc>{base}{}</loc><lastmod>{}</lastmod><news:news><news:publication><news:name>{}</news:name>\
             <news:language>en</news:language></news:publication><news:publication_date>{}</news:publication_date>\
             <news:title>{}</news:title></news:news></url>",
            permalink(Kind::Article, &e.slug, Some(e.published_at), tz),
            dates::utc_seconds(e.changed_at()),
            escape(xml_text(&site.site_name).as_str()),
            dates::utc_seconds(e.published_at),
            escape(xml_text(&e.headline).as_str()),
        );
    }
    xml.push_str("</urlset>\n");
    // The oldest article leaves the sitemap the second after it turns 48 hours old.
    let expires = entries.iter().map(|e| e.published_at + NEWS_WINDOW_SECONDS + 1).min();
    Ok(page(XML, xml, cache_tags::SITEMAPS, at, expires))
}
