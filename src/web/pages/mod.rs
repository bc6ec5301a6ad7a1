//! Public pages: the handler behind every public address, the layout data
//! every page shares, and dispatch to the page kinds.

mod article;
pub mod discussion;
mod feeds;
mod listing;
mod old_links;
mod search;
mod sitemaps;
mod structured;

use std::sync::Arc;

use askama::Template;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::PrivateCookieJar;
use chrono::{DateTime, Utc};

use super::AppState;
use super::cache::{CachedPage, HTML_CACHE_CONTROL, Lookup};
use super::comments::Viewer;
use super::error::AppError;
use super::routes::{Parsed, PublicRoute};
use crate::domain::article::Kind;
use crate::domain::dates;
use crate::domain::moderation::DiscussionSettings;
use crate::publishing::permalink;
use crate::store::{CategoryRow, Listing, NamedRef};

pub use article::comments_open;

pub const HTML: &str = "text/html; charset=utf-8";
/// The 404 page is the same for every address; it is cached under this key.
const NOT_FOUND_KEY: &str = "\0not-found";

/// A rendered page and what it depends on.
pub struct Rendered {
    pub status: StatusCode,
    /// `text/html` for pages; feeds name their own.
    pub content_type: &'static str,
    pub html: String,
    pub tags: Vec<String>,
    /// Unix second of the newest content it shows.
    pub last_modified: i64,
    /// When it goes stale by itself (besides at midnight, for its dates).
    pub expires_at: Option<i64>,
}

pub enum Outcome {
    Page(Rendered),
    Redirect(String),
}

/// Answers every public address: from the cache when it can, else renders,
/// caches and answers.
pub async fn public_page(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let now = Utc::now();
    if let Err(err) = state.changes.catch_up(&state.cache, now.timestamp()).await {
        tracing::warn!(error = %err, "cannot read the cache-invalidation log; serving what is cached");
    }
    let path = uri.path();
    // A reader with held comments, a remembered name or a reply link sees
    // their own version of an article page, never cached.
    if (headers.contains_key(header::COOKIE) || uri.query().is_some())
        && let Some(viewer) = Viewer::from_request(
            &PrivateCookieJar::from_headers(&headers, state.signer.cookie_key().clone()),
            uri.query(),
        )
        && let Parsed::Route(route @ PublicRoute::Article { .. }) = PublicRoute::parse(path)
    {
        return match render_article_for(&state, &route, now, &viewer).await {
            Ok(Outcome::Page(page)) => private_response(page),
            Ok(Outcome::Redirect(to)) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response(),
            Err(AppError::NotFound) => not_found(&state, now, &headers).await,
            Err(err) => err.into_response(),
        };
    }
    // An imported site's query addresses (`/?p=12`, `/?cat=3`, `/?feed=rss2`…).
    if old_links::is_old_query(path, uri.query()) {
        if let Some(to) = old_links::target(&state, path, uri.query(), now).await {
            return (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response();
        }
    }
    // WordPress's search addresses, `/?s=` and `/search?q=`, lead to
    // `/search/{words}/`: the same words always to the same address, so the
    // redirect is permanent (and cacheable), as for WordPress's other old addresses.
    if let Some(target) = search_target(path, uri.query()) {
        return (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, target)]).into_response();
    }
    // Held until the new page is stored: meanwhile, other requests get the page held.
    let _refreshing = match state.cache.lookup(path, now.timestamp()) {
        Lookup::Hit(page) => {
            state.metrics.cache_hits.inc();
            return serve_cached(&page, &headers);
        }
        Lookup::Refresh(claim) => Some(claim),
        Lookup::Miss => None,
    };
    state.metrics.cache_misses.inc();
    let generation = state.cache.generation();
    match render_path(&state, path, now).await {
        Ok(Outcome::Page(rendered)) => serve_fresh(&state, path, rendered, now, generation, &headers),
        Ok(Outcome::Redirect(mut to)) => {
            if let Some(query) = uri.query() {
                to = format!("{to}?{query}");
            }
            (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response()
        }
        Err(AppError::NotFound) => match old_links::target(&state, path, None, now).await {
            // An imported site's old address.
            Some(to) => (StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, to)]).into_response(),
            None => not_found(&state, now, &headers).await,
        },
        Err(err) => err.into_response(),
    }
}

/// The answer to a plain `GET` of a page the cache holds fresh, when it is
/// known current without waiting on anything (see
/// [`ChangeFeed::known_current`](super::changes::ChangeFeed::known_current)):
/// what [`public_page`] would answer, found before the routes and the
/// middleware run. `None` sends the request the long way.
///
/// A query string, a cookie (a reader may see their own version of an
/// article) or a body always go the long way.
pub fn cached_answer(state: &AppState, request: &Request) -> Option<Response> {
    let headers = request.headers();
    let plain = request.method() == Method::GET
        && request.uri().query().is_none()
        && !headers.contains_key(header::COOKIE)
        && !super::edge::has_body(headers);
    if !plain {
        return None;
    }
    let now = Utc::now().timestamp();
    if !state.changes.known_current(now) {
        return None;
    }
    let page = state.cache.get(request.uri().path(), now)?;
    state.metrics.cache_hits.inc();
    Some(serve_cached(&page, headers))
}

/// Where a search sent as a query string belongs: `/?s=…` and `/search?q=…`
/// with at least one word.
fn search_target(path: &str, query: Option<&str>) -> Option<String> {
    let key = match path {
        "/" => "s",
        "/search" | "/search/" => "q",
        _ => return None,
    };
    let (_, text) = form_urlencoded::parse(query?.as_bytes()).find(|(name, _)| name == key)?;
    search::search_path(&text)
}

/// Answers from the cache. The first time a page is read again by a client
/// that takes compression, the copy it prefers is made in the background:
/// brotli takes longer than rendering, and a page read once (as most
/// searches are) never needs it.
fn serve_cached(page: &Arc<CachedPage>, headers: &HeaderMap) -> Response {
    if let Some(encoding) = page.claim_compression(headers) {
        let compress = Arc::clone(page);
        tokio::task::spawn_blocking(move || compress.compress_as(encoding));
    }
    page.respond(headers)
}

/// Caches a freshly rendered page and answers with it, uncompressed.
fn serve_fresh(
    state: &AppState,
    key: &str,
    rendered: Rendered,
    now: DateTime<Utc>,
    generation: u64,
    headers: &HeaderMap,
) -> Response {
    cache_fresh(state, key, rendered, now, generation).respond(headers)
}

/// Stores a page just rendered (from `generation` on: a change since then
/// leaves it out or stale), valid until midnight at most.
fn cache_fresh(
    state: &AppState,
    key: &str,
    rendered: Rendered,
    now: DateTime<Utc>,
    generation: u64,
) -> Arc<CachedPage> {
    let tz = state.config.time_zone;
    let midnight = dates::next_midnight(now, tz);
    let today_start = (midnight - chrono::Duration::days(1)).timestamp();
    let page = Arc::new(
        CachedPage::new(
            rendered.status,
            rendered.content_type,
            HTML_CACHE_CONTROL,
            rendered.html,
            rendered.last_modified.max(today_start),
            rendered.expires_at.map_or(midnight.timestamp(), |at| at.min(midnight.timestamp())),
        )
        .with_surrogate_keys(&rendered.tags),
    );
    state.cache.insert(key, Arc::clone(&page), rendered.tags, generation);
    page
}

/// The newest articles a starting server renders before anyone asks.
const WARM_ARTICLES: u32 = 50;

/// Renders into the page cache what a crowd reads first: the front page,
/// the sections in the navigation, the site feed and the newest articles.
/// Returns how many it rendered (a change meanwhile may keep one out).
///
/// `serve` runs it as it starts. Otherwise a server started, or restarted,
/// in the middle of a spike renders each of those pages on its first
/// reader's request while the others queue (`WARM=0 scripts/bench-cluster.sh`:
/// p99 32–41 ms instead of 17 ms). Readers are served meanwhile; a page a
/// reader asked for first is not rendered again.
pub async fn warm_cache(state: &AppState) -> usize {
    let now = Utc::now();
    let site = match SiteData::load(state, now).await {
        Ok(site) => site,
        Err(err) => {
            tracing::warn!(error = %err, "cannot warm the page cache");
            return 0;
        }
    };
    let mut paths = vec!["/".to_owned()];
    paths.extend(site.categories.iter().filter(|c| c.parent_id.is_none()).map(|c| site.category_href(c.id)));
    paths.push("/feed/".to_owned());
    match state.store.list_articles(Listing::Front, now.timestamp(), WARM_ARTICLES, 0).await {
        Ok(newest) => paths.extend(
            newest.iter().map(|a| permalink(Kind::Article, &a.slug, Some(a.published_at), state.config.time_zone)),
        ),
        Err(err) => tracing::warn!(error = %err, "cannot list the newest articles to warm the page cache"),
    }
    let mut stored = 0;
    for path in paths {
        if state.cache.get(&path, now.timestamp()).is_some() {
            continue;
        }
        let generation = state.cache.generation();
        match render_path(state, &path, now).await {
            Ok(Outcome::Page(rendered)) if rendered.status == StatusCode::OK => {
                cache_fresh(state, &path, rendered, now, generation);
                stored += 1;
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, path, "cannot warm a page"),
        }
    }
    stored
}

/// A page for one reader: not stored by the cache, browsers or CDNs.
pub fn private_response(page: Rendered) -> Response {
    let mut response = (page.status, [(header::CONTENT_TYPE, page.content_type)], page.html).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("private, no-store"));
    response
}

/// The site's 404 page, for handlers that found nothing.
pub async fn not_found_page(state: &AppState, now: DateTime<Utc>) -> Response {
    not_found(state, now, &HeaderMap::new()).await
}

async fn not_found(state: &AppState, now: DateTime<Utc>, headers: &HeaderMap) -> Response {
    if let Some(page) = state.cache.get(NOT_FOUND_KEY, now.timestamp()) {
        return serve_cached(&page, headers);
    }
    let generation = state.cache.generation();
    let rendered = async {
        let site = SiteData::load(state, now).await?;
        let chrome = Chrome::new(state, &site, now, None, "/", "Page not found".into(), String::new());
        let html = NotFoundPage { chrome: &chrome }.render()?;
        Ok::<_, AppError>(Rendered {
            status: StatusCode::NOT_FOUND,
            content_type: HTML,
            html,
            tags: vec![],
            last_modified: 0,
            expires_at: None,
        })
    };
    match rendered.await {
        Ok(rendered) => serve_fresh(state, NOT_FOUND_KEY, rendered, now, generation, headers),
        Err(err) => err.into_response(),
    }
}

/// Renders the public page at `path` as of `now`, bypassing the cache.
pub async fn render_path(state: &AppState, path: &str, now: DateTime<Utc>) -> Result<Outcome, AppError> {
    let route = match PublicRoute::parse(path) {
        Parsed::Route(route) => route,
        Parsed::Redirect(to) => return Ok(Outcome::Redirect(to)),
        Parsed::NotFound => return Err(AppError::NotFound),
        Parsed::BadRequest(why) => return Err(AppError::BadRequest(why)),
    };
    let site = SiteData::load(state, now).await?;
    match &route {
        PublicRoute::Article { .. } => article::show_article(state, &site, now, &route, &Viewer::default()).await,
        PublicRoute::Page { slug } => article::show_page(state, &site, now, slug).await,
        PublicRoute::Sitemap(sitemap, part) => sitemaps::show_sitemap(state, &site, now, *sitemap, *part).await,
        PublicRoute::NewsSitemap => sitemaps::show_news_sitemap(state, &site, now).await,
        PublicRoute::Robots => Ok(sitemaps::robots(state)),
        PublicRoute::Search { words, page } => search::show_search(state, &site, now, words, *page).await,
        PublicRoute::Feed { scope, format } => feeds::show_feed(state, &site, now, path, scope, *format).await,
        _ => listing::show_listing(state, &site, now, &route).await,
    }
}

/// An article page as one reader sees it (their held comments, their form).
pub async fn render_article_for(
    state: &AppState,
    route: &PublicRoute,
    now: DateTime<Utc>,
    viewer: &Viewer,
) -> Result<Outcome, AppError> {
    let site = SiteData::load(state, now).await?;
    article::show_article(state, &site, now, route, viewer).await
}

/// What every page shares: navigation, footer and the discussion settings.
/// Kept in memory until a change logs the site tag (a new category, a page
/// added or renamed, a settings change).
pub struct SiteData {
    /// The name and tagline set in the admin, else the configuration's.
    pub site_name: String,
    pub tagline: String,
    /// Feeds carry summaries, not the full text.
    pub feed_summary: bool,
    pub categories: Vec<CategoryRow>,
    pub pages: Vec<NamedRef>,
    pub settings: DiscussionSettings,
}

impl SiteData {
    pub async fn load(state: &AppState, now: DateTime<Utc>) -> Result<Arc<SiteData>, AppError> {
        if let Some(site) = state.cache.site_data() {
            return Ok(site);
        }
        let generation = state.cache.generation();
        let saved = state.store.site_settings().await?;
        let site = Arc::new(SiteData {
            site_name: saved.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| state.config.site_name.clone()),
            tagline: saved.tagline.unwrap_or_else(|| state.config.tagline.clone()),
            feed_summary: saved.feed_summary.as_deref() == Some("true"),
            categories: state.store.categories().await?,
            pages: state.store.public_pages(now.timestamp()).await?,
            settings: state.store.discussion_settings().await?,
        });
        state.cache.set_site_data(Arc::clone(&site), generation);
        Ok(site)
    }

    /// `/category/parent/child/` for a category.
    pub fn category_href(&self, id: i64) -> String {
        let mut slugs = Vec::new();
        let mut current = self.categories.iter().find(|c| c.id == id);
        while let Some(category) = current {
            if slugs.len() > 16 {
                break;
            }
            slugs.push(category.slug.as_str());
            current = category.parent_id.and_then(|parent| self.categories.iter().find(|c| c.id == parent));
        }
        slugs.reverse();
        format!("/category/{}/", slugs.join("/"))
    }

    /// The top-level ancestor of a category, for highlighting its section.
    pub fn section_of(&self, id: i64) -> Option<i64> {
        let mut current = self.categories.iter().find(|c| c.id == id)?;
        for _ in 0..16 {
            match current.parent_id.and_then(|parent| self.categories.iter().find(|c| c.id == parent)) {
                Some(parent) => current = parent,
                None => break,
            }
        }
        Some(current.id)
    }
}

/// A link in navigation or metadata.
#[derive(Debug, Clone)]
pub struct Link {
    pub href: String,
    pub name: String,
    pub current: bool,
}

/// A feed named in a page's head, for feed readers to discover.
#[derive(Debug, Clone)]
pub struct FeedLink {
    pub href: String,
    pub title: String,
    pub mime: &'static str,
}

impl FeedLink {
    /// The RSS and Atom feeds at `base` (`/`, `/tag/x/`, an article's address).
    pub fn both(base: &str, title: &str) -> [FeedLink; 2] {
        [
            FeedLink { href: format!("{base}feed/"), title: format!("{title} (RSS)"), mime: "application/rss+xml" },
            FeedLink {
                href: format!("{base}feed/atom/"),
                title: format!("{title} (Atom)"),
                mime: "application/atom+xml",
            },
        ]
    }
}

/// The layout every page shares: masthead, date bar, navigation, footer.
pub struct Chrome {
    pub site_name: String,
    pub tagline: String,
    pub title: String,
    pub description: String,
    pub canonical: String,
    pub today: String,
    pub today_iso: String,
    pub stylesheet: String,
    pub favicon: String,
    pub nav: Vec<Link>,
    pub footer: Vec<Link>,
    /// The site's feeds, then the feed of what this page lists.
    pub feeds: Vec<FeedLink>,
    /// Open Graph and Twitter card tags.
    pub meta: Vec<structured::Meta>,
    /// schema.org JSON-LD blocks, each already safe inside a `<script>`.
    pub json_ld: Vec<String>,
    /// Kept out of search engines' indexes (search results).
    pub noindex: bool,
}

impl Chrome {
    pub fn new(
        state: &AppState,
        site: &SiteData,
        now: DateTime<Utc>,
        section: Option<i64>,
        path: &str,
        title: String,
        description: String,
    ) -> Chrome {
        let config = &state.config;
        let tz = config.time_zone;
        let title = if title.is_empty() { site.site_name.clone() } else { format!("{title} — {}", site.site_name) };
        Chrome {
            site_name: site.site_name.clone(),
            tagline: site.tagline.clone(),
            title,
            description: if description.is_empty() { site.tagline.clone() } else { description },
            canonical: format!("{}{path}", config.base_url),
            today: dates::date_bar(now, tz),
            today_iso: now.with_timezone(&tz).format("%Y-%m-%d").to_string(),
            stylesheet: state.assets.path_of("style").to_owned(),
            favicon: state.assets.path_of("favicon").to_owned(),
            nav: site
                .categories
                .iter()
                .filter(|c| c.parent_id.is_none())
                .map(|c| Link { href: site.category_href(c.id), name: c.name.clone(), current: section == Some(c.id) })
                .collect(),
            footer: site
                .pages
                .iter()
                .map(|p| Link { href: format!("/{}/", p.slug), name: p.name.clone(), current: false })
                .collect(),
            feeds: FeedLink::both("/", &site.site_name)
                .into_iter()
                .chain([FeedLink {
                    href: "/comments/feed/".to_owned(),
                    title: format!("Comments on {} (RSS)", site.site_name),
                    mime: "application/rss+xml",
                }])
                .collect(),
            meta: Vec::new(),
            json_ld: Vec::new(),
            noindex: false,
        }
    }
}

#[derive(Template)]
#[template(path = "pages/not_found.html")]
struct NotFoundPage<'a> {
    chrome: &'a Chrome,
}
