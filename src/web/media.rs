//! Serves published images from the media directory. Names carry a content
//! hash, so answers may be cached for a year; a strict policy keeps an SVG
//! opened on its own from running anything.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, Response, header};
use tower::ServiceBuilder;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

/// The routes mounted at `/media`.
pub fn router(dir: &Path) -> Router {
    let long_lived = |response: &Response<_>| {
        response.status().is_success().then(|| HeaderValue::from_static("public, max-age=31536000, immutable"))
    };
    let service = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, long_lived))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; sandbox"),
        ))
        .service(ServeDir::new(dir).append_index_html_on_directories(false));
    Router::new().fallback_service(service)
}
