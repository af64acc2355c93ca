//! Login sessions of the portal (and, later, the staff console), and the CSRF check of every
//! request that changes something.
//!
//! The session cookie carries 32 random bytes; the database keeps only their SHA-256, with the
//! session's CSRF token and its creation and last-activity times. [`require_login`] wraps the
//! portal's routes (never the public ones): it answers 503 when the database is unreachable,
//! sends a visitor without a valid session to `/login`, ends sessions that were idle too long or
//! are past their lifetime, and refuses a POST that does not carry the session's token or that
//! comes from another site (403). A staff writing form refused so, sent from this site, is
//! answered with what was typed in it: nothing was saved, and nothing typed is lost.

use std::time::Duration;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use sha2::{Digest, Sha256};

use super::AppState;
use super::pages::{self, PortalPage, Unsaved};
use crate::store::accounts::UserRecord;

/// The largest form body a POST may carry: enough for a notice of the largest size a file may
/// have ([`MAX_FILE_BYTES`](crate::content::markdown::MAX_FILE_BYTES)) sent twice — its text and
/// the version it was opened at — each byte percent-encoded as up to three (Japanese text is).
const MAX_FORM_BYTES: usize = 2 * 1024 * 1024;

/// How sessions behave: timeouts, and whether the site is reached over HTTPS.
#[derive(Clone, Copy, Debug)]
pub struct SessionSettings {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after login, used or not.
    pub lifetime: Duration,
    /// Served over HTTPS: the cookies are `Secure` and named with the `__Host-` prefix.
    pub secure: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings {
            idle: Duration::from_secs(30 * 60),
            lifetime: Duration::from_secs(12 * 3600),
            secure: false,
        }
    }
}

impl SessionSettings {
    /// The session cookie's name.
    pub fn cookie_name(&self) -> &'static str {
        if self.secure { "__Host-statusdesk-session" } else { "statusdesk-session" }
    }

    /// The name of the cookie that carries the login form's CSRF token.
    pub fn login_cookie_name(&self) -> &'static str {
        if self.secure { "__Host-statusdesk-login" } else { "statusdesk-login" }
    }

    /// `Set-Cookie` for `name=value`: HttpOnly, SameSite=Lax, Path=/, Secure over HTTPS; a
    /// browser-session cookie (the server decides when the session ends).
    pub fn cookie(&self, name: &str, value: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}"))
            .expect("tokens are hex")
    }

    /// `Set-Cookie` that removes the cookie `name`.
    pub fn expired_cookie(&self, name: &str) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"))
            .expect("ASCII cookie")
    }

    /// How stale `last_seen_at` may get before a request records activity: often enough for
    /// the idle timeout to be exact within a quarter of it, rarely enough not to write on every
    /// request.
    fn touch_after(&self) -> chrono::Duration {
        chrono::Duration::from_std((self.idle / 4).min(Duration::from_secs(60))).unwrap_or_default()
    }
}

/// A fresh random token: 32 bytes from the operating system, as hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    hex(&bytes)
}

/// What the database stores of a session token.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The value of the cookie `name`, if the request has it.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
        .filter(|value| !value.is_empty())
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a request comes from a page of this site: `Sec-Fetch-Site`, when the browser sends
/// it, says same-origin (or none: typed by the user); `Origin`, when present, is this host.
pub fn from_this_site(headers: &HeaderMap, secure: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site")
        && !matches!(site.to_str(), Ok("same-origin" | "none"))
    {
        return false;
    }
    match headers.get(header::ORIGIN).map(|o| o.to_str()) {
        None => true,
        Some(Ok(origin)) => {
            let scheme = if secure { "https" } else { "http" };
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
            !host.is_empty() && origin == format!("{scheme}://{host}")
        }
        Some(Err(_)) => false,
    }
}

/// The logged-in user of this request, put there by [`require_login`].
#[derive(Clone, Debug)]
pub struct Viewer {
    pub user: UserRecord,
    pub token_hash: String,
    pub csrf: String,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

/// The CSRF token of a form body (urlencoded), or `""`.
fn form_csrf(body: &[u8]) -> String {
    serde_urlencoded::from_bytes::<CsrfField>(body).map(|f| f.csrf).unwrap_or_default()
}

/// Wraps the portal's routes: loads the session and its user, or answers for them.
pub async fn require_login(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let page = PortalPage::new(&state, request.headers(), request.uri());
    let settings = state.sessions;
    let secure = settings.secure;
    let Some(store) = state.database.store() else {
        return refuse(&page, request, secure, Unsaved::DatabaseDown, || pages::unavailable(&page)).await;
    };
    let method = request.method().clone();
    let next_path = request.uri().path_and_query().map_or_else(|| "/portal".to_string(), |p| p.to_string());
    let to_login = async |ended: bool, request: Request| {
        // Logging out of a session that has ended already is done.
        if method == Method::POST && request.uri().path() == "/logout" {
            let mut response = Redirect::to("/login?out=1").into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, settings.expired_cookie(settings.cookie_name()));
            return response;
        }
        if method != Method::GET && method != Method::HEAD {
            return refuse(&page, request, secure, Unsaved::SessionEnded, || pages::logged_out(&page)).await;
        }
        let query = serde_urlencoded::to_string([("next", &next_path)]).expect("encodable");
        let ended = if ended { "&ended=1" } else { "" };
        let mut response = Redirect::to(&format!("/login?{query}{ended}")).into_response();
        if ended.is_empty() {
            return response;
        }
        response.headers_mut().insert(header::SET_COOKIE, settings.expired_cookie(settings.cookie_name()));
        response
    };
    let Some(hash) = cookie(request.headers(), settings.cookie_name()).map(token_hash) else {
        return to_login(false, request).await;
    };
    let session = match store.session(&hash).await {
        Ok(Some(session)) => session,
        Ok(None) => return to_login(true, request).await,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the session");
            return refuse(&page, request, secure, Unsaved::DatabaseDown, || pages::unavailable(&page)).await;
        }
    };
    let now = Utc::now();
    let idle = chrono::Duration::from_std(settings.idle).unwrap_or(chrono::Duration::MAX);
    let lifetime = chrono::Duration::from_std(settings.lifetime).unwrap_or(chrono::Duration::MAX);
    if session.user.disabled_at.is_some()
        || now - session.last_seen_at > idle
        || now - session.created_at > lifetime
    {
        if let Err(e) = store.delete_session(&hash).await {
            tracing::warn!(error = %e, "cannot delete an ended session");
        }
        return to_login(true, request).await;
    }
    let request = if method == Method::GET || method == Method::HEAD {
        request
    } else {
        // Every other method changes something: it must come from this site, with the token.
        let (parts, body) = request.into_parts();
        let bytes = match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(bytes) => bytes,
            Err(_) => return pages::too_large(&page),
        };
        if !from_this_site(&parts.headers, secure) || !same_secret(&form_csrf(&bytes), &session.csrf_token) {
            tracing::warn!(user = %session.user.email, path = %parts.uri.path(), "refused a cross-site or tokenless POST");
            let request = Request::from_parts(parts, Body::from(bytes));
            return refuse(&page, request, secure, Unsaved::SessionEnded, || pages::forbidden(&page)).await;
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    if now - session.last_seen_at > settings.touch_after()
        && let Err(e) = store.touch_session(&hash, now).await
    {
        tracing::warn!(error = %e, "cannot record session activity");
    }
    let mut request = request;
    request.extensions_mut().insert(Viewer {
        user: session.user,
        token_hash: hash,
        csrf: session.csrf_token,
    });
    next.run(request).await
}

/// The staff forms where people type at length: a notice, new or edited, and an update.
fn is_writing_form(path: &str) -> bool {
    path.starts_with("/staff/notices/") && ["/new", "/edit", "/update"].iter().any(|end| path.ends_with(end))
}

/// Whether the browser said the request comes from this site ([`from_this_site`] also lets
/// through a request that says nothing): only such a request has its form shown back, so that
/// no other page can make this site display a text of its choosing.
fn said_to_be_from_this_site(headers: &HeaderMap, secure: bool) -> bool {
    let says = headers.contains_key(header::ORIGIN) || headers.contains_key("sec-fetch-site");
    says && from_this_site(headers, secure)
}

/// Answers a request refused before its handler (nothing was done) with `refusal()`, except a staff
/// writing form sent from this site: that gets back what was typed in it, saying `why` it was not
/// saved, so that an incident update written while the session ran out or the database was down
/// is not lost. Only such a form's body is read.
async fn refuse(
    page: &PortalPage,
    request: Request,
    secure: bool,
    why: Unsaved,
    refusal: impl FnOnce() -> Response,
) -> Response {
    let method = request.method();
    if method == Method::GET
        || method == Method::HEAD
        || !is_writing_form(request.uri().path())
        || !said_to_be_from_this_site(request.headers(), secure)
    {
        return refusal();
    }
    let path = request.uri().path().to_string();
    let Ok(body) = axum::body::to_bytes(request.into_body(), MAX_FORM_BYTES).await else {
        return pages::too_large(page);
    };
    let posted = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body).unwrap_or_default();
    pages::unsaved(page, why, posted, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            "lang=ja; statusdesk-session-x=1; statusdesk-session=abc".parse().unwrap(),
        );
        assert_eq!(cookie(&headers, "statusdesk-session"), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn only_requests_from_this_site_pass() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, "portal.example".parse().unwrap());
            for (k, v) in pairs {
                h.insert(*k, v.parse().unwrap());
            }
            h
        };
        assert!(from_this_site(&headers(&[]), false), "older browsers send neither");
        assert!(from_this_site(&headers(&[("origin", "http://portal.example")]), false));
        assert!(!from_this_site(&headers(&[("origin", "http://portal.example")]), true), "scheme counts");
        assert!(!from_this_site(&headers(&[("origin", "https://evil.example")]), true));
        assert!(!from_this_site(&headers(&[("origin", "null")]), false));
        assert!(!from_this_site(&headers(&[("sec-fetch-site", "cross-site")]), false));
        assert!(!from_this_site(&headers(&[("sec-fetch-site", "same-site")]), false));
        assert!(from_this_site(&headers(&[("sec-fetch-site", "same-origin")]), false));
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert!(same_secret(&a, &a.clone()));
        assert!(!same_secret(&a, &b));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn secure_sessions_use_the_host_prefix() {
        let secure = SessionSettings { secure: true, ..SessionSettings::default() };
        assert_eq!(secure.cookie_name(), "__Host-statusdesk-session");
        let cookie = secure.cookie(secure.cookie_name(), "t").to_str().unwrap().to_string();
        assert_eq!(cookie, "__Host-statusdesk-session=t; Path=/; HttpOnly; SameSite=Lax; Secure");
        assert!(!SessionSettings::default().cookie("n", "v").to_str().unwrap().contains("Secure"));
    }
}
