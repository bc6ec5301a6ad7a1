//! `/metrics` in Prometheus' text format (OpenMetrics): requests and their
//! latency by route, page-cache hits and misses, what happened to submitted
//! comments, the spam filter's verdicts, how long changes announced on
//! PostgreSQL take to reach this server, and the database pool. Never public: served only with the configured token
//! (`Authorization: Bearer …`), and a 404 like any unknown page otherwise.

use std::sync::atomic::AtomicI64;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::AppError;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    /// `2xx`, `3xx`, `4xx` or `5xx`.
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    pub route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabel {
    pub outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    /// `comment_form` (this site's readers) or `api` (sites using the Akismet API).
    pub source: &'static str,
    /// `ham`, `doubtful`, `spam` or `blatant_spam`.
    pub verdict: &'static str,
}

/// The server's metrics, one set per running server.
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub latency: Family<RouteLabel, Histogram>,
    pub cache_hits: Counter,
    pub cache_misses: Counter,
    pub comments: Family<OutcomeLabel, Counter>,
    pub verdicts: Family<VerdictLabels, Counter>,
    /// From a change's announcement on PostgreSQL to this server's cache
    /// being up to date with it (the two servers' clocks may differ a little).
    pub notification_lag: Histogram,
    pool_connections: Gauge<i64, AtomicI64>,
    pool_idle: Gauge<i64, AtomicI64>,
}

/// Request latency buckets: 0.25 ms to about 4 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 15))
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("broadsheet");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered, by route and status class", requests.clone());
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register("http_request_duration_seconds", "Time to answer a request, by route", latency.clone());
        let cache_hits = Counter::default();
        registry.register("page_cache_hits", "Public pages answered from the page cache", cache_hits.clone());
        let cache_misses = Counter::default();
        registry.register(
            "page_cache_misses",
            "Public pages rendered because the cache had none",
            cache_misses.clone(),
        );
        let comments = Family::<OutcomeLabel, Counter>::default();
        registry.register(
            "comments",
            "Comments sent through the article form, by what became of them",
            comments.clone(),
        );
        let verdicts = Family::<VerdictLabels, Counter>::default();
        registry.register("spam_verdicts", "The spam filter's verdicts, by source", verdicts.clone());
        let notification_lag = latency_histogram();
        registry.register(
            "notification_lag_seconds",
            "From a change announced on PostgreSQL to this server applying it",
            notification_lag.clone(),
        );
        let pool_connections = Gauge::default();
        registry.register("db_pool_connections", "Open database connections", pool_connections.clone());
        let pool_idle = Gauge::default();
        registry.register("db_pool_idle_connections", "Database connections not in use", pool_idle.clone());
        Metrics {
            registry,
            requests,
            latency,
            cache_hits,
            cache_misses,
            comments,
            verdicts,
            notification_lag,
            pool_connections,
            pool_idle,
        }
    }
}

impl Metrics {
    /// Counts one answered request.
    pub fn request(&self, path: &str, status: StatusCode, seconds: f64) {
        let route = route_of(path);
        let status = match status.as_u16() {
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        self.requests.get_or_create(&RequestLabels { route, status }).inc();
        self.latency.get_or_create(&RouteLabel { route }).observe(seconds);
    }

    /// Counts one verdict of the spam filter.
    pub fn verdict(&self, api: bool, decision: spamfilter::Decision) {
        let verdict = match decision {
            spamfilter::Decision::Ham => "ham",
            spamfilter::Decision::Doubtful => "doubtful",
            spamfilter::Decision::Spam => "spam",
            spamfilter::Decision::BlatantSpam => "blatant_spam",
        };
        self.verdicts.get_or_create(&VerdictLabels { source: if api { "api" } else { "comment_form" }, verdict }).inc();
    }

    /// Counts what became of a comment sent through the article form.
    pub fn comment(&self, outcome: &'static str) {
        self.comments.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// The metrics as text, with the pool's figures as of now.
    fn render(&self, pool: (u32, usize)) -> Result<String, std::fmt::Error> {
        self.pool_connections.set(i64::from(pool.0));
        self.pool_idle.set(i64::try_from(pool.1).unwrap_or(i64::MAX));
        let mut text = String::with_capacity(8192);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// The route a path belongs to, as a label with few values.
pub fn route_of(path: &str) -> &'static str {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
    match first {
        "" => "front",
        "admin" => "admin",
        "1.1" | "1.2" => "spam_api",
        "static" => "static",
        "media" => "media",
        "search" => "search",
        "feed" | "comments" => "feed",
        "healthz" => "health",
        "metrics" => "metrics",
        "category" | "tag" | "author" | "page" => "archive",
        _ if path.ends_with("/feed/") || path.ends_with("/feed/atom/") => "feed",
        _ if first.starts_with("sitemap") || first.starts_with("news-sitemap") || first == "robots.txt" => "crawler",
        _ => "page",
    }
}

/// `GET /metrics`.
pub async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(token) = &state.config.metrics_token else {
        return AppError::NotFound.into_response();
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim();
    if !bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
        return AppError::NotFound.into_response();
    }
    match state.metrics.render(state.store.pool_use()) {
        Ok(text) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            text,
        )
            .into_response(),
        Err(err) => AppError::Internal(anyhow::anyhow!("cannot encode the metrics: {err}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_have_few_names() {
        assert_eq!(route_of("/"), "front");
        assert_eq!(route_of("/2026/12/04/ferry/"), "page");
        assert_eq!(route_of("/2026/12/04/ferry/feed/"), "feed");
        assert_eq!(route_of("/category/news/page/2/"), "archive");
        assert_eq!(route_of("/1.1/comment-check"), "spam_api");
        assert_eq!(route_of("/sitemap-2026-12.xml"), "crawler");
        assert_eq!(route_of("/admin/comments"), "admin");
    }

    #[test]
    fn the_text_names_every_family() {
        let metrics = Metrics::default();
        metrics.request("/", StatusCode::OK, 0.001);
        metrics.verdict(true, spamfilter::Decision::Spam);
        metrics.comment("pending");
        let text = metrics.render((3, 2)).expect("encoded");
        for line in [
            "broadsheet_http_requests_total{route=\"front\",status=\"2xx\"} 1",
            "broadsheet_spam_verdicts_total{source=\"api\",verdict=\"spam\"} 1",
            "broadsheet_comments_total{outcome=\"pending\"} 1",
            "broadsheet_db_pool_connections 3",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
    }
}
