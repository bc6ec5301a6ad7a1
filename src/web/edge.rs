//! The edge of the server: accepting connections and holding each to its limits.
//!
//! One client must never be able to take the site from everyone else, so:
//! - a request head must arrive in full within `head_timeout`;
//!   (the same deadline is how long an idle keep-alive connection waits for
//!   its next request: the clock runs from when the server waits for a head);
//! - a request body may pause for at most `body_timeout` between two pieces,
//!   or the request gets `408` ([`body_deadline`]);
//! - a connection on which nothing moves either way for `idle_timeout` is
//!   closed: a client that stops reading its response, for one;
//! - one address holds at most `max_connections_per_address` connections, and
//!   the server at most `max_connections`. Past either, the connection gets
//!   `503` with `Retry-After` and is closed; the accept loop never stops.
//!
//! Connections from trusted proxies count towards the total only: behind a
//! reverse proxy every reader arrives from the proxy's address.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tower_http::timeout::{TimeoutBody, TimeoutError};

use super::client_ip;
use super::routes::Site;
use crate::config::EdgeLimits;

/// Seconds a client turned away should wait before trying again.
const RETRY_AFTER_SECONDS: u64 = 5;
/// Connections being turned away at once; past this, they are closed without an answer.
const MAX_REFUSING: usize = 1024;
/// File descriptors kept for the database, media files and logs.
const RESERVED_FDS: u64 = 256;

/// Serves `site` on `listener` until `shutdown` completes, then lets the
/// requests in flight finish.
pub async fn serve(
    listener: TcpListener,
    site: Site,
    limits: EdgeLimits,
    trusted_proxies: Vec<IpNet>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let gate = Arc::new(Gate::new(effective_max_connections(limits.max_connections), limits, trusted_proxies));
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::spawn(async move {
        shutdown.await;
        let _ = stop_tx.send(true);
    });
    let mut stopping = stop_rx.clone();
    let (done_tx, mut done_rx) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(err) => {
                // Out of file descriptors or memory: wait a moment, never stop.
                tracing::error!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        match gate.admit(peer.ip()) {
            Ok(permit) => {
                let conn = Connection { site: site.clone(), limits, peer, permit, stop: stop_rx.clone() };
                let done = done_tx.clone();
                tokio::spawn(async move {
                    conn.run(stream).await;
                    drop(done);
                });
            }
            Err(refusal) => gate.refuse(stream, peer, refusal),
        }
    }
    drop(listener);
    drop(done_tx);
    // Every connection task holds a sender: this returns when the last one ends.
    let _ = done_rx.recv().await;
}

/// The open-file limit raised as far as the system allows, and the
/// connection cap kept below it so that accepting never runs out.
fn effective_max_connections(configured: usize) -> usize {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(files) => {
            let room = usize::try_from(files.saturating_sub(RESERVED_FDS).max(16)).unwrap_or(usize::MAX);
            if room < configured {
                tracing::warn!(
                    configured,
                    open_file_limit = files,
                    used = room,
                    "max_connections lowered to fit the open-file limit"
                );
            }
            configured.min(room)
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the open-file limit");
            configured
        }
    }
}

/// Why a connection was turned away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The server holds `max_connections` already.
    Full,
    /// This address holds `max_connections_per_address` already.
    AddressFull,
}

/// Counts open connections, per address and in all.
pub struct Gate {
    max_total: usize,
    max_per_address: usize,
    trusted: Vec<IpNet>,
    total: AtomicUsize,
    per_address: Mutex<HashMap<IpAddr, usize>>,
    refusing: AtomicUsize,
    refused: AtomicU64,
}

impl Gate {
    pub fn new(max_total: usize, limits: EdgeLimits, trusted: Vec<IpNet>) -> Self {
        Self {
            max_total: max_total.max(1),
            max_per_address: limits.max_connections_per_address.max(1),
            trusted,
            total: AtomicUsize::new(0),
            per_address: Mutex::new(HashMap::new()),
            refusing: AtomicUsize::new(0),
            refused: AtomicU64::new(0),
        }
    }

    /// A place for a connection from `ip`, held until the permit is dropped.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Permit, Refusal> {
        if self.total.fetch_add(1, Ordering::AcqRel) >= self.max_total {
            self.total.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::Full);
        }
        let key = client_ip::limit_key(ip);
        let counted = !self.trusted.iter().any(|net| net.contains(&key));
        if counted {
            let mut map = self.per_address.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let held = map.entry(key).or_insert(0);
            if *held >= self.max_per_address {
                drop(map);
                self.total.fetch_sub(1, Ordering::AcqRel);
                return Err(Refusal::AddressFull);
            }
            *held += 1;
        }
        Ok(Permit { gate: Arc::clone(self), key: counted.then_some(key) })
    }

    /// Answers `503` with `Retry-After` and closes, off the accept loop.
    fn refuse(self: &Arc<Self>, mut stream: TcpStream, peer: SocketAddr, refusal: Refusal) {
        let refused = self.refused.fetch_add(1, Ordering::Relaxed);
        // One line per burst, not one per connection.
        if refused.is_power_of_two() || refused % 10_000 == 0 {
            tracing::warn!(peer = %peer.ip(), ?refusal, refused = refused + 1, "connection refused: over its limit");
        }
        if self.refusing.fetch_add(1, Ordering::AcqRel) >= MAX_REFUSING {
            self.refusing.fetch_sub(1, Ordering::AcqRel);
            return; // dropped: closed at once
        }
        let gate = Arc::clone(self);
        tokio::spawn(async move {
            let message = match refusal {
                Refusal::Full => "The server is busy. Please try again in a few seconds.\n",
                Refusal::AddressFull => "Too many connections from your address. Please try again in a few seconds.\n",
            };
            let response = format!(
                "HTTP/1.1 503 Service Unavailable\r\nRetry-After: {RETRY_AFTER_SECONDS}\r\n\
                 Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\n\
                 Cache-Control: no-store\r\nConnection: close\r\n\r\n{message}",
                message.len()
            );
            let _ = tokio::time::timeout(Duration::from_secs(1), async {
                stream.write_all(response.as_bytes()).await?;
                stream.shutdown().await?;
                // Read what the client sent until it closes, so that closing does
                // not reset the connection before it has read the answer.
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                Ok::<(), io::Error>(())
            })
            .await;
            gate.refusing.fetch_sub(1, Ordering::AcqRel);
        });
    }

    /// Open connections now.
    pub fn open(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

/// A connection's place; gives it back when dropped.
pub struct Permit {
    gate: Arc<Gate>,
    key: Option<IpAddr>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            let mut map = self.gate.per_address.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some(held) = map.get_mut(&key) {
                *held -= 1;
                if *held == 0 {
                    map.remove(&key);
                }
            }
        }
        self.gate.total.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One accepted connection.
struct Connection {
    site: Site,
    limits: EdgeLimits,
    peer: SocketAddr,
    permit: Permit,
    stop: watch::Receiver<bool>,
}

impl Connection {
    async fn run(mut self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let started = Instant::now();
        let activity = Arc::new(AtomicU64::new(0));
        let io = TokioIo::new(Watched { inner: stream, started, activity: Arc::clone(&activity) });
        let site = self.site;
        let peer = self.peer;
        let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
            site.answer(request.map(Body::new), peer)
        });
        let mut conn = std::pin::pin!(
            hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(self.limits.head_timeout)
                .serve_connection(io, service)
        );
        let idle = self.limits.idle_timeout;
        let mut stopping = false;
        loop {
            // Wake when the connection would have been quiet for `idle`.
            let quiet_since = started + Duration::from_millis(activity.load(Ordering::Relaxed));
            let deadline = tokio::time::Instant::from_std(quiet_since + idle);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(peer = %peer, error = %err, "connection ended with an error");
                    }
                    break;
                }
                () = tokio::time::sleep_until(deadline) => {
                    let last = started + Duration::from_millis(activity.load(Ordering::Relaxed));
                    if last.elapsed() >= idle {
                        tracing::debug!(peer = %peer, "connection closed: idle");
                        break;
                    }
                }
                _ = self.stop.wait_for(|stop| *stop), if !stopping => {
                    stopping = true;
                    conn.as_mut().graceful_shutdown();
                }
            }
        }
        drop(self.permit);
    }
}

/// A stream that notes when bytes last moved, in milliseconds since `started`.
struct Watched {
    inner: TcpStream,
    started: Instant,
    activity: Arc<AtomicU64>,
}

impl Watched {
    fn touch(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.activity.store(now, Ordering::Relaxed);
    }
}

impl AsyncRead for Watched {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(result, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        result
    }
}

impl AsyncWrite for Watched {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write(cx, data);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        result
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let result = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Whether a request with these headers sends a body.
pub fn has_body(headers: &HeaderMap) -> bool {
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0")
}

/// Middleware: a request body that pauses longer than the given time between
/// two pieces ends the request with `408` and closes the connection.
pub async fn body_deadline(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    if !has_body(request.headers()) {
        return next.run(request).await;
    }
    let stalled = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let watch = Arc::clone(&stalled);
    let request =
        request.map(|body| Body::new(Stalling { inner: Box::pin(TimeoutBody::new(limit, body)), stalled: watch }));
    let response = next.run(request).await;
    if stalled.load(Ordering::Acquire) {
        tracing::info!(seconds = limit.as_secs(), "request body stopped arriving: 408");
        return (
            StatusCode::REQUEST_TIMEOUT,
            [(header::CONNECTION, "close"), (header::CACHE_CONTROL, "no-store")],
            "The request body stopped arriving before it was complete. Please send it again.\n",
        )
            .into_response();
    }
    response
}

/// A request body that notes when it timed out.
struct Stalling {
    inner: Pin<Box<TimeoutBody<Body>>>,
    stalled: Arc<std::sync::atomic::AtomicBool>,
}

impl http_body::Body for Stalling {
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = self.inner.as_mut().poll_frame(cx);
        if let Poll::Ready(Some(Err(err))) = &polled
            && err.is::<TimeoutError>()
        {
            self.stalled.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: usize) -> EdgeLimits {
        EdgeLimits { max_connections_per_address: per_address, ..EdgeLimits::default() }
    }

    #[test]
    fn an_address_past_its_cap_is_refused_and_others_are_not() {
        let gate = Arc::new(Gate::new(10, limits(2), Vec::new()));
        let a: IpAddr = "192.0.2.1".parse().expect("address");
        let b: IpAddr = "192.0.2.2".parse().expect("address");
        let first = gate.admit(a).expect("admitted");
        let _second = gate.admit(a).expect("admitted");
        assert_eq!(gate.admit(a).err(), Some(Refusal::AddressFull));
        let _other = gate.admit(b).expect("admitted");
        drop(first);
        let _again = gate.admit(a).expect("a closed connection gives its place back");
        assert_eq!(gate.open(), 3);
    }

    #[test]
    fn the_total_cap_holds_and_trusted_proxies_count_only_towards_it() {
        let proxy: IpNet = "10.0.0.0/8".parse().expect("address");
        let gate = Arc::new(Gate::new(3, limits(1), vec![proxy]));
        let p: IpAddr = "10.1.2.3".parse().expect("address");
        let held: Vec<Permit> = (0..3).map(|_| gate.admit(p).expect("admitted")).collect();
        assert_eq!(gate.admit("192.0.2.9".parse().expect("address")).err(), Some(Refusal::Full));
        drop(held);
        assert_eq!(gate.open(), 0);
        assert!(gate.per_address.lock().expect("lock").is_empty());
    }
}
