//! `/metrics`: what an operator's Prometheus scrapes — HTTP responses by route and status
//! class, sign-ins by outcome, and the ledger's size — in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{MatchedPath, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

use crate::service::Service;

/// Counters kept in memory since the process started.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// (route, status class) → responses.
    responses: Mutex<BTreeMap<(String, &'static str), u64>>,
    pub(crate) signins: AtomicU64,
    pub(crate) signins_refused: AtomicU64,
    pub(crate) signins_locked: AtomicU64,
}

impl Metrics {
    fn count(&self, route: &str, status: u16) {
        let class = match status {
            100..=199 => "1xx",
            200..=299 => "2xx",
            300..=399 => "3xx",
            400..=499 => "4xx",
            _ => "5xx",
        };
        if let Ok(mut responses) = self.responses.lock() {
            *responses.entry((route.to_owned(), class)).or_default() += 1;
        }
    }
}

/// Counts every response by the route that answered it (not the raw path, so ids do not
/// make a new series each).
pub(crate) async fn count(
    State(service): State<Arc<Service>>,
    matched: Option<MatchedPath>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    service.metrics.count(&route, status);
    // The route, not the path or headers: a log line never carries a token, a cookie or
    // a query string.
    tracing::debug!(%method, route, status, "answered");
    response
}

pub(crate) async fn metrics(State(service): State<Arc<Service>>) -> Response {
    let m = &service.metrics;
    let mut text = String::new();
    text.push_str("# HELP bantay_http_responses_total HTTP responses by route and status class.\n");
    text.push_str("# TYPE bantay_http_responses_total counter\n");
    if let Ok(responses) = m.responses.lock() {
        for ((route, class), n) in responses.iter() {
            let route = route.replace('\\', "\\\\").replace('"', "\\\"");
            let _ = writeln!(
                text,
                "bantay_http_responses_total{{route=\"{route}\",class=\"{class}\"}} {n}"
            );
        }
    }
    text.push_str("# HELP bantay_signins_total Sign-ins to the web pages by outcome.\n");
    text.push_str("# TYPE bantay_signins_total counter\n");
    for (outcome, n) in
        [("succeeded", &m.signins), ("refused", &m.signins_refused), ("locked", &m.signins_locked)]
    {
        let _ = writeln!(
            text,
            "bantay_signins_total{{outcome=\"{outcome}\"}} {}",
            n.load(Ordering::Relaxed)
        );
    }
    text.push_str("# HELP bantay_ledger_events Events in the ledger.\n");
    text.push_str("# TYPE bantay_ledger_events gauge\n");
    match service.store.size().await {
        Ok(size) => {
            let _ = writeln!(text, "bantay_ledger_events {size}");
        }
        Err(e) => {
            tracing::error!(error = %e, "metrics: cannot read the ledger's size");
            text.push_str("bantay_ledger_events NaN\n");
        }
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}
