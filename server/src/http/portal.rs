//! The company portal: `/portal` (a company's releases with their totals, the incidents that
//! affected it) and `/portal/releases/{id}` (one release and every recipient), with the CSV
//! export in [`super::recipients_csv`].
//!
//! Tenancy: the company comes from the session only (a staff member names it with
//! `?company=SLUG`, and every such view is audited). A release is looked up together with the
//! company's id, whatever the method, so another company's release and a missing one are the
//! same 404, for GET and POST alike; each such attempt is audited. (Staff reading a release
//! without naming a company are sent to it as its owner's.)

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use statusdesk_app::model::{
    AffectedRelease, DeliveryStatus, FailureReason, IncidentAnswerView, IncidentBanner, Pager,
    PortalHomePage, RecipientFilterView, RecipientView, RedeliveryProgress, ReleaseFilterView, ReleasePage,
    ReleaseRowView, ReleaseView, StaffPickPage, Totals,
};
use statusdesk_app::portal;

use super::pages::{self, PageQuery, PortalPage, encode};
use super::session::{self, Viewer};
use super::{AppState, login, recipients_csv, redelivery};
use crate::store::accounts::CompanyRecord;
use crate::store::portal::{
    AuditEntry, Direction, RecipientQuery, RecipientRecord, ReleaseCursor, ReleaseQuery, ReleaseRecord,
    StatusFilter,
};
use crate::store::{Store, StoreError};

/// Releases per page of `/portal`.
const RELEASES_PER_PAGE: usize = 25;
/// Recipients per page of a release.
const RECIPIENTS_PER_PAGE: usize = 100;

/// The portal's routes, all behind the session layer.
pub fn router(state: AppState) -> Router<AppState> {
    let in_scope = || from_fn_with_state(state.clone(), resolve_release);
    Router::new()
        .route("/portal", get(home))
        .route("/portal/releases/{id}", get(release).layer(in_scope()))
        .route("/portal/releases/{id}/recipients.csv", get(recipients_csv::export).layer(in_scope()))
        .route("/portal/releases/{id}/redeliver", post(redelivery::plan).layer(in_scope()))
        .route("/portal/releases/{id}/redeliver/confirm", post(redelivery::confirm).layer(in_scope()))
        .route("/portal/incidents/{slug}/answer", post(redelivery::answer_incident))
        .route("/portal/{*rest}", any(unknown))
        // Logging out is a form (a link could log anyone out); the address typed leads to it.
        .route("/logout", get(|| async { Redirect::to("/portal") }).post(login::logout))
        .layer(from_fn_with_state(state, session::require_login))
}

/// A release the viewer may see, and its company: put in the request by [`resolve_release`].
#[derive(Clone, Debug)]
pub struct ReleaseInScope {
    pub company: CompanyRecord,
    pub release: ReleaseRecord,
}

/// The company the viewer is looking at: their own, or for staff the one named by `?company=`
/// (`None` when staff named none, or an unknown one).
pub(super) async fn company_in_view(
    store: &dyn Store,
    viewer: &Viewer,
    requested: Option<&str>,
) -> Result<Option<CompanyRecord>, StoreError> {
    match (&viewer.user.company, requested) {
        (Some(own), _) => Ok(Some(own.clone())),
        (None, Some(slug)) if !slug.trim().is_empty() => store.company(slug.trim()).await,
        (None, _) => Ok(None),
    }
}

/// Writes a line to the audit log; a failure is logged, never shown.
pub(super) async fn audit(
    store: &dyn Store,
    viewer: &Viewer,
    action: &str,
    company: Option<&CompanyRecord>,
    uri: &Uri,
    detail: Option<String>,
) {
    let entry = AuditEntry {
        actor_id: Some(viewer.user.id),
        actor: viewer.user.email.clone(),
        action: action.to_string(),
        company_id: company.map(|c| c.id),
        target: Some(uri.path_and_query().map_or_else(|| uri.path().to_string(), |p| p.to_string())),
        detail,
    };
    if let Err(e) = store.record_audit(&entry).await {
        tracing::warn!(error = %e, action, "cannot write the audit log");
    }
}

/// Staff looking at a company's pages leave a line in the audit log.
async fn audit_staff_view(store: &dyn Store, viewer: &Viewer, company: &CompanyRecord, uri: &Uri) {
    if viewer.user.is_staff() {
        audit(store, viewer, "portal.view", Some(company), uri, None).await;
    }
}

#[derive(Debug, Default, Deserialize)]
struct CompanyParam {
    company: Option<String>,
}

/// Finds `{id}` among the viewer's company's releases, or answers 404 (and audits the attempt).
async fn resolve_release(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(id): Path<String>,
    PageQuery(param): PageQuery<CompanyParam>,
    mut request: Request,
    next: Next,
) -> Response {
    let page = PortalPage::new(&state, request.headers(), request.uri());
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    // Staff following a company's link (a completion email's, say) are taken to the release as
    // that company's: their view of it is audited as any other.
    let reading = matches!(*request.method(), Method::GET | Method::HEAD);
    if viewer.user.is_staff() && param.company.as_deref().is_none_or(|c| c.trim().is_empty()) && reading {
        match store.release_owner(id.parse().unwrap_or(-1)).await {
            Ok(Some(owner)) => return Redirect::to(&as_company(request.uri(), &owner)).into_response(),
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "cannot look up a release");
                return pages::unavailable(&page);
            }
        }
    }
    let found = async {
        let Some(company) = company_in_view(store.as_ref(), &viewer, param.company.as_deref()).await? else {
            return Ok(None);
        };
        let Ok(id) = id.parse::<i64>() else { return Ok(None) };
        Ok::<_, StoreError>(
            store.release(company.id, id).await?.map(|release| ReleaseInScope { company, release }),
        )
    }
    .await;
    match found {
        Ok(Some(scope)) => {
            request.extensions_mut().insert(scope);
            next.run(request).await
        }
        Ok(None) => {
            tracing::warn!(user = %viewer.user.email, path = %request.uri().path(), "release not found for this user");
            audit(
                store.as_ref(),
                &viewer,
                "portal.denied",
                viewer.user.company.as_ref(),
                request.uri(),
                None,
            )
            .await;
            pages::not_found(&page, &viewer, viewer.user.company.as_ref())
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up a release");
            pages::unavailable(&page)
        }
    }
}

/// `uri` for staff looking as the company `slug`: its `company` named first, every other
/// parameter kept.
fn as_company(uri: &Uri, slug: &str) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(uri.query().unwrap_or("")).unwrap_or_default();
    pairs.retain(|(name, _)| name != "company");
    pairs.insert(0, ("company".into(), slug.to_string()));
    let query = serde_urlencoded::to_string(&pairs).expect("pairs of text encode");
    format!("{}?{query}", uri.path())
}

/// Any other path under `/portal`.
async fn unknown(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    pages::not_found(&page, &viewer, viewer.user.company.as_ref())
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct HomeParams {
    pub(super) company: Option<String>,
    q: Option<String>,
    from: Option<String>,
    to: Option<String>,
    undelivered: Option<String>,
    after: Option<String>,
    before: Option<String>,
}

/// `/portal`.
async fn home(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    PageQuery(params): PageQuery<HomeParams>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    match home_page(&state, &store, &viewer, &page, &uri, params, None).await {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(error = %e, "cannot build the portal page");
            pages::unavailable(&page)
        }
    }
}

/// The most companies offered for what staff typed; more are not listed.
const MAX_COMPANY_MATCHES: i64 = 20;

/// `/portal` for the viewer; `banner_error` names an incident (by slug) whose question was
/// answered in a way that could not be taken, and why.
pub(super) async fn home_page(
    state: &AppState,
    store: &Arc<dyn Store>,
    viewer: &Viewer,
    page: &PortalPage,
    uri: &Uri,
    params: HomeParams,
    banner_error: Option<(&str, String)>,
) -> Result<Response, StoreError> {
    let lang = page.lang;
    let t = lang.portal();
    let published = state.site.current();
    let Some(company) = company_in_view(store.as_ref(), viewer, params.company.as_deref()).await? else {
        // Staff who have not chosen a company, or typed part of its slug or name: one company
        // that fits is shown, several are offered.
        let typed = params.company.filter(|s| !s.trim().is_empty());
        let (mut matches, mut more_matches) = (Vec::new(), false);
        if let Some(typed) = &typed {
            let mut found = store.companies_matching(typed, MAX_COMPANY_MATCHES + 1).await?;
            if let [only] = found.as_slice() {
                return Ok(Redirect::to(&as_company(uri, &only.slug)).into_response());
            }
            more_matches = found.len() > MAX_COMPANY_MATCHES as usize;
            found.truncate(MAX_COMPANY_MATCHES as usize);
            matches = found
                .into_iter()
                .map(|c| {
                    let href = as_company(uri, &c.slug);
                    (statusdesk_app::model::CompanyRef { slug: c.slug, name: c.name }, href)
                })
                .collect();
        }
        let affected = state.incidents.affected_companies(store, &published.content).await?;
        let pick = StaffPickPage {
            unknown_slug: typed,
            matches,
            more_matches,
            affected: affected
                .into_iter()
                .map(|(slug, name, messages)| {
                    let href = format!("/portal?{}", encode(&[("company", &slug)]));
                    (statusdesk_app::model::CompanyRef { slug, name }, href, messages)
                })
                .collect(),
        };
        let chrome = page.chrome(t.pick_title, Some(viewer), None);
        return Ok(page.respond(StatusCode::OK, portal::staff_pick_page(chrome, pick)));
    };
    audit_staff_view(store.as_ref(), viewer, &company, uri).await;
    let staff_slug = viewer.user.is_staff().then(|| company.slug.clone());

    // A date that is none is named in the message, with its field; the filter then leaves it
    // out. Dates the wrong way round are both left out.
    let day = |typed: Option<&str>, days_after, label: &str| {
        let typed = typed.unwrap_or("");
        match page.day_start(typed, days_after) {
            Ok(start) => (start, None),
            Err(problem) => (None, Some(format!("{label}: {problem}{}", typed.trim()))),
        }
    };
    let (mut sent_from, from_error) = day(params.from.as_deref(), 0, t.sent_from);
    let (mut sent_before, to_error) = day(params.to.as_deref(), 1, t.sent_to);
    let reversed = match (sent_from, sent_before) {
        (Some(from), Some(before)) if from >= before => Some(t.dates_reversed.to_string()),
        _ => None,
    };
    if reversed.is_some() {
        (sent_from, sent_before) = (None, None);
    }
    let invalid = match (&from_error, &to_error, &reversed) {
        (_, _, Some(_)) => vec!["from", "to"],
        (from, to, None) => {
            [("from", from), ("to", to)].into_iter().filter(|(_, e)| e.is_some()).map(|(f, _)| f).collect()
        }
    };
    let undelivered_only = params.undelivered.as_deref().is_some_and(|v| !v.is_empty() && v != "0");
    let cursor = release_cursor(&params);
    let query = ReleaseQuery {
        company_id: company.id,
        title: params.q.clone(),
        sent_from,
        sent_before,
        undelivered_only,
        cursor,
        limit: RELEASES_PER_PAGE as i64 + 1,
    };
    let rows = store.releases(&query).await?;
    let (rows, more) = trim_page(rows, RELEASES_PER_PAGE, cursor.map(|(d, _)| d));

    // Every link keeps the filters (and the company, for staff).
    let mut base: Vec<(&str, String)> = Vec::new();
    if let Some(slug) = &staff_slug {
        base.push(("company", slug.clone()));
    }
    for (key, value) in [("q", &params.q), ("from", &params.from), ("to", &params.to)] {
        if let Some(value) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            base.push((key, value.trim().to_string()));
        }
    }
    if undelivered_only {
        base.push(("undelivered", "1".into()));
    }
    let link = |extra: Option<(&str, String)>| {
        let mut pairs: Vec<(&str, &str)> = base.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some((k, v)) = &extra {
            pairs.push((k, v));
        }
        if pairs.is_empty() { "/portal".to_string() } else { format!("/portal?{}", encode(&pairs)) }
    };
    let cursor_of = |r: &ReleaseRecord| r.sent_at.map(|t| format!("{}.{}", t.timestamp_micros(), r.id));
    let pager = pager(
        cursor.map(|(d, _)| d),
        more,
        rows.first().and_then(cursor_of).map(|c| link(Some(("before", c)))),
        rows.last().and_then(cursor_of).map(|c| link(Some(("after", c)))),
        link(None),
    );
    let release_href = |id: i64| match &staff_slug {
        Some(slug) => format!("/portal/releases/{id}?{}", encode(&[("company", slug)])),
        None => format!("/portal/releases/{id}"),
    };
    let releases = rows
        .into_iter()
        .map(|r| ReleaseRowView {
            id: r.id,
            href: release_href(r.id),
            title: r.title,
            sent_at: r.sent_at.map(|t| page.moment(t)),
            totals: r.totals,
        })
        .collect();

    // Each incident that left the company undelivered messages, or that it answered (once all
    // it asked for is redelivered, nothing is undelivered but the answer and its progress stay).
    let affected = state.incidents.for_company(store, &published.content, &company.slug).await?;
    let mut banners = Vec::new();
    for notice in published.content.notices.iter().filter(|n| n.impact.is_some()) {
        let releases = affected.iter().find(|i| i.notice.slug == notice.slug).map(|i| i.releases.clone());
        let slug = &notice.slug;
        let answered = store.incident_answer(company.id, slug).await?;
        if releases.is_none() && answered.is_none() {
            continue;
        }
        let releases = releases.unwrap_or_default();
        let ids: Vec<i64> = releases.iter().map(|(id, _)| *id).collect();
        let titles: std::collections::HashMap<i64, String> =
            store.release_titles(company.id, &ids).await?.into_iter().collect();
        let mut redelivery = None;
        if let Some(a) = answered.as_ref().filter(|a| a.answer == "redeliver")
            && let Some(request_id) = a.request_id
        {
            let progress = store.request_progress(request_id).await?;
            redelivery =
                Some(progress_view(page, a.answered_at, a.on_behalf, &progress.status, &progress.by_status));
        }
        let answer = answered.map(|a| IncidentAnswerView {
            redeliver: a.answer == "redeliver",
            at: page.moment(a.answered_at),
            by: a.answered_by,
            on_behalf: a.on_behalf,
        });
        let answer_action = match &staff_slug {
            Some(company) => format!("/portal/incidents/{slug}/answer?{}", encode(&[("company", company)])),
            None => format!("/portal/incidents/{slug}/answer"),
        };
        banners.push(IncidentBanner {
            answer,
            redelivery,
            answer_action,
            csrf: viewer.csrf.clone(),
            needs_reason: viewer.user.is_staff(),
            error: banner_error.as_ref().filter(|(s, _)| s == slug).map(|(_, e)| e.clone()),
            title: notice.title.get(lang).to_string(),
            notice_href: format!("/{}/notices/{}", lang.code(), notice.slug),
            messages: releases.iter().map(|(_, n)| n).sum(),
            releases: releases
                .iter()
                .map(|(id, messages)| AffectedRelease {
                    title: titles.get(id).cloned().unwrap_or_default(),
                    href: release_href(*id),
                    messages: *messages,
                })
                .collect(),
        });
    }
    let filter = ReleaseFilterView {
        q: params.q.unwrap_or_default(),
        from: params.from.unwrap_or_default(),
        to: params.to.unwrap_or_default(),
        undelivered_only,
        error: [from_error, to_error, reversed].into_iter().flatten().reduce(|a, b| format!("{a} / {b}")),
        invalid,
        company_slug: staff_slug,
    };
    let status = if filter.error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let mut chrome = page.chrome(t.releases, Some(viewer), Some(&company));
    // Reloads itself while a redelivery an incident's answer asked for runs.
    chrome.refresh_seconds =
        banners.iter().any(|b| b.redelivery.as_ref().is_some_and(|r| !r.done)).then_some(5);
    let home = PortalHomePage { banners, filter, releases, pager };
    Ok(page.respond(status, portal::portal_home_page(chrome, home)))
}

/// A redelivery request's progress as the portal shows it: items waiting, being sent or to be
/// retried count as queued.
fn progress_view(
    page: &PortalPage,
    requested_at: DateTime<Utc>,
    on_behalf: bool,
    status: &str,
    by_status: &std::collections::BTreeMap<String, i64>,
) -> RedeliveryProgress {
    let n = |status: &str| by_status.get(status).copied().unwrap_or(0);
    RedeliveryProgress {
        requested_at: page.moment(requested_at),
        on_behalf,
        incident: None,
        done: status == "done",
        queued: n("queued") + n("sending") + n("deferred"),
        sent: n("sent"),
        failed: n("failed"),
        unknown: n("unknown"),
    }
}

/// The cursor of `?after=` or `?before=` (`microseconds.id`); a malformed one is ignored.
fn release_cursor(params: &HomeParams) -> Option<(Direction, ReleaseCursor)> {
    let parse = |value: &str| {
        let (micros, id) = value.split_once('.')?;
        let sent_at = DateTime::from_timestamp_micros(micros.parse().ok()?)?;
        Some(ReleaseCursor { sent_at, id: id.parse().ok()? })
    };
    if let Some(c) = params.after.as_deref().and_then(parse) {
        return Some((Direction::After, c));
    }
    params.before.as_deref().and_then(parse).map(|c| (Direction::Before, c))
}

/// A page of at most `n` rows from `rows` (fetched with one extra), and whether there are more
/// beyond it in the direction it was fetched.
fn trim_page<T>(mut rows: Vec<T>, n: usize, direction: Option<Direction>) -> (Vec<T>, bool) {
    let more = rows.len() > n;
    if more {
        match direction {
            // Fetched backwards: the extra row is the one farthest back, now first.
            Some(Direction::Before) => {
                rows.remove(0);
            }
            _ => rows.truncate(n),
        }
    }
    (rows, more)
}

/// Links around a page: `newer`/`older` go from its first/last row.
fn pager(
    direction: Option<Direction>,
    more: bool,
    newer: Option<String>,
    older: Option<String>,
    first: String,
) -> Pager {
    match direction {
        None => Pager { first: None, newer: None, older: more.then_some(older).flatten() },
        Some(Direction::After) => Pager { first: Some(first), newer, older: more.then_some(older).flatten() },
        Some(Direction::Before) => {
            Pager { first: more.then_some(first), newer: more.then_some(newer).flatten(), older }
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct RecipientParams {
    pub status: Option<String>,
    pub q: Option<String>,
    /// Keyset cursors: the page after (or before) this address.
    pub after: Option<String>,
    pub before: Option<String>,
}

impl HomeParams {
    /// The first page of `company`'s releases (for staff: the company named), no filters.
    pub(super) fn first_page(company: Option<String>) -> HomeParams {
        HomeParams { company, ..HomeParams::default() }
    }
}

impl RecipientParams {
    /// The `status` asked for when it is none the filter knows (a link typed by hand).
    pub fn unknown_status(&self) -> Option<&str> {
        let status = self.status.as_deref().unwrap_or("").trim();
        let known =
            status.is_empty() || status == "undelivered" || DeliveryStatus::from_keyword(status).is_some();
        (!known).then_some(status)
    }

    /// The status filter: `undelivered`, a status keyword, or anything else (nothing) for all.
    pub fn status_filter(&self) -> StatusFilter {
        match self.status.as_deref().unwrap_or("").trim() {
            "undelivered" => StatusFilter::Undelivered,
            keyword => DeliveryStatus::from_keyword(keyword).map_or(StatusFilter::All, StatusFilter::Only),
        }
    }

    pub fn query(&self, scope: &ReleaseInScope) -> RecipientQuery {
        RecipientQuery {
            company_id: scope.company.id,
            release_id: scope.release.id,
            status: self.status_filter(),
            // Addresses are ASCII: what an input method typed full-width means the same.
            address: self.q.as_deref().map(crate::text::half_width),
        }
    }
}

/// How many recipients a filter without an address part matches, from the release's totals.
fn matching_from_totals(totals: &Totals, filter: StatusFilter) -> i64 {
    match filter {
        StatusFilter::All => totals.messages(),
        StatusFilter::Undelivered => totals.undelivered(),
        StatusFilter::Only(status) => match status {
            DeliveryStatus::Queued => totals.queued,
            DeliveryStatus::Sent => totals.sent + totals.redelivered,
            DeliveryStatus::Deferred => totals.deferred,
            DeliveryStatus::Bounced => totals.bounced,
            DeliveryStatus::Failed => totals.failed,
            DeliveryStatus::NotSent => totals.not_sent,
            DeliveryStatus::Unknown => totals.unknown,
        },
    }
}

/// A recipient as the page shows it.
fn recipient_view(page: &PortalPage, r: RecipientRecord) -> RecipientView {
    // The reply as the server sent it; the bare codes when only they were recorded.
    let reply = r.smtp_reply.filter(|reply| !reply.is_empty()).or_else(|| {
        let codes: Vec<String> =
            [r.smtp_code.map(|c| c.to_string()), r.enhanced_code].into_iter().flatten().collect();
        (!codes.is_empty()).then(|| codes.join(" "))
    });
    RecipientView {
        message_id: r.id,
        status: DeliveryStatus::from_keyword(&r.status).unwrap_or(DeliveryStatus::Unknown),
        redelivered: r.generation > 0,
        being_redelivered: r.being_redelivered,
        attempts: r.attempts,
        last_attempt: r.last_attempt_at.map(|t| page.moment(t)),
        reason: r.error_class.as_deref().and_then(FailureReason::from_keyword),
        smtp_reply: reply,
        address: r.recipient,
    }
}

/// `/portal/releases/{id}`.
async fn release(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(scope): Extension<ReleaseInScope>,
    headers: HeaderMap,
    uri: Uri,
    PageQuery(params): PageQuery<RecipientParams>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let status = match params.unknown_status() {
        Some(_) => StatusCode::UNPROCESSABLE_ENTITY,
        None => StatusCode::OK,
    };
    match release_page(store.as_ref(), &viewer, &page, &uri, &scope, params).await {
        Ok(html) => page.respond(status, html),
        Err(e) => {
            tracing::warn!(error = %e, "cannot build the release page");
            pages::unavailable(&page)
        }
    }
}

async fn release_page(
    store: &dyn Store,
    viewer: &Viewer,
    page: &PortalPage,
    uri: &Uri,
    scope: &ReleaseInScope,
    params: RecipientParams,
) -> Result<String, StoreError> {
    audit_staff_view(store, viewer, &scope.company, uri).await;
    let query = params.query(scope);
    let cursor = match (&params.after, &params.before) {
        (Some(after), _) => Some((Direction::After, after.as_str())),
        (None, Some(before)) => Some((Direction::Before, before.as_str())),
        (None, None) => None,
    };
    let rows = store.recipients(&query, cursor, RECIPIENTS_PER_PAGE as i64 + 1).await?;
    let (rows, more) = trim_page(rows, RECIPIENTS_PER_PAGE, cursor.map(|(d, _)| d));
    let matching = match query.address.as_deref().filter(|a| !a.trim().is_empty()) {
        None => matching_from_totals(&scope.release.totals, query.status),
        Some(_) => store.count_recipients(&query).await?,
    };

    let staff_slug = viewer.user.is_staff().then(|| scope.company.slug.clone());
    let status = match query.status {
        StatusFilter::All => String::new(),
        StatusFilter::Undelivered => "undelivered".to_string(),
        StatusFilter::Only(s) => s.as_str().to_string(),
    };
    let mut base: Vec<(&str, &str)> = Vec::new();
    if let Some(slug) = &staff_slug {
        base.push(("company", slug));
    }
    if !status.is_empty() {
        base.push(("status", &status));
    }
    let q = params.q.as_deref().map(str::trim).unwrap_or("");
    if !q.is_empty() {
        base.push(("q", q));
    }
    let path = format!("/portal/releases/{}", scope.release.id);
    let link = |path: &str, extra: Option<(&str, &str)>| {
        let mut pairs = base.clone();
        pairs.extend(extra);
        if pairs.is_empty() { path.to_string() } else { format!("{path}?{}", encode(&pairs)) }
    };
    let pager = pager(
        cursor.map(|(d, _)| d),
        more,
        rows.first().map(|r| link(&path, Some(("before", &r.recipient)))),
        rows.last().map(|r| link(&path, Some(("after", &r.recipient)))),
        link(&path, None),
    );
    let csv_href = link(&format!("{path}/recipients.csv"), None);
    let redeliver_action = match &staff_slug {
        Some(slug) => format!("{path}/redeliver?{}", encode(&[("company", slug)])),
        None => format!("{path}/redeliver"),
    };
    let redeliveries: Vec<RedeliveryProgress> = store
        .release_redeliveries(scope.company.id, scope.release.id)
        .await?
        .into_iter()
        .map(|r| {
            let published = page.published();
            let incident = r.incident.as_deref().and_then(|slug| published.content.notice(slug)).map(|n| {
                (n.title.get(page.lang).to_string(), format!("/{}/notices/{}", page.lang.code(), n.slug))
            });
            RedeliveryProgress {
                incident,
                ..progress_view(page, r.created_at, r.on_behalf, &r.status, &r.by_status)
            }
        })
        .collect();
    let in_progress = redeliveries.iter().any(|r| !r.done);
    let release = &scope.release;
    let view = ReleasePage {
        release: ReleaseView {
            id: release.id,
            title: release.title.clone(),
            sender_address: release.sender_address.clone(),
            sender_is_default: release.sender_is_default,
            recipient_source: release.recipient_source.clone(),
            sent_at: release.sent_at.map(|t| page.moment(t)),
            totals: release.totals,
        },
        filter: RecipientFilterView {
            status,
            q: q.to_string(),
            company_slug: staff_slug,
            error: params.unknown_status().map(|unknown| page.lang.unknown_status(unknown)),
        },
        recipients: rows.into_iter().map(|r| recipient_view(page, r)).collect(),
        matching,
        pager,
        csv_href,
        redeliver_action,
        csrf: viewer.csrf.clone(),
        redeliveries,
    };
    let mut chrome = page.chrome(&release.title, Some(viewer), Some(&scope.company));
    // While a redelivery is under way the page reloads itself (no script needed), unless rows
    // on it can be chosen: a reload would clear them.
    let choosing = view.recipients.iter().any(RecipientView::choosable);
    chrome.refresh_seconds = (in_progress && !choosing).then_some(5);
    Ok(portal::release_page(chrome, view))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_trim_the_extra_row_on_the_side_they_were_fetched_towards() {
        assert_eq!(trim_page(vec![1, 2, 3], 2, None), (vec![1, 2], true));
        assert_eq!(trim_page(vec![1, 2, 3], 2, Some(Direction::After)), (vec![1, 2], true));
        assert_eq!(trim_page(vec![1, 2, 3], 2, Some(Direction::Before)), (vec![2, 3], true));
        assert_eq!(trim_page(vec![1, 2], 2, Some(Direction::Before)), (vec![1, 2], false));
    }

    #[test]
    fn the_pager_links_only_to_pages_that_exist() {
        let links = |d, more| pager(d, more, Some("newer".into()), Some("older".into()), "first".into());
        let first_page = links(None, true);
        assert_eq!(
            (first_page.first, first_page.newer, first_page.older.as_deref()),
            (None, None, Some("older"))
        );
        let last_page = links(Some(Direction::After), false);
        assert_eq!((last_page.first.as_deref(), last_page.older), (Some("first"), None));
        let back_to_start = links(Some(Direction::Before), false);
        assert_eq!(
            (back_to_start.first, back_to_start.newer, back_to_start.older.as_deref()),
            (None, None, Some("older"))
        );
    }
}
