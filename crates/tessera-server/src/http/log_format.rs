//! The one-line-per-request log line (`context::observe`), written straight into the
//! log buffer in the bytes tracing-subscriber's `Full` format (without targets) writes
//! for the same event. That line is written for every request, and taking it through
//! tracing's dispatch (the event, its field set, the formatter's visitor, `write!` per
//! field) cost 3,700 instructions of a JWKS request's 30,300
//! (`benches/instructions.sh jwks`: 60.6M for 2,000 requests, 53.2M with request lines
//! filtered out; docs/decisions/0008-request-line-formatter.md). `logging::request`
//! takes this path for the human format without colours, outside any span; the JSON
//! format, colours and spans keep the event.

use std::cell::RefCell;
use std::time::SystemTime;

/// One request, as `context::observe` logs it. The fields are written as they are, not
/// escaped: none can hold a control character or a space (a trace id is hex, a
/// correlation id is checked by `CorrelationId::from_client`, a method is an HTTP token
/// and a path is a parsed URI's), so a client cannot forge or break a line.
pub struct RequestLine<'a> {
    pub trace_id: &'a str,
    pub correlation_id: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    pub micros: u64,
}

impl RequestLine<'_> {
    /// Appends the line, newline included, as `Full` writes it: the timestamp, the
    /// level padded to five, the message, then each field as ` name=value`.
    pub fn write(&self, out: &mut Vec<u8>, now: SystemTime) {
        write_timestamp(out, now);
        for (text, value) in [
            ("  INFO request trace_id=", self.trace_id),
            (" correlation_id=", self.correlation_id),
            (" method=", self.method),
            (" path=", self.path),
        ] {
            out.extend_from_slice(text.as_bytes());
            out.extend_from_slice(value.as_bytes());
        }
        out.extend_from_slice(b" status=");
        write_decimal(out, u64::from(self.status));
        out.extend_from_slice(b" micros=");
        write_decimal(out, self.micros);
        out.push(b'\n');
    }
}

fn write_decimal(out: &mut Vec<u8>, value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut v = value;
    loop {
        at -= 1;
        digits[at] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// `2026-11-27T13:57:27.270265Z`, as tracing-subscriber's `SystemTime` timer writes it
/// (UTC, microseconds). The text up to the second is kept per thread: lines a second
/// has many of convert the time to a date once, not per line.
fn write_timestamp(out: &mut Vec<u8>, now: SystemTime) {
    thread_local! {
        static SECOND: RefCell<Option<(u64, String)>> = const { RefCell::new(None) };
    }
    // Before 1970 (a clock set wrong) there is no second to key on: no cache.
    let Ok(since_epoch) = now.duration_since(SystemTime::UNIX_EPOCH) else {
        let at = time::OffsetDateTime::from(now);
        out.extend_from_slice(to_second(at).as_bytes());
        return write_fraction(out, at.microsecond());
    };
    let second = since_epoch.as_secs();
    SECOND.with_borrow_mut(|cached| {
        if !matches!(cached, Some((at, _)) if *at == second) {
            *cached = Some((second, to_second(time::OffsetDateTime::from(now))));
        }
        if let Some((_, text)) = cached {
            out.extend_from_slice(text.as_bytes());
        }
    });
    write_fraction(out, since_epoch.subsec_micros());
}

/// `2026-11-27T13:57:27`: the error documents' timestamp without its `Z`.
fn to_second(at: time::OffsetDateTime) -> String {
    let mut text = tessera_core::errors::render::timestamp(at);
    text.pop();
    text
}

/// `.270265Z`.
fn write_fraction(out: &mut Vec<u8>, micros: u32) {
    let mut buf = *b".000000Z";
    let mut v = micros;
    for i in (1..7).rev() {
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    out.extend_from_slice(&buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

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

    /// The request line as `logging::request` records it when it goes through tracing
    /// (the JSON format, colours, spans), under `Full`.
    fn through_tracing(line: &RequestLine) -> String {
        let seen = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = seen.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_target(false)
            .with_writer(move || Capture(sink.clone()))
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            crate::http::logging::through_tracing(line)
        });
        let text = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1, "{text}");
        text
    }

    #[test]
    fn request_lines_are_byte_for_byte_what_the_full_format_writes() {
        let lines = [
            RequestLine {
                trace_id: "0af7651916cd43dd8448eb211c80319c",
                correlation_id: "3f2a9c1e-0d4b-4c6a-9a0e-1b2c3d4e5f60",
                method: "GET",
                path: "/bench/discovery/keys",
                status: 200,
                micros: 8,
            },
            RequestLine {
                trace_id: "00000000000000000000000000000000",
                correlation_id: "client-chosen.id_1",
                method: "PROPFIND",
                path: "/a%20b/%E2%82%AC/",
                status: 500,
                micros: u64::MAX,
            },
            RequestLine {
                trace_id: "f",
                correlation_id: "",
                method: "POST",
                path: "/",
                status: 0,
                micros: 0,
            },
        ];
        for line in &lines {
            let theirs = through_tracing(line);
            let mut ours = Vec::new();
            line.write(
                &mut ours,
                SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_787_847),
            );
            let ours = String::from_utf8(ours).unwrap();
            // Everything after the timestamp is the same; the timestamps differ only in
            // when they were taken, and have the same shape.
            let (ta, ra) = ours.split_once(' ').unwrap();
            let (tb, rb) = theirs.split_once(' ').unwrap();
            assert_eq!(ra, rb);
            assert_eq!(ta.len(), tb.len(), "{ta} / {tb}");
        }
        let mut first = Vec::new();
        lines[0].write(&mut first, SystemTime::UNIX_EPOCH);
        assert_eq!(
            String::from_utf8(first).unwrap(),
            "1970-01-01T00:00:00.000000Z  INFO request trace_id=0af7651916cd43dd8448eb211c80319c \
             correlation_id=3f2a9c1e-0d4b-4c6a-9a0e-1b2c3d4e5f60 method=GET \
             path=/bench/discovery/keys status=200 micros=8\n"
        );
    }

    #[test]
    fn timestamps_are_rfc_3339_utc_to_the_microsecond() {
        let at =
            SystemTime::UNIX_EPOCH + std::time::Duration::from_nanos(1_795_787_847_270_265_123);
        let mut s = Vec::new();
        write_timestamp(&mut s, at);
        let expected = time::OffsetDateTime::from(at)
            .format(time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
            ))
            .unwrap();
        assert_eq!(String::from_utf8(s).unwrap(), expected);
        let mut epoch = Vec::new();
        write_timestamp(&mut epoch, SystemTime::UNIX_EPOCH);
        assert_eq!(epoch, b"1970-01-01T00:00:00.000000Z");
    }

    #[test]
    fn timestamps_stay_right_across_seconds_and_before_1970() {
        let format = time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
        );
        let base = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_795_787_847);
        // The same second twice (the kept text), the next one, back again, a day later,
        // and a time before 1970 (no second to key on).
        let times = [
            base + std::time::Duration::from_micros(1),
            base + std::time::Duration::from_micros(999_999),
            base + std::time::Duration::from_micros(1_000_000),
            base,
            base + std::time::Duration::from_secs(86_400),
            SystemTime::UNIX_EPOCH - std::time::Duration::from_micros(1_500_000),
        ];
        for at in times {
            let mut s = Vec::new();
            write_timestamp(&mut s, at);
            let expected = time::OffsetDateTime::from(at).format(format).unwrap();
            assert_eq!(String::from_utf8(s).unwrap(), expected);
        }
    }

    #[test]
    fn decimals_are_written_whole() {
        for value in [0, 9, 10, 200, 1_234_567, u64::MAX] {
            let mut out = Vec::new();
            write_decimal(&mut out, value);
            assert_eq!(out, value.to_string().as_bytes());
        }
    }
}
