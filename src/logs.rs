//! Log output: lines collect in a buffer in memory and reach standard output
//! when it fills and at least every 200 ms, as nginx's buffered access log
//! does. A busy server then writes logs in a few large writes instead of one
//! per request, without waking a thread for each line.
//!
//! The line every request logs is formatted here ([`request_line`]), in the
//! subscriber's own text or JSON format, and put in the buffer directly:
//! through the subscriber it cost a cached page a tenth of its CPU.

use std::cell::RefCell;
use std::fmt::Write as _;
use std::io::{self, BufWriter, Stdout, Write};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{DateTime, Utc};
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;

const BUFFER_BYTES: usize = 64 * 1024;
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// A shared, buffered standard output for the log subscriber.
#[derive(Clone)]
pub struct BufferedStdout(Arc<Mutex<BufWriter<Stdout>>>);

impl BufferedStdout {
    /// Creates the buffer and a thread that flushes it periodically.
    pub fn start() -> BufferedStdout {
        let out = BufferedStdout(Arc::new(Mutex::new(BufWriter::with_capacity(BUFFER_BYTES, io::stdout()))));
        let flusher = out.clone();
        let spawned = std::thread::Builder::new().name("log-flush".into()).spawn(move || {
            loop {
                std::thread::sleep(FLUSH_EVERY);
                flusher.flush();
            }
        });
        if let Err(err) = spawned {
            eprintln!("warning: cannot start the log flusher ({err}); logs are written as they come");
        }
        out
    }

    /// Writes out whatever is buffered.
    pub fn flush(&self) {
        let _ = self.lock().flush();
    }

    fn lock(&self) -> MutexGuard<'_, BufWriter<Stdout>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One log line's access to the buffer.
pub struct LineWriter<'a>(MutexGuard<'a, BufWriter<Stdout>>);

impl Write for LineWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    /// Lines are flushed by size and by the clock, not one by one.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BufferedStdout {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(self.lock())
    }
}

/// Where request lines go once the logs are set up ([`send_requests_to`]).
static REQUESTS: OnceLock<(BufferedStdout, LogFormat)> = OnceLock::new();

/// Request lines go to `out` in `format`, the subscriber's own, from now on.
pub fn send_requests_to(out: BufferedStdout, format: LogFormat) {
    let _ = REQUESTS.set((out, format));
}

/// One request as logged.
#[derive(Debug, Clone, Copy)]
pub struct RequestLine<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub latency_us: u64,
}

/// The module whose request lines these are, as the subscriber names it.
pub const REQUEST_TARGET: &str = "broadsheet::web::logging";

/// Writes `request`'s line in the set-up logs' format; false when the logs
/// were not set up (the caller then logs through the subscriber).
pub fn request_line(request: &RequestLine<'_>) -> bool {
    let Some((out, format)) = REQUESTS.get() else { return false };
    thread_local! {
        static LINE: RefCell<String> = RefCell::new(String::with_capacity(256));
    }
    LINE.with_borrow_mut(|line| {
        line.clear();
        format_request(line, *format, SystemTime::now(), request);
        let _ = out.lock().write_all(line.as_bytes());
    });
    true
}

/// `request`'s line at `at`, as tracing-subscriber's `fmt` formats the event
/// `info!(http.method = %method, http.path = path, http.status, latency_us, "request")`
/// of [`REQUEST_TARGET`] (a test holds the two equal).
pub fn format_request(line: &mut String, format: LogFormat, at: SystemTime, request: &RequestLine<'_>) {
    let RequestLine { method, path, status, latency_us } = *request;
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let micros = since.subsec_micros();
    let _ = match format {
        LogFormat::Text => {
            write_second(line, since.as_secs());
            writeln!(
                line,
                ".{micros:06}Z  INFO {REQUEST_TARGET}: request http.method={method} http.path={path:?} \
                 http.status={status} latency_us={latency_us}"
            )
        }
        LogFormat::Json => {
            line.push_str("{\"timestamp\":\"");
            write_second(line, since.as_secs());
            let _ = write!(
                line,
                ".{micros:06}Z\",\"level\":\"INFO\",\"fields\":{{\"message\":\"request\",\"http.method\":"
            );
            push_json(line, method);
            line.push_str(",\"http.path\":");
            push_json(line, path);
            writeln!(line, ",\"http.status\":{status},\"latency_us\":{latency_us}}},\"target\":\"{REQUEST_TARGET}\"}}")
        }
    };
}

/// `YYYY-MM-DDTHH:MM:SS` of the Unix second `secs`, worked out once a second
/// on each thread.
fn write_second(line: &mut String, secs: u64) {
    thread_local! {
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    SECOND.with_borrow_mut(|(cached, text)| {
        if *cached != secs {
            let at = i64::try_from(secs).ok().and_then(|s| DateTime::<Utc>::from_timestamp(s, 0)).unwrap_or_default();
            *text = at.format("%Y-%m-%dT%H:%M:%S").to_string();
            *cached = secs;
        }
        line.push_str(text);
    });
}

fn push_json(line: &mut String, text: &str) {
    line.push_str(&serde_json::to_string(text).unwrap_or_default());
}
