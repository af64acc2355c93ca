//! Security headers on every response: a strict Content Security Policy (the site runs no
//! script), no MIME sniffing, no framing, a conservative referrer policy, and HSTS when the site
//! is served over TLS.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;

const CSP: HeaderValue = HeaderValue::from_static(
    "default-src 'self'; script-src 'none'; img-src 'self' https:; style-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
);
const HSTS: HeaderValue = HeaderValue::from_static("max-age=63072000; includeSubDomains");

/// Which headers to add.
#[derive(Clone, Copy)]
pub struct Headers {
    hsts: bool,
}

impl Headers {
    pub fn new(hsts: bool) -> Self {
        Headers { hsts }
    }
}

pub async fn add_headers(State(config): State<Headers>, mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, CSP);
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    if config.hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HSTS);
    }
    response
}
