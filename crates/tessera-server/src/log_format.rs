//! The human log format: tracing-subscriber's `Full` format (without targets), except
//! that the one-line-per-request event (`context::observe`) takes a shorter path to the
//! same bytes. That line is written for every request: request lines cost 9 % of discovery
//! throughput (`benches/profile.sh discovery`: 77.7-81.4k/s with them, 87.5-88.9k/s with
//! them filtered out), and formatting them the general way (the timestamp through
//! `write!` piece by piece, each field through padding and style checks) is part of it. Every other event, any event inside a span, and any output with ANSI
//! colours goes through `Full` itself. The JSON format is tracing-subscriber's own.

use crate::logging::REQUEST_TARGET;
use std::fmt;
use std::time::SystemTime;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

pub struct Human {
    full: Format<Full>,
}

impl Human {
    pub fn new() -> Self {
        Self {
            full: tracing_subscriber::fmt::format().with_target(false),
        }
    }
}

impl<S, N> FormatEvent<S, N> for Human
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if meta.target() != REQUEST_TARGET
            || *meta.level() != Level::INFO
            || writer.has_ansi_escapes()
            || ctx.event_scope().is_some()
        {
            return self.full.format_event(ctx, writer, event);
        }
        // `Full`'s layout: timestamp, a space, the level padded to five, a space, then
        // the fields (the message first, bare; the others ` name=value`).
        // When the line was written, as tracing-subscriber's own timer reads it for
        // every other line: log time, not protocol time, so not the injected clock.
        #[allow(clippy::disallowed_methods)]
        let now = SystemTime::now();
        write_timestamp(&mut writer, now)?;
        writer.write_str("  INFO ")?;
        let mut fields = Fields {
            writer: &mut writer,
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// `2026-11-27T13:57:27.270265Z`, as tracing-subscriber's `SystemTime` timer writes it
/// (UTC, microseconds). Years outside 0-9999 cannot come from the system clock here.
fn write_timestamp(w: &mut impl fmt::Write, now: SystemTime) -> fmt::Result {
    let at = time::OffsetDateTime::from(now);
    let mut buf = [0u8; 27];
    let mut put = |at: usize, value: u32, digits: usize| {
        let mut v = value;
        for i in (0..digits).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, u32::try_from(at.year()).unwrap_or(0), 4);
    put(5, u32::from(u8::from(at.month())), 2);
    put(8, u32::from(at.day()), 2);
    put(11, u32::from(at.hour()), 2);
    put(14, u32::from(at.minute()), 2);
    put(17, u32::from(at.second()), 2);
    put(20, at.microsecond(), 6);
    for (i, c) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
        (26, b'Z'),
    ] {
        buf[i] = c;
    }
    // Only ASCII digits and separators were written.
    w.write_str(std::str::from_utf8(&buf).map_err(|_| fmt::Error)?)
}

/// The fields as tracing-subscriber's `DefaultVisitor` writes them without colours.
struct Fields<'w, 'a> {
    writer: &'w mut Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_, '_> {
    fn start(&mut self, field: &Field) -> bool {
        if self.result.is_err() {
            return false;
        }
        if !self.first {
            self.result = self.writer.write_char(' ');
        }
        self.first = false;
        if field.name() != "message" {
            let name = field.name();
            let name = name.strip_prefix("r#").unwrap_or(name);
            self.result = self
                .result
                .and_then(|()| self.writer.write_str(name))
                .and_then(|()| self.writer.write_char('='));
        }
        self.result.is_ok()
    }
}

impl Visit for Fields<'_, '_> {
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            self.result = write!(self.writer, "{value}");
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            if self.start(field) {
                self.result = self.writer.write_str(value);
            }
        } else {
            self.record_debug(field, &value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.result = write!(self.writer, "{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// Lines as a subscriber with `format` writes them for the events `emit` records.
    fn lines<F>(format: F, emit: impl Fn()) -> Vec<String>
    where
        F: FormatEvent<
                tracing_subscriber::Registry,
                tracing_subscriber::fmt::format::DefaultFields,
            > + Send
            + Sync
            + 'static,
    {
        let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = seen.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .event_format(format)
            .with_writer(move || Capture(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    struct Capture(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn events() {
        let path = "/bench/discovery/keys";
        // The request line exactly as `context::observe` records it.
        tracing::info!(
            target: REQUEST_TARGET,
            trace_id = %"0af7651916cd43dd8448eb211c80319c",
            correlation_id = %"3f2a9c1e-0d4b-4c6a-9a0e-1b2c3d4e5f60",
            method = %axum::http::Method::GET,
            path = %path,
            status = 200u16,
            micros = 8u64,
            "request"
        );
        // Field kinds the request line might gain one day, and other events.
        tracing::info!(target: REQUEST_TARGET, quoted = "a \"b\"", negative = -3i64, flag = true, r#type = 1u64, "request");
        tracing::info!(store = "sqlite", "ready on http://127.0.0.1:8080");
        tracing::warn!(target: REQUEST_TARGET, "request");
        let span = tracing::info_span!("outer", id = 7);
        span.in_scope(|| tracing::info!(target: REQUEST_TARGET, status = 200u16, "request"));
    }

    #[test]
    fn request_lines_are_byte_for_byte_what_the_full_format_writes() {
        let ours = lines(Human::new(), events);
        let theirs = lines(tracing_subscriber::fmt::format().with_target(false), events);
        assert_eq!(ours.len(), 5, "{ours:?}");
        assert_eq!(ours.len(), theirs.len());
        for (a, b) in ours.iter().zip(&theirs) {
            // Everything after the timestamp is the same; the timestamps differ only in
            // when they were taken, and have the same shape.
            let (ta, ra) = a.split_once(' ').unwrap();
            let (tb, rb) = b.split_once(' ').unwrap();
            assert_eq!(ra, rb);
            assert_eq!(ta.len(), tb.len(), "{ta} / {tb}");
        }
        assert!(ours[0].ends_with(
            "  INFO request trace_id=0af7651916cd43dd8448eb211c80319c correlation_id=3f2a9c1e-0d4b-4c6a-9a0e-1b2c3d4e5f60 method=GET path=/bench/discovery/keys status=200 micros=8"
        ), "{}", ours[0]);
    }

    #[test]
    fn timestamps_are_rfc_3339_utc_to_the_microsecond() {
        let at =
            SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(1_795_787_847_270_265_123);
        let mut s = String::new();
        write_timestamp(&mut s, at).unwrap();
        let expected = time::OffsetDateTime::from(at)
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            ))
            .unwrap();
        assert_eq!(s, expected);
        let mut epoch = String::new();
        write_timestamp(&mut epoch, SystemTime::UNIX_EPOCH).unwrap();
        assert_eq!(epoch, "1970-01-01T00:00:00.000000Z");
    }
}
