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
use crate::logs::{self, RequestLine};

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
        if tracing::enabled!(tracing::Level::INFO) {
            let line = RequestLine {
                method: method.as_str(),
                path: path.get(..200).unwrap_or(path),
                status: response.status().as_u16(),
                latency_us: elapsed.as_micros() as u64,
            };
            // Straight into the log buffer, unless the logs are not set up.
            if !logs::request_line(&line) {
                log_through_subscriber(&line);
            }
        }
        response
    }
}

/// The request's line as an event of this module ([`logs::REQUEST_TARGET`]).
fn log_through_subscriber(line: &RequestLine<'_>) {
    tracing::info!(
        http.method = %line.method,
        http.path = line.path,
        http.status = line.status,
        latency_us = line.latency_us,
        "request"
    );
}

#[cfg(test)]
mod tests {
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::config::LogFormat;
    use crate::logs::format_request;

    /// What tracing-subscriber writes for the request event.
    fn through_subscriber(format: LogFormat, request: &RequestLine<'_>) -> String {
        #[derive(Clone, Default)]
        struct Capture(Arc<Mutex<Vec<u8>>>);
        impl Write for Capture {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().expect("lock").extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let capture = Capture::default();
        let out = capture.clone();
        let builder = tracing_subscriber::fmt().with_ansi(false).with_writer(move || out.clone());
        let emit = || {
            log_through_subscriber(request);
        };
        match format {
            LogFormat::Text => tracing::subscriber::with_default(builder.finish(), emit),
            LogFormat::Json => tracing::subscriber::with_default(builder.json().finish(), emit),
        }
        String::from_utf8(capture.0.lock().expect("lock").clone()).expect("utf-8")
    }

    #[test]
    fn request_lines_are_the_subscribers_own() {
        let at = UNIX_EPOCH + Duration::from_micros(1_796_444_298_000_042);
        for path in ["/feed/", "/2026/12/05/a-story/", "/odd\"path\\with\u{7f}é/"] {
            for (method, status) in [("GET", 200), ("POST", 303), ("HEAD", 404)] {
                let request = RequestLine { method, path, status, latency_us: 1234 };
                for format in [LogFormat::Text, LogFormat::Json] {
                    let mut ours = String::new();
                    format_request(&mut ours, format, at, &request);
                    let theirs = through_subscriber(format, &request);
                    // The same but for the time each was written.
                    let start = if format == LogFormat::Text { 0 } else { "{\"timestamp\":\"".len() };
                    let stamp = start..start + "2026-12-05T04:18:18.000042Z".len();
                    assert_eq!(&ours[stamp.clone()], "2026-12-05T04:18:18.000042Z");
                    let mut theirs_at_ours = theirs.clone();
                    theirs_at_ours.replace_range(stamp.clone(), &ours[stamp]);
                    assert_eq!(ours, theirs_at_ours, "{format:?}: {theirs}");
                }
            }
        }
    }
}
