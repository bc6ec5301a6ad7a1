//! Log output: lines collect in a buffer in memory and reach standard output
//! when it fills and at least every 200 ms, as nginx's buffered access log
//! does. A busy server then writes logs in a few large writes instead of one
//! per request, without waking a thread for each line.

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

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
