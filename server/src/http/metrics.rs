//! `/metrics`: the site's figures in Prometheus' text format — requests by route, method and
//! status with their latencies, whether the delivery database answers, the content published,
//! and the redelivery queue as the database has it when scraped. Routes are the router's
//! patterns (`/portal/releases/{id}`), and every path of the public site counts as one, so the
//! number of series stays bounded whatever is requested.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;

/// Upper bounds of the latency histogram's buckets, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The route label of everything the public site's fallback serves.
const PUBLIC_ROUTE: &str = "public";

/// How long a scrape waits for the database before leaving its figures out.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(2);

/// Requests counted since the process started.
#[derive(Default)]
pub struct HttpMetrics {
    routes: Mutex<BTreeMap<String, RouteSeries>>,
}

#[derive(Default)]
struct RouteSeries {
    /// Requests by method and status code.
    responses: BTreeMap<(&'static str, u16), u64>,
    /// Requests at or under each of [`BUCKETS`] (not cumulative until written).
    buckets: [u64; BUCKETS.len()],
    seconds: f64,
}

impl HttpMetrics {
    fn observe(&self, route: &str, method: &Method, status: StatusCode, took: Duration) {
        let method = match *method {
            Method::GET => "GET",
            Method::HEAD => "HEAD",
            Method::POST => "POST",
            _ => "other",
        };
        let seconds = took.as_secs_f64();
        let mut routes = self.routes.lock().expect("metrics lock");
        let series = match routes.get_mut(route) {
            Some(series) => series,
            None => routes.entry(route.to_string()).or_default(),
        };
        *series.responses.entry((method, status.as_u16())).or_default() += 1;
        if let Some(bucket) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            series.buckets[bucket] += 1;
        }
        series.seconds += seconds;
    }

    fn write(&self, out: &mut String) {
        let routes = self.routes.lock().expect("metrics lock");
        help(
            out,
            "statusdesk_http_requests_total",
            "counter",
            "HTTP requests answered, by route, method and status.",
        );
        for (route, series) in routes.iter() {
            for ((method, status), n) in &series.responses {
                let _ = writeln!(
                    out,
                    "statusdesk_http_requests_total{{route=\"{}\",method=\"{method}\",status=\"{status}\"}} {n}",
                    label(route)
                );
            }
        }
        help(
            out,
            "statusdesk_http_request_duration_seconds",
            "histogram",
            "Time to answer an HTTP request, by route.",
        );
        for (route, series) in routes.iter() {
            let route = label(route);
            let count: u64 = series.responses.values().sum();
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(series.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "statusdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "statusdesk_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "statusdesk_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                series.seconds
            );
            let _ =
                writeln!(out, "statusdesk_http_request_duration_seconds_count{{route=\"{route}\"}} {count}");
        }
    }
}

/// Counts every request the router answers.
pub async fn record(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request.extensions().get::<MatchedPath>().map(|path| path.as_str().to_string());
    let method = request.method().clone();
    let started = Instant::now();
    let response = next.run(request).await;
    let route = route.as_deref().unwrap_or(PUBLIC_ROUTE);
    state.metrics.observe(route, &method, response.status(), started.elapsed());
    response
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let mut out = String::new();
    help(&mut out, "statusdesk_build_info", "gauge", "The running version.");
    let _ = writeln!(out, "statusdesk_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
    state.metrics.write(&mut out);

    let published = state.site.site();
    help(&mut out, "statusdesk_content_notices", "gauge", "Notices published.");
    let _ = writeln!(out, "statusdesk_content_notices {}", published.site.notices);
    help(
        &mut out,
        "statusdesk_content_errors",
        "gauge",
        "Content files refused by the linter (the last good version is served).",
    );
    let _ = writeln!(out, "statusdesk_content_errors {}", published.site.errors);

    let database = state.database.state();
    help(&mut out, "statusdesk_database_up", "gauge", "1 when the delivery database answers.");
    let _ = writeln!(out, "statusdesk_database_up {}", u8::from(database.reachable));

    // The queue, when the database answers in time; otherwise its series are absent.
    let queue = match state.database.store() {
        Some(store) => {
            tokio::time::timeout(QUEUE_TIMEOUT, store.queue_state()).await.ok().and_then(Result::ok)
        }
        None => None,
    };
    if let Some(queue) = queue {
        help(
            &mut out,
            "statusdesk_redelivery_items",
            "gauge",
            "Redelivery items not yet at an end, by status.",
        );
        for status in ["queued", "sending", "deferred"] {
            let n = queue.items.get(status).copied().unwrap_or(0);
            let _ = writeln!(out, "statusdesk_redelivery_items{{status=\"{status}\"}} {n}");
        }
        help(
            &mut out,
            "statusdesk_redelivery_oldest_due_seconds",
            "gauge",
            "How long the longest-waiting redelivery item has been due (0: none is waiting).",
        );
        let waited = queue
            .oldest_due
            .map_or(0.0, |due| (chrono::Utc::now() - due).to_std().unwrap_or_default().as_secs_f64());
        let _ = writeln!(out, "statusdesk_redelivery_oldest_due_seconds {waited}");
        help(
            &mut out,
            "statusdesk_incident_notifications_unsent",
            "gauge",
            "Incident emails staff asked for that are not sent yet.",
        );
        let _ =
            writeln!(out, "statusdesk_incident_notifications_unsent {}", queue.unsent_incident_notifications);
    }
    (
        [
            (header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out,
    )
}

fn help(out: &mut String, name: &str, kind: &str, text: &str) {
    let _ = writeln!(out, "# HELP {name} {text}\n# TYPE {name} {kind}");
}

/// A label value in the exposition format: backslash, quote and newline escaped.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_with_cumulative_buckets() {
        let metrics = HttpMetrics::default();
        metrics.observe("/login", &Method::GET, StatusCode::OK, Duration::from_micros(500));
        metrics.observe("/login", &Method::POST, StatusCode::SEE_OTHER, Duration::from_millis(30));
        metrics.observe(
            "/login",
            &Method::from_bytes(b"BREW").unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            Duration::from_secs(9),
        );
        let mut out = String::new();
        metrics.write(&mut out);
        for line in [
            "statusdesk_http_requests_total{route=\"/login\",method=\"GET\",status=\"200\"} 1",
            "statusdesk_http_requests_total{route=\"/login\",method=\"POST\",status=\"303\"} 1",
            "statusdesk_http_requests_total{route=\"/login\",method=\"other\",status=\"405\"} 1",
            "statusdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.001\"} 1",
            "statusdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.025\"} 1",
            "statusdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"0.05\"} 2",
            "statusdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"5\"} 2",
            "statusdesk_http_request_duration_seconds_bucket{route=\"/login\",le=\"+Inf\"} 3",
            "statusdesk_http_request_duration_seconds_count{route=\"/login\"} 3",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in\n{out}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
