//! Serves published images. Names carry a content hash, so answers may be
//! cached for a year; a strict policy keeps an SVG opened on its own from
//! running anything. From the media directory, files are served as they lie;
//! from a bucket, each is read through the media store (a CDN in front keeps
//! that to one read per file).

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Response, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::services::ServeDir;
use tower_http::set_header::SetResponseHeaderLayer;

use super::cache::if_none_match;
use crate::media::{ImageFormat, MediaStore, storage};

const LONG_LIVED: &str = "public, max-age=31536000, immutable";
const POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// The routes mounted at `/media`.
pub fn router(media: &MediaStore) -> Router {
    let Some(dir) = media.local_dir() else {
        return Router::new().route("/{name}", get(from_store)).with_state(media.clone());
    };
    let long_lived =
        |response: &Response<_>| response.status().is_success().then(|| HeaderValue::from_static(LONG_LIVED));
    let service = ServiceBuilder::new()
        .layer(SetResponseHeaderLayer::overriding(header::CACHE_CONTROL, long_lived))
        .layer(SetResponseHeaderLayer::overriding(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY)))
        .service(ServeDir::new(dir).append_index_html_on_directories(false));
    Router::new().fallback_service(service)
}

/// A file of the media store, by name.
async fn from_store(
    State(media): State<MediaStore>,
    Path(name): Path<String>,
    request: HeaderMap,
) -> axum::response::Response {
    let Some(format) = name.rsplit_once('.').and_then(|(_, ext)| ImageFormat::from_extension(ext)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if !storage::is_media_name(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    // The name holds the content's hash: it is the file's identity.
    let etag = format!("\"{name}\"");
    if if_none_match(&request, &[etag.as_bytes()]) == Some(true) {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::ETAG, etag),
                (header::CACHE_CONTROL, LONG_LIVED.to_owned()),
                (header::CONTENT_SECURITY_POLICY, POLICY.to_owned()),
            ],
        )
            .into_response();
    }
    match media.get(&name).await {
        Ok(Some(file)) => {
            let modified =
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(file.modified).unwrap_or(0));
            (
                [
                    (header::CONTENT_TYPE, format.content_type().to_owned()),
                    (header::ETAG, etag),
                    (header::LAST_MODIFIED, httpdate::fmt_http_date(modified)),
                    (header::CACHE_CONTROL, LONG_LIVED.to_owned()),
                    (header::CONTENT_SECURITY_POLICY, POLICY.to_owned()),
                ],
                file.bytes,
            )
                .into_response()
        }
        Ok(None) => (StatusCode::NOT_FOUND, [(header::CONTENT_SECURITY_POLICY, POLICY)]).into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot read a media file");
            (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, "5")], "The media store cannot be reached.\n")
                .into_response()
        }
    }
}
