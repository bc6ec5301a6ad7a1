//! The article page and static pages.

use askama::Template;
use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};

use super::{Chrome, Link, Outcome, Rendered, SiteData};
use crate::app::AppState;
use crate::domain::article::Kind;
use crate::domain::{cache_tags, dates};
use crate::publishing::permalink;
use crate::store::ArticleRecord;
use crate::web::error::AppError;

/// A featured image with its words.
pub struct ImageView {
    pub src: String,
    pub alt: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub caption: String,
    pub credit: String,
}

#[derive(Template)]
#[template(path = "pages/article.html")]
struct ArticlePage<'a> {
    chrome: &'a Chrome,
    headline: &'a str,
    standfirst: &'a str,
    kicker: Option<Link>,
    author: Option<Link>,
    agency: Option<&'a str>,
    published_iso: String,
    published_text: String,
    updated: Option<(String, String)>,
    categories: Vec<Link>,
    tags: Vec<Link>,
    image: Option<ImageView>,
    body_html: &'a str,
}

#[derive(Template)]
#[template(path = "pages/static_page.html")]
struct StaticPage<'a> {
    chrome: &'a Chrome,
    headline: &'a str,
    standfirst: &'a str,
    body_html: &'a str,
}

/// `/{yyyy}/{mm}/{dd}/{slug}/`: a public article; a wrong date redirects to the right one.
pub async fn show_article(
    state: &AppState,
    site: &SiteData,
    now: DateTime<Utc>,
    (year, month, day): (i32, u32, u32),
    slug: &str,
) -> Result<Outcome, AppError> {
    let tz = state.config.time_zone;
    let record = state.store.article_by_slug(Kind::Article, slug).await?;
    let Some(published_at) = record.published_at.filter(|_| record.is_public(now.timestamp())) else {
        return Err(AppError::NotFound);
    };
    let published = DateTime::<Utc>::from_timestamp(published_at, 0).unwrap_or_default();
    let local = published.with_timezone(&tz);
    let path = permalink(Kind::Article, &record.slug, Some(published_at), tz);
    if (local.year(), local.month(), local.day()) != (year, month, day) {
        return Ok(Outcome::Redirect(path));
    }
    let section = record.categories.first().and_then(|c| site.section_of(c.id));
    let chrome = Chrome::new(state, site, now, section, &path, record.headline.clone(), record.standfirst.clone());
    let categories: Vec<Link> = record
        .categories
        .iter()
        .map(|c| Link { href: site.category_href(c.id), name: c.name.clone(), current: false })
        .collect();
    let updated = DateTime::<Utc>::from_timestamp(record.updated_at, 0)
        // Edited after it was written and after it went out (imports and the demo are backdated).
        .filter(|updated| record.updated_at > published_at.max(record.created_at) + 60 && *updated <= now)
        .map(|updated| (dates::machine(updated, tz), dates::dateline(updated, tz)));
    let page = ArticlePage {
        chrome: &chrome,
        headline: &record.headline,
        standfirst: &record.standfirst,
        kicker: categories.first().cloned(),
        author: author_link(&record),
        agency: record.agency.as_deref(),
        published_iso: dates::machine(published, tz),
        published_text: dates::dateline(published, tz),
        updated,
        tags: record
            .tags
            .iter()
            .map(|t| Link { href: format!("/tag/{}/", t.slug), name: t.name.clone(), current: false })
            .collect(),
        categories,
        image: image_view(&record),
        body_html: &record.body_html,
    };
    Ok(Outcome::Page(Rendered {
        status: StatusCode::OK,
        html: page.render()?,
        tags: vec![cache_tags::article(record.id)],
        last_modified: record.updated_at,
    }))
}

/// `/{slug}/`: a public static page.
pub async fn show_page(state: &AppState, site: &SiteData, now: DateTime<Utc>, slug: &str) -> Result<Outcome, AppError> {
    let record = state.store.article_by_slug(Kind::Page, slug).await?;
    if !record.is_public(now.timestamp()) {
        return Err(AppError::NotFound);
    }
    let path = format!("/{}/", record.slug);
    let chrome = Chrome::new(state, site, now, None, &path, record.headline.clone(), record.standfirst.clone());
    let page = StaticPage {
        chrome: &chrome,
        headline: &record.headline,
        standfirst: &record.standfirst,
        body_html: &record.body_html,
    };
    Ok(Outcome::Page(Rendered {
        status: StatusCode::OK,
        html: page.render()?,
        tags: vec![cache_tags::article(record.id)],
        last_modified: record.updated_at,
    }))
}

fn author_link(record: &ArticleRecord) -> Option<Link> {
    match (&record.author_slug, &record.author_name) {
        (Some(slug), Some(name)) => Some(Link { href: format!("/author/{slug}/"), name: name.clone(), current: false }),
        _ => None,
    }
}

fn image_view(record: &ArticleRecord) -> Option<ImageView> {
    let src = record.image_src.clone()?;
    Some(ImageView {
        src,
        alt: record.image_alt.clone().unwrap_or_default(),
        width: record.image_width,
        height: record.image_height,
        caption: record.image_caption.clone().unwrap_or_default(),
        credit: record.image_credit.clone().unwrap_or_default(),
    })
}
