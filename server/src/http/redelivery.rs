//! Redelivery from the portal. The form on a release page posts its selection (chosen rows, or
//! every undelivered recipient of the current filter) to `…/redeliver`, which answers with the
//! confirmation: how many messages go to how many recipients, what is left out and why. Nothing
//! is created until that page is confirmed (`…/redeliver/confirm`), once per idempotency key:
//! submitting it twice, or fifty times at once, makes one request. Staff must give a reason; their
//! request is recorded as made on the company's behalf. Both steps are CSRF-checked POSTs behind
//! the session layer, and the release was resolved for the viewer's company before either runs.
//!
//! An incident's banner asks its question — redeliver the messages it left unsent, or leave them
//! — and [`answer_incident`] records the answer once per company and incident; "redeliver"
//! creates the request for all of them in the same transaction.

use axum::Extension;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use statusdesk_app::Lang;
use statusdesk_app::model::{LeaveConfirmPage, RedeliverConfirmPage};
use statusdesk_app::portal;

use super::AppState;
use super::pages::{self, PageForm, PageQuery, PortalPage, encode};
use super::portal::{HomeParams, ReleaseInScope, audit, company_in_view, home_page};
use super::session::{Viewer, new_token};
use crate::delivery::impact::Scope;
use crate::delivery::incidents::company_releases;
use crate::store::portal::{RecipientQuery, StatusFilter};
use crate::store::redelivery::{IncidentAnswer, NewRequest, RequestOutcome};
use crate::store::{Store, StoreError};

/// The longest reason staff may give for acting on a company's behalf (it is kept in the
/// request and the audit log, and shown with them).
const MAX_REASON_CHARS: usize = 500;

/// What the release page's form selected.
#[derive(Debug, Default)]
struct Selection {
    /// `selected`: the checked rows; `filter`: the filter's undelivered recipients (anything
    /// else is refused).
    scope: String,
    messages: Vec<i64>,
    status: String,
    q: String,
}

/// A posted form's fields, repeated names included.
type Fields = Vec<(String, String)>;

fn field<'f>(fields: &'f Fields, name: &str) -> &'f str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

impl Selection {
    fn from_fields(fields: &Fields) -> Selection {
        Selection {
            scope: field(fields, "scope").to_string(),
            messages: fields.iter().filter(|(k, _)| k == "m").filter_map(|(_, v)| v.parse().ok()).collect(),
            status: field(fields, "status").to_string(),
            q: field(fields, "q").to_string(),
        }
    }

    /// The filter the form was shown with.
    fn filter(&self) -> super::portal::RecipientParams {
        super::portal::RecipientParams {
            status: Some(self.status.clone()),
            q: Some(self.q.clone()),
            ..Default::default()
        }
    }

    /// What makes the selection one the release page does not make, in the page's words: no row
    /// checked, a filter with a status it does not know, or neither rows nor a filter.
    fn problem(&self, lang: Lang) -> Option<String> {
        let r = lang.redelivery();
        match self.scope.as_str() {
            "selected" if self.messages.is_empty() => Some(r.none_selected.to_string()),
            "selected" => None,
            "filter" => self.filter().unknown_status().map(|status| lang.unknown_status(status)),
            _ => Some(r.unknown_selection.to_string()),
        }
    }

    /// The candidate messages: the checked ones, or every undelivered one the filter shows;
    /// none when the selection has a [problem](Selection::problem).
    async fn candidates(&self, store: &dyn Store, scope: &ReleaseInScope) -> Result<Vec<i64>, StoreError> {
        match self.scope.as_str() {
            "selected" => return Ok(self.messages.clone()),
            "filter" if self.filter().unknown_status().is_none() => {}
            _ => return Ok(Vec::new()),
        }
        let params = self.filter();
        let status = match params.status_filter() {
            StatusFilter::All => StatusFilter::Undelivered,
            other => other,
        };
        let query = RecipientQuery { status, ..params.query(scope) };
        store.message_ids(&query).await
    }

    /// The fields that carry the selection to the confirmation.
    fn hidden(&self) -> Fields {
        let mut fields = vec![
            ("scope".to_string(), self.scope.clone()),
            ("status".to_string(), self.status.clone()),
            ("q".to_string(), self.q.clone()),
        ];
        fields.extend(self.messages.iter().map(|m| ("m".to_string(), m.to_string())));
        fields
    }

    /// The recipients asked for, in the page's words: the rows checked (`checked` of them this
    /// release's), or the filter's.
    fn describe(&self, lang: Lang, checked: usize) -> Option<String> {
        match self.scope.as_str() {
            "selected" => Some(lang.redelivery_selection(Some(checked), None, "")),
            "filter" => {
                let status = match self.filter().status_filter() {
                    StatusFilter::All | StatusFilter::Undelivered => None,
                    StatusFilter::Only(status) => Some(lang.delivery_status(status)),
                };
                Some(lang.redelivery_selection(None, status, crate::text::half_width(self.q.trim()).as_str()))
            }
            _ => None,
        }
    }

    /// The release page's query that shows its filter again: the one the rows were checked on,
    /// or the one asked for.
    fn page_query(&self) -> Vec<(&'static str, &str)> {
        [("status", self.status.as_str()), ("q", self.q.as_str())]
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect()
    }
}

/// "1 message", "2 messages": a count as the audit log's details say it.
fn messages(n: i64) -> String {
    format!("{n} message{}", if n == 1 { "" } else { "s" })
}

/// The portal's home for `company`, with `?company=` for staff.
fn home_of(viewer: &Viewer, company: &str) -> String {
    match viewer.user.is_staff() {
        true => format!("/portal?{}", encode(&[("company", company)])),
        false => "/portal".to_string(),
    }
}

/// The release page's URL (`suffix`: a path under it), with `?company=` for staff and `query`.
fn release_href(viewer: &Viewer, scope: &ReleaseInScope, suffix: &str, query: &[(&str, &str)]) -> String {
    let path = format!("/portal/releases/{}{suffix}", scope.release.id);
    let mut pairs = query.to_vec();
    if viewer.user.is_staff() {
        pairs.insert(0, ("company", &scope.company.slug));
    }
    match pairs.is_empty() {
        true => path,
        false => format!("{path}?{}", encode(&pairs)),
    }
}

/// The confirmation page for `selection`, with `error` (and its status) when the selection or
/// the last confirmation was refused.
#[allow(clippy::too_many_arguments)]
async fn confirmation(
    store: &dyn Store,
    viewer: &Viewer,
    scope: &ReleaseInScope,
    page: &PortalPage,
    selection: &Selection,
    (reason, error): (String, Option<(StatusCode, String)>),
    key: String,
    daily_cap: i64,
) -> Result<Response, StoreError> {
    let candidates = selection.candidates(store, scope).await?;
    let plan = store.plan_redelivery(scope.company.id, Some(scope.release.id), &candidates).await?;
    let over_quota =
        over_quota(store, scope.company.id, (plan.messages.len(), true), daily_cap, page).await?;
    let error = error.or_else(|| over_quota.clone().map(|text| (StatusCode::CONFLICT, text)));
    // An answer "leave them" to an incident that left messages of this release unsent is a wish
    // to keep in mind before redelivering them anyway.
    let mut declined = Vec::new();
    for notice in page.published().content.notices.iter() {
        let Some(impact) = &notice.impact else { continue };
        let Some(answer) = store.incident_answer(scope.company.id, &notice.slug).await? else { continue };
        if answer.answer == "leave"
            && company_releases(store, impact, &scope.company.slug)
                .await?
                .iter()
                .any(|r| r.0 == scope.release.id)
        {
            declined.push((notice.title.get(page.lang).to_string(), page.moment(answer.answered_at)));
        }
    }
    let mut hidden = selection.hidden();
    hidden.push(("csrf".into(), viewer.csrf.clone()));
    hidden.push(("key".into(), key));
    let view = RedeliverConfirmPage {
        title: scope.release.title.clone(),
        title_href: release_href(viewer, scope, "", &[]),
        back_href: release_href(viewer, scope, "", &selection.page_query()),
        selection: selection
            .describe(page.lang, plan.messages.len() + plan.skipped.values().sum::<i64>() as usize),
        messages: plan.messages.len() as i64,
        skipped: plan.skipped.into_iter().collect(),
        confirm_action: release_href(viewer, scope, "/redeliver/confirm", &[]),
        hidden,
        needs_reason: viewer.user.is_staff(),
        reason,
        error: error.as_ref().map(|(_, text)| text.clone()),
        over_quota: over_quota.is_some(),
        declined,
    };
    let title = page.lang.redelivery().confirm_title;
    let chrome = page.chrome(title, Some(viewer), Some(&scope.company));
    let status = error.map_or(StatusCode::OK, |(status, _)| status);
    Ok(page.respond(status, portal::redeliver_confirm_page(chrome, view)))
}

/// What to say when redelivering `messages` more would take the company over its daily cap
/// (`choosing`: recipients were chosen, and fewer can be).
async fn over_quota(
    store: &dyn Store,
    company_id: i64,
    (messages, choosing): (usize, bool),
    daily_cap: i64,
    page: &PortalPage,
) -> Result<Option<String>, StoreError> {
    let used = store.requested_since(company_id, page.today_start()).await?;
    let asked = messages as i64;
    Ok((used + asked > daily_cap).then(|| page.lang.over_quota(used, daily_cap, (asked, choosing))))
}

/// `POST /portal/releases/{id}/redeliver`: the confirmation of what the form selected.
pub async fn plan(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(scope): Extension<ReleaseInScope>,
    headers: HeaderMap,
    uri: Uri,
    PageForm(fields): PageForm<Fields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let selection = Selection::from_fields(&fields);
    let error = selection.problem(page.lang).map(|problem| (StatusCode::UNPROCESSABLE_ENTITY, problem));
    let cap = state.redelivery_daily_cap;
    let answer = confirmation(
        store.as_ref(),
        &viewer,
        &scope,
        &page,
        &selection,
        (String::new(), error),
        new_token(),
        cap,
    )
    .await;
    answer.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot plan a redelivery");
        pages::unavailable(&page)
    })
}

/// `POST /portal/releases/{id}/redeliver/confirm`: creates the request (once per key).
pub async fn confirm(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(scope): Extension<ReleaseInScope>,
    headers: HeaderMap,
    uri: Uri,
    PageForm(fields): PageForm<Fields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let selection = Selection::from_fields(&fields);
    let key = field(&fields, "key").to_string();
    let reason = field(&fields, "reason").trim().to_string();
    let r = page.lang.redelivery();
    let refuse = |status: StatusCode, error: String| {
        let (store, viewer, scope, page, selection) = (store.clone(), &viewer, &scope, &page, &selection);
        let (reason, key) = (reason.clone(), key.clone());
        async move {
            let error = Some((status, error));
            let cap = state.redelivery_daily_cap;
            confirmation(store.as_ref(), viewer, scope, page, selection, (reason, error), key, cap).await
        }
    };
    let result = async {
        if key.len() < 16 {
            // Not from the confirmation page.
            return Ok(pages::forbidden(&page));
        }
        if let Some(problem) = selection.problem(page.lang) {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, problem).await;
        }
        if viewer.user.is_staff() && reason.is_empty() {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, r.reason_missing.to_string()).await;
        }
        if reason.chars().count() > MAX_REASON_CHARS {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, r.reason_too_long.to_string()).await;
        }
        let candidates = selection.candidates(store.as_ref(), &scope).await?;
        let plan = store.plan_redelivery(scope.company.id, Some(scope.release.id), &candidates).await?;
        let request = NewRequest {
            company_id: scope.company.id,
            release_id: Some(scope.release.id),
            requested_by: Some(viewer.user.id),
            on_behalf_reason: viewer.user.is_staff().then(|| reason.clone()),
            idempotency_key: key.clone(),
            daily_cap: state.redelivery_daily_cap,
            day_started_at: page.today_start(),
            messages: plan.messages,
            incident: None,
        };
        match store.request_redelivery(&request, Utc::now()).await? {
            RequestOutcome::Created { id, items } => {
                let detail = match &request.on_behalf_reason {
                    Some(reason) => {
                        format!("request {id}: {}; on the company's behalf: {reason}", messages(items))
                    }
                    None => format!("request {id}: {}", messages(items)),
                };
                tracing::info!(user = %viewer.user.email, company = %scope.company.slug, "{detail}");
                audit(
                    store.as_ref(),
                    &viewer,
                    "redelivery.request",
                    Some(&scope.company),
                    &uri,
                    Some(detail),
                )
                .await;
                Ok(Redirect::to(&release_href(&viewer, &scope, "", &[])).into_response())
            }
            RequestOutcome::Existing { .. } => {
                Ok(Redirect::to(&release_href(&viewer, &scope, "", &[])).into_response())
            }
            RequestOutcome::OverQuota { used, cap } => {
                let asked = request.messages.len() as i64;
                refuse(StatusCode::CONFLICT, page.lang.over_quota(used, cap, (asked, true))).await
            }
            RequestOutcome::Empty | RequestOutcome::AlreadyAnswered { .. } => {
                refuse(StatusCode::CONFLICT, r.taken_meanwhile.to_string()).await
            }
        }
    }
    .await;
    result.unwrap_or_else(|e: StoreError| {
        tracing::warn!(error = %e, "cannot create a redelivery request");
        pages::unavailable(&page)
    })
}

/// `POST /portal/incidents/{slug}/answer`: the company's answer to an incident's question
/// (`answer` = `redeliver` or `leave`; staff add a `reason`). Only an incident that affected the
/// company can be answered (anything else is the portal's 404); a second answer changes nothing.
pub async fn answer_incident(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Path(slug): Path<String>,
    PageQuery(params): PageQuery<HomeParams>,
    headers: HeaderMap,
    uri: Uri,
    PageForm(fields): PageForm<Fields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let result = answer(&state, &store, &viewer, &page, &uri, &slug, params, &fields).await;
    result.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot record an incident answer");
        pages::unavailable(&page)
    })
}

#[allow(clippy::too_many_arguments)]
async fn answer(
    state: &AppState,
    store: &Arc<dyn Store>,
    viewer: &Viewer,
    page: &PortalPage,
    uri: &Uri,
    slug: &str,
    params: HomeParams,
    fields: &Fields,
) -> Result<Response, StoreError> {
    let Some(company) = company_in_view(store.as_ref(), viewer, params.company.as_deref()).await? else {
        return Ok(pages::not_found(page, viewer, None));
    };
    let published = state.site.current();
    let affected = state.incidents.for_company(store, &published.content, &company.slug).await?;
    let Some((notice, scope, left_unsent)) = affected.iter().find(|i| i.notice.slug == slug).and_then(|i| {
        Some((i.notice, i.notice.impact.clone()?, i.releases.iter().map(|(_, n)| n).sum::<i64>()))
    }) else {
        // Answered already, and nothing left undelivered since: the form sent again (back,
        // a second click) changes nothing, and the portal shows the answer.
        if store.incident_answer(company.id, slug).await?.is_some() {
            return Ok(Redirect::to(&home_of(viewer, &company.slug)).into_response());
        }
        audit(store.as_ref(), viewer, "portal.denied", Some(&company), uri, None).await;
        return Ok(pages::not_found(page, viewer, Some(&company)));
    };
    let staff = viewer.user.is_staff();
    let reason = field(fields, "reason").trim().to_string();
    let r = page.lang.redelivery();
    let home = || home_of(viewer, &company.slug);
    let again = |error: String| {
        home_page(
            state,
            store,
            viewer,
            page,
            uri,
            HomeParams::first_page(params.company.clone()),
            Some((slug, error)),
        )
    };
    let refuse = async |status: StatusCode, error: String| {
        let mut response = again(error).await?;
        *response.status_mut() = status;
        Ok(response)
    };
    let answer = field(fields, "answer");
    if answer != "redeliver" && answer != "leave" {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, r.answer_missing.to_string()).await;
    }
    // The answer given already, if any: the same one again (back, a second click) changes
    // nothing; another one is refused, saying what was answered. Checked first, and again when
    // the answer is written (another may have come in between).
    let answered = async |given: Option<IncidentAnswer>| match given {
        Some(given) if given.answer != answer => {
            let at = page.lang.datetime(&page.moment(given.answered_at));
            refuse(StatusCode::CONFLICT, page.lang.answered_already(given.answer == "redeliver", &at)).await
        }
        _ => Ok(Redirect::to(&home()).into_response()),
    };
    if let given @ Some(_) = store.incident_answer(company.id, slug).await? {
        return answered(given).await;
    }
    if staff && reason.is_empty() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, r.answer_reason_missing.to_string()).await;
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, r.reason_too_long.to_string()).await;
    }
    let detail = |what: &str| match staff {
        true => format!("{slug}: {what}; on the company's behalf: {reason}"),
        false => format!("{slug}: {what}"),
    };
    let confirmed = field(fields, "confirm") == "1";
    if answer == "leave" && !confirmed {
        // First what it means; nothing is recorded yet.
        let mut hidden = vec![("csrf", viewer.csrf.as_str()), ("answer", "leave"), ("confirm", "1")];
        if staff {
            hidden.push(("reason", reason.as_str()));
        }
        let view = LeaveConfirmPage {
            title: notice.title.get(page.lang).to_string(),
            title_href: format!("/{}/notices/{}", page.lang.code(), notice.slug),
            messages: left_unsent,
            confirm_action: uri.to_string(),
            hidden: hidden.into_iter().map(|(name, value)| (name.to_string(), value.to_string())).collect(),
            back_href: home(),
        };
        let chrome = page.chrome(r.leave_title, Some(viewer), Some(&company));
        return Ok(page.respond(StatusCode::OK, portal::leave_confirm_page(chrome, view)));
    }
    if answer == "leave" {
        if store.leave_incident(company.id, slug, Some(viewer.user.id), staff, Utc::now()).await?.is_some() {
            return answered(store.incident_answer(company.id, slug).await?).await;
        }
        audit(store.as_ref(), viewer, "incident.answer", Some(&company), uri, Some(detail("leave"))).await;
        return Ok(Redirect::to(&home()).into_response());
    }
    let of_company = Scope { company: Some(company.slug.clone()), ..scope };
    let candidates = store.incident_messages(&of_company).await?;
    let plan = store.plan_redelivery(company.id, None, &candidates).await?;
    if !confirmed {
        // First what will happen, as for a release's redelivery; nothing is created yet.
        let hidden = [("csrf", viewer.csrf.as_str()), ("answer", "redeliver"), ("confirm", "1")]
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .to_vec();
        let cap = state.redelivery_daily_cap;
        let over_quota =
            over_quota(store.as_ref(), company.id, (plan.messages.len(), false), cap, page).await?;
        let view = RedeliverConfirmPage {
            title: notice.title.get(page.lang).to_string(),
            title_href: format!("/{}/notices/{}", page.lang.code(), notice.slug),
            back_href: home(),
            selection: None,
            messages: plan.messages.len() as i64,
            skipped: plan.skipped.into_iter().collect(),
            confirm_action: uri.to_string(),
            hidden,
            needs_reason: staff,
            reason: reason.clone(),
            over_quota: over_quota.is_some(),
            error: over_quota,
            declined: Vec::new(),
        };
        let status = if view.over_quota { StatusCode::CONFLICT } else { StatusCode::OK };
        let chrome = page.chrome(r.confirm_title, Some(viewer), Some(&company));
        return Ok(page.respond(status, portal::redeliver_confirm_page(chrome, view)));
    }
    let request = NewRequest {
        company_id: company.id,
        release_id: None,
        requested_by: Some(viewer.user.id),
        on_behalf_reason: staff.then(|| reason.clone()),
        idempotency_key: format!("incident:{slug}"),
        daily_cap: state.redelivery_daily_cap,
        day_started_at: page.today_start(),
        messages: plan.messages,
        incident: Some(slug.to_string()),
    };
    match store.request_redelivery(&request, Utc::now()).await? {
        RequestOutcome::Created { id, items } => {
            let what = format!("redeliver (request {id}: {})", messages(items));
            audit(store.as_ref(), viewer, "incident.answer", Some(&company), uri, Some(detail(&what))).await;
        }
        RequestOutcome::Existing { .. } => {}
        RequestOutcome::AlreadyAnswered { .. } => {
            return answered(store.incident_answer(company.id, slug).await?).await;
        }
        RequestOutcome::OverQuota { used, cap } => {
            let asked = request.messages.len() as i64;
            return refuse(StatusCode::CONFLICT, page.lang.over_quota(used, cap, (asked, false))).await;
        }
        RequestOutcome::Empty => return refuse(StatusCode::CONFLICT, r.nothing.to_string()).await,
    }
    Ok(Redirect::to(&home()).into_response())
}
