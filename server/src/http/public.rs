//! Serving the pre-rendered public site: picks the reader's language, maps the request to a
//! resource of the index, and answers with the encoding the client accepts, ETag and caching
//! headers, or 304 when the client's copy is current. No database, no session.
//!
//! Language: a `/ja` or `/en` path prefix, else `?lang=`, else the `lang` cookie, else
//! `Accept-Language`, else the site's default. `?lang=` also sets the cookie.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use statusdesk_app::Lang;

use super::AppState;
use crate::public_site::{PublicSite, Resource};

/// How long browsers and proxies may reuse a page before asking again.
const PAGE_CACHE: HeaderValue = HeaderValue::from_static("public, max-age=30");
/// Versioned assets (`?v=` in the URL) never change.
const IMMUTABLE_CACHE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const VARY_ENCODING: HeaderValue = HeaderValue::from_static("Accept-Encoding");
const VARY_NEGOTIATED: HeaderValue = HeaderValue::from_static("Accept-Encoding, Accept-Language, Cookie");

/// The handler behind every path that no other router claims.
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, "GET, HEAD")]).into_response();
    }
    let published = state.site.site();
    let site = &published.site;
    let query = Query::parse(request.uri().query().unwrap_or(""));
    let headers = request.headers();
    let (prefix, rest) = split_language(request.uri().path(), site);
    let chosen_by_query = query.lang.filter(|l| site.languages.contains(l));
    let lang = prefix
        .or(chosen_by_query)
        .or_else(|| cookie_lang(headers).filter(|l| site.languages.contains(l)))
        .or_else(|| accept_language(headers, &site.languages))
        .unwrap_or(site.default_lang());

    let found = canonical_path(rest, &query).and_then(|path| {
        if is_language_neutral(&path) {
            // `/api/...` and `/style/...` live outside the language prefixes.
            prefix.is_none().then(|| site.get(&path)).flatten()
        } else {
            site.get(&format!("/{}{path}", lang.code()))
        }
    });
    let (status, resource) = match found {
        Some(resource) => (StatusCode::OK, resource),
        None if rest.starts_with("/api/") => (StatusCode::NOT_FOUND, site.api_not_found()),
        None => (StatusCode::NOT_FOUND, site.not_found(lang)),
    };
    let mut response = respond(status, resource, headers, query.version.is_some());
    if rest.starts_with("/api/") {
        // Public data: status widgets on other sites may read it from the browser.
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    }
    if resource.localized && prefix.is_none() {
        response.headers_mut().insert(header::VARY, VARY_NEGOTIATED);
    }
    if let Some(lang) = chosen_by_query {
        let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code());
        response
            .headers_mut()
            .insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII cookie"));
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=30"));
    }
    response
}

/// The response for `resource`: 304 when the client's ETag matches, else the body in the best
/// encoding the client accepts.
fn respond(status: StatusCode, resource: &Resource, request: &HeaderMap, versioned: bool) -> Response {
    let encoding = best_encoding(request);
    let etag = match encoding {
        Encoding::Brotli => &resource.etag_brotli,
        Encoding::Gzip => &resource.etag_gzip,
        Encoding::Identity => &resource.etag,
    };
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, etag.clone());
    headers.insert(header::CACHE_CONTROL, if versioned { IMMUTABLE_CACHE } else { PAGE_CACHE });
    headers.insert(header::VARY, VARY_ENCODING);
    if status == StatusCode::OK && etag_matches(request, etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(resource.content_type));
    let body = match encoding {
        Encoding::Brotli => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br"));
            resource.brotli.clone()
        }
        Encoding::Gzip => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            resource.gzip.clone()
        }
        Encoding::Identity => resource.identity.clone(),
    };
    (status, headers, Body::from(body)).into_response()
}

/// Splits a `/ja` or `/en` prefix off the path, when the site publishes that language.
fn split_language<'p>(path: &'p str, site: &PublicSite) -> (Option<Lang>, &'p str) {
    for &lang in &site.languages {
        if let Some(rest) = path.strip_prefix('/').and_then(|p| p.strip_prefix(lang.code()))
            && (rest.is_empty() || rest.starts_with('/'))
        {
            return (Some(lang), rest);
        }
    }
    (None, path)
}

/// The index path for a request path without its language prefix: `/notices?page=2` is
/// `/notices/page/2`, trailing slashes are dropped (but for the root). `None` for a bad page.
fn canonical_path(rest: &str, query: &Query) -> Option<String> {
    let trimmed = rest.trim_end_matches('/');
    let path = if trimmed.is_empty() { "/" } else { trimmed };
    match (path, &query.page) {
        ("/notices", Some(page)) => match page.parse::<usize>() {
            Ok(1) => Some("/notices".into()),
            Ok(n) if n > 1 => Some(format!("/notices/page/{n}")),
            _ => None,
        },
        ("/notices/page/1", _) => None,
        _ => Some(path.to_string()),
    }
}

fn is_language_neutral(path: &str) -> bool {
    path.starts_with("/api/") || path.starts_with("/style/")
}

/// The query parameters the public site understands.
#[derive(Default)]
struct Query {
    lang: Option<Lang>,
    page: Option<String>,
    version: Option<String>,
}

impl Query {
    fn parse(query: &str) -> Query {
        let mut parsed = Query::default();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "lang" => parsed.lang = Lang::from_code(value),
                "page" => parsed.page = Some(value.to_string()),
                "v" => parsed.version = Some(value.to_string()),
                _ => {}
            }
        }
        parsed
    }
}

pub(super) fn cookie_lang(headers: &HeaderMap) -> Option<Lang> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix("lang=").and_then(Lang::from_code))
}

/// The published language the client prefers most, by `Accept-Language` q-values.
pub(super) fn accept_language(headers: &HeaderMap, published: &[Lang]) -> Option<Lang> {
    let value = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',') {
        let (tag, q) = weighted(item);
        let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        if let Some(lang) = Lang::from_code(&primary).filter(|l| published.contains(l))
            && q > 0.0
            && best.is_none_or(|(best_q, _)| q > best_q)
        {
            best = Some((q, lang));
        }
    }
    best.map(|(_, lang)| lang)
}

/// Splits `token;q=0.5` into the token and its weight (1 when absent).
fn weighted(item: &str) -> (&str, f32) {
    let mut parts = item.split(';');
    let token = parts.next().unwrap_or("").trim();
    let q = parts
        .filter_map(|p| p.trim().strip_prefix("q="))
        .find_map(|q| q.trim().parse::<f32>().ok())
        .unwrap_or(1.0);
    (token, q)
}

enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

fn best_encoding(headers: &HeaderMap) -> Encoding {
    let Some(value) = headers.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return Encoding::Identity;
    };
    let (mut br, mut gzip) = (0.0f32, 0.0f32);
    for item in value.split(',') {
        match weighted(item) {
            ("br", q) => br = q,
            ("gzip", q) => gzip = q,
            ("*", q) => {
                br = br.max(q);
                gzip = gzip.max(q);
            }
            _ => {}
        }
    }
    if br > 0.0 && br >= gzip {
        Encoding::Brotli
    } else if gzip > 0.0 {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

fn etag_matches(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let Some(value) = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let ours = etag.to_str().unwrap_or_default();
    value.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn accept_language_honours_weights_and_published_languages() {
        let both = [Lang::Ja, Lang::En];
        let pick = |v| accept_language(&headers(header::ACCEPT_LANGUAGE, v), &both);
        assert_eq!(pick("en-US,en;q=0.9,ja;q=0.8"), Some(Lang::En));
        assert_eq!(pick("fr, ja;q=0.5, en;q=0.4"), Some(Lang::Ja));
        assert_eq!(pick("en;q=0, ja;q=0.1"), Some(Lang::Ja));
        assert_eq!(pick("de"), None);
        assert_eq!(accept_language(&headers(header::ACCEPT_LANGUAGE, "en"), &[Lang::Ja]), None);
    }

    #[test]
    fn encodings_prefer_brotli_and_respect_refusals() {
        let pick = |v| best_encoding(&headers(header::ACCEPT_ENCODING, v));
        assert!(matches!(pick("gzip, deflate, br"), Encoding::Brotli));
        assert!(matches!(pick("gzip, br;q=0"), Encoding::Gzip));
        assert!(matches!(pick("identity"), Encoding::Identity));
        assert!(matches!(pick("*"), Encoding::Brotli));
    }

    #[test]
    fn pages_map_to_canonical_paths() {
        let q = |page: &str| Query { page: Some(page.into()), ..Query::default() };
        assert_eq!(canonical_path("/notices", &q("2")).as_deref(), Some("/notices/page/2"));
        assert_eq!(canonical_path("/notices/", &q("1")).as_deref(), Some("/notices"));
        assert_eq!(canonical_path("/notices", &q("0")), None);
        assert_eq!(canonical_path("/notices", &q("x")), None);
        assert_eq!(canonical_path("", &Query::default()).as_deref(), Some("/"));
        assert_eq!(canonical_path("/notices/page/1", &Query::default()), None);
    }
}
