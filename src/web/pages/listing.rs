//! Listings: the front page and the category, tag, author and month archives.

use askama::Template;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::{Chrome, Link, Outcome, Rendered, SiteData};
use crate::app::AppState;
use crate::domain::article::Kind;
use crate::domain::{cache_tags, dates};
use crate::publishing::permalink;
use crate::store::{ArticleSummary, Listing};
use crate::web::error::AppError;
use crate::web::routes::PublicRoute;

/// Articles per listing page.
pub const PAGE_SIZE: u32 = 10;

/// An article as a listing shows it.
pub struct Card {
    pub href: String,
    pub headline: String,
    pub standfirst: String,
    pub date_iso: String,
    pub date_text: String,
    pub kicker: Option<Link>,
    pub byline: Option<String>,
    pub image: Option<CardImage>,
    pub comments: i64,
    /// The front page's lead story, shown larger.
    pub lead: bool,
}

impl Card {
    /// The class prefix of its markup: `lead` or `card`.
    pub fn kind(&self) -> &'static str {
        if self.lead { "lead" } else { "card" }
    }
}

pub struct CardImage {
    pub src: String,
    pub srcset: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// Links to the neighbouring pages of a listing.
pub struct Pager {
    pub newer: Option<String>,
    pub older: Option<String>,
    pub page: u32,
    pub pages: u32,
}

#[derive(Template)]
#[template(path = "pages/listing.html")]
struct ListingPage<'a> {
    chrome: &'a Chrome,
    /// "Category", "Tag", "Author", "Archive"; none on the front page.
    label: Option<&'static str>,
    heading: String,
    lead: Option<Card>,
    cards: Vec<Card>,
    pager: Pager,
}

/// A category, tag or author archive as its address names it.
pub(super) enum ArchiveRef<'a> {
    /// The slugs from the top category down.
    Category(&'a [String]),
    Tag(&'a str),
    Author(&'a str),
}

/// An archive found: what it lists and where it lives.
pub(super) struct Archive {
    pub listing: Listing,
    /// "Category", "Tag" or "Author".
    pub label: &'static str,
    pub name: String,
    /// Its canonical address.
    pub href: String,
    pub section: Option<i64>,
    pub tag: String,
}

/// Finds the archive an address names; `Err(href)` when a category was named
/// by another path than its own (listings and feeds redirect there).
pub(super) async fn find_archive(
    state: &AppState,
    site: &SiteData,
    archive: ArchiveRef<'_>,
) -> Result<Result<Archive, String>, AppError> {
    Ok(Ok(match archive {
        ArchiveRef::Category(path) => {
            let Some(leaf) = path.last().and_then(|slug| site.categories.iter().find(|c| &c.slug == slug)) else {
                return Err(AppError::NotFound);
            };
            let href = site.category_href(leaf.id);
            let requested: String = path.iter().map(|s| format!("{s}/")).collect();
            if href != format!("/category/{requested}") {
                return Ok(Err(href));
            }
            Archive {
                listing: Listing::Category(leaf.id),
                label: "Category",
                name: leaf.name.clone(),
                href,
                section: site.section_of(leaf.id),
                tag: cache_tags::category(leaf.id),
            }
        }
        ArchiveRef::Tag(slug) => {
            let tag = state.store.tag_by_slug(slug).await?;
            Archive {
                listing: Listing::Tag(tag.id),
                label: "Tag",
                name: tag.name,
                href: format!("/tag/{}/", tag.slug),
                section: None,
                tag: cache_tags::tag(tag.id),
            }
        }
        ArchiveRef::Author(slug) => {
            let author = state.store.author_by_slug(slug).await?;
            Archive {
                listing: Listing::Author(author.id),
                label: "Author",
                name: author.name,
                href: format!("/author/{}/", author.slug),
                section: None,
                tag: cache_tags::author(author.id),
            }
        }
    }))
}

/// Shows one page of a listing; a page past the last is not found.
pub async fn show_listing(
    state: &AppState,
    site: &SiteData,
    now: DateTime<Utc>,
    route: &PublicRoute,
) -> Result<Outcome, AppError> {
    let tz = state.config.time_zone;
    let (listing, label, heading, base, section, tag, page) = match route {
        PublicRoute::Front { page } => {
            (Listing::Front, None, String::new(), "/".to_owned(), None, cache_tags::FRONT.to_owned(), *page)
        }
        PublicRoute::Category { page, .. } | PublicRoute::Tag { page, .. } | PublicRoute::Author { page, .. } => {
            let archive = match route {
                PublicRoute::Category { path, .. } => ArchiveRef::Category(path),
                PublicRoute::Tag { slug, .. } => ArchiveRef::Tag(slug),
                PublicRoute::Author { slug, .. } => ArchiveRef::Author(slug),
                _ => return Err(AppError::NotFound),
            };
            match find_archive(state, site, archive).await? {
                Ok(a) => (a.listing, Some(a.label), a.name, a.href, a.section, a.tag, *page),
                Err(href) => return Ok(Outcome::Redirect(with_page(&href, *page))),
            }
        }
        PublicRoute::Month { year, month, page } => {
            let (from, to) = month_bounds(*year, *month, tz).ok_or(AppError::NotFound)?;
            let first = NaiveDate::from_ymd_opt(*year, *month, 1).ok_or(AppError::NotFound)?;
            (
                Listing::Between(from, to),
                Some("Archive"),
                first.format("%B %Y").to_string(),
                format!("/{year:04}/{month:02}/"),
                None,
                cache_tags::month(*year, *month),
                *page,
            )
        }
        _ => {
            return Err(AppError::NotFound);
        }
    };
    let total = match state.cache.listing_count(&tag) {
        Some(total) => total,
        None => {
            let generation = state.cache.generation();
            let total = state.store.count_articles(listing, now.timestamp()).await?;
            state.cache.keep_listing_count(&tag, total, generation);
            total
        }
    };
    let pages = u32::try_from(total).unwrap_or(u32::MAX).div_ceil(PAGE_SIZE).max(1);
    let is_archive = label.is_some();
    if page > pages || (is_archive && total == 0 && !matches!(listing, Listing::Category(_))) {
        return Err(AppError::NotFound);
    }
    let summaries = state.store.list_articles(listing, now.timestamp(), PAGE_SIZE, (page - 1) * PAGE_SIZE).await?;
    let last_modified = summaries.iter().map(|s| s.updated_at).max().unwrap_or(0);
    let mut cards: Vec<Card> = summaries.iter().map(|s| card(s, site, tz)).collect();
    let lead = (!is_archive && page == 1 && !cards.is_empty()).then(|| Card { lead: true, ..cards.remove(0) });
    let path = with_page(&base, page);
    let title = match (label, page) {
        (None, 1) => String::new(),
        (None, n) => format!("Page {n}"),
        (Some(_), 1) => heading.clone(),
        (Some(_), n) => format!("{heading}, page {n}"),
    };
    let mut chrome = Chrome::new(state, site, now, section, &path, title, String::new());
    let site_url = state.config.base_url.trim_end_matches('/');
    let page_name = if heading.is_empty() { site.site_name.clone() } else { heading.clone() };
    let canonical = chrome.canonical.clone();
    super::structured::listing(&mut chrome, site_url, site, &canonical, &page_name);
    if is_archive && !matches!(listing, Listing::Between(..)) {
        chrome.feeds.extend(super::FeedLink::both(&base, &format!("{heading} — {}", site.site_name)));
    }
    let listing_page = ListingPage {
        chrome: &chrome,
        label,
        heading,
        lead,
        cards,
        pager: Pager {
            newer: (page > 1).then(|| with_page(&base, page - 1)),
            older: (page < pages).then(|| with_page(&base, page + 1)),
            page,
            pages,
        },
    };
    Ok(Outcome::Page(Rendered {
        status: StatusCode::OK,
        content_type: super::HTML,
        html: listing_page.render()?,
        tags: vec![tag],
        last_modified,
        expires_at: None,
    }))
}

/// `base` for page 1, `base` + `page/{n}/` after.
fn with_page(base: &str, page: u32) -> String {
    if page <= 1 { base.to_owned() } else { format!("{base}page/{page}/") }
}

/// The Unix seconds a local calendar month spans: `[first day, first of next)`.
pub(super) fn month_bounds(year: i32, month: u32, tz: chrono_tz::Tz) -> Option<(i64, i64)> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let start = |day: NaiveDate| tz.from_local_datetime(&day.and_hms_opt(0, 0, 0)?).earliest().map(|at| at.timestamp());
    Some((start(first)?, start(next)?))
}

pub(super) fn card(summary: &ArticleSummary, site: &SiteData, tz: chrono_tz::Tz) -> Card {
    let published = DateTime::<Utc>::from_timestamp(summary.published_at, 0).unwrap_or_default();
    let kicker = match (&summary.category_slug, &summary.category_name) {
        (Some(slug), Some(name)) => site.categories.iter().find(|c| &c.slug == slug).map(|c| Link {
            href: site.category_href(c.id),
            name: name.clone(),
            current: false,
        }),
        _ => None,
    };
    Card {
        href: permalink(Kind::Article, &summary.slug, Some(summary.published_at), tz),
        headline: summary.headline.clone(),
        standfirst: summary.standfirst.clone(),
        date_iso: dates::machine(published, tz),
        date_text: dates::short_date(published, tz),
        kicker,
        byline: summary.author_name.clone().or_else(|| summary.agency.clone()),
        comments: summary.comment_count,
        lead: false,
        image: summary.image_src.as_ref().map(|src| CardImage {
            srcset: crate::media::srcset(src, summary.image_width),
            src: src.clone(),
            width: summary.image_width,
            height: summary.image_height,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_bounds_follow_the_site_zone() {
        let (from, to) = month_bounds(2026, 12, chrono_tz::Europe::Madrid).expect("bounds");
        assert_eq!(from, Utc.with_ymd_and_hms(2026, 11, 30, 23, 0, 0).single().expect("date").timestamp());
        assert_eq!(to, Utc.with_ymd_and_hms(2026, 12, 31, 23, 0, 0).single().expect("date").timestamp());
    }

    #[test]
    fn page_addresses() {
        assert_eq!(with_page("/tag/x/", 1), "/tag/x/");
        assert_eq!(with_page("/", 3), "/page/3/");
    }
}
