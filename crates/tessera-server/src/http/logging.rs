//! Log output: human-readable lines by default, one JSON object per line with
//! `--log-format json`. Levels come from `TESSERA_LOG` (an env-filter directive),
//! `info` by default. Request lines carry the trace id (see `context`).
//!
//! Request lines are buffered and written out by a background thread every 50 ms (or
//! at 64 KiB): at 80,000 requests a second, one write(2) per line cost a fifth of the
//! JWKS throughput (benches/profile.sh jwks: 78.8k/s with them written one by one,
//! 100.7k/s without them). Every other line (start-up, readiness, warnings, errors) is
//! written at once, after the request lines still pending, so the order holds. `flush`
//! empties the buffer before the process exits.
//!
//! With the human format and no colours, [`request`] writes request lines into the
//! buffer itself (`log_format`), past tracing's dispatch; `TESSERA_LOG` still decides
//! whether they are written.

use crate::cli::settings::LogFormat;
use crate::http::log_format::RequestLine;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The target of the one-line-per-request event (`context`), which is buffered.
pub const REQUEST_TARGET: &str = "tessera_server::http::context";
const FLUSH_EVERY: Duration = Duration::from_millis(50);
const FLUSH_AT: usize = 64 * 1024;

/// The process's log output, kept for [`flush`].
static OUTPUT: OnceLock<Arc<Output>> = OnceLock::new();

/// The output that [`request`] writes request lines to itself: set by [`init`] only when
/// it installed the human format without colours, whose bytes `RequestLine::write`
/// reproduces.
static DIRECT: OnceLock<Arc<Output>> = OnceLock::new();

/// Logs one request's line (`context::observe`), at `info` under [`REQUEST_TARGET`].
pub fn request(line: &RequestLine) {
    if !tracing::enabled!(target: REQUEST_TARGET, tracing::Level::INFO) {
        return;
    }
    match DIRECT.get() {
        // `Full` prints the spans an event is in; only a line outside any can skip it.
        Some(output) if tracing::Span::current().is_none() => {
            // Log time, not protocol time, so not the injected clock (tracing-subscriber's
            // own timer reads the system clock too).
            #[allow(clippy::disallowed_methods)]
            let now = std::time::SystemTime::now();
            output.append(|pending| line.write(pending, now));
        }
        _ => through_tracing(line),
    }
}

/// The request line as a tracing event, for the formats `RequestLine::write` does not
/// reproduce (JSON, colours) and for lines inside a span.
pub(crate) fn through_tracing(line: &RequestLine) {
    tracing::info!(
        target: REQUEST_TARGET,
        trace_id = %line.trace_id,
        correlation_id = %line.correlation_id,
        method = %line.method,
        path = %line.path,
        status = line.status,
        micros = line.micros,
        "request"
    );
}

/// Writes out the request lines still buffered (before the process exits).
pub fn flush() {
    if let Some(output) = OUTPUT.get() {
        output.flush();
    }
}

/// Writes bytes to where log lines go.
type WriteOut = Box<dyn Fn(&[u8]) + Send + Sync>;

/// Log lines on their way to the sink.
struct Output {
    /// Request lines not yet written.
    pending: Mutex<Vec<u8>>,
    /// Held while writing to the sink, so lines leave in the order they were logged.
    writing: Mutex<()>,
    sink: WriteOut,
}

impl Output {
    fn new(sink: WriteOut) -> Self {
        Self {
            pending: Mutex::new(Vec::new()),
            writing: Mutex::new(()),
            sink,
        }
    }

    /// Writes the pending lines, then `line` (a line that must not wait).
    fn write_through(&self, line: &[u8]) {
        let _writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = {
            let mut pending = self.lock_pending();
            if pending.is_empty() {
                Vec::new()
            } else {
                // The next lines go into a buffer already big enough, not one regrown
                // from nothing (copying what it held) as they arrive.
                std::mem::replace(&mut *pending, Vec::with_capacity(FLUSH_AT + 1024))
            }
        };
        if !pending.is_empty() {
            (self.sink)(&pending);
        }
        if !line.is_empty() {
            (self.sink)(line);
        }
    }

    fn flush(&self) {
        self.write_through(&[]);
    }

    fn buffer(&self, line: &[u8]) {
        self.append(|pending| pending.extend_from_slice(line));
    }

    /// Has `write` append a request line to the pending ones.
    fn append(&self, write: impl FnOnce(&mut Vec<u8>)) {
        let mut pending = self.lock_pending();
        write(&mut pending);
        let full = pending.len() >= FLUSH_AT;
        drop(pending);
        if full {
            self.flush();
        }
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Hands the formatter a writer per event: buffered for request lines.
#[derive(Clone)]
struct Lines(Arc<Output>);

/// One event's writer (the formatter writes each line whole, in one `write_all`).
struct LineWriter {
    output: Arc<Output>,
    buffered: bool,
}

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.buffered {
            self.output.buffer(buf);
        } else {
            self.output.write_through(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Lines {
    type Writer = LineWriter;

    fn make_writer(&'a self) -> LineWriter {
        LineWriter {
            output: self.0.clone(),
            buffered: false,
        }
    }

    fn make_writer_for(&'a self, meta: &tracing::Metadata<'_>) -> LineWriter {
        LineWriter {
            output: self.0.clone(),
            buffered: meta.target() == REQUEST_TARGET,
        }
    }
}

/// Writes to stdout or stderr. A failed write (a closed pipe) is dropped: logging must
/// never take the server down.
fn to_sink(sink: Sink) -> WriteOut {
    Box::new(move |bytes| {
        let _ = match sink {
            Sink::Stdout => std::io::stdout().lock().write_all(bytes),
            Sink::Stderr => std::io::stderr().lock().write_all(bytes),
        };
    })
}

/// Where log lines go: stdout for `serve` (a service's log stream), stderr for the
/// other commands, whose stdout is their output (`export` prints a tenant file there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Stdout,
    Stderr,
}

pub fn init(format: LogFormat, sink: Sink) {
    let filter =
        EnvFilter::try_from_env("TESSERA_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let output = OUTPUT.get_or_init(|| {
        let output = Arc::new(Output::new(to_sink(sink)));
        let flusher = output.clone();
        // Without the thread, request lines would still go out at 64 KiB, at the next
        // other line, and at exit.
        let _ = std::thread::Builder::new()
            .name("tessera-log".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(FLUSH_EVERY);
                    flusher.flush();
                }
            });
        output
    });
    let writer = Lines(output.clone());
    // Colours only for a person at a terminal; files and pipes get plain text.
    let ansi = match sink {
        Sink::Stdout => std::io::IsTerminal::is_terminal(&std::io::stdout()),
        Sink::Stderr => std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    // try_init: a second initialisation (tests) keeps the first subscriber.
    let installed = match format {
        LogFormat::Human => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if installed.is_ok() && format == LogFormat::Human && !ansi {
        let _ = DIRECT.set(output.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captured() -> (Arc<Output>, Arc<Mutex<Vec<u8>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let output = Output::new(Box::new(move |b| sink.lock().unwrap().extend_from_slice(b)));
        (Arc::new(output), seen)
    }

    fn text(seen: &Mutex<Vec<u8>>) -> String {
        String::from_utf8(seen.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn request_lines_wait_and_other_lines_go_out_after_them() {
        let (output, seen) = captured();
        // The real formatter and the real per-event writer choice, on real events.
        let subscriber = tracing_subscriber::fmt()
            .with_writer(Lines(output.clone()))
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: REQUEST_TARGET, "GET one");
            tracing::info!(target: REQUEST_TARGET, "GET two");
            assert_eq!(text(&seen), "", "request lines are buffered");
            tracing::info!("ready");
            tracing::info!(target: REQUEST_TARGET, "GET three");
        });
        let order = |log: &str| -> Vec<usize> {
            ["GET one", "GET two", "ready", "GET three"]
                .iter()
                .filter_map(|m| log.find(m))
                .collect()
        };
        let before_flush = text(&seen);
        assert_eq!(order(&before_flush).len(), 3, "{before_flush}");
        assert!(order(&before_flush).is_sorted(), "{before_flush}");
        output.flush();
        let after = text(&seen);
        assert_eq!(order(&after).len(), 4, "{after}");
        assert!(order(&after).is_sorted(), "{after}");
    }

    #[test]
    fn a_full_buffer_is_written_without_waiting() {
        let (output, seen) = captured();
        let line = vec![b'x'; 1024];
        for _ in 0..(FLUSH_AT / line.len()) {
            output.buffer(&line);
        }
        assert_eq!(seen.lock().unwrap().len(), FLUSH_AT);
    }
}
