//! Prometheus metrics: request counts and latency histograms by method, route (the
//! route's pattern, never the raw path, so cardinality stays bounded) and status.

use axum::http::Method;
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::collections::HashMap;
use std::sync::{OnceLock, PoisonError, RwLock};
use std::time::Duration;

pub const REQUESTS_TOTAL: &str = "tessera_http_requests_total";
pub const REQUEST_DURATION: &str = "tessera_http_request_duration_seconds";

/// Latency buckets, in seconds: fine-grained where token endpoints live (sub-ms to
/// 10 ms), coarser up to the multi-second tail.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// Handle to the process-wide recorder (the `metrics` facade is global by design, so
/// every app built in one process, tests included, shares it).
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
    series: &'static Series,
}

/// The registered counter and histogram of each (method, status, route) seen so far.
/// Registering through the `metrics` macros builds and hashes a labelled key with three
/// owned strings on every call; a request only needs to find its pair here. The routes
/// are keyed by `Box<str>`, so a request looks its route up as a `&str`. Hashed with
/// foldhash, not std's SipHash: every key is a label the server chose (a method label,
/// a status, a route pattern), never a client's bytes, so there is no flooding to
/// resist, and SipHash was half the cost of `record` (`benches/instructions.sh jwks`).
#[derive(Default)]
struct Series(RwLock<Map<(&'static str, u16), Routes>>);

type Map<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// One method and status's series, by route.
type Routes = Map<Box<str>, Handles>;

struct Handles {
    requests: Counter,
    duration: Histogram,
}

/// The method label. Methods outside RFC 9110's and PATCH are `other`: a client can
/// send any token as a method, and each would otherwise become a series of its own.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "other",
    }
}

impl Metrics {
    pub fn global() -> Self {
        static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
        let handle = HANDLE.get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Fails only when another recorder was installed first; then ours simply
            // records nothing, which the /metrics test would catch.
            let _ = metrics::set_global_recorder(recorder);
            metrics::describe_counter!(REQUESTS_TOTAL, "HTTP requests answered");
            metrics::describe_histogram!(
                REQUEST_DURATION,
                metrics::Unit::Seconds,
                "Time from receiving a request to producing its response"
            );
            handle
        });
        static SERIES: OnceLock<Series> = OnceLock::new();
        Self {
            handle: handle.clone(),
            series: SERIES.get_or_init(Series::default),
        }
    }

    pub fn record(&self, method: &Method, route: &str, status: u16, elapsed: Duration) {
        let method = method_label(method);
        let seconds = elapsed.as_secs_f64();
        let known = self.series.0.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(h) = known.get(&(method, status)).and_then(|r| r.get(route)) {
            h.requests.increment(1);
            h.duration.record(seconds);
            return;
        }
        drop(known);
        // First request of its kind: register the series (another request may have
        // done so since the read lock was let go; `or_insert_with` keeps theirs).
        let mut known = self
            .series
            .0
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let h = known
            .entry((method, status))
            .or_default()
            .entry(route.into())
            .or_insert_with(|| {
                let labels = [
                    ("method", method.to_owned()),
                    ("route", route.to_owned()),
                    ("status", status.to_string()),
                ];
                Handles {
                    requests: metrics::counter!(REQUESTS_TOTAL, &labels),
                    duration: metrics::histogram!(REQUEST_DURATION, &labels),
                }
            });
        h.requests.increment(1);
        h.duration.record(seconds);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        self.handle.run_upkeep();
        self.handle.render()
    }

    /// Periodic upkeep keeps histogram storage bounded between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}
