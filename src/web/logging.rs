//! One structured log line per request, plus the headers every answer carries.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::AppError;
use super::metrics::Metrics;
use super::routes::{MAX_PATH, MAX_QUERY};

/// What the request log needs of the server.
#[derive(Clone)]
pub struct RequestLog {
    /// The site is served over HTTPS: browsers are told to keep to it.
    pub https: bool,
    /// Where each request is counted, by route (`/metrics`).
    pub metrics: Arc<Metrics>,
}

/// Logs method, path, status and time taken, and counts them in the
/// metrics; refuses over-long addresses before any handler reads them; adds
/// the security headers.
pub async fn log_request(State(log): State<RequestLog>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    // A cheap copy: the URI's bytes are shared, not duplicated.
    let uri = request.uri().clone();
    let response = if uri.path().len() > MAX_PATH || uri.query().map_or(0, str::len) > MAX_QUERY {
        AppError::UriTooLong.into_response()
    } else {
        next.run(request).await
    };
    log.finish(&method, uri.path(), started, response)
}

impl RequestLog {
    /// The end of every request: the security headers, the metrics and the
    /// log line. `path` is the address asked for, `started` when it arrived.
    pub fn finish(&self, method: &Method, path: &str, started: Instant, mut response: Response) -> Response {
        let headers = response.headers_mut();
        headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("SAMEORIGIN"));
        headers.insert(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(
                "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
            ),
        );
        if self.https {
            // A year; subdomains are left to their own choice.
            headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
        }
        headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
            "default-src 'self'; img-src 'self' https: data:; style-src 'self'; script-src 'self'; \
             object-src 'none'; base-uri 'self'; frame-ancestors 'self'; form-action 'self'",
        ));
        let elapsed = started.elapsed();
        self.metrics.request(path, response.status(), elapsed.as_secs_f64());
        tracing::info!(
            http.method = %method,
            http.path = path.get(..200).unwrap_or(path),
            http.status = response.status().as_u16(),
            latency_us = elapsed.as_micros() as u64,
            "request"
        );
        response
    }
}
