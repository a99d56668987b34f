//! Prometheus metrics in the text exposition format (version 0.0.4): API latency
//! histograms per route, request counts per status, plus the gauges the store reports at
//! scrape time (queue depth, job outcomes, pool). Written by hand: a handful of series do
//! not need a metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

#[derive(Debug, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The API's own series.
#[derive(Debug, Default)]
pub struct Metrics {
    latency: Mutex<BTreeMap<(String, String), Histogram>>,
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    rate_limited: Mutex<u64>,
}

impl Metrics {
    /// Records one request by route template (never the raw path: that would make a series
    /// per image digest).
    pub fn observe(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Ok(mut h) = self.latency.lock() {
            let h = h.entry((method.to_owned(), route.to_owned())).or_default();
            for (i, b) in BUCKETS.iter().enumerate() {
                if secs <= *b {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((method.to_owned(), route.to_owned(), status)).or_default() += 1;
        }
        if status == 429
            && let Ok(mut n) = self.rate_limited.lock()
        {
            *n += 1;
        }
    }

    /// The exposition text, with `extra` lines (the store's gauges) appended.
    pub fn render(&self, extra: &[(String, f64, &str)]) -> String {
        let mut out = String::new();
        out.push_str("# HELP bulwark_http_request_duration_seconds API latency by route\n");
        out.push_str("# TYPE bulwark_http_request_duration_seconds histogram\n");
        if let Ok(h) = self.latency.lock() {
            for ((method, route), h) in h.iter() {
                let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
                for (i, b) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        out,
                        "bulwark_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ =
                    writeln!(out, "bulwark_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
                let _ = writeln!(out, "bulwark_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
                let _ = writeln!(out, "bulwark_http_request_duration_seconds_count{{{labels}}} {}", h.count);
            }
        }
        out.push_str("# HELP bulwark_http_requests_total API requests by route and status\n");
        out.push_str("# TYPE bulwark_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((method, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "bulwark_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        out.push_str("# HELP bulwark_http_rate_limited_total requests refused by the per-token rate limit\n");
        out.push_str("# TYPE bulwark_http_rate_limited_total counter\n");
        let _ = writeln!(out, "bulwark_http_rate_limited_total {}", self.rate_limited.lock().map(|n| *n).unwrap_or(0));
        let mut last_name = String::new();
        for (series, value, help) in extra {
            let name = series.split('{').next().unwrap_or(series);
            if name != last_name {
                let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
                last_name = name.to_owned();
            }
            let _ = writeln!(out, "{series} {value}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_buckets_are_cumulative() {
        let m = Metrics::default();
        m.observe("GET", "/api/v1/images", 200, Duration::from_millis(3));
        m.observe("GET", "/api/v1/images", 200, Duration::from_millis(30));
        let text = m.render(&[("bulwark_queue_depth{state=\"queued\"}".to_owned(), 2.0, "jobs")]);
        assert!(text.contains("route=\"/api/v1/images\",le=\"0.005\"} 1\n"), "{text}");
        assert!(text.contains("route=\"/api/v1/images\",le=\"0.05\"} 2\n"), "{text}");
        assert!(text.contains("status=\"200\"} 2\n"), "{text}");
        assert!(text.contains("# TYPE bulwark_queue_depth gauge\nbulwark_queue_depth{state=\"queued\"} 2\n"), "{text}");
    }
}
