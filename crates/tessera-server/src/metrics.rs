//! Prometheus metrics: request counts and latency histograms by method, route (the
//! route's pattern, never the raw path, so cardinality stays bounded) and status.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
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
        Self {
            handle: handle.clone(),
        }
    }

    pub fn record(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let labels = [
            ("method", method.to_owned()),
            ("route", route.to_owned()),
            ("status", status.to_string()),
        ];
        metrics::counter!(REQUESTS_TOTAL, &labels).increment(1);
        metrics::histogram!(REQUEST_DURATION, &labels).record(elapsed.as_secs_f64());
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
