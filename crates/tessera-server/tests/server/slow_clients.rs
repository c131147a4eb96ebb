//! Slow clients cannot hold connections (issue: resilience, overload). A client that
//! trickles its header section (slowloris), sits on an idle connection, or announces a
//! body and trickles or withholds it, loses the connection once the configured time
//! is up (`request_header_timeout_ms`, `request_body_timeout_ms`; one second here),
//! while others are served meanwhile.

use crate::support::{Listening, Process, http_get};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The timeouts of the server under test.
const LIMIT: Duration = Duration::from_secs(1);

fn server() -> Process {
    let ms = LIMIT.as_millis().to_string();
    Process::serve_with_env(
        &[],
        &[
            ("TESSERA_REQUEST_HEADER_TIMEOUT_MS", &ms),
            ("TESSERA_REQUEST_BODY_TIMEOUT_MS", &ms),
        ],
    )
}

fn connect(server: &Process) -> TcpStream {
    let addr = server.base().trim_start_matches("http://");
    let stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

/// Writes `head`, then one byte of `drip` every 100 ms, until the server closes the
/// connection or `drip` runs out. Returns how long after `head` the connection closed
/// (`None`: it stayed open) and whatever the server sent.
fn trickle(stream: &mut TcpStream, head: &[u8], drip: &[u8]) -> (Option<Duration>, String) {
    stream.write_all(head).unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    stream.set_nonblocking(true).unwrap();
    for byte in drip {
        std::thread::sleep(Duration::from_millis(100));
        let mut buf = [0u8; 4096];
        loop {
            match stream.read(&mut buf) {
                Ok(0) => {
                    return (
                        Some(started.elapsed()),
                        String::from_utf8_lossy(&received).into(),
                    );
                }
                Ok(n) => received.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    return (
                        Some(started.elapsed()),
                        String::from_utf8_lossy(&received).into(),
                    );
                }
            }
        }
        if stream.write_all(std::slice::from_ref(byte)).is_err() {
            return (
                Some(started.elapsed()),
                String::from_utf8_lossy(&received).into(),
            );
        }
    }
    (None, String::from_utf8_lossy(&received).into())
}

/// Closed after the limit, not long after: the timer, not the test's patience.
fn closed_in_time(closed: Option<Duration>, what: &str) {
    let after = closed.unwrap_or_else(|| panic!("{what}: the connection stayed open"));
    assert!(
        after >= LIMIT - Duration::from_millis(200),
        "{what}: closed after {after:?}"
    );
    assert!(after < LIMIT * 3, "{what}: closed only after {after:?}");
}

#[tokio::test]
async fn slow_headers_idle_connections_and_slow_bodies_are_cut_off() {
    let server = server();
    // Eight seconds' worth of bytes: far longer than the limit.
    let drip = [b'a'; 80];

    // Slowloris: a header section that never ends.
    let mut slow = connect(&server);
    let (closed, sent) = trickle(
        &mut slow,
        b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ",
        &drip,
    );
    closed_in_time(closed, "a trickled header section");
    assert_eq!(sent, "", "nothing is answered to a request never received");

    // A connection opened and never used, and one idle after a request.
    let mut idle = connect(&server);
    let (closed, _) = trickle(&mut idle, b"", &[]);
    assert!(closed.is_none());
    let started = Instant::now();
    let mut buf = [0u8; 1];
    idle.set_nonblocking(false).unwrap();
    idle.set_read_timeout(Some(LIMIT * 5)).unwrap();
    assert_eq!(
        idle.read(&mut buf).unwrap(),
        0,
        "an idle connection is closed"
    );
    closed_in_time(Some(started.elapsed()), "an unused connection");

    // A body announced and trickled: 408 RequestTimeout, catalogued, then closed.
    let mut body = connect(&server);
    let (closed, answer) = trickle(
        &mut body,
        b"POST /admin/oauth2/token HTTP/1.1\r\nHost: localhost\r\n\
          Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n\
          grant_type=",
        &drip,
    );
    closed_in_time(closed, "a trickled body");
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("\r\nconnection: close\r\n"),
        "{answer}"
    );
    assert!(answer.contains("\"error\":\"invalid_request\""), "{answer}");
    assert!(answer.contains("TS10021"), "{answer}");
    assert!(
        answer.to_ascii_lowercase().contains("\r\nx-trace-id: "),
        "{answer}"
    );
}

#[tokio::test]
async fn many_slow_clients_do_not_keep_others_waiting() {
    let server = server();
    // Two hundred connections trickling header sections, from threads of their own.
    let slow: Vec<_> = (0..200)
        .map(|_| {
            let mut stream = connect(&server);
            std::thread::spawn(move || {
                trickle(
                    &mut stream,
                    b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ",
                    &[b'a'; 60],
                )
                .0
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let started = Instant::now();
    let r = http_get(&format!("{}/healthz", server.base()), "application/json").await;
    assert_eq!(r.status(), 200);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    for s in slow {
        closed_in_time(s.join().unwrap(), "one of many trickled header sections");
    }
}
