//! The article page and static pages.

use askama::Template;
use axum::http::StatusCode;
use chrono::{DateTime, Datelike, Utc};

use super::discussion::{self, Discussion, FormView};
use super::{Chrome, Link, Outcome, Rendered, SiteData};
use crate::app::AppState;
use crate::domain::article::Kind;
use crate::domain::moderation::DiscussionSettings;
use crate::domain::{cache_tags, dates};
use crate::publishing::permalink;
use crate::store::ArticleRecord;
use crate::web::comments::Viewer;
use crate::web::error::AppError;
use crate::web::routes::PublicRoute;

/// A featured image with its words.
pub struct ImageView {
    pub src: String,
    /// Smaller copies for narrow screens, when the image has them.
    pub srcset: Option<String>,
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
    path: &'a str,
    discussion: Discussion,
}

#[derive(Template)]
#[template(path = "pages/static_page.html")]
struct StaticPage<'a> {
    chrome: &'a Chrome,
    headline: &'a str,
    standfirst: &'a str,
    body_html: &'a str,
}

/// `/{yyyy}/{mm}/{dd}/{slug}/`: a public article and its discussion, as
/// `viewer` sees it; a wrong date redirects to the right one.
pub async fn show_article(
    state: &AppState,
    site: &SiteData,
    now: DateTime<Utc>,
    route: &PublicRoute,
    viewer: &Viewer,
) -> Result<Outcome, AppError> {
    let PublicRoute::Article { year, month, day, slug, comment_page } = route else {
        return Err(AppError::NotFound);
    };
    let tz = state.config.time_zone;
    // The row first (is it public?), then everything else about it at once.
    let mut record = state.store.article_row(Kind::Article, slug).await?;
    let Some(published_at) = record.published_at.filter(|_| record.is_public(now.timestamp())) else {
        return Err(AppError::NotFound);
    };
    let published = DateTime::<Utc>::from_timestamp(published_at, 0).unwrap_or_default();
    let local = published.with_timezone(&tz);
    let path = permalink(Kind::Article, &record.slug, Some(published_at), tz);
    if (local.year(), local.month(), local.day()) != (*year, *month, *day) {
        return Ok(Outcome::Redirect(path));
    }
    let settings = &site.settings;
    let open = comments_open(&record, settings, now.timestamp());
    let (taxonomy, comments, discussion_changed) = tokio::try_join!(
        state.store.article_taxonomy(record.id),
        state.store.visible_comments(record.id, &viewer.held),
        state.store.discussion_changed_at(record.id)
    )?;
    (record.categories, record.tags) = taxonomy;
    let (items, pager) =
        discussion::thread(&comments, *comment_page, &path, settings, open, tz).ok_or(AppError::NotFound)?;
    let values = viewer.form.clone().unwrap_or_default();
    let reply_id = viewer.reply_to.or_else(|| values.parent.as_deref().and_then(|p| p.parse().ok()));
    let reply_to = reply_id.and_then(|id| {
        comments.iter().find(|c| c.id == id && c.status == "approved").map(|c| (c.id, c.author_name.clone()))
    });
    let discussion = Discussion {
        count: usize::try_from(record.comment_count).unwrap_or(0),
        open,
        items,
        pager,
        form: FormView {
            values,
            errors: viewer.errors.clone(),
            notice: viewer.notice.clone(),
            token: state.signer.form_token(record.id, now.timestamp()),
            reply_to,
        },
    };
    let page_path = if *comment_page > 1 { format!("{path}comment-page-{comment_page}/") } else { path.clone() };
    let section = record.categories.first().and_then(|c| site.section_of(c.id));
    let mut chrome =
        Chrome::new(state, site, now, section, &page_path, record.headline.clone(), record.standfirst.clone());
    chrome.feeds.extend(super::FeedLink::both(&path, &format!("Comments on: {}", record.headline)));
    let base = state.config.base_url.trim_end_matches('/');
    super::structured::article(&mut chrome, base, site, &record, &format!("{base}{path}"));
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
        path: &path,
        discussion,
    };
    Ok(Outcome::Page(Rendered {
        status: StatusCode::OK,
        content_type: super::HTML,
        html: page.render()?,
        tags: vec![cache_tags::article(record.id)],
        // The page changes with its discussion too (If-Modified-Since).
        last_modified: record.updated_at.max(discussion_changed.unwrap_or(0)),
        expires_at: None,
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
        content_type: super::HTML,
        html: page.render()?,
        tags: vec![cache_tags::article(record.id)],
        last_modified: record.updated_at,
        expires_at: None,
    }))
}

/// Open unless the article forbids comments or is older than the site allows.
pub fn comments_open(record: &ArticleRecord, settings: &DiscussionSettings, now: i64) -> bool {
    let too_old = settings.close_after_days > 0
        && record.published_at.is_some_and(|at| now - at > i64::from(settings.close_after_days) * 86_400);
    record.comments_open != 0 && !too_old
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
        srcset: crate::media::srcset(&src, record.image_width),
        src,
        alt: record.image_alt.clone().unwrap_or_default(),
        width: record.image_width,
        height: record.image_height,
        caption: record.image_caption.clone().unwrap_or_default(),
        credit: record.image_credit.clone().unwrap_or_default(),
    })
}
