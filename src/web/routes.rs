//! The whole URL table, WordPress-compatible so that migrated links keep
//! working, and the parser that turns a public path into a `PublicRoute`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::time::Instant;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::future::{Either, Ready, ready};
use percent_encoding::percent_decode_str;
use tower::util::Oneshot;
use tower::{ServiceBuilder, ServiceExt};
use tower_http::catch_panic::CatchPanicLayer;

use super::{AppState, admin, akismet, comments, edge, hygiene, logging, media, metrics, pages, subscriptions};
use crate::domain::slug::Slug;
use crate::web::error::AppError;

/// Every route the server answers.
///
/// | path | page |
/// | --- | --- |
/// | `/`, `/page/{n}/` | front page |
/// | `/{yyyy}/{mm}/{dd}/{slug}/` | article |
/// | `/category/{slug}/…`, `/tag/{slug}/`, `/author/{slug}/`, `/{yyyy}/{mm}/` (each with `page/{n}/`) | archives |
/// | `/{slug}/` | static page |
/// | `/search/{words}/` (and `/?s=`, `/search?q=`, which redirect there) | search |
/// | `/feed/`, `…/feed/atom/`, `/comments/feed/`, `{article}/feed/`, `/{category,tag,author}/{slug}/feed/` | feeds |
/// | `/sitemap.xml`, `/sitemap-*.xml`, `/news-sitemap.xml`, `/robots.txt` | for crawlers |
/// | `/static/{name}.{hash}.{ext}` | built-in assets |
/// | `/media/{file}` | published images |
/// | `/1.1/{verify-key,comment-check,submit-spam,submit-ham,get-subscription,get-stats,deactivate,test}`, `/1.2/{key-sites,usage-limit}` | Akismet-compatible spam API |
/// | `/healthz` | health check |
/// | `/metrics` | Prometheus metrics, with the configured token only |
pub fn site(state: AppState) -> Site {
    let routes = Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics::show))
        .route("/static/{file}", get(static_asset))
        // The Akismet-compatible spam API.
        .route(
            "/1.1/{method}",
            get(akismet::handle).post(akismet::handle).layer(DefaultBodyLimit::max(akismet::MAX_BODY)),
        )
        .route(
            "/1.2/{method}",
            get(akismet::handle).post(akismet::handle).layer(DefaultBodyLimit::max(akismet::MAX_BODY)),
        )
        .nest_service("/media", media::router(&state.media))
        // The links in readers' mail.
        .route("/subscriptions/{token}/confirm", get(subscriptions::confirm_page).post(subscriptions::confirm))
        .route(
            "/subscriptions/{token}/unsubscribe",
            get(subscriptions::unsubscribe_page).post(subscriptions::unsubscribe),
        )
        // The newsroom admin.
        .merge(admin::router())
        .route("/", get(pages::public_page))
        // Every other public address; POST to an article's address posts a comment.
        .route("/{*path}", get(pages::public_page).post(comments::post_comment))
        .with_state(state.clone());
    // The middleware wraps the whole router once, outermost first. (Added
    // with `Router::layer` it would wrap each route, and every request would
    // clone a boxed copy of each layer: 9 % of the CPU of a cached page.)
    let log =
        logging::RequestLog { https: state.config.base_url.starts_with("https://"), metrics: state.metrics.clone() };
    let stack = ServiceBuilder::new()
        // A bug must cost one request a 500, never the connection or the process.
        .layer(CatchPanicLayer::custom(|_| panicked()))
        // A body that stops arriving halfway is cut off.
        .layer(middleware::from_fn_with_state(state.config.limits.body_timeout, edge::body_deadline))
        .layer(middleware::from_fn_with_state(log.clone(), logging::log_request))
        // No control characters in any field; a form over the size limit gets 413.
        .layer(middleware::from_fn(hygiene::refuse_control_characters))
        .service(routes);
    Site { state, log, routes: Router::new().fallback_service(stack) }
}

/// The answer to a request whose handler panicked.
fn panicked() -> Response {
    AppError::Internal(anyhow::anyhow!("handler panicked")).into_response()
}

/// The whole site as the server's connections see it: a fast lane for the
/// pages the cache can answer at once, and the routes behind their
/// middleware for everything else.
#[derive(Clone)]
pub struct Site {
    state: AppState,
    log: logging::RequestLog,
    routes: Router,
}

impl Site {
    /// Answers `request`, which came from `peer`.
    ///
    /// A `GET` the page cache can answer at once ([`pages::cached_answer`])
    /// is answered here, with the same headers, metrics and log line as the
    /// long way, without the middleware and the routes (which took half the
    /// CPU of a cached page) and without waiting on anything. Every other
    /// request goes through the middleware to its route.
    pub fn answer(
        &self,
        request: Request,
        peer: SocketAddr,
    ) -> Either<Ready<Result<Response, Infallible>>, Oneshot<Router, Request>> {
        let started = Instant::now();
        let answer = match panic::catch_unwind(AssertUnwindSafe(|| pages::cached_answer(&self.state, &request))) {
            Ok(Some(response)) => response,
            Ok(None) => {
                let mut request = request;
                request.extensions_mut().insert(ConnectInfo(peer));
                return Either::Right(self.routes.clone().oneshot(request));
            }
            Err(_) => panicked(),
        };
        Either::Left(ready(Ok(self.log.finish(request.method(), request.uri().path(), started, answer))))
    }
}

async fn health(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], "ok\n").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, [(header::CACHE_CONTROL, "no-store")], "database unavailable\n")
                .into_response()
        }
    }
}

async fn static_asset(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    match state.assets.get(uri.path()) {
        Some(asset) => asset.page.respond(&headers),
        None => AppError::NotFound.into_response(),
    }
}

/// A public page, as its address names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicRoute {
    Front {
        page: u32,
    },
    /// An article and which page of its comments.
    Article {
        year: i32,
        month: u32,
        day: u32,
        slug: String,
        comment_page: u32,
    },
    Month {
        year: i32,
        month: u32,
        page: u32,
    },
    /// The slugs from the top category down.
    Category {
        path: Vec<String>,
        page: u32,
    },
    Tag {
        slug: String,
        page: u32,
    },
    Author {
        slug: String,
        page: u32,
    },
    Page {
        slug: String,
    },
    /// `/search/{words}/`: search results (the words joined by `+`).
    Search {
        words: String,
        page: u32,
    },
    /// `/sitemap.xml` and the sitemaps it lists.
    /// A sitemap and which part of it (from 1; a part holds at most 50,000 URLs).
    Sitemap(Sitemap, u32),
    /// `/news-sitemap.xml`: Google News's sitemap of the last 48 hours.
    NewsSitemap,
    /// `/robots.txt`.
    Robots,
    /// A feed of articles or comments, RSS 2.0 or Atom.
    Feed {
        scope: FeedScope,
        format: FeedFormat,
    },
}

/// One of the sitemaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sitemap {
    /// `/sitemap.xml`: the index of the others.
    Index,
    /// `/sitemap-articles-{yyyy}-{mm}.xml`: one month's articles.
    Articles { year: i32, month: u32 },
    /// `/sitemap-pages.xml`.
    Pages,
    /// `/sitemap-categories.xml`.
    Categories,
    /// `/sitemap-tags.xml`.
    Tags,
    /// `/sitemap-authors.xml`.
    Authors,
}

impl Sitemap {
    /// Its address.
    pub fn path(self) -> String {
        match self {
            Sitemap::Index => "/sitemap.xml".to_owned(),
            Sitemap::Articles { year, month } => format!("/sitemap-articles-{year:04}-{month:02}.xml"),
            Sitemap::Pages => "/sitemap-pages.xml".to_owned(),
            Sitemap::Categories => "/sitemap-categories.xml".to_owned(),
            Sitemap::Tags => "/sitemap-tags.xml".to_owned(),
            Sitemap::Authors => "/sitemap-authors.xml".to_owned(),
        }
    }

    /// The address of one part of it: the first is [`Sitemap::path`], the
    /// others add their number (`/sitemap-tags-2.xml`).
    pub fn part_path(self, part: u32) -> String {
        let path = self.path();
        if part <= 1 {
            return path;
        }
        format!("{}-{part}.xml", path.trim_end_matches(".xml"))
    }

    /// The sitemap and part at `path`; the index has no parts.
    fn parse_part(path: &str) -> Option<(Sitemap, u32)> {
        if let Some(sitemap) = Sitemap::parse(path) {
            return Some((sitemap, 1));
        }
        let (base, part) = path.strip_suffix(".xml")?.rsplit_once('-')?;
        let part: u32 = part.parse().ok().filter(|n| *n >= 2 && !part.starts_with('0'))?;
        let sitemap = Sitemap::parse(&format!("{base}.xml")).filter(|s| *s != Sitemap::Index)?;
        Some((sitemap, part))
    }

    fn parse(path: &str) -> Option<Sitemap> {
        Some(match path {
            "/sitemap.xml" => Sitemap::Index,
            "/sitemap-pages.xml" => Sitemap::Pages,
            "/sitemap-categories.xml" => Sitemap::Categories,
            "/sitemap-tags.xml" => Sitemap::Tags,
            "/sitemap-authors.xml" => Sitemap::Authors,
            _ => {
                let (year, month) = path.strip_prefix("/sitemap-articles-")?.strip_suffix(".xml")?.split_once('-')?;
                let (year, month) = (number(year, 4)?, number(month, 2)?);
                if !(1..=12).contains(&month) {
                    return None;
                }
                Sitemap::Articles { year: year as i32, month }
            }
        })
    }
}

/// What a feed lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedScope {
    /// The newest articles of the site: `/feed/`.
    Site,
    /// A category's articles (the slugs from the top down): `/category/{slug}/feed/`.
    Category(Vec<String>),
    /// `/tag/{slug}/feed/`.
    Tag(String),
    /// `/author/{slug}/feed/`.
    Author(String),
    /// The newest approved comments of the whole site: `/comments/feed/`.
    Comments,
    /// One article's approved comments: `{article}/feed/`.
    ArticleComments { year: i32, month: u32, day: u32, slug: String },
}

/// The two feed formats; WordPress's addresses: `…/feed/` is RSS 2.0, `…/feed/atom/` Atom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Rss,
    Atom,
}

/// What a public path turns out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parsed {
    Route(PublicRoute),
    /// The canonical form of the same address (trailing slash, `page/1/`).
    Redirect(String),
    NotFound,
    BadRequest(&'static str),
}

/// Longest path we read; longer ones get 414.
pub const MAX_PATH: usize = 2048;
/// Longest query string we read: room for a search of 10 kB of any script
/// (`/?s=`, percent-encoded to three times its size); longer ones get 414.
pub const MAX_QUERY: usize = 48 * 1024;

impl PublicRoute {
    /// Parses a raw (percent-encoded) request path.
    pub fn parse(raw: &str) -> Parsed {
        let Ok(decoded) = percent_decode_str(raw).decode_utf8() else {
            return Parsed::BadRequest("the address is not valid UTF-8");
        };
        if decoded.chars().any(char::is_control) {
            return Parsed::BadRequest("the address contains control characters");
        }
        if !decoded.starts_with('/') {
            return Parsed::NotFound;
        }
        // The files of the site's root keep their names, without a slash.
        let file = match decoded.as_ref() {
            "/robots.txt" => Some(PublicRoute::Robots),
            "/news-sitemap.xml" => Some(PublicRoute::NewsSitemap),
            path => Sitemap::parse_part(path).map(|(sitemap, part)| PublicRoute::Sitemap(sitemap, part)),
        };
        if let Some(route) = file {
            return if raw == decoded { Parsed::Route(route) } else { Parsed::Redirect(decoded.into_owned()) };
        }
        if !decoded.ends_with('/') {
            // Add the slash only where that leads to a page of ours.
            let with_slash = format!("{raw}/");
            return match PublicRoute::parse(&with_slash) {
                Parsed::Route(_) | Parsed::Redirect(_) => Parsed::Redirect(with_slash),
                other => other,
            };
        }
        let mut segments: Vec<&str> =
            if decoded == "/" { Vec::new() } else { decoded[1..decoded.len() - 1].split('/').collect() };
        if segments.iter().any(|s| s.is_empty()) {
            return Parsed::NotFound;
        }
        // A feed: the address of something with a feed, then `feed/`. Anything
        // else named "feed" (an article, a tag) is routed as itself.
        let feed = match segments.as_slice() {
            [rest @ .., "feed"] => Some((rest, Some(FeedFormat::Rss))),
            [rest @ .., "feed", "atom"] => Some((rest, Some(FeedFormat::Atom))),
            // WordPress's other name for the RSS 2.0 feed.
            [rest @ .., "feed", "rss2"] => Some((rest, None)),
            _ => None,
        };
        if let Some((rest, format)) = feed
            && let Some(scope) = FeedScope::parse(rest)
        {
            // Every segment of `rest` is a keyword, slug or number: the
            // redirect cannot leave the site.
            let prefix: String = rest.iter().map(|s| format!("/{s}")).collect();
            return match format {
                None => Parsed::Redirect(format!("{prefix}/feed/")),
                Some(_) if raw != decoded => Parsed::Redirect(decoded.into_owned()),
                Some(format) => Parsed::Route(PublicRoute::Feed { scope, format }),
            };
        }
        // A search's words may be any text: its address is not rewritten.
        if segments.first() == Some(&"search") {
            let page = match segments.as_slice() {
                [_, _] => 1,
                [_, _, "page", number] => match number.parse::<u32>() {
                    Ok(n) if (2..=100_000).contains(&n) && !number.starts_with('0') => n,
                    _ => return Parsed::NotFound,
                },
                _ => return Parsed::NotFound,
            };
            return Parsed::Route(PublicRoute::Search { words: segments[1].to_owned(), page });
        }
        let mut page = 1;
        if segments.len() >= 2 && segments[segments.len() - 2] == "page" {
            match segments[segments.len() - 1].parse::<u32>() {
                Ok(n) if (1..=100_000).contains(&n) && !segments[segments.len() - 1].starts_with('0') => page = n,
                _ => return Parsed::NotFound,
            }
            segments.truncate(segments.len() - 2);
            if page == 1 {
                // Only to an address of ours: every segment of a route is a slug
                // or a number, so nothing like `/\evil.example/` can come out.
                let prefix: String = segments.iter().map(|s| format!("/{s}")).collect();
                let target = format!("{prefix}/");
                return match PublicRoute::parse(&target) {
                    Parsed::Route(_) => Parsed::Redirect(target),
                    _ => Parsed::NotFound,
                };
            }
        }
        let is_slug = |s: &str| Slug::parse(s).is_ok();
        let route = match segments.as_slice() {
            [] => PublicRoute::Front { page },
            ["category", rest @ ..] if !rest.is_empty() && rest.iter().all(|s| is_slug(s)) => {
                PublicRoute::Category { path: rest.iter().map(|s| (*s).to_owned()).collect(), page }
            }
            ["tag", slug] if is_slug(slug) => PublicRoute::Tag { slug: (*slug).to_owned(), page },
            ["author", slug] if is_slug(slug) => PublicRoute::Author { slug: (*slug).to_owned(), page },
            [year, month] => match (number(year, 4), number(month, 2)) {
                (Some(year), Some(month)) if (1..=12).contains(&month) => {
                    PublicRoute::Month { year: year as i32, month, page }
                }
                _ => return Parsed::NotFound,
            },
            [year, month, day, slug, rest @ ..] if page == 1 && is_slug(slug) && rest.len() <= 1 => {
                let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2)) else {
                    return Parsed::NotFound;
                };
                let comment_page = match rest {
                    [] => 1,
                    [cp] => match cp.strip_prefix("comment-page-").and_then(|n| n.parse::<u32>().ok()) {
                        // Built from the parsed numbers and a valid slug only,
                        // so the redirect cannot leave the site.
                        Some(1) => return Parsed::Redirect(format!("/{year:04}/{month:02}/{day:02}/{slug}/")),
                        Some(n) if n >= 2 && !cp.ends_with("-0") => n,
                        _ => return Parsed::NotFound,
                    },
                    _ => return Parsed::NotFound,
                };
                PublicRoute::Article { year: year as i32, month, day, slug: (*slug).to_owned(), comment_page }
            }
            [slug] if page == 1 && is_slug(slug) => PublicRoute::Page { slug: (*slug).to_owned() },
            _ => return Parsed::NotFound,
        };
        // One address per page: `%6C` for `l` redirects to the plain form, so
        // the page cache cannot be filled with copies under other spellings.
        if raw != decoded {
            return Parsed::Redirect(decoded.into_owned());
        }
        Parsed::Route(route)
    }
}

impl PublicRoute {
    /// The address of an article route's first page: `/{yyyy}/{mm}/{dd}/{slug}/`.
    pub fn article_path(&self) -> String {
        match self {
            PublicRoute::Article { year, month, day, slug, .. } => format!("/{year:04}/{month:02}/{day:02}/{slug}/"),
            _ => "/".to_owned(),
        }
    }
}

impl FeedScope {
    /// What the segments before `feed/` name, if they name something with a feed.
    fn parse(segments: &[&str]) -> Option<FeedScope> {
        let is_slug = |s: &str| Slug::parse(s).is_ok();
        Some(match segments {
            [] => FeedScope::Site,
            ["comments"] => FeedScope::Comments,
            ["category", rest @ ..] if !rest.is_empty() && rest.iter().all(|s| is_slug(s)) => {
                FeedScope::Category(rest.iter().map(|s| (*s).to_owned()).collect())
            }
            ["tag", slug] if is_slug(slug) => FeedScope::Tag((*slug).to_owned()),
            ["author", slug] if is_slug(slug) => FeedScope::Author((*slug).to_owned()),
            [year, month, day, slug] if is_slug(slug) => {
                let (year, month, day) = (number(year, 4)?, number(month, 2)?, number(day, 2)?);
                FeedScope::ArticleComments { year: year as i32, month, day, slug: (*slug).to_owned() }
            }
            _ => return None,
        })
    }
}

/// Exactly `digits` ASCII digits.
fn number(text: &str, digits: usize) -> Option<u32> {
    (text.len() == digits && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> PublicRoute {
        match PublicRoute::parse(path) {
            Parsed::Route(route) => route,
            other => panic!("{path}: {other:?}"),
        }
    }

    #[test]
    fn every_url_form() {
        assert_eq!(route("/"), PublicRoute::Front { page: 1 });
        assert_eq!(route("/page/3/"), PublicRoute::Front { page: 3 });
        assert_eq!(
            route("/2026/11/20/night-ferry/"),
            PublicRoute::Article { year: 2026, month: 11, day: 20, slug: "night-ferry".into(), comment_page: 1 }
        );
        assert_eq!(
            route("/2026/11/20/night-ferry/comment-page-3/"),
            PublicRoute::Article { year: 2026, month: 11, day: 20, slug: "night-ferry".into(), comment_page: 3 }
        );
        assert_eq!(route("/2026/11/"), PublicRoute::Month { year: 2026, month: 11, page: 1 });
        assert_eq!(route("/2026/11/page/2/"), PublicRoute::Month { year: 2026, month: 11, page: 2 });
        assert_eq!(
            route("/category/news/local/"),
            PublicRoute::Category { path: vec!["news".into(), "local".into()], page: 1 }
        );
        assert_eq!(route("/tag/ferries/page/2/"), PublicRoute::Tag { slug: "ferries".into(), page: 2 });
        assert_eq!(route("/author/ana-ruiz/"), PublicRoute::Author { slug: "ana-ruiz".into(), page: 1 });
        assert_eq!(route("/privacy/"), PublicRoute::Page { slug: "privacy".into() });
    }

    #[test]
    fn feed_addresses() {
        let feed = |scope, format| PublicRoute::Feed { scope, format };
        assert_eq!(route("/feed/"), feed(FeedScope::Site, FeedFormat::Rss));
        assert_eq!(route("/feed/atom/"), feed(FeedScope::Site, FeedFormat::Atom));
        assert_eq!(route("/comments/feed/"), feed(FeedScope::Comments, FeedFormat::Rss));
        assert_eq!(
            route("/category/news/local/feed/atom/"),
            feed(FeedScope::Category(vec!["news".into(), "local".into()]), FeedFormat::Atom)
        );
        assert_eq!(route("/tag/ferries/feed/"), feed(FeedScope::Tag("ferries".into()), FeedFormat::Rss));
        assert_eq!(route("/author/ana-ruiz/feed/"), feed(FeedScope::Author("ana-ruiz".into()), FeedFormat::Rss));
        assert_eq!(
            route("/2026/11/20/night-ferry/feed/"),
            feed(
                FeedScope::ArticleComments { year: 2026, month: 11, day: 20, slug: "night-ferry".into() },
                FeedFormat::Rss
            )
        );
        assert_eq!(PublicRoute::parse("/feed"), Parsed::Redirect("/feed/".into()));
        assert_eq!(PublicRoute::parse("/feed/rss2/"), Parsed::Redirect("/feed/".into()));
        assert_eq!(PublicRoute::parse("/tag/x/feed/rss2/"), Parsed::Redirect("/tag/x/feed/".into()));
        for path in ["/feed/x/", "/page/2/feed/", "/privacy/feed/", "/feed/atom/atom/", "/2026/1/20/a/feed/"] {
            assert_eq!(PublicRoute::parse(path), Parsed::NotFound, "{path}");
        }
        // Articles, tags and categories may be called "feed".
        assert_eq!(
            route("/2026/12/03/feed/"),
            PublicRoute::Article { year: 2026, month: 12, day: 3, slug: "feed".into(), comment_page: 1 }
        );
        assert_eq!(route("/tag/feed/"), PublicRoute::Tag { slug: "feed".into(), page: 1 });
        assert_eq!(route("/tag/feed/page/2/"), PublicRoute::Tag { slug: "feed".into(), page: 2 });
        assert_eq!(route("/tag/feed/feed/"), feed(FeedScope::Tag("feed".into()), FeedFormat::Rss));
        assert_eq!(route("/category/feed/"), PublicRoute::Category { path: vec!["feed".into()], page: 1 });
    }

    #[test]
    fn search_addresses() {
        assert_eq!(route("/search/night+ferry/"), PublicRoute::Search { words: "night+ferry".into(), page: 1 });
        assert_eq!(route("/search/ferry/page/2/"), PublicRoute::Search { words: "ferry".into(), page: 2 });
        assert_eq!(route("/search/Ib%C3%A1%C3%B1ez/"), PublicRoute::Search { words: "Ibáñez".into(), page: 1 });
        assert_eq!(PublicRoute::parse("/search/x/page/1/"), Parsed::NotFound);
        assert_eq!(PublicRoute::parse("/search/x/page/02/"), Parsed::NotFound);
        assert_eq!(PublicRoute::parse("/search/"), Parsed::NotFound);
    }

    #[test]
    fn discovery_files() {
        assert_eq!(route("/robots.txt"), PublicRoute::Robots);
        assert_eq!(route("/news-sitemap.xml"), PublicRoute::NewsSitemap);
        assert_eq!(route("/sitemap.xml"), PublicRoute::Sitemap(Sitemap::Index, 1));
        assert_eq!(route("/sitemap-tags.xml"), PublicRoute::Sitemap(Sitemap::Tags, 1));
        assert_eq!(route("/sitemap-tags-2.xml"), PublicRoute::Sitemap(Sitemap::Tags, 2));
        assert_eq!(
            route("/sitemap-articles-2026-11-3.xml"),
            PublicRoute::Sitemap(Sitemap::Articles { year: 2026, month: 11 }, 3)
        );
        for path in ["/sitemap-2.xml", "/sitemap-tags-1.xml", "/sitemap-tags-02.xml", "/sitemap-tags-x.xml"] {
            assert!(!matches!(PublicRoute::parse(path), Parsed::Route(_)), "{path}");
        }
        assert_eq!(
            route("/sitemap-articles-2026-11.xml"),
            PublicRoute::Sitemap(Sitemap::Articles { year: 2026, month: 11 }, 1)
        );
        for sitemap in [Sitemap::Index, Sitemap::Articles { year: 2026, month: 1 }, Sitemap::Pages, Sitemap::Authors] {
            assert_eq!(route(&sitemap.path()), PublicRoute::Sitemap(sitemap, 1));
            if sitemap != Sitemap::Index {
                assert_eq!(route(&sitemap.part_path(7)), PublicRoute::Sitemap(sitemap, 7));
            }
        }
        for path in ["/sitemap-articles-2026-13.xml", "/sitemap-articles-26-11.xml", "/sitemap.xml/", "/sitemap-x.xml"]
        {
            assert_eq!(PublicRoute::parse(path), Parsed::NotFound, "{path}");
        }
    }

    #[test]
    fn canonical_redirects() {
        assert_eq!(PublicRoute::parse("/privacy"), Parsed::Redirect("/privacy/".into()));
        assert_eq!(PublicRoute::parse("/tag/x/page/1/"), Parsed::Redirect("/tag/x/".into()));
        assert_eq!(PublicRoute::parse("/page/1/"), Parsed::Redirect("/".into()));
        assert_eq!(PublicRoute::parse("/2026/11/20/a/comment-page-1/"), Parsed::Redirect("/2026/11/20/a/".into()));
        assert_eq!(PublicRoute::parse("/privac%79/"), Parsed::Redirect("/privacy/".into()));
    }

    #[test]
    fn redirects_never_leave_the_site() {
        for path in [
            "/%5Cevil.com/page/1/",
            "/%5Cevil.com/page/1",
            "//evil.com/page/1/",
            "/%2F%2Fevil.com/page/1/",
            "/%5Cevil.example/feed/rss2/",
            "/%5Cevil.example/feed/rss2",
            "/%2F%2Fevil.example/feed/rss2/",
            "/%5C202/3160/2/h-al/comment-page-1/",
            "/\\202/3160/2/h-al/comment-page-1/",
        ] {
            match PublicRoute::parse(path) {
                Parsed::Redirect(to) => {
                    assert!(to.starts_with('/') && !to.starts_with("//") && !to.contains('\\'), "{path} -> {to}")
                }
                other => assert!(matches!(other, Parsed::NotFound | Parsed::BadRequest(_)), "{path}: {other:?}"),
            }
        }
        assert_eq!(PublicRoute::parse("/%5Cevil.com/page/1/"), Parsed::NotFound);
    }

    #[test]
    fn malformed_paths() {
        for path in [
            "//",
            "/a//b/",
            "/2026/13/",
            "/2026/1/",
            "/page/0/",
            "/page/x/",
            "/page/01/",
            "/UPPER/",
            "/../etc/passwd/",
            "/wp-login.php",
            "/a/b/c/",
            "/2026/11/20/slug/page/2/",
        ] {
            assert_eq!(PublicRoute::parse(path), Parsed::NotFound, "{path}");
        }
        assert!(matches!(PublicRoute::parse("/%FF%FE/"), Parsed::BadRequest(_)));
        assert!(matches!(PublicRoute::parse("/a%00b/"), Parsed::BadRequest(_)));
    }
}
