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
use crate::store::{Archive, ArchiveChange};
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

/// One of the sitemaps; a month without articles is not found.
pub async fn show_sitemap(
    state: &AppState,
    site: &SiteData,
    now: DateTime<Utc>,
    sitemap: Sitemap,
) -> Result<Outcome, AppError> {
    let base = state.config.base_url.trim_end_matches('/');
    let tz = state.config.time_zone;
    let at = now.timestamp();
    // (address, lastmod) of every URL.
    let urls: Vec<(String, i64)> = match sitemap {
        Sitemap::Index => {
            let mut months: BTreeMap<(i32, u32), i64> = BTreeMap::new();
            for (published, updated) in state.store.article_dates(at).await? {
                let local = DateTime::<Utc>::from_timestamp(published, 0).unwrap_or_default().with_timezone(&tz);
                let changed = updated.max(published);
                let newest = months.entry((local.year(), local.month())).or_insert(changed);
                *newest = (*newest).max(changed);
            }
            let mut maps: Vec<(Sitemap, i64)> = months
                .into_iter()
                .rev()
                .map(|((year, month), updated)| (Sitemap::Articles { year, month }, updated))
                .collect();
            let pages = state.store.sitemap_entries(Kind::Page.as_str(), at, i64::MIN, i64::MAX, MAX_URLS).await?;
            let newest = |changes: &[ArchiveChange]| changes.iter().map(|c| c.updated_at).max();
            let archives = [
                (Sitemap::Pages, pages.iter().map(|p| p.changed_at()).max()),
                (Sitemap::Categories, newest(&state.store.archive_changes(Archive::Category, at).await?)),
                (Sitemap::Tags, newest(&state.store.archive_changes(Archive::Tag, at).await?)),
                (Sitemap::Authors, newest(&state.store.archive_changes(Archive::Author, at).await?)),
            ];
            maps.extend(archives.into_iter().filter_map(|(map, updated)| Some((map, updated?))));
            let mut xml =
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{SITEMAP_NS}\">\n");
            for (map, updated) in maps {
                let _ = writeln!(
                    xml,
                    "<sitemap><loc>{base}{}</loc><lastmod>{}</lastmod></sitemap>",
                    map.path(),
                    dates::utc_seconds(updated)
                );
            }
            xml.push_str("</sitemapindex>\n");
            return Ok(page(XML, xml, cache_tags::SITEMAPS, at, None));
        }
        Sitemap::Articles { year, month } => {
            let (from, to) = month_bounds(year, month, tz).ok_or(AppError::NotFound)?;
            let entries = state.store.sitemap_entries(Kind::Article.as_str(), at, from, to, MAX_URLS).await?;
            if entries.is_empty() {
                return Err(AppError::NotFound);
            }
            entries
                .iter()
                .map(|e| (permalink(Kind::Article, &e.slug, Some(e.published_at), tz), e.changed_at()))
                .collect()
        }
        Sitemap::Pages => {
            let entries = state.store.sitemap_entries(Kind::Page.as_str(), at, i64::MIN, i64::MAX, MAX_URLS).await?;
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
    };
    let mut xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{SITEMAP_NS}\">\n");
    for (path, updated) in urls.iter().take(MAX_URLS as usize) {
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

/// `/news-sitemap.xml`: the articles of the last 48 hours, newest first.
pub async fn show_news_sitemap(state: &AppState, site: &SiteData, now: DateTime<Utc>) -> Result<Outcome, AppError> {
    let base = state.config.base_url.trim_end_matches('/');
    let tz = state.config.time_zone;
    let at = now.timestamp();
    let entries =
        state.store.sitemap_entries(Kind::Article.as_str(), at, at - NEWS_WINDOW_SECONDS, at + 1, NEWS_MAX).await?;
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
