//! The portal's pages from the server's side: the reader's language, the frame every page is
//! drawn in, the answers any portal route may give (400, 403, 404, 413, 503), and the
//! extractors that answer an unreadable query or form with the portal's 400. Portal pages are
//! personal: never cached, never indexed.

use std::sync::Arc;

use axum::extract::{Form, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};
use serde::de::DeserializeOwned;
use statusdesk_app::Lang;
use statusdesk_app::model::{CompanyRef, Moment, PortalChrome};
use statusdesk_app::portal;

use super::AppState;
use super::public::{accept_language, cookie_lang};
use super::session::Viewer;
use crate::content::site::Site;
use crate::public_site::live::Published;
use crate::store::accounts::CompanyRecord;

const PRIVATE: HeaderValue = HeaderValue::from_static("no-store");

/// What every portal page needs before anything is looked up: the language and the site.
pub struct PortalPage {
    pub lang: Lang,
    /// The published site this page belongs to (its name, zone, languages, stylesheet).
    published: Arc<Published>,
    /// The request's path and query without `lang=`, to link this page in each language.
    path: String,
    query: Vec<(String, String)>,
    /// `?lang=` chose the language: remember it in the `lang` cookie.
    chosen: bool,
}

impl PortalPage {
    /// The page at `uri`. The language is `?lang=`, else the `lang` cookie, else
    /// `Accept-Language`, else the site's first language.
    pub fn new(state: &AppState, headers: &HeaderMap, uri: &Uri) -> PortalPage {
        let published = state.site.current();
        let site = &published.content.site;
        let mut pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
        let chosen = pairs.iter().find(|(k, _)| k == "lang").and_then(|(_, v)| Lang::from_code(v));
        pairs.retain(|(k, _)| k != "lang");
        let lang = chosen
            .or_else(|| cookie_lang(headers))
            .or_else(|| accept_language(headers, &site.languages))
            .unwrap_or(site.default_lang());
        PortalPage { lang, published, path: uri.path().to_string(), query: pairs, chosen: chosen.is_some() }
    }

    /// The frame of a page titled `title`, for `viewer` (if logged in) looking at `company`.
    pub fn chrome(
        &self,
        title: &str,
        viewer: Option<&Viewer>,
        company: Option<&CompanyRecord>,
    ) -> PortalChrome {
        let staff = viewer.is_some_and(|v| v.user.is_staff());
        let home_href = match company {
            Some(c) if staff => format!("/portal?{}", encode(&[("company", c.slug.as_str())])),
            _ => "/portal".to_string(),
        };
        PortalChrome {
            lang: self.lang,
            site_name: self.site().name.get(self.lang).to_string(),
            stylesheet: self.published.site.stylesheet.clone(),
            title: title.to_string(),
            user_email: viewer.map(|v| v.user.email.clone()).unwrap_or_default(),
            staff,
            company: company.map(|c| CompanyRef { slug: c.slug.clone(), name: c.name.clone() }),
            csrf: viewer.map(|v| v.csrf.clone()).unwrap_or_default(),
            languages: self
                .site()
                .languages
                .iter()
                .map(|&lang| {
                    let mut pairs: Vec<(&str, &str)> =
                        self.query.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                    pairs.push(("lang", lang.code()));
                    (lang, format!("{}?{}", self.path, encode(&pairs)))
                })
                .collect(),
            home_href,
            // Anyone else gets the portal's 404 there, as if the console did not exist.
            // The staff console's pages, and what they answer before a session is known.
            staff_console: (staff || viewer.is_none()) && self.path.starts_with("/staff"),
            refresh_seconds: None,
        }
    }

    /// An instant as readers of this site see it.
    pub fn moment(&self, t: DateTime<Utc>) -> Moment {
        crate::public_site::views::moment(self.site(), t.fixed_offset())
    }

    /// The start of the day `day` (`YYYY-MM-DD`, in the site's zone; full-width digits read as
    /// such) plus `days_after` days: `Ok(None)` when nothing was typed; `Err`, in the page's
    /// words, when it is not written as a date or is a day that does not exist (`2021-02-30`).
    pub fn day_start(&self, day: &str, days_after: u64) -> Result<Option<DateTime<Utc>>, &'static str> {
        let day = crate::text::half_width(day);
        let day = day.trim();
        if day.is_empty() {
            return Ok(None);
        }
        let p = self.lang.portal();
        let Ok(date) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
            let parts: Vec<&str> = day.split('-').collect();
            let written_as_date = parts.len() == 3 && parts.iter().all(|n| n.parse::<u32>().is_ok());
            return Err(if written_as_date { p.no_such_date } else { p.bad_date });
        };
        let date = date.checked_add_days(chrono::Days::new(days_after)).ok_or(p.no_such_date)?;
        Ok(self.start_of(date))
    }

    /// The start of today in the site's zone: where a day's redelivery cap starts counting.
    pub fn today_start(&self) -> DateTime<Utc> {
        let today = Utc::now().with_timezone(&self.site().time_zone).date_naive();
        self.start_of(today).unwrap_or_else(Utc::now)
    }

    /// The first instant of `date` in the site's zone. A zone may skip midnight (a clock
    /// change): the day then starts an hour later.
    fn start_of(&self, date: chrono::NaiveDate) -> Option<DateTime<Utc>> {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        let zone = self.site().time_zone;
        let start = zone
            .from_local_datetime(&midnight)
            .earliest()
            .or_else(|| zone.from_local_datetime(&(midnight + chrono::Duration::hours(1))).earliest());
        start.map(|t| t.with_timezone(&Utc))
    }

    /// The published site this page belongs to: its notices, for names and links.
    pub fn published(&self) -> &Published {
        &self.published
    }

    /// The site's time zone.
    pub fn site(&self) -> &Site {
        &self.published.content.site
    }

    /// An HTML response: private, and remembering the language chosen with `?lang=`.
    pub fn respond(&self, status: StatusCode, html: String) -> Response {
        let mut response =
            (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, PRIVATE);
        if self.chosen {
            let cookie = format!("lang={}; Path=/; Max-Age=31536000; SameSite=Lax", self.lang.code());
            response.headers_mut().insert(header::SET_COOKIE, HeaderValue::from_str(&cookie).expect("ASCII"));
        }
        response
    }
}

/// A query string from pairs.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("strings encode")
}

/// 503: the database cannot be reached. Plain, in the reader's language; the public pages keep
/// working and the page says so.
pub fn unavailable(page: &PortalPage) -> Response {
    let title = page.lang.portal().unavailable_title;
    let mut response = page
        .respond(StatusCode::SERVICE_UNAVAILABLE, portal::unavailable_page(page.chrome(title, None, None)));
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    response
}

/// 403: a POST without the session's CSRF token, or from another site. Nothing was changed.
pub fn forbidden(page: &PortalPage) -> Response {
    let title = page.lang.portal().forbidden_title;
    page.respond(StatusCode::FORBIDDEN, portal::forbidden_page(page.chrome(title, None, None)))
}

/// 400 (or the rejection's own status, e.g. 415): a query string or form that cannot be read
/// into what the route expects, saying what could not be read. Nothing was changed.
pub fn bad_request(page: &PortalPage, status: StatusCode, detail: String) -> Response {
    let title = page.lang.portal().bad_request_title;
    page.respond(status, portal::bad_request_page(page.chrome(title, None, None), detail))
}

/// A query string read into `T`; one that cannot be read gets the portal's [`bad_request`] page,
/// not the framework's plain-text answer.
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(PageQuery(value)),
            Err(rejection) => {
                let page = PortalPage::new(state, &parts.headers, &parts.uri);
                Err(bad_request(&page, rejection.status(), rejection.body_text()))
            }
        }
    }
}

/// A form body read into `T`; one that cannot be read (or is not a form) gets the portal's
/// [`bad_request`] page.
pub struct PageForm<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<AppState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let page = PortalPage::new(state, request.headers(), request.uri());
        match Form::<T>::from_request(request, state).await {
            Ok(Form(value)) => Ok(PageForm(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large(&page)),
            Err(rejection) => Err(bad_request(&page, rejection.status(), rejection.body_text())),
        }
    }
}

/// Why a staff form sent from this site was not saved.
#[derive(Clone, Copy, Debug)]
pub enum Unsaved {
    /// No live session, or the form carries an earlier session's token (403).
    SessionEnded,
    /// The database, which keeps the sessions, cannot be reached (503).
    DatabaseDown,
    /// The notice the form edits or updates is no longer published: its file was deleted or
    /// renamed meanwhile (404). What was typed can go into a new notice.
    NoticeGone,
}

/// The fields a form carries for the site, not typed by anyone.
const MACHINE_FIELDS: [&str; 6] = ["csrf", "version", "original", "warned", "key", "intent"];

/// A staff form not saved: what was typed in it (`posted`, name and value; the fields the site
/// fills in itself and the empty ones left out) is shown to be copied into the form at
/// `form_href`, saying `why` nothing was saved.
pub fn unsaved(
    page: &PortalPage,
    why: Unsaved,
    posted: Vec<(String, String)>,
    form_href: String,
) -> Response {
    let p = page.lang.portal();
    let (status, body, reopen) = match why {
        Unsaved::SessionEnded => (StatusCode::FORBIDDEN, p.unsaved_body, p.unsaved_reopen),
        Unsaved::DatabaseDown => (StatusCode::SERVICE_UNAVAILABLE, p.unsaved_database_body, p.unsaved_reopen),
        Unsaved::NoticeGone => (StatusCode::NOT_FOUND, p.unsaved_gone_body, p.unsaved_write_new),
    };
    let typed = posted
        .into_iter()
        .filter(|(name, value)| !MACHINE_FIELDS.contains(&name.as_str()) && !value.trim().is_empty())
        .collect();
    let chrome = page.chrome(p.unsaved_title, None, None);
    let mut response =
        page.respond(status, portal::unsaved_form_page(chrome, body, typed, (form_href, reopen)));
    if let Unsaved::DatabaseDown = why {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}

/// 403 for a form sent without a live session: nothing was done; the way to log in again.
pub fn logged_out(page: &PortalPage) -> Response {
    let title = page.lang.portal().logged_out_title;
    page.respond(StatusCode::FORBIDDEN, portal::logged_out_page(page.chrome(title, None, None)))
}

/// 413: a form over the size a POST may carry. Nothing was changed.
pub fn too_large(page: &PortalPage) -> Response {
    let title = page.lang.portal().too_large_title;
    page.respond(StatusCode::PAYLOAD_TOO_LARGE, portal::too_large_page(page.chrome(title, None, None)))
}

/// 404 for the portal: the same page whether the thing is another company's or does not exist.
pub fn not_found(page: &PortalPage, viewer: &Viewer, company: Option<&CompanyRecord>) -> Response {
    let title = page.lang.portal().not_found_title;
    page.respond(
        StatusCode::NOT_FOUND,
        portal::portal_not_found_page(page.chrome(title, Some(viewer), company)),
    )
}
