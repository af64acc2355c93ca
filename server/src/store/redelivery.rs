//! Redelivery in the database: planning which of a release's messages may be sent again,
//! creating a request (idempotent, within a daily quota), and the dispatcher's side — claiming
//! items under a lease with their attempts recorded as in flight in the same statement, recording
//! the outcomes afterwards (one transaction per dispatcher commit: the outcomes of every attempt
//! that ended since the last, then the next claims), and taking back the items of a dispatcher
//! that died (their messages may have gone out: unknown, never sent again automatically).
//!
//! The rules live in the database (migrations 0005 and 0009, and the keys of 0001): an item takes
//! only an undelivered, unsuppressed message to an address not known to be missing, as its next
//! generation, once (`UNIQUE (message_id, generation)`); one request per idempotency key. The
//! code here only keeps requests from tripping over them.

use std::collections::{BTreeMap, HashSet};

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use statusdesk_app::model::FailureReason;
pub use statusdesk_app::model::SkipReason;

use super::StoreError;
use super::sql::{Param, Sql};

/// What a redelivery of a selection would do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RedeliveryPlan {
    /// The messages it would send again.
    pub messages: Vec<i64>,
    /// The selected messages it would not, by reason.
    pub skipped: BTreeMap<SkipReason, i64>,
}

/// A request to create.
#[derive(Clone, Debug)]
pub struct NewRequest {
    pub company_id: i64,
    pub release_id: Option<i64>,
    pub requested_by: Option<i64>,
    /// Staff acting for the company: the reason, required.
    pub on_behalf_reason: Option<String>,
    /// From the confirmation form: the same key is the same request.
    pub idempotency_key: String,
    /// Messages the company may have redelivered per day, this request included, and when
    /// the day began (midnight in the site's zone).
    pub daily_cap: i64,
    pub day_started_at: DateTime<Utc>,
    pub messages: Vec<i64>,
    /// The incident (notice slug) whose question this request answers with "redeliver": the
    /// answer is recorded in the same transaction, once.
    pub incident: Option<String>,
}

/// What creating a request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestOutcome {
    /// A new request with this many items (messages taken meanwhile by another request are left
    /// out).
    Created { id: i64, items: i64 },
    /// The key was used before: that request, unchanged.
    Existing { id: i64 },
    /// Over the company's daily cap: nothing was created.
    OverQuota { used: i64, cap: i64 },
    /// None of the messages can be redelivered any more.
    Empty,
    /// The incident's question was answered before (with this answer): nothing more happens.
    AlreadyAnswered { answer: String },
}

/// A company's answer to an incident's question.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct IncidentAnswer {
    /// `redeliver` or `leave`.
    pub answer: String,
    pub answered_at: DateTime<Utc>,
    /// Who answered (their address), when known.
    pub answered_by: Option<String>,
    pub on_behalf: bool,
    /// The request a "redeliver" answer created.
    pub request_id: Option<i64>,
}

/// An item a dispatcher has claimed, its attempt recorded as in flight: the recipient of one
/// release's content (read once per release: [`RedeliveryStore::release_contents`]).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ClaimedItem {
    pub item_id: i64,
    pub message_id: i64,
    pub generation: i32,
    /// This attempt's number (1 for the first).
    pub attempt: i32,
    /// The claim's lease: every later write names it, so a dispatcher that lost its item
    /// changes nothing.
    pub lease_until: DateTime<Utc>,
    pub recipient: String,
    pub route: String,
    pub release_id: i64,
}

/// What a release is sent again with.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReleaseContent {
    pub release_id: i64,
    pub sender_address: String,
    /// The release's subject and text; `None` when they are no longer kept: its items then
    /// fail without being sent.
    pub subject: Option<String>,
    pub body_text: Option<String>,
}

/// How an attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// 2xx: accepted by the receiving server.
    Sent,
    /// 4xx or a connection that never got going: tried again at `retry_at`.
    Deferred { retry_at: DateTime<Utc> },
    /// 5xx, or deferred too many times: given up.
    Failed,
    /// Cut off after the message may have gone out: never sent again automatically.
    Unknown,
}

/// The outcome of one attempt, with the server's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptResult {
    pub outcome: AttemptOutcome,
    pub smtp_code: Option<i32>,
    pub enhanced_code: Option<String>,
    pub reply: Option<String>,
    /// For `Failed` and `Unknown`: the message's error class from then on (`None`: the one it
    /// had).
    pub error_class: Option<&'static str>,
}

/// What [`RedeliveryStore::record_attempts`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    /// Items claimed, each with its attempt in flight: these may be sent.
    pub started: Vec<ClaimedItem>,
    /// Items of `ended` whose lease had run out: their outcome was not recorded.
    pub lapsed: Vec<i64>,
}

impl Recorded {
    /// What a commit did: `kept` holds the ids of the items of `ended` it found still under
    /// their leases (the others lapsed); `started`, the items it claimed.
    pub(super) fn new(
        ended: &[(ClaimedItem, AttemptResult)],
        kept: &HashSet<i64>,
        started: Vec<ClaimedItem>,
    ) -> Recorded {
        let lapsed = ended.iter().map(|(item, _)| item.item_id).filter(|id| !kept.contains(id)).collect();
        Recorded { started, lapsed }
    }
}

impl AttemptOutcome {
    /// The item's status after an attempt that ended so.
    fn status(self) -> &'static str {
        match self {
            AttemptOutcome::Sent => "sent",
            AttemptOutcome::Deferred { .. } => "deferred",
            AttemptOutcome::Failed => "failed",
            AttemptOutcome::Unknown => "unknown",
        }
    }
}

/// A request as the release page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestSummary {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub on_behalf: bool,
    pub status: String,
    /// The incident (notice slug) whose question the request answered.
    pub incident: Option<String>,
    pub by_status: BTreeMap<String, i64>,
}

/// A finished request, for the email that tells the company.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct FinishedRequest {
    pub id: i64,
    pub company_name: String,
    /// `ja` or `en`: the company's language.
    pub language: String,
    pub contact_email: String,
    pub release_id: Option<i64>,
    pub release_title: Option<String>,
    /// The incident (notice slug) whose question the request answered.
    pub incident: Option<String>,
    /// Staff asked for it on the company's behalf.
    pub on_behalf: bool,
    pub sent: i64,
    pub failed: i64,
    pub unknown: i64,
}

/// Items of a request by status.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestProgress {
    pub status: String,
    pub by_status: BTreeMap<String, i64>,
}

/// The dispatcher's work as the database has it (for monitoring).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueState {
    /// Items waiting, being sent or waiting for a retry, by status (`queued`, `sending`,
    /// `deferred`); statuses with none are absent.
    pub items: BTreeMap<String, i64>,
    /// When the longest-waiting item fell due (`None`: nothing is waiting).
    pub oldest_due: Option<DateTime<Utc>>,
    /// Incident emails staff asked for and the dispatcher has not sent yet.
    pub unsent_incident_notifications: i64,
}

/// Redelivery requests and the dispatcher's queue.
#[async_trait]
pub trait RedeliveryStore: Send + Sync {
    /// What redelivering `messages` would do: ids of the company's messages (of `release`, when
    /// it names one); others are ignored.
    async fn plan_redelivery(
        &self,
        company_id: i64,
        release: Option<i64>,
        messages: &[i64],
    ) -> Result<RedeliveryPlan, StoreError>;

    /// The company's redelivery requests for a release, newest first, with their items by status:
    /// its own, and those an incident's answer made that hold messages of it (counting those).
    async fn release_redeliveries(
        &self,
        company_id: i64,
        release_id: i64,
    ) -> Result<Vec<RequestSummary>, StoreError>;

    /// Messages the company asked to redeliver since `since` (the start of the day, in the site's
    /// zone): what counts against its daily cap.
    async fn requested_since(&self, company_id: i64, since: DateTime<Utc>) -> Result<i64, StoreError>;

    /// Creates the request for `request.messages`, in one transaction: at most once per key,
    /// within the daily cap, each message only if it still may be redelivered.
    async fn request_redelivery(
        &self,
        request: &NewRequest,
        now: DateTime<Utc>,
    ) -> Result<RequestOutcome, StoreError>;

    /// One commit of a dispatcher. Records how the attempts in `ended` went, for the items whose
    /// lease the caller still holds (one whose lease ran out was taken back as unknown and stays
    /// so); then claims up to `start` due items until `lease_until`, each with its next attempt
    /// recorded as in flight: from the commit on, these may be sent. Competing dispatchers never
    /// claim the same item.
    async fn record_attempts(
        &self,
        ended: &[(ClaimedItem, AttemptResult)],
        start: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Recorded, StoreError>;

    /// The sender, subject and text of each release of `releases` (no subject and text: they
    /// are no longer kept).
    async fn release_contents(&self, releases: &[i64]) -> Result<Vec<ReleaseContent>, StoreError>;

    /// Items whose lease ran out: their dispatcher died with their attempts in flight. Each may
    /// have gone out, so it (with its message and attempt) becomes unknown and is never sent
    /// again automatically. Returns how many.
    async fn take_back_abandoned(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Marks requests whose every item reached an end (sent, failed, unknown) as done; returns
    /// their ids.
    async fn complete_requests(&self, now: DateTime<Utc>) -> Result<Vec<i64>, StoreError>;

    async fn request_progress(&self, request_id: i64) -> Result<RequestProgress, StoreError>;

    /// The queue's size and age, counted through the indexes the dispatcher uses.
    async fn queue_state(&self) -> Result<QueueState, StoreError>;

    /// Finished requests whose company has not been told yet (and has a contact address).
    async fn requests_to_notify(&self, limit: i64) -> Result<Vec<FinishedRequest>, StoreError>;

    /// Records that the company was told the request is done.
    async fn mark_notified(&self, request_id: i64, now: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records "leave them" as the company's answer to an incident. Returns the earlier answer
    /// when there is one (then nothing changes).
    async fn leave_incident(
        &self,
        company_id: i64,
        notice_slug: &str,
        answered_by: Option<i64>,
        on_behalf: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<String>, StoreError>;

    /// The company's answer to an incident, if it gave one.
    async fn incident_answer(
        &self,
        company_id: i64,
        notice_slug: &str,
    ) -> Result<Option<IncidentAnswer>, StoreError>;

    /// The messages an incident's scope left undelivered (of the scope's company, when it names
    /// one).
    async fn incident_messages(&self, scope: &crate::delivery::impact::Scope)
    -> Result<Vec<i64>, StoreError>;

    /// The companies `slugs` with their contact, their answer to the incident `notice_slug`,
    /// when they were told of the notice's version `revision`, and whether they were told of an
    /// earlier one, in one query.
    async fn incident_companies(
        &self,
        notice_slug: &str,
        revision: i64,
        slugs: &[String],
    ) -> Result<Vec<AffectedCompany>, StoreError>;

    /// Queues the emails telling companies of an incident, in one transaction; a company already
    /// told of that version is skipped (the key). Returns the companies whose email was queued.
    async fn queue_incident_notifications(
        &self,
        notifications: &[NewIncidentNotification],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError>;

    /// Queued incident emails not yet sent, oldest first.
    async fn pending_incident_notifications(
        &self,
        limit: i64,
    ) -> Result<Vec<NewIncidentNotification>, StoreError>;

    /// Records that a queued incident email went out.
    async fn mark_incident_notification_sent(
        &self,
        notification: &NewIncidentNotification,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// An email telling a company of an incident's notice, as composed when staff asked for it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NewIncidentNotification {
    pub company_id: i64,
    pub notice_slug: String,
    /// The notice's version the company is told of.
    pub revision: i64,
    pub requested_by: Option<i64>,
    pub to_address: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
}

/// A company an incident affected, as staff follow it up.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AffectedCompany {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub contact_email: Option<String>,
    /// `ja` or `en`: the language its emails are written in.
    pub language: String,
    /// `redeliver` or `leave`, once answered.
    pub answer: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When staff asked for it to be told of the version, if they did.
    pub notified_at: Option<DateTime<Utc>>,
    /// When it was last told of an earlier version of the notice, if it was.
    pub told_before_at: Option<DateTime<Utc>>,
}

/// The query of [`RedeliveryStore::incident_companies`].
pub(super) fn incident_companies_sql(
    notice_slug: &str,
    revision: i64,
    slugs: &[String],
) -> (String, Vec<Param>) {
    let mut sql = Sql::new("");
    sql.push(
        "SELECT c.id, c.slug, c.name, c.contact_email, c.language, a.answer, a.answered_at,
                n.requested_at AS notified_at,
                (SELECT MAX(e.requested_at) FROM incident_notifications e
                 WHERE e.company_id = c.id AND e.notice_slug = $? AND e.revision < $?) AS told_before_at
         FROM companies c
         LEFT JOIN incident_answers a ON a.company_id = c.id AND a.notice_slug = $?
         LEFT JOIN incident_notifications n ON n.company_id = c.id AND n.notice_slug = $? AND n.revision = $?
         WHERE c.slug IN (",
        [
            Param::Text(notice_slug.to_string()),
            Param::Int(revision),
            Param::Text(notice_slug.to_string()),
            Param::Text(notice_slug.to_string()),
            Param::Int(revision),
        ],
    );
    sql.push_values(slugs.iter().map(|slug| vec![Param::Text(slug.clone())]));
    sql.push(")", []);
    sql.finish()
}

/// Items of the company's requests made since `$2`: what counts against its daily cap.
pub(super) const REQUESTED_SINCE: &str =
    "SELECT COUNT(*) FROM redelivery_items i JOIN redelivery_requests r ON r.id = i.request_id
     WHERE r.company_id = $1 AND r.created_at >= $2";

/// The error classes of a message whose address, or its domain, does not exist, as an SQL list:
/// never redelivered ([`FailureReason::address_not_found`]; the database's own rule is migration
/// 0009's trigger).
fn address_not_found_sql() -> String {
    let classes: Vec<String> = FailureReason::ALL
        .iter()
        .filter(|reason| reason.address_not_found())
        .map(|reason| format!("'{}'", reason.as_str()))
        .collect();
    format!("({})", classes.join(", "))
}

/// The planning query: each selected message of the company with the reason it would be skipped
/// (NULL: it would be redelivered). The ids are integers written into the statement.
pub(super) fn plan_sql(ids: &[i64]) -> String {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let address_not_found = address_not_found_sql();
    format!(
        "SELECT m.id,
            CASE
                WHEN m.status = 'sent' THEN 'delivered'
                WHEN m.status = 'queued' THEN 'queued'
                WHEN EXISTS (SELECT 1 FROM redelivery_items i WHERE i.message_id = m.id
                             AND i.status IN ('queued', 'sending', 'deferred')) THEN 'being_redelivered'
                WHEN m.status = 'unknown' THEN 'outcome_unknown'
                WHEN EXISTS (SELECT 1 FROM suppressions s WHERE lower(s.address) = lower(m.recipient)
                             AND (s.company_id IS NULL OR s.company_id = m.company_id)) THEN 'suppressed'
                WHEN m.error_class IN {address_not_found} THEN 'address_not_found'
                WHEN NOT EXISTS (SELECT 1 FROM release_contents c WHERE c.release_id = m.release_id)
                    THEN 'content_unavailable'
            END
         FROM messages m WHERE m.company_id = $1 AND ($2 IS NULL OR m.release_id = $2) AND m.id IN ({list})
         ORDER BY m.id"
    )
}

/// Folds the planning query's rows into a plan.
pub(super) fn plan_from(rows: Vec<(i64, Option<String>)>) -> RedeliveryPlan {
    let mut plan = RedeliveryPlan::default();
    for (id, skip) in rows {
        match skip.as_deref().and_then(SkipReason::from_keyword) {
            Some(reason) => *plan.skipped.entry(reason).or_default() += 1,
            None => plan.messages.push(id),
        }
    }
    plan
}

/// Inserts the items of a request: only messages that may still be redelivered, skipping any a
/// concurrent request took first.
pub(super) fn insert_items_sql(ids: &[i64]) -> String {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    let address_not_found = address_not_found_sql();
    format!(
        "INSERT INTO redelivery_items (request_id, message_id, generation, status, attempts, next_attempt_at, updated_at,
                                       previous_error_class)
         SELECT $1, m.id, m.generation + 1, 'queued', 0, $3, $3, m.error_class
         FROM messages m
         WHERE m.company_id = $2 AND m.id IN ({list})
           AND m.status IN ('deferred', 'bounced', 'failed', 'not_sent')
           AND (m.error_class IS NULL OR m.error_class NOT IN {address_not_found})
           AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE lower(s.address) = lower(m.recipient)
                           AND (s.company_id IS NULL OR s.company_id = m.company_id))
           AND EXISTS (SELECT 1 FROM release_contents c WHERE c.release_id = m.release_id)
         ON CONFLICT (message_id, generation) DO NOTHING"
    )
}

/// Claims up to `$3` items due by `$1` under a lease until `$2`, each on its next attempt, and
/// returns them. Where the dialects differ: `lock` is what makes competing dispatchers skip each
/// other's rows, and `among` turns the query of the ids to claim into the condition on `id`.
pub(super) fn claim_items_sql(lock: &str, among: impl FnOnce(&str) -> String) -> String {
    let due = format!(
        "SELECT i.id FROM redelivery_items i
         WHERE i.status IN ('queued', 'deferred') AND i.next_attempt_at <= $1
         ORDER BY i.next_attempt_at, i.id LIMIT $3 {lock}"
    );
    format!(
        "UPDATE redelivery_items SET status = 'sending', lease_until = $2, attempts = attempts + 1, updated_at = $1
         WHERE id {} AND status IN ('queued', 'deferred')
         RETURNING id, message_id, generation, attempts, lease_until",
        among(&due)
    )
}

/// Records the attempt of each item in `claimed` (rows of `redelivery_items` just claimed; the
/// dialect defines the name) as in flight at `$1`.
pub(super) const IN_FLIGHT_ATTEMPTS: &str =
    "INSERT INTO delivery_attempts (message_id, generation, attempt, attempted_at, route, outcome)
     SELECT c.message_id, c.generation, c.attempts, $1, m.route, 'in_flight'
     FROM claimed c JOIN messages m ON m.id = c.message_id";

/// What follows `SELECT` to read each item in `claimed` as a [`ClaimedItem`].
pub(super) const CLAIMED_ITEMS: &str =
    "c.id AS item_id, c.message_id, c.generation, c.attempts AS attempt, c.lease_until,
            m.recipient, m.route, m.release_id
     FROM claimed c JOIN messages m ON m.id = c.message_id";

/// Appends an update that ends the items of `ended` still held under their leases, each with its
/// outcome's status (a deferred one due again at its retry time), returning their ids: the
/// items kept.
pub(super) fn push_end_items(sql: &mut Sql, ended: &[(ClaimedItem, AttemptResult)], now: DateTime<Utc>) {
    sql.push(
        "UPDATE redelivery_items SET status = v.column3, next_attempt_at = v.column4, lease_until = NULL, updated_at = $?
         FROM (VALUES ",
        [Param::Time(now)],
    );
    let keys = sql.push_padded_values(
        ended
            .iter()
            .map(|(item, result)| {
                let retry_at = match result.outcome {
                    AttemptOutcome::Deferred { retry_at } => retry_at,
                    _ => now,
                };
                vec![
                    Param::Int(item.item_id),
                    Param::Time(item.lease_until),
                    Param::Text(result.outcome.status().into()),
                    Param::Time(retry_at),
                ]
            })
            .collect(),
    );
    sql.push(
        &format!(
            ") AS v WHERE redelivery_items.id IN ({keys}) AND redelivery_items.id = v.column1
               AND redelivery_items.status = 'sending' AND redelivery_items.lease_until = v.column2
             RETURNING redelivery_items.id"
        ),
        [],
    );
}

/// Appends an update that writes each ended attempt's outcome, with the server's code and
/// reply, onto its record — only while that is still in flight: the attempt of an item whose
/// lease ran out was taken back as unknown and stays so.
pub(super) fn push_attempt_outcomes(sql: &mut Sql, ended: &[(ClaimedItem, AttemptResult)]) {
    sql.push(
        "UPDATE delivery_attempts SET outcome = v.column4, smtp_code = v.column5, enhanced_code = v.column6,
                reply = v.column7
         FROM (VALUES ",
        [],
    );
    let keys = sql.push_padded_values(
        ended
            .iter()
            .map(|(item, result)| {
                vec![
                    Param::Int(item.message_id),
                    Param::Int(item.generation.into()),
                    Param::Int(item.attempt.into()),
                    Param::Text(result.outcome.status().into()),
                    Param::OptInt(result.smtp_code.map(i64::from)),
                    Param::OptText(result.enhanced_code.clone()),
                    Param::OptText(result.reply.clone()),
                ]
            })
            .collect(),
    );
    sql.push(
        &format!(
            ") AS v WHERE delivery_attempts.message_id IN ({keys}) AND delivery_attempts.message_id = v.column1
               AND delivery_attempts.generation = v.column2 AND delivery_attempts.attempt = v.column3
               AND delivery_attempts.outcome = 'in_flight'"
        ),
        [],
    );
}

/// Appends an update that carries the end of each item that reached one (not deferred) onto
/// its message: the message's status, generation and error are its latest attempt's. Only a
/// message that has not taken the item's generation yet changes: one whose item was taken back
/// as unknown has.
pub(super) fn push_message_outcomes(
    sql: &mut Sql,
    ended: &[&(ClaimedItem, AttemptResult)],
    now: DateTime<Utc>,
) {
    sql.push(
        "UPDATE messages SET status = v.column3, generation = v.column2, attempts = messages.attempts + v.column4,
                error_class = CASE WHEN v.column3 = 'sent' THEN NULL ELSE COALESCE(v.column5, messages.error_class) END,
                smtp_code = v.column6, enhanced_code = v.column7,
                smtp_reply = v.column8, last_attempt_at = $?
         FROM (VALUES ",
        [Param::Time(now)],
    );
    let keys = sql.push_padded_values(
        ended
            .iter()
            .map(|(item, result)| {
                let status = result.outcome.status();
                vec![
                    Param::Int(item.message_id),
                    Param::Int(item.generation.into()),
                    Param::Text(status.into()),
                    Param::Int(item.attempt.into()),
                    Param::OptText(result.error_class.map(String::from)),
                    Param::OptInt(result.smtp_code.map(i64::from)),
                    Param::OptText(result.enhanced_code.clone()),
                    Param::OptText(result.reply.clone()),
                ]
            })
            .collect(),
    );
    sql.push(
        &format!(") AS v WHERE messages.id IN ({keys}) AND messages.id = v.column1 AND messages.generation < v.column2"),
        [],
    );
}

/// The attempts of `ended` that reached an end (not deferred): their messages change.
pub(super) fn final_outcomes(ended: &[(ClaimedItem, AttemptResult)]) -> Vec<&(ClaimedItem, AttemptResult)> {
    ended.iter().filter(|(_, result)| !matches!(result.outcome, AttemptOutcome::Deferred { .. })).collect()
}

/// Implements [`RedeliveryStore`] for a backend whose struct has a `pool` and a
/// `record_and_claim` (a dispatcher's commit, where the dialects differ).
macro_rules! portable_redelivery {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::redelivery::RedeliveryStore for $store {
            async fn requested_since(
                &self,
                company_id: i64,
                since: chrono::DateTime<chrono::Utc>,
            ) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar($crate::store::redelivery::REQUESTED_SINCE)
                    .bind(company_id)
                    .bind(since)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn plan_redelivery(
                &self,
                company_id: i64,
                release: Option<i64>,
                messages: &[i64],
            ) -> Result<$crate::store::redelivery::RedeliveryPlan, StoreError> {
                let mut rows = Vec::new();
                for chunk in messages.chunks(1_000) {
                    let part: Vec<(i64, Option<String>)> =
                        sqlx::query_as(&$crate::store::redelivery::plan_sql(chunk))
                            .bind(company_id)
                            .bind(release)
                            .fetch_all(&self.pool)
                            .await?;
                    rows.extend(part);
                }
                Ok($crate::store::redelivery::plan_from(rows))
            }

            async fn release_redeliveries(
                &self,
                company_id: i64,
                release_id: i64,
            ) -> Result<Vec<$crate::store::redelivery::RequestSummary>, StoreError> {
                // The 20 newest requests for the release, or for an incident with messages of it
                // (those items only), with their items counted by status, in one query.
                let rows: Vec<(i64, chrono::DateTime<chrono::Utc>, bool, String, Option<String>, Option<String>, i64)> = sqlx::query_as(
                    "SELECT r.id, r.created_at, r.on_behalf, r.status, a.notice_slug, i.status, COUNT(i.id)
                     FROM (SELECT rq.id, rq.created_at, rq.on_behalf, rq.status FROM redelivery_requests rq
                           WHERE rq.company_id = $1
                             AND (rq.release_id = $2
                                  OR (rq.release_id IS NULL AND EXISTS (
                                      SELECT 1 FROM redelivery_items ri JOIN messages m ON m.id = ri.message_id
                                      WHERE ri.request_id = rq.id AND m.release_id = $2)))
                           ORDER BY rq.created_at DESC, rq.id DESC LIMIT 20) r
                     LEFT JOIN incident_answers a ON a.request_id = r.id
                     LEFT JOIN (SELECT ri.request_id, ri.status, ri.id FROM redelivery_items ri
                                JOIN messages m ON m.id = ri.message_id WHERE m.release_id = $2) i
                            ON i.request_id = r.id
                     GROUP BY r.id, r.created_at, r.on_behalf, r.status, a.notice_slug, i.status
                     ORDER BY r.created_at DESC, r.id DESC",
                )
                .bind(company_id)
                .bind(release_id)
                .fetch_all(&self.pool)
                .await?;
                let mut summaries: Vec<$crate::store::redelivery::RequestSummary> = Vec::new();
                for (id, created_at, on_behalf, status, incident, item_status, items) in rows {
                    if summaries.last().is_none_or(|s| s.id != id) {
                        summaries.push($crate::store::redelivery::RequestSummary {
                            id,
                            created_at,
                            on_behalf,
                            status,
                            incident,
                            by_status: Default::default(),
                        });
                    }
                    if let (Some(item_status), Some(summary)) = (item_status, summaries.last_mut()) {
                        summary.by_status.insert(item_status, items);
                    }
                }
                Ok(summaries)
            }

            async fn request_redelivery(
                &self,
                request: &$crate::store::redelivery::NewRequest,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::store::redelivery::RequestOutcome, StoreError> {
                use $crate::store::redelivery::RequestOutcome;
                let mut tx = self.pool.begin().await?;
                // One request at a time per company: the quota below counts what is committed.
                sqlx::query("UPDATE companies SET id = id WHERE id = $1").bind(request.company_id).execute(&mut *tx).await?;
                let created: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO redelivery_requests
                         (company_id, release_id, requested_by, on_behalf, reason, idempotency_key, status, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7)
                     ON CONFLICT (company_id, idempotency_key) DO NOTHING
                     RETURNING id",
                )
                .bind(request.company_id)
                .bind(request.release_id)
                .bind(request.requested_by)
                .bind(request.on_behalf_reason.is_some())
                .bind(&request.on_behalf_reason)
                .bind(&request.idempotency_key)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(slug) = &request.incident {
                    let answered: Option<i32> = sqlx::query_scalar(
                        "INSERT INTO incident_answers (company_id, notice_slug, answer, answered_by, on_behalf, answered_at)
                         VALUES ($1, $2, 'redeliver', $3, $4, $5)
                         ON CONFLICT (company_id, notice_slug) DO NOTHING RETURNING 1",
                    )
                    .bind(request.company_id)
                    .bind(slug)
                    .bind(request.requested_by)
                    .bind(request.on_behalf_reason.is_some())
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                    if answered.is_none() {
                        let answer: String = sqlx::query_scalar(
                            "SELECT answer FROM incident_answers WHERE company_id = $1 AND notice_slug = $2",
                        )
                        .bind(request.company_id)
                        .bind(slug)
                        .fetch_one(&mut *tx)
                        .await?;
                        return Ok(RequestOutcome::AlreadyAnswered { answer });
                    }
                }
                let Some(id) = created else {
                    let id: i64 = sqlx::query_scalar(
                        "SELECT id FROM redelivery_requests WHERE company_id = $1 AND idempotency_key = $2",
                    )
                    .bind(request.company_id)
                    .bind(&request.idempotency_key)
                    .fetch_one(&mut *tx)
                    .await?;
                    return Ok(RequestOutcome::Existing { id });
                };
                let used: i64 = sqlx::query_scalar($crate::store::redelivery::REQUESTED_SINCE)
                    .bind(request.company_id)
                    .bind(request.day_started_at)
                    .fetch_one(&mut *tx)
                    .await?;
                if used + request.messages.len() as i64 > request.daily_cap {
                    return Ok(RequestOutcome::OverQuota { used, cap: request.daily_cap });
                }
                let mut items = 0;
                for chunk in request.messages.chunks(1_000) {
                    items += sqlx::query(&$crate::store::redelivery::insert_items_sql(chunk))
                        .bind(id)
                        .bind(request.company_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected() as i64;
                }
                if items == 0 {
                    return Ok(RequestOutcome::Empty);
                }
                if let Some(slug) = &request.incident {
                    sqlx::query("UPDATE incident_answers SET request_id = $3 WHERE company_id = $1 AND notice_slug = $2")
                        .bind(request.company_id)
                        .bind(slug)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(RequestOutcome::Created { id, items })
            }

            async fn record_attempts(
                &self,
                ended: &[($crate::store::redelivery::ClaimedItem, $crate::store::redelivery::AttemptResult)],
                start: usize,
                now: chrono::DateTime<chrono::Utc>,
                lease_until: chrono::DateTime<chrono::Utc>,
            ) -> Result<$crate::store::redelivery::Recorded, StoreError> {
                self.record_and_claim(ended, start, now, lease_until).await
            }

            async fn release_contents(
                &self,
                releases: &[i64],
            ) -> Result<Vec<$crate::store::redelivery::ReleaseContent>, StoreError> {
                if releases.is_empty() {
                    return Ok(Vec::new());
                }
                let list = releases.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                Ok(sqlx::query_as(&format!(
                    "SELECT r.id AS release_id, r.sender_address, c.subject, c.body_text
                     FROM releases r LEFT JOIN release_contents c ON c.release_id = r.id
                     WHERE r.id IN ({list})"
                ))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn take_back_abandoned(&self, now: chrono::DateTime<chrono::Utc>) -> Result<u64, StoreError> {
                let mut tx = self.pool.begin().await?;
                // Claimed items have their attempts in flight: the messages may have gone out.
                let unknown: Vec<(i64, i32, i32)> = sqlx::query_as(
                    "UPDATE redelivery_items SET status = 'unknown', lease_until = NULL, updated_at = $1
                     WHERE status = 'sending' AND lease_until < $1
                     RETURNING message_id, generation, attempts",
                )
                .bind(now)
                .fetch_all(&mut *tx)
                .await?;
                for (message_id, generation, attempt) in &unknown {
                    sqlx::query(
                        "UPDATE delivery_attempts SET outcome = 'unknown', reply = 'the dispatcher stopped during this attempt'
                         WHERE message_id = $1 AND generation = $2 AND attempt = $3",
                    )
                    .bind(message_id)
                    .bind(generation)
                    .bind(attempt)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE messages SET status = 'unknown', generation = $2, error_class = 'connection_lost',
                                attempts = attempts + $3, last_attempt_at = $4
                         WHERE id = $1",
                    )
                    .bind(message_id)
                    .bind(generation)
                    .bind(attempt)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(unknown.len() as u64)
            }

            async fn complete_requests(&self, now: chrono::DateTime<chrono::Utc>) -> Result<Vec<i64>, StoreError> {
                Ok(sqlx::query_scalar(
                    "UPDATE redelivery_requests SET status = 'done', completed_at = $1
                     WHERE status IN ('pending', 'in_progress')
                       AND NOT EXISTS (SELECT 1 FROM redelivery_items i WHERE i.request_id = redelivery_requests.id
                                       AND i.status IN ('queued', 'sending', 'deferred'))
                     RETURNING id",
                )
                .bind(now)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn requests_to_notify(
                &self,
                limit: i64,
            ) -> Result<Vec<$crate::store::redelivery::FinishedRequest>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT r.id, c.name AS company_name, c.language, c.contact_email, r.release_id,
                            rel.title AS release_title, a.notice_slug AS incident, r.on_behalf,
                            (SELECT COUNT(*) FROM redelivery_items i WHERE i.request_id = r.id AND i.status = 'sent') AS sent,
                            (SELECT COUNT(*) FROM redelivery_items i WHERE i.request_id = r.id AND i.status = 'failed') AS failed,
                            (SELECT COUNT(*) FROM redelivery_items i WHERE i.request_id = r.id AND i.status = 'unknown') AS unknown
                     FROM redelivery_requests r
                     JOIN companies c ON c.id = r.company_id
                     LEFT JOIN releases rel ON rel.id = r.release_id
                     LEFT JOIN incident_answers a ON a.request_id = r.id
                     WHERE r.status = 'done' AND r.notified_at IS NULL AND c.contact_email IS NOT NULL
                     ORDER BY r.id LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn mark_notified(&self, request_id: i64, now: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
                sqlx::query("UPDATE redelivery_requests SET notified_at = $2 WHERE id = $1")
                    .bind(request_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn leave_incident(
                &self,
                company_id: i64,
                notice_slug: &str,
                answered_by: Option<i64>,
                on_behalf: bool,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Option<String>, StoreError> {
                let mut tx = self.pool.begin().await?;
                let inserted: Option<i32> = sqlx::query_scalar(
                    "INSERT INTO incident_answers (company_id, notice_slug, answer, answered_by, on_behalf, answered_at)
                     VALUES ($1, $2, 'leave', $3, $4, $5)
                     ON CONFLICT (company_id, notice_slug) DO NOTHING RETURNING 1",
                )
                .bind(company_id)
                .bind(notice_slug)
                .bind(answered_by)
                .bind(on_behalf)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let earlier = match inserted {
                    Some(_) => None,
                    None => Some(
                        sqlx::query_scalar("SELECT answer FROM incident_answers WHERE company_id = $1 AND notice_slug = $2")
                            .bind(company_id)
                            .bind(notice_slug)
                            .fetch_one(&mut *tx)
                            .await?,
                    ),
                };
                tx.commit().await?;
                Ok(earlier)
            }

            async fn incident_answer(
                &self,
                company_id: i64,
                notice_slug: &str,
            ) -> Result<Option<$crate::store::redelivery::IncidentAnswer>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT a.answer, a.answered_at, u.email AS answered_by, a.on_behalf, a.request_id
                     FROM incident_answers a LEFT JOIN users u ON u.id = a.answered_by
                     WHERE a.company_id = $1 AND a.notice_slug = $2",
                )
                .bind(company_id)
                .bind(notice_slug)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn incident_companies(
                &self,
                notice_slug: &str,
                revision: i64,
                slugs: &[String],
            ) -> Result<Vec<$crate::store::redelivery::AffectedCompany>, StoreError> {
                if slugs.is_empty() {
                    return Ok(Vec::new());
                }
                let (sql, params) = $crate::store::redelivery::incident_companies_sql(notice_slug, revision, slugs);
                Ok($crate::store::sql::bind_params!(sqlx::query_as(&sql), params).fetch_all(&self.pool).await?)
            }

            async fn queue_incident_notifications(
                &self,
                notifications: &[$crate::store::redelivery::NewIncidentNotification],
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<Vec<i64>, StoreError> {
                let mut tx = self.pool.begin().await?;
                let mut queued = Vec::new();
                for n in notifications {
                    let inserted = sqlx::query(
                        "INSERT INTO incident_notifications (company_id, notice_slug, revision, requested_by,
                             requested_at, to_address, subject, body_text, body_html)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                         ON CONFLICT (company_id, notice_slug, revision) DO NOTHING",
                    )
                    .bind(n.company_id)
                    .bind(&n.notice_slug)
                    .bind(n.revision)
                    .bind(n.requested_by)
                    .bind(now)
                    .bind(&n.to_address)
                    .bind(&n.subject)
                    .bind(&n.body_text)
                    .bind(&n.body_html)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if inserted > 0 {
                        queued.push(n.company_id);
                    }
                }
                tx.commit().await?;
                Ok(queued)
            }

            async fn pending_incident_notifications(
                &self,
                limit: i64,
            ) -> Result<Vec<$crate::store::redelivery::NewIncidentNotification>, StoreError> {
                Ok(sqlx::query_as(
                    "SELECT company_id, notice_slug, revision, requested_by, to_address, subject, body_text, body_html
                     FROM incident_notifications WHERE sent_at IS NULL ORDER BY requested_at LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn mark_incident_notification_sent(
                &self,
                n: &$crate::store::redelivery::NewIncidentNotification,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), StoreError> {
                sqlx::query(
                    "UPDATE incident_notifications SET sent_at = $4
                     WHERE company_id = $1 AND notice_slug = $2 AND revision = $3",
                )
                .bind(n.company_id)
                .bind(&n.notice_slug)
                .bind(n.revision)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn incident_messages(&self, scope: &$crate::delivery::impact::Scope) -> Result<Vec<i64>, StoreError> {
                let sql = format!("SELECT m.id {} ORDER BY m.id", $crate::store::UNDELIVERED_IN_SCOPE);
                Ok($crate::store::bind_scope!(sqlx::query_scalar(&sql), scope).fetch_all(&self.pool).await?)
            }

            async fn request_progress(
                &self,
                request_id: i64,
            ) -> Result<$crate::store::redelivery::RequestProgress, StoreError> {
                let status: String = sqlx::query_scalar("SELECT status FROM redelivery_requests WHERE id = $1")
                    .bind(request_id)
                    .fetch_one(&self.pool)
                    .await?;
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT status, COUNT(*) FROM redelivery_items WHERE request_id = $1 GROUP BY status",
                )
                .bind(request_id)
                .fetch_all(&self.pool)
                .await?;
                Ok($crate::store::redelivery::RequestProgress { status, by_status: rows.into_iter().collect() })
            }

            async fn queue_state(&self) -> Result<$crate::store::redelivery::QueueState, StoreError> {
                let rows: Vec<(String, i64, Option<chrono::DateTime<chrono::Utc>>)> = sqlx::query_as(
                    "SELECT status, COUNT(*), MIN(next_attempt_at) FROM redelivery_items
                     WHERE status IN ('queued', 'deferred', 'sending') GROUP BY status",
                )
                .fetch_all(&self.pool)
                .await?;
                // Items being sent are not waiting, whatever their time says.
                let oldest_due = rows.iter().filter(|(status, ..)| status != "sending").filter_map(|(.., due)| *due).min();
                let unsent_incident_notifications =
                    sqlx::query_scalar("SELECT COUNT(*) FROM incident_notifications WHERE sent_at IS NULL")
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::store::redelivery::QueueState {
                    items: rows.into_iter().map(|(status, n, _)| (status, n)).collect(),
                    oldest_due,
                    unsent_incident_notifications,
                })
            }
        }
    };
}
pub(super) use portable_redelivery;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_count_each_reason() {
        let plan = plan_from(vec![
            (1, None),
            (2, Some("delivered".into())),
            (3, Some("delivered".into())),
            (4, Some("suppressed".into())),
            (5, None),
        ]);
        assert_eq!(plan.messages, vec![1, 5]);
        assert_eq!(plan.skipped.get(&SkipReason::Delivered), Some(&2));
        assert_eq!(plan.skipped.get(&SkipReason::Suppressed), Some(&1));
    }
}
