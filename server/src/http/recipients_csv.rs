//! `/portal/releases/{id}/recipients.csv`: a release's recipients (with the page's filters) as
//! CSV — RFC 4180, UTF-8 with a byte-order mark so that Excel reads Japanese correctly, headings
//! in the reader's language. Streamed from the database a chunk at a time: memory stays flat
//! whatever the release's size.

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::SecondsFormat;
use chrono_tz::Tz;
use statusdesk_app::Lang;
use statusdesk_app::model::{DeliveryStatus, FailureReason};

use super::AppState;
use super::pages::{self, PageQuery, PortalPage};
use super::portal::{RecipientParams, ReleaseInScope};
use super::session::Viewer;
use crate::csv::{field, spreadsheet_field};
use crate::store::portal::RecipientRecord;

const BOM: &str = "\u{feff}";

/// The heading row.
fn heading(lang: Lang) -> String {
    let names: [&str; 12] = match lang {
        Lang::Ja => [
            "リリースID",
            "リリース名",
            "宛先",
            "状況",
            "状況(説明)",
            "再送",
            "試行回数",
            "最終試行日時",
            "理由",
            "SMTPコード",
            "拡張コード",
            "SMTP応答",
        ],
        Lang::En => [
            "release_id",
            "release_title",
            "recipient",
            "status",
            "status_text",
            "redelivered",
            "attempts",
            "last_attempt_at",
            "reason",
            "smtp_code",
            "enhanced_code",
            "smtp_reply",
        ],
    };
    format!("{}\r\n", names.join(","))
}

/// Writes one recipient's line.
fn line(out: &mut String, lang: Lang, zone: Tz, release: (&str, &str), r: &RecipientRecord) {
    let status = DeliveryStatus::from_keyword(&r.status).unwrap_or(DeliveryStatus::Unknown);
    let reason =
        r.error_class.as_deref().and_then(FailureReason::from_keyword).map(|c| lang.failure_reason(c));
    let last = r
        .last_attempt_at
        .map(|t| t.with_timezone(&zone).to_rfc3339_opts(SecondsFormat::Secs, false))
        .unwrap_or_default();
    let fields: [&str; 12] = [
        release.0,
        &spreadsheet_field(release.1),
        &spreadsheet_field(&r.recipient),
        status.as_str(),
        lang.delivery_status(status),
        if r.generation > 0 { "1" } else { "0" },
        &r.attempts.to_string(),
        &last,
        &field(reason.unwrap_or("")),
        &r.smtp_code.map(|c| c.to_string()).unwrap_or_default(),
        &spreadsheet_field(r.enhanced_code.as_deref().unwrap_or("")),
        &spreadsheet_field(r.smtp_reply.as_deref().unwrap_or("")),
    ];
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

pub async fn export(
    State(state): State<AppState>,
    Extension(viewer): Extension<Viewer>,
    Extension(scope): Extension<ReleaseInScope>,
    headers: HeaderMap,
    uri: Uri,
    PageQuery(params): PageQuery<RecipientParams>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    if let Some(unknown) = params.unknown_status() {
        // An export of every recipient under a filter that said otherwise would mislead.
        let message = page.lang.unknown_status(unknown);
        let headers =
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, "no-store")];
        return (StatusCode::UNPROCESSABLE_ENTITY, headers, message).into_response();
    }
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    if viewer.user.is_staff() {
        super::portal::audit(store.as_ref(), &viewer, "portal.export", Some(&scope.company), &uri, None)
            .await;
    }
    let (lang, zone) = (page.lang, page.site().time_zone);
    let release = std::sync::Arc::new((scope.release.id.to_string(), scope.release.title.clone()));
    let chunks = store.stream_recipients(params.query(&scope));
    let start = Some(format!("{BOM}{}", heading(lang)));
    let body = futures_util::stream::unfold((chunks, start), move |(mut chunks, start)| {
        let release = release.clone();
        async move {
            if let Some(start) = start {
                return Some((Ok(Bytes::from(start)), (chunks, None)));
            }
            match chunks.recv().await? {
                Ok(rows) => {
                    let mut out = String::with_capacity(rows.len() * 160);
                    for r in &rows {
                        line(&mut out, lang, zone, (&release.0, &release.1), r);
                    }
                    Some((Ok(Bytes::from(out)), (chunks, None)))
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the CSV export stopped");
                    Some((Err(e), (chunks, None)))
                }
            }
        }
    });
    let filename = format!("release-{}-recipients.csv", scope.release.id);
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")).expect("ASCII name"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Body::from_stream(body),
    )
        .into_response()
}
