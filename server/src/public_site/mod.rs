//! The public site, pre-rendered: every page in every language, the feeds, the JSON API and the
//! stylesheet, built from [`Content`] into an in-memory index of ready-to-send responses (with
//! their ETag and gzip and brotli encodings). Serving a public page is a map lookup; it needs no
//! database, no session and no rendering.
//!
//! Localised resources live under their language prefix (`/ja/notices/x`, `/en/notices/x`); the
//! HTTP layer maps unprefixed paths to the reader's language. The same index is what
//! `statusdesk export` writes to disk.

pub mod api;
pub mod feed;
pub mod live;
pub mod views;

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use axum::body::Bytes;
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use statusdesk_app::model::Chrome;
use statusdesk_app::{Lang, pages};

use crate::content::Content;
use views::Views;

/// The stylesheet, served as written.
pub const STYLESHEET: &str = include_str!("../../../style/site.css");

/// One response body, ready to send in every encoding a client may accept.
#[derive(Debug)]
pub struct Resource {
    pub content_type: &'static str,
    /// Quoted strong validator: a hash of the identity body.
    pub etag: HeaderValue,
    /// The validators of the gzip and brotli bodies (each encoding is its own representation):
    /// the same hash, marked.
    pub etag_gzip: HeaderValue,
    pub etag_brotli: HeaderValue,
    /// Whether the body depends on the reader's language.
    pub localized: bool,
    pub identity: Bytes,
    pub gzip: Bytes,
    pub brotli: Bytes,
}

impl Resource {
    fn new(content_type: &'static str, localized: bool, body: impl Into<Vec<u8>>) -> Arc<Resource> {
        let body: Vec<u8> = body.into();
        let digest = Sha256::digest(&body);
        let hash: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etag = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{hash}{suffix}\"")).expect("hex is a valid header value")
        };
        Arc::new(Resource {
            content_type,
            etag: etag(""),
            etag_gzip: etag("-gzip"),
            etag_brotli: etag("-br"),
            localized,
            gzip: gzip(&body).into(),
            brotli: brotli(&body).into(),
            identity: body.into(),
        })
    }
}

pub const HTML: &str = "text/html; charset=utf-8";
pub const JSON: &str = "application/json";
pub const ATOM: &str = "application/atom+xml; charset=utf-8";
pub const CSS: &str = "text/css; charset=utf-8";

/// The whole public site, keyed by canonical path.
#[derive(Debug)]
pub struct PublicSite {
    resources: HashMap<String, Arc<Resource>>,
    not_found: HashMap<Lang, Arc<Resource>>,
    /// The API's answer for a path it does not have: JSON, as its clients parse.
    api_not_found: Arc<Resource>,
    /// Published languages; the first is the default.
    pub languages: Vec<Lang>,
    /// How many notices are published.
    pub notices: usize,
    /// How many errors the last load found (files not published, or kept at an earlier version).
    pub errors: usize,
    /// URL of the stylesheet, versioned by its content (the portal's pages link it too).
    pub stylesheet: String,
    /// When a notice's status changes with the clock ([`Content::next_change`]): the site,
    /// built for a moment, is out of date from then on.
    pub next_change: Option<DateTime<Utc>>,
}

impl PublicSite {
    /// Renders everything that `content` publishes, as readers see it at `now`.
    pub fn build(content: &Content, now: DateTime<Utc>) -> PublicSite {
        let next_change = content.next_change(now);
        let content = &*content.as_of(now);
        let stylesheet_resource = Resource::new(CSS, false, STYLESHEET);
        let version =
            stylesheet_resource.etag.to_str().unwrap_or_default().trim_matches('"')[..8].to_string();
        let stylesheet = format!("/style/site.css?v={version}");
        let mut resources = HashMap::new();
        let mut not_found = HashMap::new();
        resources.insert("/style/site.css".to_string(), stylesheet_resource);

        for &lang in &content.site.languages {
            let views = Views { content, lang, stylesheet: &stylesheet };
            let t = lang.text();
            let prefix = format!("/{}", lang.code());
            let html = |body: String| Resource::new(HTML, true, body);

            resources.insert(
                format!("{prefix}/"),
                html(pages::status_page(views.chrome("/", t.status), views.status_page())),
            );
            let first = views.notice_list_page(1);
            for page in 1..=first.total_pages {
                let (path, list) = match page {
                    1 => ("/notices".to_string(), first.clone()),
                    n => (format!("/notices/page/{n}"), views.notice_list_page(n)),
                };
                let title = match page {
                    1 => t.notices.to_string(),
                    n => format!("{} ({} {n})", t.notices, t.page),
                };
                let body = pages::notice_list_page(views.chrome(&path, &title), list);
                resources.insert(format!("{prefix}{path}"), html(body));
            }
            for notice in &content.notices {
                let path = format!("/notices/{}", notice.slug);
                let page = views.notice_page(notice);
                let body = pages::notice_page(views.chrome(&path, &page.summary.title), page);
                resources.insert(format!("{prefix}{path}"), html(body));
                for (path, page) in views.revision_pages(notice) {
                    let title = format!("{}: {}", page.title, lang.version(page.revision.number));
                    let body = pages::revision_page(views.chrome(&path, &title), page);
                    resources.insert(format!("{prefix}{path}"), html(body));
                }
            }
            resources.insert(
                format!("{prefix}/feed.atom"),
                Resource::new(ATOM, true, feed::render(content, lang, &stylesheet)),
            );
            let chrome = Chrome { at_path: false, ..views.chrome("/", t.not_found_title) };
            not_found.insert(lang, html(pages::not_found_page(chrome)));
        }

        let json = |value: &dyn erased::Json| Resource::new(JSON, false, value.to_pretty());
        resources.insert("/api/v1/status.json".into(), json(&api::status(content, &stylesheet)));
        resources.insert("/api/v1/notices.json".into(), json(&api::notices(content)));
        for notice in &content.notices {
            resources
                .insert(format!("/api/v1/notices/{}.json", notice.slug), json(&api::notice(content, notice)));
        }
        let api_not_found = json(&serde_json::json!({
            "error": "not_found",
            "message": "No such document: see /api/v1/status.json and /api/v1/notices.json",
        }));

        PublicSite {
            resources,
            not_found,
            api_not_found,
            languages: content.site.languages.clone(),
            notices: content.notices.len(),
            errors: content.errors().count(),
            stylesheet,
            next_change,
        }
    }

    /// The resource at a canonical path (`/en/notices/x`, `/api/v1/status.json`).
    pub fn get(&self, path: &str) -> Option<&Arc<Resource>> {
        self.resources.get(path)
    }

    /// The "not found" page in `lang` (or the default language).
    pub fn not_found(&self, lang: Lang) -> &Arc<Resource> {
        self.not_found.get(&lang).unwrap_or_else(|| &self.not_found[&self.default_lang()])
    }

    /// The API's "not found": a JSON document.
    pub fn api_not_found(&self) -> &Arc<Resource> {
        &self.api_not_found
    }

    pub fn default_lang(&self) -> Lang {
        self.languages[0]
    }

    /// Every resource with its canonical path, in path order.
    pub fn resources(&self) -> Vec<(&str, &Arc<Resource>)> {
        let mut all: Vec<_> = self.resources.iter().map(|(path, r)| (path.as_str(), r)).collect();
        all.sort_by_key(|(path, _)| *path);
        all
    }
}

/// Serialising the API documents without naming each type.
mod erased {
    pub trait Json {
        fn to_pretty(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_pretty(&self) -> String {
            let mut text = serde_json::to_string_pretty(self).expect("API documents always serialise");
            text.push('\n');
            text
        }
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body).expect("writing to memory");
    encoder.finish().expect("writing to memory")
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 9, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("writing to memory");
    out
}
