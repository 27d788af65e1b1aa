//! Prometheus metrics: one process-wide recorder, and the one function per thing measured
//! that the rest of the host calls. Labels stay bounded: plugin name and version, hook,
//! outcome, HTTP method, route template and status; never a tenant id or a raw path.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

const PLUGIN_INVOCATIONS: &str = "axle_plugin_invocations_total";
const PLUGIN_DURATION: &str = "axle_plugin_invocation_duration_seconds";
const PLUGIN_SUSPENSIONS: &str = "axle_plugin_suspensions_total";
const SNAPSHOT_REBUILDS: &str = "axle_plugin_snapshot_rebuilds_total";
const RELOADS_HEARD: &str = "axle_plugin_reloads_heard_total";
const HTTP_REQUESTS: &str = "axle_http_requests_total";
const HTTP_DURATION: &str = "axle_http_request_duration_seconds";
const HEAP: &str = "axle_heap_bytes";
const SQLITE_HEAP: &str = "axle_sqlite_heap_bytes";
const HEAP_ARENAS: &str = "axle_heap_arenas";

/// A fresh instance plus a call takes tens of µs; a deadline stops a call at about 1 s.
const PLUGIN_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0,
];
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded in when nobody scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the recorder on the first call and returns its handle; later calls (tests
/// start many nodes in one process) return the same handle.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(PLUGIN_DURATION.to_owned()), PLUGIN_BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Full(HTTP_DURATION.to_owned()), HTTP_BUCKETS)
            })
            .expect("histogram buckets are non-empty")
            .build_recorder();
        let handle = recorder.handle();
        if let Err(err) = ::metrics::set_global_recorder(recorder) {
            tracing::warn!(error = %err, "another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        // Samples recorded between scrapes pile up until folded into the histograms.
        let upkeep = handle.clone();
        std::thread::Builder::new()
            .name("axle-metrics-upkeep".to_owned())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            })
            .expect("spawning the metrics upkeep thread");
        handle
    })
}

/// The Prometheus text exposition of every metric.
pub fn render() -> String {
    install().render()
}

fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        PLUGIN_INVOCATIONS,
        "Plugin invocations by plugin, version, hook and outcome (ok, trap, timeout, memory_limit, …)"
    );
    describe_histogram!(
        PLUGIN_DURATION,
        Unit::Seconds,
        "Plugin invocation time by plugin, version and hook"
    );
    describe_counter!(
        PLUGIN_SUSPENSIONS,
        "Installations suspended by the circuit breaker, by plugin and version"
    );
    describe_counter!(
        SNAPSHOT_REBUILDS,
        "Rebuilds of a tenant's plugin snapshot on this node"
    );
    describe_counter!(
        RELOADS_HEARD,
        "Plugin changes this node heard of, by how (local, redis, poll)"
    );
    describe_counter!(
        HTTP_REQUESTS,
        "HTTP requests by method, route template and status"
    );
    describe_histogram!(
        HTTP_DURATION,
        Unit::Seconds,
        "HTTP request time by method and route template"
    );
    describe_gauge!(
        HEAP,
        Unit::Bytes,
        "The allocator's heap by part: in_use (live allocations) and free (held, not in use)"
    );
    describe_gauge!(
        HEAP_ARENAS,
        "The allocator's arenas, each holding its own free memory; two unless GLIBC_TUNABLES says otherwise"
    );
    describe_gauge!(
        SQLITE_HEAP,
        Unit::Bytes,
        "Memory SQLite holds (page caches, statements, sorts); 0 on PostgreSQL"
    );
}

/// The allocator's heap after a trim: what is allocated, what it holds unused, and in how
/// many arenas.
pub fn heap(in_use: u64, free: u64, arenas: u64) {
    ::metrics::gauge!(HEAP, "part" => "in_use").set(in_use as f64);
    ::metrics::gauge!(HEAP, "part" => "free").set(free as f64);
    ::metrics::gauge!(HEAP_ARENAS).set(arenas as f64);
}

/// The bytes SQLite has allocated, process-wide.
pub fn sqlite_heap(bytes: i64) {
    ::metrics::gauge!(SQLITE_HEAP).set(bytes as f64);
}

/// One plugin invocation; `outcome` is `ok` or a `Failure::outcome`.
pub fn invocation(
    plugin: &str,
    version: &str,
    hook: &'static str,
    outcome: &'static str,
    took: Duration,
) {
    ::metrics::counter!(
        PLUGIN_INVOCATIONS,
        "plugin" => plugin.to_owned(),
        "version" => version.to_owned(),
        "hook" => hook,
        "outcome" => outcome,
    )
    .increment(1);
    ::metrics::histogram!(
        PLUGIN_DURATION,
        "plugin" => plugin.to_owned(),
        "version" => version.to_owned(),
        "hook" => hook,
    )
    .record(took.as_secs_f64());
}

/// The circuit breaker suspended an installation of `label` (`name@version`).
pub fn suspension(label: &str) {
    let (plugin, version) = label.split_once('@').unwrap_or((label, ""));
    ::metrics::counter!(
        PLUGIN_SUSPENSIONS,
        "plugin" => plugin.to_owned(),
        "version" => version.to_owned(),
    )
    .increment(1);
}

/// A tenant's plugin snapshot was rebuilt from the database.
pub fn snapshot_rebuilt() {
    ::metrics::counter!(SNAPSHOT_REBUILDS).increment(1);
}

/// How a node heard of a plugin change.
#[derive(Clone, Copy, Debug)]
pub enum Heard {
    /// A change made on this node.
    Local,
    Redis,
    Poll,
}

/// This node heard of `count` plugin changes.
pub fn reloads_heard(via: Heard, count: u64) {
    let via = match via {
        Heard::Local => "local",
        Heard::Redis => "redis",
        Heard::Poll => "poll",
    };
    ::metrics::counter!(RELOADS_HEARD, "via" => via).increment(count);
}

/// One HTTP request. `route` is the matched route template, or `unmatched`.
pub fn http_request(method: &'static str, route: String, status: u16, took: Duration) {
    ::metrics::counter!(
        HTTP_REQUESTS,
        "method" => method,
        "route" => route.clone(),
        "status" => status.to_string(),
    )
    .increment(1);
    ::metrics::histogram!(
        HTTP_DURATION,
        "method" => method,
        "route" => route,
    )
    .record(took.as_secs_f64());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn installing_twice_keeps_one_recorder_and_renders_what_was_recorded() {
        let first = install() as *const PrometheusHandle;
        let second = install() as *const PrometheusHandle;
        assert_eq!(first, second);
        invocation(
            "unit-test-plugin",
            "9.9.9-unit",
            "route",
            "trap",
            Duration::from_micros(40),
        );
        suspension("unit-test-plugin@9.9.9-unit");
        let text = render();
        assert!(text.contains(
            r#"axle_plugin_invocations_total{plugin="unit-test-plugin",version="9.9.9-unit",hook="route",outcome="trap"} 1"#
        ), "{text}");
        assert!(text.contains(
            r#"axle_plugin_invocation_duration_seconds_bucket{plugin="unit-test-plugin",version="9.9.9-unit",hook="route",le="0.00005"} 1"#
        ), "{text}");
        assert!(
            text.contains(
                r#"axle_plugin_suspensions_total{plugin="unit-test-plugin",version="9.9.9-unit"} 1"#
            ),
            "{text}"
        );
    }
}
