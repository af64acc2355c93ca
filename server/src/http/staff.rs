//! The staff console: `/staff/notices` lists every notice; `/staff/notices/{slug}/update` is
//! "add update" — one short form (time, defaulting to now; status; text in both languages) that
//! appends a timeline entry to the notice's file and republishes it in one step, recorded as a
//! new version with its author and note.
//!
//! Saving runs the linter on the file as it would be written; on an error nothing is written and
//! the form comes back with everything typed and each message next to its field. The file is
//! replaced atomically ([`crate::content::write`]), and only if it is still the version the form
//! was opened on (its SHA-256): otherwise the form comes back with the changes made meanwhile.
//! `/staff/notices/{slug}/impact` computes an incident's impact from the database for the scope
//! its notice names (`[impact]`), with every affected company's contact, answer and redelivery.
//!
//! `/staff/audit` shows the audit log — who did what, when, to what — filtered by who, action,
//! company and days, newest first, a page at a time.
//!
//! Only staff reach these routes (anyone else gets the portal's 404); every POST has passed the
//! session layer's CSRF check, and every change is audited.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use chrono::{NaiveDateTime, TimeZone, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use statusdesk_app::model::{
    AffectedCompanyView, AuditFilterView, AuditPage, AuditRowView, FieldProblem, ImpactFigures, Kind,
    NoticeEditorPage, NoticeImpactPage, NoticeSaved, NoticeUpdateForm, ScopeEditor, StaffNoticeRow,
    StaffNoticesPage, Status,
};
use statusdesk_app::{Lang, staff};

use super::AppState;
use super::pages::{self, PageForm, PageQuery, PortalPage, Unsaved, encode};
use super::portal::audit;
use super::session::{self, Viewer};
use crate::content::update::{
    FORM_KEYS, ImpactTable, NewNotice, new_notice_text, replace_fields, set_impact,
};
use crate::content::update::{Update, append_update};
use crate::content::{Finding, Findings, Level, Notice, notice};
use crate::delivery::impact::{Buckets, ErrorClass, RecipientSource, Route, Scope, SenderKind};
use crate::dispatch::notify::{AffectedRelease, IncidentEmail, compose_incident_email};
use crate::public_site::views::Views;
use crate::store::accounts::CompanyRecord;
use crate::store::portal::AuditQuery;
use crate::store::redelivery::NewIncidentNotification;
use clap::ValueEnum;

/// The form for a new notice.
const NEW_NOTICE_HREF: &str = "/staff/notices/new";

/// The console's routes: behind the session layer, for staff only.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/staff", get(|| async { Redirect::to("/staff/notices") }))
        .route("/staff/notices", get(notices))
        .route(NEW_NOTICE_HREF, get(new_notice_form).post(new_notice))
        .route("/staff/notices/{slug}/edit", get(edit_notice_form).post(edit_notice))
        .route("/staff/notices/{slug}/update", get(update_form).post(add_update))
        .route("/staff/notices/{slug}/impact", get(impact).post(attach))
        .route("/staff/notices/{slug}/notify", post(notify))
        .route("/staff/audit", get(audit_log))
        .route("/staff/{*rest}", any(not_found))
        .layer(from_fn_with_state(state.clone(), staff_only))
        .layer(from_fn_with_state(state, session::require_login))
}

/// Anyone but staff: the portal's 404, as if the console did not exist.
async fn staff_only(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    request: Request,
    next: Next,
) -> Response {
    if viewer.user.is_staff() {
        return next.run(request).await;
    }
    pages::not_found(&PortalPage::new(&state, request.headers(), request.uri()), &viewer, None)
}

async fn not_found(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    pages::not_found(&PortalPage::new(&state, &headers, &uri), &viewer, None)
}

#[derive(Debug, Default, Deserialize)]
struct NoticesParams {
    /// The notice just published.
    updated: Option<String>,
    /// The notice saved without a change: nothing was published.
    unchanged: Option<String>,
}

/// `/staff/notices`: every notice, newest first.
async fn notices(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    PageQuery(params): PageQuery<NoticesParams>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let published = state.site.current();
    let lang = page.lang;
    let now = Utc::now();
    let rows = published
        .content
        .notices
        .iter()
        .map(|notice| StaffNoticeRow {
            title: notice.title.get(lang).to_string(),
            kind: notice.kind,
            status: notice.status,
            shown_publicly_as: notice.status_at(now).filter(|shown| Some(*shown) != notice.status),
            past_planned_end: notice.past_planned_end(now),
            updated: crate::public_site::views::moment(page.site(), published.content.updated_at(notice)),
            public_href: format!("/{}/notices/{}", lang.code(), notice.slug),
            update_href: notice.status.map(|_| update_href(&notice.slug)),
            edit_href: format!("/staff/notices/{}/edit", notice.slug),
            impact_href: notice.impact.as_ref().map(|_| format!("/staff/notices/{}/impact", notice.slug)),
        })
        .collect();
    let title = |slug: String| published.content.notice(&slug).map(|n| n.title.get(lang).to_string());
    let saved = match (params.updated, params.unchanged) {
        (Some(slug), _) => title(slug).map(NoticeSaved::Published),
        (None, Some(slug)) => title(slug).map(NoticeSaved::Unchanged),
        (None, None) => None,
    };
    let errors = published
        .content
        .findings
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(|f| f.describe(lang))
        .collect();
    let chrome = page.chrome(lang.staff().notices, Some(&viewer), None);
    let list = StaffNoticesPage { notices: rows, saved, errors };
    page.respond(StatusCode::OK, staff::notices_page(chrome, list))
}

fn update_href(slug: &str) -> String {
    format!("/staff/notices/{slug}/update")
}

/// The SHA-256 of a file's text: the version a form was opened on.
fn version(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// The published notice `slug` that can take updates (it has a status), and its file's text.
fn updatable(state: &AppState, slug: &str) -> Option<(Notice, String)> {
    let published = state.site.current();
    let notice = published.content.notice(slug).filter(|n| n.status.is_some())?.clone();
    let text = std::fs::read_to_string(&notice.path).ok()?;
    Some((notice, text))
}

/// What the form posts.
#[derive(Debug, Default, Deserialize)]
struct UpdateFields {
    #[serde(default)]
    at: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    text_en: String,
    /// Why this entry comes after the notice was resolved, in each language.
    #[serde(default)]
    reason: String,
    #[serde(default)]
    reason_en: String,
    /// The author's note for the version this publishes.
    #[serde(default)]
    note: String,
    /// The SHA-256 of the file when the form was opened: the version it stands on.
    #[serde(default)]
    version: String,
    /// The file's text then, to show what changed since (browsers post it with CRLF lines).
    #[serde(default)]
    original: String,
    /// The SHA-256 of the linter's warnings last shown with the form: publishing with those
    /// same warnings is the deliberate choice they asked for.
    #[serde(default)]
    warned: String,
}

impl UpdateFields {
    /// What was typed, by field name, as a form posts it.
    fn posted(self) -> Vec<(String, String)> {
        [
            ("at", self.at),
            ("status", self.status),
            ("text", self.text),
            ("text_en", self.text_en),
            ("reason", self.reason),
            ("reason_en", self.reason_en),
            ("note", self.note),
        ]
        .map(|(name, value)| (name.to_string(), value))
        .to_vec()
    }
}

/// A form sent for a notice it cannot be saved over: one no longer published (its file deleted
/// or renamed meanwhile) gives back what was typed; anything else is not found.
fn notice_not_there(
    state: &AppState,
    page: &PortalPage,
    viewer: &Viewer,
    slug: &str,
    posted: Fields,
) -> Response {
    match state.site.current().content.notice(slug) {
        None => pages::unsaved(page, Unsaved::NoticeGone, posted, NEW_NOTICE_HREF.into()),
        Some(_) => pages::not_found(page, viewer, None),
    }
}

/// The form for `notice`, filled with `fields`.
fn form(page: &PortalPage, notice: &Notice, fields: UpdateFields) -> NoticeUpdateForm {
    let zone = page.site().time_zone;
    let offset = zone.offset_from_utc_datetime(&Utc::now().naive_utc());
    NoticeUpdateForm {
        title: notice.title.get(page.lang).to_string(),
        action: update_href(&notice.slug),
        at: fields.at,
        zone: format!("{zone}, UTC{}", chrono::Offset::fix(&offset)),
        status: Status::from_keyword(&fields.status),
        current_status: notice.status_at(Utc::now()),
        follows_plan: notice.follows_plan(),
        statuses: Status::allowed_for(notice.kind).to_vec(),
        text: fields.text,
        text_en: fields.text_en,
        reason: fields.reason,
        reason_en: fields.reason_en,
        note: fields.note,
        version: fields.version,
        original: fields.original,
        warnings: Vec::new(),
        warned: String::new(),
        problems: Vec::new(),
        conflict: None,
        file_errors: file_errors(page, &notice.path),
    }
}

/// The linter's errors in the file at `path` as it is on disk, in the page's language.
fn file_errors(page: &PortalPage, path: &std::path::Path) -> Vec<String> {
    let findings = &page.published().content.findings;
    findings
        .iter()
        .filter(|f| f.level == Level::Error && f.path == path)
        .map(|f| f.describe(page.lang))
        .collect()
}

async fn update_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    Path(slug): Path<String>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some((notice, text)) = updatable(&state, &slug) else {
        return pages::not_found(&page, &viewer, None);
    };
    // The status readers see now (a maintenance following its plan may be under way already).
    // A closed notice's next entry is news after it (a cause found): its status stays.
    let shown = notice.status_at(Utc::now());
    let fields = UpdateFields {
        at: form_time(Utc::now(), page.site().time_zone),
        status: shown.filter(|s| !s.is_closed()).map(|s| s.as_str().to_string()).unwrap_or_default(),
        version: version(&text),
        original: text,
        ..UpdateFields::default()
    };
    let form = form(&page, &notice, fields);
    render(&page, &viewer, StatusCode::OK, form)
}

fn render(page: &PortalPage, viewer: &Viewer, status: StatusCode, form: NoticeUpdateForm) -> Response {
    let title = format!("{}: {}", page.lang.staff().add_update, form.title);
    page.respond(status, staff::update_page(page.chrome(&title, Some(viewer), None), form))
}

fn problem(field: Option<&'static str>, message: impl Into<String>) -> FieldProblem {
    FieldProblem { field, message: message.into() }
}

/// `text` with the CRLF line breaks that browsers post turned back into LF.
fn one_line_ending(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// What changed in a notice file between the text a form was opened on and the file now, as a
/// unified diff.
fn changes_since_opened(lang: Lang, opened: &str, now: &str) -> String {
    let opened = one_line_ending(opened);
    similar::TextDiff::from_lines(opened.as_str(), now)
        .unified_diff()
        .context_radius(2)
        .header(lang.pick("開いたとき", "opened"), lang.pick("現在", "now"))
        .to_string()
}

/// How far ahead of now an update's time may be, in minutes.
const FUTURE_LEEWAY_MINUTES: i64 = 5;

/// Whether `at` lies ahead of `now` beyond the few minutes clocks and typing may differ by: a
/// time that cannot have happened yet.
fn ahead_of(at: chrono::DateTime<chrono::FixedOffset>, now: chrono::DateTime<Utc>) -> bool {
    at.to_utc() > now + chrono::Duration::minutes(FUTURE_LEEWAY_MINUTES)
}

/// Checks what was typed; the update it describes, or what is wrong with it.
fn read_update(
    page: &PortalPage,
    notice: &Notice,
    fields: &UpdateFields,
) -> Result<Update, Vec<FieldProblem>> {
    let mut problems = Vec::new();
    let text = page.lang.staff();
    let kind = notice.kind;
    let at = local_time(page, &fields.at).map_err(|m| problems.push(problem(Some("at"), m))).ok();
    // Entries are kept oldest first: one before the latest is said so here, in the form's words.
    let latest = notice.timeline.last().map(|e| e.at);
    if let (Some(at), Some(latest)) = (at, latest)
        && at < latest
    {
        let latest = page.lang.datetime(&page.moment(latest.to_utc()));
        problems.push(problem(Some("at"), format!("{}{latest}", text.before_latest)));
    }
    // An entry tells what happened: a time ahead of now is a mistake (a later entry could not
    // come before it), beyond a few minutes of clocks and typing.
    let now = Utc::now();
    if let Some(at) = at
        && ahead_of(at, now)
    {
        let now = page.lang.datetime(&page.moment(now));
        problems.push(problem(Some("at"), format!("{}{now}", text.in_the_future)));
    }
    // Empty: the entry leaves the notice's status as it is.
    let status = match fields.status.trim() {
        "" => Ok(None),
        keyword => Status::from_keyword(keyword)
            .filter(|s| Status::allowed_for(kind).contains(s))
            .map(Some)
            .ok_or(()),
    };
    if status.is_err() {
        problems.push(problem(Some("status"), text.no_status));
    }
    // A maintenance that has not begun cannot have ended before its planned start (one called
    // off is cancelled), and one under way or done, as readers are shown it now (a scheduled one
    // follows its plan), cannot be called off (it is completed).
    match (status, notice.status_at(now)) {
        (Ok(Some(Status::Completed)), Some(Status::Scheduled | Status::Cancelled)) => {
            if let (Some(at), Some(start)) = (at, notice.started_at)
                && at < start
            {
                let start = page.lang.datetime(&page.moment(start.to_utc()));
                problems.push(problem(Some("status"), format!("{}{start}", text.completed_before_start)));
            }
        }
        (Ok(Some(Status::Cancelled)), Some(Status::InProgress | Status::Completed)) => {
            problems.push(problem(Some("status"), text.cancelled_under_way));
        }
        _ => {}
    }
    if fields.text.trim().is_empty() {
        problems.push(problem(Some("text"), text.no_text));
    }
    let optional = |typed: &str| Some(one_line_ending(typed.trim())).filter(|t| !t.is_empty());
    match (at, status) {
        (Some(at), Ok(status)) if problems.is_empty() => Ok(Update {
            at,
            status,
            text: one_line_ending(fields.text.trim()),
            text_en: optional(&fields.text_en),
            reason: optional(&fields.reason),
            reason_en: optional(&fields.reason_en),
        }),
        _ => Err(problems),
    }
}

/// The linter's warnings about a notice file as written (`written`, its findings) that it did not
/// give about it as it was (`before`), in the page's language; a missing English text is not one
/// of them (the form marks it optional, and the page says what is untranslated).
fn new_warnings(written: &[Finding], path: &std::path::Path, before: &str, page: &PortalPage) -> Vec<String> {
    let warnings = |findings: &[Finding]| -> Vec<String> {
        let warnings = findings.iter().filter(|f| f.level == Level::Warning && !f.is_untranslated());
        warnings.map(|f| f.message.get(page.lang).to_string()).collect()
    };
    let mut earlier = Findings::new(path);
    notice::parse(path, before, page.site(), &mut earlier);
    // Counted, not only compared: a warning given once more than before is a new one.
    let mut known = warnings(&earlier.list);
    warnings(written)
        .into_iter()
        .filter(|w| match known.iter().position(|k| k == w) {
            Some(i) => {
                known.swap_remove(i);
                false
            }
            None => true,
        })
        .collect()
}

/// The form field a linter finding on the file `text` is about: the key it says is missing, or
/// else the key on its line.
fn field_of(text: &str, finding: &Finding) -> Option<&'static str> {
    let key = match finding.missing_key {
        Some(key) => key,
        None => text.lines().nth(finding.line.checked_sub(1)?)?.trim_start().split('=').next()?.trim(),
    };
    match key {
        "at" | "resolved_at" => Some("at"),
        "status" => Some("status"),
        "text" => Some("text"),
        "text_en" => Some("text_en"),
        "reason" => Some("reason"),
        "reason_en" => Some("reason_en"),
        _ => None,
    }
}

async fn add_update(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    Path(slug): Path<String>,
    PageForm(fields): PageForm<UpdateFields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some((notice, _)) = updatable(&state, &slug) else {
        return notice_not_there(&state, &page, &viewer, &slug, fields.posted());
    };
    // The form again, as typed, with what stopped it.
    let refuse = |status, fields, problems, conflict| {
        let form = NoticeUpdateForm { problems, conflict, ..form(&page, &notice, fields) };
        render(&page, &viewer, status, form)
    };
    let update = match read_update(&page, &notice, &fields) {
        Ok(update) => update,
        Err(problems) => return refuse(StatusCode::UNPROCESSABLE_ENTITY, fields, problems, None),
    };
    // One change to the content folder at a time: the version check and the write go together.
    let _editing = state.content_edits.lock().await;
    let current = match std::fs::read_to_string(&notice.path) {
        Ok(text) => text,
        Err(e) => {
            let problems =
                vec![problem(None, format!("{}: cannot read the file: {e}", notice.path.display()))];
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, fields, problems, None);
        }
    };
    if version(&current) != fields.version {
        let diff = changes_since_opened(page.lang, &fields.original, &current);
        // The form now stands on the current version: publishing again is a deliberate choice.
        return refuse(
            StatusCode::CONFLICT,
            UpdateFields { version: version(&current), original: current, ..fields },
            Vec::new(),
            Some(diff),
        );
    }
    let written = match append_update(&current, &update) {
        Ok(text) => text,
        Err(e) => {
            let problems = vec![problem(None, format!("{}: {e}", notice.path.display()))];
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, fields, problems, None);
        }
    };
    let mut findings = Findings::new(&notice.path);
    notice::parse(&notice.path, &written, page.site(), &mut findings);
    let errors: Vec<FieldProblem> = findings
        .list
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(|f| match field_of(&written, f) {
            Some(field) => {
                let said =
                    in_form_words(f, field, page.lang).unwrap_or_else(|| f.message.get(page.lang).into());
                problem(Some(field), said)
            }
            None => problem(None, f.describe(page.lang)),
        })
        .collect();
    if !errors.is_empty() {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, fields, errors, None);
    }
    // What the linter warns of since this entry (an entry before the incident started, say) is
    // shown first; publishing with the same warnings again is then a deliberate choice.
    let warnings = new_warnings(&findings.list, &notice.path, &current, &page);
    let warned = version(&warnings.join("\n"));
    if !warnings.is_empty() && fields.warned != warned {
        let form = NoticeUpdateForm { warnings, warned, ..form(&page, &notice, fields) };
        return render(&page, &viewer, StatusCode::OK, form);
    }
    let (path, published_slug, site) = (notice.path.clone(), notice.slug.clone(), Arc::clone(&state.site));
    let (author, note) = (viewer.user.email.clone(), fields.note.clone());
    let published = tokio::task::spawn_blocking(move || {
        site.publish(&path, &published_slug, &written, &author, Some(&note))
    })
    .await
    .expect("publishing does not panic");
    if let Err(e) = published {
        let problems = vec![problem(
            None,
            format!("{}: cannot write the file, nothing changed: {e}", notice.path.display()),
        )];
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, fields, problems, None);
    }
    if let Some(store) = state.database.store() {
        let status = update.status.map_or("unchanged", |s| s.as_str());
        let detail = format!("status {status} at {}", update.at.to_rfc3339());
        audit(store.as_ref(), &viewer, "notice.update", None, &uri, Some(detail)).await;
    }
    Redirect::to(&format!("/staff/notices?{}", encode(&[("updated", slug.as_str())]))).into_response()
}

/// The actions the site writes to the audit log, offered by the filter.
const AUDIT_ACTIONS: &[&str] = &[
    "incident.answer",
    "incident.notify",
    "notice.create",
    "notice.edit",
    "notice.impact",
    "notice.update",
    "portal.denied",
    "portal.export",
    "portal.view",
    "redelivery.request",
    "user.disable",
];

/// Lines of the audit log per page.
const AUDIT_LINES_PER_PAGE: i64 = 100;

/// What the audit filter's form sends, and the page cursor.
#[derive(Debug, Default, Deserialize)]
struct AuditParams {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    older_at: Option<String>,
    older_id: Option<i64>,
}

async fn audit_log(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    PageQuery(params): PageQuery<AuditParams>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let text = page.lang.staff();
    let mut problems = Vec::new();
    let mut query = AuditQuery {
        actor: Some(params.actor.clone()),
        action: Some(params.action.clone()),
        limit: AUDIT_LINES_PER_PAGE + 1,
        ..AuditQuery::default()
    };
    match page.day_start(&params.from, 0) {
        Ok(from) => query.from = from,
        Err(bad) => problems.push(problem(Some("from"), format!("{bad}`{}`", params.from))),
    }
    match page.day_start(&params.to, 1) {
        Ok(before) => query.before = before,
        Err(bad) => problems.push(problem(Some("to"), format!("{bad}`{}`", params.to))),
    }
    if let (Some(from), Some(before)) = (query.from, query.before)
        && from >= before
    {
        problems.push(problem(Some("to"), text.dates_reversed));
    }
    if !params.company.trim().is_empty() {
        match store.company(params.company.trim()).await {
            Ok(Some(company)) => query.company_id = Some(company.id),
            Ok(None) => problems
                .push(problem(Some("company"), format!("{}`{}`", text.unknown_company, params.company))),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the companies");
                return pages::unavailable(&page);
            }
        }
    }
    if let (Some(at), Some(id)) = (params.older_at.as_deref(), params.older_id)
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(at)
    {
        query.older_than = Some((at.with_timezone(&Utc), id));
    }
    let mut records = if problems.is_empty() {
        match store.audit_log(&query).await {
            Ok(records) => records,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the audit log");
                return pages::unavailable(&page);
            }
        }
    } else {
        Vec::new()
    };
    let older_href = (records.len() as i64 > AUDIT_LINES_PER_PAGE).then(|| {
        records.truncate(AUDIT_LINES_PER_PAGE as usize);
        let last = records.last().expect("a full page");
        let (at, id) = (last.at.to_rfc3339(), last.id.to_string());
        let pairs = [
            ("actor", params.actor.as_str()),
            ("action", params.action.as_str()),
            ("company", params.company.as_str()),
            ("from", params.from.as_str()),
            ("to", params.to.as_str()),
            ("older_at", at.as_str()),
            ("older_id", id.as_str()),
        ];
        format!("/staff/audit?{}", encode(&pairs))
    });
    let rows = records
        .into_iter()
        .map(|r| AuditRowView {
            at: page.moment(r.at),
            actor: r.actor,
            action: r.action,
            company: r.company,
            target: r.target,
            detail: r.detail,
        })
        .collect();
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let filter = AuditFilterView {
        actor: params.actor,
        action: params.action,
        company: params.company,
        from: params.from,
        to: params.to,
        actions: AUDIT_ACTIONS.to_vec(),
    };
    let chrome = page.chrome(text.audit, Some(&viewer), None);
    page.respond(status, staff::audit_page(chrome, AuditPage { filter, rows, older_href, problems }))
}

/// The impact page's parameters: a scope as typed (to preview, or to attach), and what was
/// just done.
#[derive(Debug, Default, Deserialize)]
struct ScopeFields {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    route: String,
    #[serde(default)]
    error_class: String,
    #[serde(default)]
    recipient_source: String,
    #[serde(default)]
    sender: String,
    /// The notice file's SHA-256 the attach form was made on, and its text.
    #[serde(default)]
    version: String,
    #[serde(default)]
    original: String,
    preview: Option<String>,
    notified: Option<u64>,
    attached: Option<String>,
}

/// The filters of a scope, with the values each may take.
fn filter_values() -> [(&'static str, Vec<String>); 4] {
    fn names<T: clap::ValueEnum>() -> Vec<String> {
        T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value())
            .map(|p| p.get_name().to_string())
            .collect()
    }
    [
        ("route", names::<Route>()),
        ("error_class", names::<ErrorClass>()),
        ("recipient_source", names::<RecipientSource>()),
        ("sender", names::<SenderKind>()),
    ]
}

impl ScopeFields {
    fn filter(&self, key: &str) -> &str {
        match key {
            "route" => &self.route,
            "error_class" => &self.error_class,
            "recipient_source" => &self.recipient_source,
            _ => &self.sender,
        }
    }

    /// The scope typed, for the database and for the notice's `[impact]`; or what is wrong.
    fn read(&self, page: &PortalPage) -> Result<(Scope, ImpactTable), Vec<FieldProblem>> {
        let text = page.lang.staff();
        let mut problems = Vec::new();
        let mut time = |field: &'static str, typed: &str| match local_time(page, typed) {
            Ok(at) => Some(at),
            Err(message) => {
                problems.push(problem(Some(field), message));
                None
            }
        };
        let (from, to) = (time("from", &self.from), time("to", &self.to));
        let mut filters = Vec::new();
        for (key, allowed) in filter_values() {
            let value = self.filter(key).trim();
            if value.is_empty() {
                continue;
            }
            if allowed.iter().any(|a| a == value) {
                filters.push((key, value.to_string()));
            } else {
                problems.push(problem(Some(key), format!("`{value}`: {}", allowed.join(", "))));
            }
        }
        let (Some(from), Some(to)) = (from, to) else { return Err(problems) };
        if to <= from {
            problems.push(problem(Some("to"), text.to_before_from));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let pick = |key: &str| filters.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str());
        let parse = |key: &str| pick(key).map(|v| v.to_string());
        let scope = Scope {
            from: from.to_utc(),
            to: to.to_utc(),
            route: parse("route").and_then(|v| Route::from_str(&v, false).ok()),
            error_class: parse("error_class").and_then(|v| ErrorClass::from_str(&v, false).ok()),
            recipient_source: parse("recipient_source")
                .and_then(|v| RecipientSource::from_str(&v, false).ok()),
            sender: parse("sender").and_then(|v| SenderKind::from_str(&v, false).ok()),
            company: None,
        };
        Ok((scope, ImpactTable { from, to, filters }))
    }
}

/// A time typed in a form (`YYYY-MM-DDTHH:MM`, seconds optional) in the site's zone.
fn local_time(page: &PortalPage, typed: &str) -> Result<chrono::DateTime<chrono::FixedOffset>, String> {
    let text = page.lang.staff();
    let zone = page.site().time_zone;
    let typed = typed.trim();
    let local = NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(typed, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            // Written as a time should be, but no such day or hour (30 February, 25:00).
            let shaped = matches!(typed.len(), 16 | 19)
                && typed.bytes().enumerate().all(|(i, b)| match i {
                    4 | 7 => b == b'-',
                    10 => b == b'T',
                    13 | 16 => b == b':',
                    _ => b.is_ascii_digit(),
                });
            let message = if shaped { text.no_such_time } else { text.bad_time };
            format!("{message}`{typed}`")
        })?;
    zone.from_local_datetime(&local)
        .single()
        .map(|at| at.fixed_offset())
        .ok_or_else(|| format!("{}{local} ({zone})", text.ambiguous_time))
}

/// The notice's current version (1 when none is recorded).
fn current_version(published: &crate::public_site::live::Published, slug: &str) -> u32 {
    published.content.revisions(slug).last().map_or(1, |r| r.number)
}

/// `/staff/notices/{slug}/impact`: the notice's scope and its impact, computed now; with
/// `preview`, the impact of the scope typed in its form instead.
async fn impact(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    Path(slug): Path<String>,
    PageQuery(fields): PageQuery<ScopeFields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let published = state.site.current();
    let Some(notice) = published.content.notice(&slug) else {
        return pages::not_found(&page, &viewer, None);
    };
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let previewing = fields.preview.is_some();
    let (shown, problems) = match previewing {
        true => match fields.read(&page) {
            Ok((scope, _)) => (Some(scope), Vec::new()),
            Err(problems) => (notice.impact.clone(), problems),
        },
        false => (notice.impact.clone(), Vec::new()),
    };
    let status = if problems.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let shown_preview = previewing && problems.is_empty();
    let view = ImpactView::new(store.as_ref(), &viewer, &page, &published, notice);
    view.respond(status, shown, fields, shown_preview, problems).await
}

/// What the impact page is made from.
struct ImpactView<'a> {
    store: &'a dyn crate::store::Store,
    viewer: &'a Viewer,
    page: &'a PortalPage,
    published: &'a crate::public_site::live::Published,
    notice: &'a Notice,
    /// An attach was refused because the notice changed: what changed.
    conflict: Option<String>,
}

impl<'a> ImpactView<'a> {
    fn new(
        store: &'a dyn crate::store::Store,
        viewer: &'a Viewer,
        page: &'a PortalPage,
        published: &'a crate::public_site::live::Published,
        notice: &'a Notice,
    ) -> ImpactView<'a> {
        ImpactView { store, viewer, page, published, notice, conflict: None }
    }

    /// The page with the figures of `shown` and the scope form holding `fields` (or, unless
    /// `previewing`, the notice's scope).
    async fn respond(
        &self,
        status: StatusCode,
        shown: Option<Scope>,
        fields: ScopeFields,
        previewing: bool,
        problems: Vec<FieldProblem>,
    ) -> Response {
        let (page, notice) = (self.page, self.notice);
        let version = current_version(self.published, &notice.slug);
        let title = notice.title.get(page.lang).to_string();
        let figures = match &shown {
            Some(scope) => match self.figures(scope, version).await {
                Ok(figures) => Some(figures),
                Err(e) => {
                    tracing::warn!(error = %e, notice = %notice.slug, "cannot compute the impact");
                    return pages::unavailable(page);
                }
            },
            None => None,
        };
        let typed = previewing || !problems.is_empty();
        let mut editor =
            (notice.kind == Kind::Incident).then(|| self.editor(&fields, typed, previewing, problems));
        if let Some(editor) = &mut editor {
            self.offer_database_values(editor).await;
        }
        let body = NoticeImpactPage {
            title: title.clone(),
            version,
            notify_action: format!("/staff/notices/{}/notify", notice.slug),
            notified: fields.notified,
            attached: fields.attached.is_some(),
            scope: shown.as_ref().map(|s| self.describe(s)).unwrap_or_default(),
            figures,
            editor,
        };
        let chrome = page.chrome(&title, Some(self.viewer), None);
        page.respond(status, staff::impact_page(chrome, body))
    }

    /// The impact of `scope` now, with each affected company followed up for `version`.
    async fn figures(&self, scope: &Scope, version: u32) -> Result<ImpactFigures, crate::store::StoreError> {
        let page = self.page;
        let impact = self.store.impact(scope, &Buckets::default()).await?;
        let slugs: Vec<String> = impact.per_company.iter().map(|c| c.company.clone()).collect();
        let companies = self.store.incident_companies(&self.notice.slug, version.into(), &slugs).await?;
        let by_slug: std::collections::HashMap<&str, _> =
            companies.iter().map(|c| (c.slug.as_str(), c)).collect();
        let affected = impact
            .per_company
            .iter()
            .map(|c| {
                let known = by_slug.get(c.company.as_str());
                AffectedCompanyView {
                    name: c.name.clone(),
                    slug: c.company.clone(),
                    contact: known.and_then(|k| k.contact_email.clone()),
                    releases: c.releases,
                    messages: c.messages,
                    answer: known.and_then(|k| k.answer.clone()),
                    // Whoever asked for it: the answer's request, the company's own, staff.
                    redelivered: c.redelivered,
                    notified: known.and_then(|k| k.notified_at).map(|t| page.moment(t)),
                    told_before: known.and_then(|k| k.told_before_at).map(|t| page.moment(t)),
                    portal_href: format!("/portal?{}", encode(&[("company", c.company.as_str())])),
                }
            })
            .collect();
        Ok(ImpactFigures {
            as_of: page.moment(impact.as_of),
            companies: impact.companies,
            releases: impact.releases,
            messages: impact.messages,
            total_messages: impact.total_messages,
            share: impact.share,
            per_release: impact.min_per_release.zip(impact.max_per_release),
            histogram: impact
                .histogram
                .iter()
                .map(|b| {
                    (b.to.map_or_else(|| format!("{}–", b.from), |to| format!("{}–{to}", b.from)), b.releases)
                })
                .collect(),
            affected,
        })
    }

    /// Offers in each filter the values the undelivered messages of the form's window have in
    /// the database (and the value chosen, whatever it is); the closed lists when the window
    /// cannot be read or has none yet (an incident just begun, a window typed wrong).
    async fn offer_database_values(&self, editor: &mut ScopeEditor) {
        let (Ok(from), Ok(to)) = (local_time(self.page, &editor.from), local_time(self.page, &editor.to))
        else {
            return;
        };
        let values = match self.store.scope_values(&Scope::window(from.to_utc(), to.to_utc())).await {
            Ok(values) => values,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the scope's values; offering every value");
                return;
            }
        };
        for (key, chosen, offered) in &mut editor.filters {
            let found: Vec<String> =
                values.iter().filter(|(k, _)| k == key).map(|(_, v)| v.clone()).collect();
            if !found.is_empty() {
                *offered = found;
            }
            if !chosen.is_empty() && !offered.contains(chosen) {
                offered.push(chosen.clone());
            }
        }
    }

    /// `scope` as labelled values, each label naming its key in the notice file.
    fn describe(&self, scope: &Scope) -> Vec<(String, String)> {
        let page = self.page;
        let local = |t: chrono::DateTime<Utc>| page.lang.datetime(&page.moment(t));
        let window = (page.lang.scope_key("window"), format!("{} – {}", local(scope.from), local(scope.to)));
        let filters = scope_filters(scope)
            .into_iter()
            .filter_map(|(key, value)| Some((page.lang.scope_key(key), value?.to_string())));
        std::iter::once(window).chain(filters).collect()
    }

    /// The scope form: with what was typed (`typed`), else the notice's scope, else its times.
    fn editor(
        &self,
        fields: &ScopeFields,
        typed: bool,
        previewing: bool,
        problems: Vec<FieldProblem>,
    ) -> ScopeEditor {
        let (page, notice) = (self.page, self.notice);
        let zone = page.site().time_zone;
        let local = |t: chrono::DateTime<Utc>| form_time(t, zone);
        let (from, to, chosen): (String, String, Vec<String>) = match (&notice.impact, typed) {
            (_, true) => (
                fields.from.clone(),
                fields.to.clone(),
                filter_values().iter().map(|(key, _)| fields.filter(key).to_string()).collect(),
            ),
            (Some(scope), false) => (
                local(scope.from),
                local(scope.to),
                filter_values()
                    .iter()
                    .map(|(key, _)| {
                        let filters = scope_filters(scope);
                        let value = filters.iter().find(|(k, _)| k == key).and_then(|(_, v)| *v);
                        value.unwrap_or_default().to_string()
                    })
                    .collect(),
            ),
            (None, false) => {
                let start = notice.started_at.map_or_else(Utc::now, |t| t.to_utc());
                let end = notice.resolved_at.map_or_else(Utc::now, |t| t.to_utc());
                (local(start), local(end), vec![String::new(); 4])
            }
        };
        let offset = zone.offset_from_utc_datetime(&Utc::now().naive_utc());
        // Attaching writes over the file as it is now; a change after that is refused.
        let original = std::fs::read_to_string(&notice.path).unwrap_or_default();
        // What the linter would newly warn of once the previewed scope is attached (a window
        // before the incident began, say): shown with the button that attaches it.
        let warnings = match (previewing, fields.read(page)) {
            (true, Ok((_, table))) => set_impact(&original, &table)
                .map(|written| {
                    let mut findings = Findings::new(&notice.path);
                    notice::parse(&notice.path, &written, page.site(), &mut findings);
                    new_warnings(&findings.list, &notice.path, &original, page)
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        ScopeEditor {
            previewing,
            from,
            to,
            zone: format!("{zone}, UTC{}", chrono::Offset::fix(&offset)),
            filters: filter_values()
                .into_iter()
                .zip(chosen)
                .map(|((key, offered), chosen)| (key, chosen, offered))
                .collect(),
            attach_action: format!("/staff/notices/{}/impact", notice.slug),
            version: version(&original),
            original,
            problems,
            warnings,
            conflict: self.conflict.clone(),
        }
    }
}

/// The filters of `scope` by their key in the notice file, `None` where it has none.
fn scope_filters(scope: &Scope) -> [(&'static str, Option<&str>); 5] {
    [
        ("route", scope.route.map(|v| v.as_str())),
        ("error_class", scope.error_class.map(|v| v.as_str())),
        ("recipient_source", scope.recipient_source.map(|v| v.as_str())),
        (
            "sender",
            scope.sender.map(|v| match v {
                SenderKind::Default => "default",
                SenderKind::Custom => "custom",
            }),
        ),
        ("company", scope.company.as_deref()),
    ]
}

/// "Attach to notice": writes the scope typed (and previewed) as the notice's `[impact]`, over
/// the version the page was made on; linted, written atomically, published, audited; the
/// public figures are computed again at once.
async fn attach(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    Path(slug): Path<String>,
    PageForm(fields): PageForm<ScopeFields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let published = state.site.current();
    let Some(notice) = published.content.notice(&slug).filter(|n| n.kind == Kind::Incident) else {
        return pages::not_found(&page, &viewer, None);
    };
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let view = ImpactView::new(store.as_ref(), &viewer, &page, &published, notice);
    let (scope, table) = match fields.read(&page) {
        Ok(read) => read,
        Err(problems) => {
            return view
                .respond(StatusCode::UNPROCESSABLE_ENTITY, notice.impact.clone(), fields, false, problems)
                .await;
        }
    };
    let _editing = state.content_edits.lock().await;
    let current = match std::fs::read_to_string(&notice.path) {
        Ok(text) => text,
        Err(e) => {
            let problems =
                vec![problem(None, format!("{}: cannot read the file: {e}", notice.path.display()))];
            return view
                .respond(StatusCode::INTERNAL_SERVER_ERROR, Some(scope), fields, true, problems)
                .await;
        }
    };
    if version(&current) != fields.version {
        // The form comes back on the current version: attaching again is a deliberate choice.
        let view = ImpactView {
            conflict: Some(changes_since_opened(page.lang, &fields.original, &current)),
            ..view
        };
        return view.respond(StatusCode::CONFLICT, Some(scope), fields, true, Vec::new()).await;
    }
    let written = match set_impact(&current, &table) {
        Ok(text) => text,
        Err(e) => {
            let problems = vec![problem(None, format!("{}: {e}", notice.path.display()))];
            return view.respond(StatusCode::UNPROCESSABLE_ENTITY, Some(scope), fields, true, problems).await;
        }
    };
    let mut findings = Findings::new(&notice.path);
    notice::parse(&notice.path, &written, page.site(), &mut findings);
    let errors: Vec<FieldProblem> = findings
        .list
        .iter()
        .filter(|f| f.level == Level::Error)
        .map(|f| problem(None, f.describe(page.lang)))
        .collect();
    if !errors.is_empty() {
        return view.respond(StatusCode::UNPROCESSABLE_ENTITY, Some(scope), fields, true, errors).await;
    }
    let (path, notice_slug, site) = (notice.path.clone(), notice.slug.clone(), Arc::clone(&state.site));
    let (author, note) = (viewer.user.email.clone(), page.lang.staff().attached_note);
    let publishing = Arc::clone(&site);
    let published = tokio::task::spawn_blocking(move || {
        publishing.publish(&path, &notice_slug, &written, &author, Some(note))
    })
    .await
    .expect("publishing does not panic");
    if let Err(e) = published {
        let problems = vec![problem(
            None,
            format!("{}: cannot write the file, nothing changed: {e}", notice.path.display()),
        )];
        return view.respond(StatusCode::INTERNAL_SERVER_ERROR, Some(scope), fields, true, problems).await;
    }
    if let Err(e) = crate::delivery::figures::refresh(store.as_ref(), &site).await {
        tracing::warn!(error = %e, "attached, but the public figures wait for the next refresh");
    }
    let detail = table
        .filters
        .iter()
        .fold(format!("from {} to {}", table.from.to_rfc3339(), table.to.to_rfc3339()), |d, (k, v)| {
            format!("{d}, {k} {v}")
        });
    audit(store.as_ref(), &viewer, "notice.impact", None, &uri, Some(detail)).await;
    Redirect::to(&format!("/staff/notices/{}/impact?attached=1", notice.slug)).into_response()
}
/// Tells every company the incident affected, and that was not told of the notice's current
/// version yet, by an email in its language naming its releases: composed now, queued in the
/// database (a company is never queued twice for one version), sent by the dispatcher.
async fn notify(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    Path(slug): Path<String>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let published = state.site.current();
    let Some(notice) = published.content.notice(&slug) else {
        return pages::not_found(&page, &viewer, None);
    };
    let Some(scope) = &notice.impact else { return pages::not_found(&page, &viewer, None) };
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let version = current_version(&published, &notice.slug);
    let queued = async {
        let rows = store.affected_by_release(scope).await.map_err(|e| e.to_string())?;
        let mut by_company: std::collections::BTreeMap<&str, Vec<AffectedRelease>> = Default::default();
        for row in &rows {
            by_company.entry(row.company_slug.as_str()).or_default().push(AffectedRelease {
                title: row.release_title.clone(),
                messages: row.messages,
                redelivered: row.redelivered,
            });
        }
        let slugs: Vec<String> = by_company.keys().map(|s| s.to_string()).collect();
        let companies = store
            .incident_companies(&notice.slug, version.into(), &slugs)
            .await
            .map_err(|e| e.to_string())?;
        let mut emails = Vec::new();
        // A company without a usable contact address cannot be told: the list shows it so.
        for company in companies.iter().filter(|c| c.notified_at.is_none()) {
            let Some(to) = company.contact_email.clone().filter(|to| to.parse::<lettre::Address>().is_ok())
            else {
                continue;
            };
            let email = IncidentEmail {
                language: &company.language,
                company: &company.name,
                title_ja: &notice.title.ja,
                title_en: notice.title.en.as_deref(),
                releases: by_company.get(company.slug.as_str()).map_or(&[], Vec::as_slice),
                public_url: &state.public_url,
                notice_slug: &notice.slug,
                told_before: company.told_before_at.is_some(),
            };
            let (subject, body_text, body_html) =
                compose_incident_email(&email).map_err(|e| e.to_string())?;
            emails.push(NewIncidentNotification {
                company_id: company.id,
                notice_slug: notice.slug.clone(),
                revision: version.into(),
                requested_by: Some(viewer.user.id),
                to_address: to,
                subject,
                body_text,
                body_html,
            });
        }
        let queued =
            store.queue_incident_notifications(&emails, Utc::now()).await.map_err(|e| e.to_string())?;
        Ok::<_, String>((queued, companies, emails))
    }
    .await;
    let (queued, companies, emails) = match queued {
        Ok(queued) => queued,
        Err(e) => {
            tracing::warn!(error = %e, notice = %notice.slug, "cannot queue the incident emails");
            return pages::unavailable(&page);
        }
    };
    // One line per company told, so that the log shows whom, filtered by company too.
    for company in companies.iter().filter(|c| queued.contains(&c.id)) {
        let to = emails.iter().find(|e| e.company_id == company.id).map_or("", |e| e.to_address.as_str());
        let record = CompanyRecord {
            id: company.id,
            slug: company.slug.clone(),
            name: company.name.clone(),
            language: company.language.clone(),
        };
        let detail = format!("version {version}: emailed to {to}");
        audit(store.as_ref(), &viewer, "incident.notify", Some(&record), &uri, Some(detail)).await;
    }
    let back = format!(
        "/staff/notices/{}/impact?{}",
        notice.slug,
        encode(&[("notified", queued.len().to_string().as_str())])
    );
    Redirect::to(&back).into_response()
}

/// A posted form's fields, repeated names (the components) included.
type Fields = Vec<(String, String)>;

fn field_value<'f>(fields: &'f Fields, name: &str) -> &'f str {
    fields.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
}

/// What the notice form is about: a new notice, or a published one and its file's text.
enum Editing {
    New,
    Existing { notice: Box<Notice>, text: String },
}

impl Editing {
    fn of(state: &AppState, slug: &str) -> Option<Editing> {
        let published = state.site.current();
        let notice = published.content.notice(slug)?.clone();
        let text = std::fs::read_to_string(&notice.path).ok()?;
        Some(Editing::Existing { notice: Box::new(notice), text })
    }

    fn action(&self) -> String {
        match self {
            Editing::New => NEW_NOTICE_HREF.into(),
            Editing::Existing { notice, .. } => format!("/staff/notices/{}/edit", notice.slug),
        }
    }
}

/// The notice form holding `fields`, or else the notice's own values (a new one: an incident
/// published now, its status, severity and start left to be chosen).
fn editor(
    page: &PortalPage,
    editing: &Editing,
    fields: Option<&Fields>,
    problems: Vec<FieldProblem>,
    preview: Vec<(statusdesk_app::Lang, String)>,
) -> NoticeEditorPage {
    let zone = page.site().time_zone;
    let now = form_time(Utc::now(), zone);
    let offset = zone.offset_from_utc_datetime(&Utc::now().naive_utc());
    let own: Vec<(&str, String)> = match editing {
        // Only what suits every kind: a status, a severity and a start left empty take what
        // the kind chosen needs when it is saved (`new_notice_defaults`) or are asked for.
        Editing::New => vec![("kind", "incident".into()), ("published_at", now.clone())],
        Editing::Existing { notice, text } => {
            let mut own = notice_fields(notice, zone);
            own.retain(|(k, _)| *k != "components");
            own.extend([
                ("slug", notice.slug.clone()),
                ("version", version(text)),
                ("original", text.clone()),
            ]);
            own
        }
    };
    let value = |name: &str| match fields {
        Some(fields) if name != "slug" || matches!(editing, Editing::New) => {
            field_value(fields, name).to_string()
        }
        _ => own.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone()).unwrap_or_default(),
    };
    let chosen: Vec<String> = match (fields, editing) {
        (Some(fields), _) => {
            fields.iter().filter(|(k, _)| k == "components").map(|(_, v)| v.clone()).collect()
        }
        (None, Editing::Existing { notice, .. }) => notice.components.clone(),
        (None, Editing::New) => Vec::new(),
    };
    NoticeEditorPage {
        heading: match editing {
            Editing::New => page.lang.staff().new_notice.to_string(),
            Editing::Existing { notice, .. } => {
                format!("{}: {}", page.lang.staff().edit, notice.title.get(page.lang))
            }
        },
        action: editing.action(),
        slug_fixed: matches!(editing, Editing::Existing { .. }),
        slug: value("slug"),
        title: value("title"),
        title_en: value("title_en"),
        kind: value("kind"),
        status: value("status"),
        severity: value("severity"),
        components: page
            .site()
            .components
            .iter()
            .map(|c| (c.id.clone(), c.name.get(page.lang).to_string(), chosen.contains(&c.id)))
            .collect(),
        started_at: value("started_at"),
        resolved_at: value("resolved_at"),
        published_at: value("published_at"),
        zone: format!("{zone}, UTC{}", chrono::Offset::fix(&offset)),
        body: value("body"),
        body_en: value("body_en"),
        note: value("note"),
        version: value("version"),
        original: value("original"),
        conflict: None,
        file_errors: match editing {
            Editing::New => Vec::new(),
            Editing::Existing { notice, .. } => file_errors(page, &notice.path),
        },
        problems,
        preview,
        warnings: Vec::new(),
        publish_warnings: Vec::new(),
        // Kept while the warnings it stands for are shown again with the form.
        warned: value("warned"),
    }
}

fn render_editor(page: &PortalPage, viewer: &Viewer, status: StatusCode, form: NoticeEditorPage) -> Response {
    let chrome = page.chrome(&form.heading.clone(), Some(viewer), None);
    page.respond(status, staff::editor_page(chrome, form))
}

async fn new_notice_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    render_editor(&page, &viewer, StatusCode::OK, editor(&page, &Editing::New, None, Vec::new(), Vec::new()))
}

async fn edit_notice_form(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    Path(slug): Path<String>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(editing) = Editing::of(&state, &slug) else { return pages::not_found(&page, &viewer, None) };
    render_editor(&page, &viewer, StatusCode::OK, editor(&page, &editing, None, Vec::new(), Vec::new()))
}

/// `t` as a `datetime-local` field shows it, in the site's zone: `2021-03-01T17:35`.
fn form_time<Z: TimeZone>(t: chrono::DateTime<Z>, zone: chrono_tz::Tz) -> String {
    t.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()
}

/// A notice's own fields as its edit form holds them (`components` once per component).
fn notice_fields(notice: &Notice, zone: chrono_tz::Tz) -> Vec<(&'static str, String)> {
    let local = |t: chrono::DateTime<chrono::FixedOffset>| form_time(t, zone);
    let mut fields = vec![
        ("title", notice.title.ja.clone()),
        ("title_en", notice.title.en.clone().unwrap_or_default()),
        ("kind", notice.kind.as_str().into()),
        ("status", notice.status.map(|s| s.as_str().to_string()).unwrap_or_default()),
        ("severity", notice.severity.map(|s| s.as_str().to_string()).unwrap_or_default()),
        ("started_at", notice.started_at.map(local).unwrap_or_default()),
        ("resolved_at", notice.resolved_at.map(local).unwrap_or_default()),
        ("published_at", local(notice.published_at)),
        ("body", notice.body.ja.trim().to_string()),
        ("body_en", notice.body.en.clone().unwrap_or_default().trim().to_string()),
    ];
    fields.extend(notice.components.iter().map(|c| ("components", c.clone())));
    fields
}

/// The form `typed` over a notice opened as `opened` that is `now` since: each field the writer
/// changed keeps what they typed, every other one takes the notice's value now (so that saving
/// again does not undo a change made meanwhile to a field they left alone).
fn merged_fields(
    typed: &Fields,
    opened: &[(&'static str, String)],
    now: &[(&'static str, String)],
) -> Fields {
    let keys = notice_keys(opened);
    let mut merged: Fields = typed.iter().filter(|(k, _)| !keys.contains(&k.as_str())).cloned().collect();
    for key in keys {
        let kept = match same_value(typed, opened, key) {
            true => values_of(now, key),
            false => typed_values(typed, key),
        };
        merged.extend(kept.into_iter().map(|v| (key.to_string(), v)));
    }
    merged
}

/// The form `typed` holds the notice's fields as they are (`now`): saving it changes nothing a
/// reader sees, whatever the file's layout.
fn holds_the_same(typed: &Fields, now: &[(&'static str, String)]) -> bool {
    notice_keys(now).into_iter().all(|key| same_value(typed, now, key))
}

/// The keys of a notice's own fields, once each, the components included.
fn notice_keys(fields: &[(&'static str, String)]) -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = fields.iter().map(|(k, _)| *k).chain(["components"]).collect();
    keys.dedup();
    keys
}

/// What `key` holds in a notice's fields.
fn values_of(fields: &[(&'static str, String)], key: &str) -> Vec<String> {
    fields.iter().filter(|(k, _)| *k == key).map(|(_, v)| v.clone()).collect()
}

/// What was typed for `key`, as the file would hold it (LF line ends, trimmed); a field left
/// out is an empty one, but for the components (none checked).
fn typed_values(typed: &Fields, key: &str) -> Vec<String> {
    let values: Vec<String> =
        typed.iter().filter(|(k, _)| k == key).map(|(_, v)| one_line_ending(v).trim().to_string()).collect();
    match values.is_empty() && key != "components" {
        true => vec![String::new()],
        false => values,
    }
}

/// The form holds what the notice's fields hold for `key` (the components as a set: the form
/// lists them in the site's order, the file in its own).
fn same_value(typed: &Fields, notice: &[(&'static str, String)], key: &str) -> bool {
    let (mut mine, mut theirs) = (typed_values(typed, key), values_of(notice, key));
    if key == "components" {
        mine.sort();
        theirs.sort();
    }
    mine == theirs
}

/// The longest slug a new notice may have: it names the file and the page's URL.
const MAX_SLUG_LEN: usize = 80;

/// The form field a linter finding of a notice's `text` is about: the field of the key it misses
/// or of the front-matter key on its line, or the line of a body.
fn notice_field(text: &str, finding: &Finding, lang: Lang) -> FieldProblem {
    let (line, message) = (finding.line, finding.message.get(lang));
    if let Some(field) = finding.missing_key.and_then(|key| FORM_KEYS.into_iter().find(|f| *f == key)) {
        return problem(Some(field), in_form_words(finding, field, lang).unwrap_or_else(|| message.into()));
    }
    let on_line = |line: usize| match lang {
        Lang::Ja => format!("{line} 行目: {message}"),
        Lang::En => format!("line {line}: {message}"),
    };
    let lines: Vec<&str> = text.lines().collect();
    let close = lines.iter().skip(1).position(|l| l.trim_end() == "+++").map_or(0, |i| i + 2);
    if line > close && close > 0 {
        let marker =
            lines.iter().position(|l| l.trim() == crate::content::notice::ENGLISH_MARKER).map(|i| i + 1);
        return match marker {
            Some(marker) if line > marker => problem(Some("body_en"), on_line(line - marker - 1)),
            _ => problem(Some("body"), on_line(line - close - 1)),
        };
    }
    let key = lines.get(line.wrapping_sub(1)).and_then(|l| l.split('=').next()).map(str::trim).unwrap_or("");
    let field = FORM_KEYS.into_iter().find(|f| *f == key);
    match field {
        Some(field) => {
            problem(Some(field), in_form_words(finding, field, lang).unwrap_or_else(|| message.into()))
        }
        None => problem(None, on_line(line)),
    }
}

/// A linter finding about the form's `field` said as the form would, by the field's label,
/// where the file's words (its keys, its marker line) are all the linter has: a required field
/// missing or left empty, the reason an entry after the resolution needs, a missing translation.
fn in_form_words(finding: &Finding, field: &str, lang: Lang) -> Option<String> {
    use crate::content::finding::{empty_field, missing_field};
    let s = lang.staff();
    if field == "reason" && finding.missing_key == Some("reason") {
        return Some(s.reason_needed.to_string());
    }
    let label = s.field_label(field)?;
    if finding.is_untranslated() {
        Some(format!("{}{label}", s.untranslated))
    } else if finding.message == missing_field(field) || finding.message == empty_field(field) {
        Some(format!("{}{label}", s.field_required))
    } else {
        None
    }
}

async fn new_notice(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    PageForm(fields): PageForm<Fields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    save_notice(&state, &viewer, &page, &uri, fields, Editing::New).await
}

async fn edit_notice(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    headers: HeaderMap,
    uri: Uri,
    Path(slug): Path<String>,
    PageForm(fields): PageForm<Fields>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let Some(editing) = Editing::of(&state, &slug) else {
        return notice_not_there(&state, &page, &viewer, &slug, fields);
    };
    save_notice(&state, &viewer, &page, &uri, fields, editing).await
}

/// What a new notice's form left empty that its kind has a plain answer for: an incident or a
/// maintenance starts at its kind's first status (investigating, scheduled), and an incident
/// still open without a start started when it is published. A maintenance's start is its plan,
/// and a past incident's its own: both asked for.
fn new_notice_defaults(
    kind: Option<Kind>,
    status: &mut Option<String>,
    started_at: &mut Option<chrono::DateTime<chrono::FixedOffset>>,
    resolved_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    published_at: chrono::DateTime<chrono::FixedOffset>,
) {
    let Some(kind) = kind else { return };
    if status.is_none() {
        *status = Status::allowed_for(kind).first().map(|s| s.as_str().to_string());
    }
    let open = status.as_deref().and_then(Status::from_keyword).is_some_and(|s| !s.is_closed());
    if kind == Kind::Incident && open && resolved_at.is_none() && started_at.is_none() {
        *started_at = Some(published_at);
    }
}

/// "Preview" shows the notice as the public page will, in each language; "publish" writes it —
/// a new notice as a new file (never over another), an edited one only over the version the
/// form was opened on (else the changes made meanwhile come back) — records the version and
/// publishes it. Either way it is linted first, and every problem comes back next to its field
/// or body line.
async fn save_notice(
    state: &AppState,
    viewer: &Viewer,
    page: &PortalPage,
    uri: &Uri,
    fields: Fields,
    editing: Editing,
) -> Response {
    let text = page.lang.staff();
    let published = state.site.current();
    let refuse = |status, problems| {
        render_editor(page, viewer, status, editor(page, &editing, Some(&fields), problems, Vec::new()))
    };
    let mut problems = Vec::new();
    let (slug, path) = match &editing {
        Editing::New => {
            let slug = field_value(&fields, "slug").trim().to_string();
            if slug.is_empty() {
                problems.push(problem(Some("slug"), text.slug_missing));
            } else if !crate::content::site::is_identifier(&slug) {
                problems.push(problem(Some("slug"), format!("{}`{slug}`", text.bad_slug)));
            } else if slug.len() > MAX_SLUG_LEN {
                problems.push(problem(Some("slug"), page.lang.slug_too_long(slug.len(), MAX_SLUG_LEN)));
            }
            let path = state.site.dir().join("notices").join(format!("{slug}.md"));
            if published.content.notice(&slug).is_some() || path.exists() {
                problems.push(problem(Some("slug"), format!("{}`{slug}`", text.slug_taken)));
            }
            (slug, path)
        }
        Editing::Existing { notice, .. } => (notice.slug.clone(), notice.path.clone()),
    };
    // The line that divides the file's body between the languages cannot be typed into either.
    for field in ["body", "body_en"] {
        if field_value(&fields, field).lines().any(|l| l.trim() == crate::content::notice::ENGLISH_MARKER) {
            let marker = crate::content::notice::ENGLISH_MARKER;
            problems.push(problem(Some(field), format!("{}`{marker}`", text.marker_in_body)));
        }
    }
    let optional = |name: &str| Some(field_value(&fields, name).trim().to_string()).filter(|v| !v.is_empty());
    let mut time = |name: &'static str| {
        let typed = field_value(&fields, name);
        if typed.trim().is_empty() {
            return None;
        }
        local_time(page, typed).map_err(|m| problems.push(problem(Some(name), m))).ok()
    };
    let (mut started_at, resolved_at, published_at) =
        (time("started_at"), time("resolved_at"), time("published_at"));
    let Some(published_at) = published_at else {
        if !problems.iter().any(|p| p.field == Some("published_at")) {
            problems.push(problem(Some("published_at"), text.time_missing));
        }
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, problems);
    };
    let kind = Kind::from_keyword(field_value(&fields, "kind"));
    // A notice is published when it is saved, and an incident's start and end have happened: none
    // of these lies ahead of now (beyond a few minutes of clocks and typing). A maintenance's
    // times are its plan.
    let now = Utc::now();
    let mut happened = vec![("published_at", Some(published_at))];
    if kind == Some(Kind::Incident) {
        happened.extend([("started_at", started_at), ("resolved_at", resolved_at)]);
    }
    for (name, at) in happened {
        if at.is_some_and(|at| ahead_of(at, now)) {
            let now = page.lang.datetime(&page.moment(now));
            let why = if name == "published_at" { text.not_published_yet } else { text.not_happened_yet };
            problems.push(problem(Some(name), format!("{why}{now}")));
        }
    }
    let mut status = optional("status");
    if matches!(editing, Editing::New) {
        new_notice_defaults(kind, &mut status, &mut started_at, resolved_at, published_at);
    }
    let fields_notice = NewNotice {
        title: field_value(&fields, "title").trim().to_string(),
        title_en: optional("title_en"),
        kind: field_value(&fields, "kind").to_string(),
        status,
        severity: optional("severity"),
        components: fields.iter().filter(|(k, _)| k == "components").map(|(_, v)| v.clone()).collect(),
        started_at,
        resolved_at,
        published_at,
        body: one_line_ending(field_value(&fields, "body")),
        body_en: optional("body_en").map(|b| one_line_ending(&b)),
    };
    let write = |current: &str| match &editing {
        Editing::New => Ok(new_notice_text(&fields_notice)),
        Editing::Existing { .. } => replace_fields(current, &fields_notice),
    };
    let opened = match &editing {
        Editing::New => String::new(),
        Editing::Existing { text, .. } => text.clone(),
    };
    let written = match write(&opened) {
        Ok(written) => written,
        Err(e) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                vec![problem(None, format!("{}: {e}", path.display()))],
            );
        }
    };
    // A slug the form refused is not linted again as the file's name.
    let lint_path = match problems.iter().any(|p| p.field == Some("slug")) {
        true => path.with_file_name("new-notice.md"),
        false => path.clone(),
    };
    let mut findings = Findings::new(&lint_path);
    let parsed = notice::parse(&lint_path, &written, page.site(), &mut findings);
    // A field the form already found wrong (a time it could not read, left out of the file) is
    // not reported again in the linter's words.
    let flagged: Vec<&'static str> = problems.iter().filter_map(|p| p.field).collect();
    problems.extend(
        findings
            .list
            .iter()
            .filter(|f| f.level == Level::Error)
            .map(|f| notice_field(&written, f, page.lang))
            .filter(|p| p.field.is_none_or(|field| !flagged.contains(&field))),
    );
    let (Some(parsed), true) = (parsed, problems.is_empty()) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, problems);
    };
    if field_value(&fields, "intent") != "publish" {
        // As readers will see it now: with its status at this time, as the public site shows it.
        let parsed = parsed.as_of(Utc::now());
        let mut content = published.content.clone();
        content.notices.retain(|n| n.slug != parsed.slug);
        content.notices.push(parsed.clone());
        let preview = content
            .site
            .languages
            .iter()
            .map(|&lang| {
                let views = Views { content: &content, lang, stylesheet: &published.site.stylesheet };
                (lang, statusdesk_app::pages::notice_article(lang, views.notice_page(&parsed)))
            })
            .collect();
        // What the linter would warn of: published all the same, but worth a look first.
        let warning = |f: &Finding| {
            let words = f.missing_key.and_then(|field| in_form_words(f, field, page.lang));
            words.unwrap_or_else(|| f.message.get(page.lang).to_string())
        };
        let warnings = findings.list.iter().filter(|f| f.level == Level::Warning);
        let form = NoticeEditorPage {
            warnings: warnings.map(warning).collect(),
            ..editor(page, &editing, Some(&fields), Vec::new(), preview)
        };
        return render_editor(page, viewer, StatusCode::OK, form);
    }
    let _editing = state.content_edits.lock().await;
    let written = match &editing {
        Editing::New if path.exists() => {
            return refuse(
                StatusCode::CONFLICT,
                vec![problem(Some("slug"), format!("{}`{slug}`", text.slug_taken))],
            );
        }
        Editing::New => written,
        Editing::Existing { .. } => {
            let current = std::fs::read_to_string(&path).unwrap_or_default();
            if version(&current) != field_value(&fields, "version") {
                let diff = changes_since_opened(page.lang, field_value(&fields, "original"), &current);
                // The form now stands on the current version, with the writer's own changes over
                // it: publishing again is a deliberate choice that undoes nobody else's.
                let read = |text: &str| {
                    let mut ignored = Findings::new(&path);
                    notice::parse(&path, text, page.site(), &mut ignored)
                        .map(|n| notice_fields(&n, page.site().time_zone))
                };
                let opened = read(&one_line_ending(field_value(&fields, "original")));
                let mut fields = match (opened, read(&current)) {
                    (Some(opened), Some(now)) => merged_fields(&fields, &opened, &now),
                    _ => fields.clone(),
                };
                fields.retain(|(k, _)| k != "version" && k != "original");
                fields.push(("version".into(), version(&current)));
                fields.push(("original".into(), current.clone()));
                let mut form = editor(page, &editing, Some(&fields), Vec::new(), Vec::new());
                form.conflict = Some(diff);
                return render_editor(page, viewer, StatusCode::CONFLICT, form);
            }
            let mut ignored = Findings::new(&path);
            let now = notice::parse(&path, &current, page.site(), &mut ignored);
            if written == current
                || now.is_some_and(|n| holds_the_same(&fields, &notice_fields(&n, page.site().time_zone)))
            {
                // Saving what is published makes no version and tells no reader of a change.
                return Redirect::to(&format!("/staff/notices?{}", encode(&[("unchanged", slug.as_str())])))
                    .into_response();
            }
            written
        }
    };
    // What the linter newly warns of (a status the timeline does not say, say) is shown first;
    // publishing with the same warnings again is then a deliberate choice.
    let opened = match &editing {
        Editing::New => "",
        Editing::Existing { text, .. } => text.as_str(),
    };
    let publish_warnings = new_warnings(&findings.list, &lint_path, opened, page);
    let warned = version(&publish_warnings.join("\n"));
    if !publish_warnings.is_empty() && field_value(&fields, "warned") != warned {
        let form = editor(page, &editing, Some(&fields), Vec::new(), Vec::new());
        let form = NoticeEditorPage { publish_warnings, warned, ..form };
        return render_editor(page, viewer, StatusCode::OK, form);
    }
    // A first version needs no note: the public list names it "version 1".
    let note = match &editing {
        Editing::New => None,
        Editing::Existing { .. } => Some(field_value(&fields, "note").to_string()),
    };
    let (site, author) = (Arc::clone(&state.site), viewer.user.email.clone());
    let (target, name) = (path.clone(), slug.clone());
    let result =
        tokio::task::spawn_blocking(move || site.publish(&target, &name, &written, &author, note.as_deref()))
            .await
            .expect("publishing does not panic");
    if let Err(e) = result {
        let message = format!("{}: cannot write the file, nothing changed: {e}", path.display());
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, vec![problem(None, message)]);
    }
    if let Some(store) = state.database.store() {
        let action = if matches!(editing, Editing::New) { "notice.create" } else { "notice.edit" };
        audit(store.as_ref(), viewer, action, None, uri, Some(slug.clone())).await;
    }
    Redirect::to(&format!("/staff/notices?{}", encode(&[("updated", slug.as_str())]))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_audited_action_is_named_in_each_language() {
        for action in AUDIT_ACTIONS {
            for lang in Lang::ALL {
                assert!(!lang.audit_action(action).is_empty(), "{action} in {lang:?}");
            }
        }
        assert_eq!(Lang::Ja.audit_action("no.such"), "", "an unknown code is shown alone");
    }
}
