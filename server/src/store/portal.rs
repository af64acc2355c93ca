//! What the company portal reads: a company's releases with their totals, a release's
//! recipients, the CSV export as a stream, and the audit log it writes. Every query takes the
//! company's id next to the release's, so another company's release is simply not found.
//!
//! The SQL is built here once for both dialects (filters add conditions with numbered
//! parameters, [`Param`](super::sql::Param)); [`portable_portal!`] runs it on each backend's pool.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use statusdesk_app::model::{DeliveryStatus, Totals};
use tokio::sync::mpsc;

use super::StoreError;
use super::sql::{Param, Sql};

/// The statuses of a message that did not reach its recipient, as SQL.
pub(super) const UNDELIVERED_SQL: &str = "('deferred', 'bounced', 'failed', 'not_sent', 'unknown')";

/// A release with its totals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseRecord {
    pub id: i64,
    pub company_id: i64,
    pub title: String,
    pub sender_address: String,
    pub sender_is_default: bool,
    pub recipient_source: String,
    pub sent_at: Option<DateTime<Utc>>,
    pub totals: Totals,
}

#[derive(sqlx::FromRow)]
pub(super) struct ReleaseRow {
    pub(super) id: i64,
    company_id: i64,
    title: String,
    sender_address: String,
    sender_is_default: bool,
    recipient_source: String,
    sent_at: Option<DateTime<Utc>>,
}

impl ReleaseRow {
    pub(super) fn with_totals(self, totals: Totals) -> ReleaseRecord {
        ReleaseRecord {
            id: self.id,
            company_id: self.company_id,
            title: self.title,
            sender_address: self.sender_address,
            sender_is_default: self.sender_is_default,
            recipient_source: self.recipient_source,
            sent_at: self.sent_at,
            totals,
        }
    }
}

/// Which way a keyset page goes from its cursor: `After` follows the list's order (older
/// releases, later addresses), `Before` goes back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    After,
    Before,
}

/// Where a page of releases starts: the last (or first) row of the page before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseCursor {
    pub sent_at: DateTime<Utc>,
    pub id: i64,
}

/// One company's sent releases, newest first, filtered.
#[derive(Clone, Debug, Default)]
pub struct ReleaseQuery {
    pub company_id: i64,
    /// Words that must appear in the title (case-insensitive).
    pub title: Option<String>,
    /// Sent at or after.
    pub sent_from: Option<DateTime<Utc>>,
    /// Sent before.
    pub sent_before: Option<DateTime<Utc>>,
    /// Only releases with at least one undelivered message.
    pub undelivered_only: bool,
    pub cursor: Option<(Direction, ReleaseCursor)>,
    pub limit: i64,
}

/// Which recipients of a release.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum StatusFilter {
    #[default]
    All,
    Undelivered,
    Only(DeliveryStatus),
}

/// A release's recipients in address order, filtered.
#[derive(Clone, Debug, Default)]
pub struct RecipientQuery {
    pub company_id: i64,
    pub release_id: i64,
    pub status: StatusFilter,
    /// Part of the address (case-insensitive).
    pub address: Option<String>,
}

/// One recipient's message, as the portal shows it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct RecipientRecord {
    /// The message's id.
    pub id: i64,
    pub recipient: String,
    pub status: String,
    pub generation: i32,
    pub attempts: i32,
    pub last_attempt_at: Option<DateTime<Utc>>,
    pub error_class: Option<String>,
    pub smtp_code: Option<i32>,
    pub enhanced_code: Option<String>,
    pub smtp_reply: Option<String>,
    /// A redelivery of it is waiting, being sent or to be retried (read for the release page
    /// only; the export leaves it out).
    #[sqlx(default)]
    pub being_redelivered: bool,
}

/// Rows of the CSV export, a chunk at a time; an error ends the stream.
pub type RecipientChunks = mpsc::Receiver<Result<Vec<RecipientRecord>, StoreError>>;

/// Rows per chunk of [`RecipientChunks`].
pub(super) const CHUNK_ROWS: usize = 1_000;

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    pub actor_id: Option<i64>,
    /// Who, in words: the user's address, or `cli`.
    pub actor: String,
    /// What, as a dotted keyword: `portal.view`, `portal.denied`, `user.disable`...
    pub action: String,
    pub company_id: Option<i64>,
    /// What it was done to: a path, an address.
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// A line of the audit log as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub company_id: Option<i64>,
    /// The company's slug, when the line names one.
    pub company: Option<String>,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// Which lines of the audit log to read: newest first, each condition optional.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Part of the actor's address, any case.
    pub actor: Option<String>,
    /// The action exactly (`notice.update`).
    pub action: Option<String>,
    pub company_id: Option<i64>,
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    /// Only lines older than this one (`at`, `id`): the next page.
    pub older_than: Option<(DateTime<Utc>, i64)>,
    pub limit: i64,
}

impl AuditQuery {
    /// The newest `limit` lines, whatever they are.
    pub fn newest(limit: i64) -> AuditQuery {
        AuditQuery { limit, ..AuditQuery::default() }
    }
}

/// The portal's reads and its audit log.
#[async_trait]
pub trait PortalStore: Send + Sync {
    /// The company's release with this id; `None` for another company's or a missing one.
    async fn release(&self, company_id: i64, release_id: i64) -> Result<Option<ReleaseRecord>, StoreError>;

    /// The slug of the company that owns the release with this id (for staff, who see any).
    async fn release_owner(&self, release_id: i64) -> Result<Option<String>, StoreError>;

    /// A page of releases, newest first (whichever the direction).
    async fn releases(&self, query: &ReleaseQuery) -> Result<Vec<ReleaseRecord>, StoreError>;

    /// Titles of the company's releases among `ids`.
    async fn release_titles(&self, company_id: i64, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError>;

    /// A page of recipients in address order, starting after (or ending before) `cursor`.
    async fn recipients(
        &self,
        query: &RecipientQuery,
        cursor: Option<(Direction, &str)>,
        limit: i64,
    ) -> Result<Vec<RecipientRecord>, StoreError>;

    /// How many recipients match.
    async fn count_recipients(&self, query: &RecipientQuery) -> Result<i64, StoreError>;

    /// The ids of the messages that match.
    async fn message_ids(&self, query: &RecipientQuery) -> Result<Vec<i64>, StoreError>;

    /// Every matching recipient in address order, streamed in chunks of [`CHUNK_ROWS`] through a
    /// small buffer, so that memory stays flat however large the release.
    fn stream_recipients(&self, query: RecipientQuery) -> RecipientChunks;

    async fn record_audit(&self, entry: &AuditEntry) -> Result<(), StoreError>;

    /// The audit lines `query` asks for, newest first.
    async fn audit_log(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
}

/// A `LIKE` pattern that finds `text` anywhere, its wildcards escaped. Compared as
/// `lower(column) LIKE lower(pattern)`: the database folds both sides alike (SQLite folds
/// only ASCII letters, PostgreSQL every letter), so a text typed as stored is always found.
fn contains_pattern(text: &str) -> String {
    let mut pattern = String::from("%");
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The [`contains_pattern`]s of `text` as typed and with its full-width letters and digits as
/// ASCII: names and titles hold either.
pub(super) fn typed_or_half_width(text: &str) -> [String; 2] {
    [contains_pattern(text.trim()), contains_pattern(&crate::text::half_width(text.trim()))]
}

/// The audit log's query: conditions as asked, newest first, keyset-paged by (`at`, `id`).
pub(super) fn audit_sql(query: &AuditQuery) -> (String, Vec<Param>) {
    let mut sql = Sql::new(
        "SELECT a.id, a.at, a.actor, a.action, a.company_id, c.slug AS company, a.target, a.detail
         FROM audit_log a LEFT JOIN companies c ON c.id = a.company_id WHERE 1 = 1",
    );
    if let Some(actor) = query.actor.as_deref().filter(|a| !a.trim().is_empty()) {
        sql.push(
            " AND lower(a.actor) LIKE lower($?) ESCAPE '\\'",
            [Param::Text(contains_pattern(actor.trim()))],
        );
    }
    if let Some(action) = query.action.as_deref().filter(|a| !a.trim().is_empty()) {
        sql.push(" AND a.action = $?", [Param::Text(action.trim().to_string())]);
    }
    if let Some(company) = query.company_id {
        sql.push(" AND a.company_id = $?", [Param::Int(company)]);
    }
    if let Some(from) = query.from {
        sql.push(" AND a.at >= $?", [Param::Time(from)]);
    }
    if let Some(before) = query.before {
        sql.push(" AND a.at < $?", [Param::Time(before)]);
    }
    if let Some((at, id)) = query.older_than {
        sql.push(
            " AND (a.at < $? OR (a.at = $? AND a.id < $?))",
            [Param::Time(at), Param::Time(at), Param::Int(id)],
        );
    }
    sql.push(" ORDER BY a.at DESC, a.id DESC LIMIT $?", [Param::Int(query.limit)]);
    sql.finish()
}

pub(super) fn releases_sql(query: &ReleaseQuery) -> (String, Vec<Param>) {
    let mut sql = Sql::new(
        "SELECT r.id, r.company_id, r.title, r.sender_address, r.sender_is_default, r.recipient_source, r.sent_at
         FROM releases r WHERE r.sent_at IS NOT NULL",
    );
    sql.push(" AND r.company_id = $?", [Param::Int(query.company_id)]);
    if let Some(title) = query.title.as_deref().filter(|t| !t.trim().is_empty()) {
        let [typed, folded] = typed_or_half_width(title);
        sql.push(
            " AND (lower(r.title) LIKE lower($?) ESCAPE '\\' OR lower(r.title) LIKE lower($?) ESCAPE '\\')",
            [Param::Text(typed), Param::Text(folded)],
        );
    }
    if let Some(from) = query.sent_from {
        sql.push(" AND r.sent_at >= $?", [Param::Time(from)]);
    }
    if let Some(before) = query.sent_before {
        sql.push(" AND r.sent_at < $?", [Param::Time(before)]);
    }
    if query.undelivered_only {
        sql.push(
            &format!(
                " AND EXISTS (SELECT 1 FROM release_counts c WHERE c.release_id = r.id AND c.messages > 0 AND c.status IN {UNDELIVERED_SQL})"
            ),
            [],
        );
    }
    let order = match query.cursor {
        Some((direction, cursor)) => {
            let (op, order) = match direction {
                Direction::After => ("<", "DESC"),
                Direction::Before => (">", "ASC"),
            };
            sql.push(
                &format!(" AND (r.sent_at, r.id) {op} ($?, $?)"),
                [Param::Time(cursor.sent_at), Param::Int(cursor.id)],
            );
            order
        }
        None => "DESC",
    };
    sql.push(&format!(" ORDER BY r.sent_at {order}, r.id {order} LIMIT $?"), [Param::Int(query.limit)]);
    sql.finish()
}

/// The recipients matching `query`: the conditions after `FROM messages m`.
fn recipient_conditions(query: &RecipientQuery) -> Sql {
    let mut sql = Sql::new("");
    sql.push(
        " WHERE m.release_id = $? AND m.company_id = $?",
        [Param::Int(query.release_id), Param::Int(query.company_id)],
    );
    // The status is written out, not bound, so that PostgreSQL can use the partial index of
    // undelivered messages; it comes from a closed list.
    match query.status {
        StatusFilter::All => {}
        StatusFilter::Undelivered => {
            sql.push(&format!(" AND m.status IN {UNDELIVERED_SQL}"), []);
        }
        StatusFilter::Only(status) => {
            sql.push(&format!(" AND m.status = '{}'", status.as_str()), []);
            if status.is_undelivered() {
                sql.push(&format!(" AND m.status IN {UNDELIVERED_SQL}"), []);
            }
        }
    }
    if let Some(address) = query.address.as_deref().filter(|a| !a.trim().is_empty()) {
        sql.push(
            " AND lower(m.recipient) LIKE lower($?) ESCAPE '\\'",
            [Param::Text(contains_pattern(address.trim()))],
        );
    }
    sql
}

/// The columns of a [`RecipientRecord`] read from `messages m`.
const RECIPIENT_COLUMNS: &str = "m.id, m.recipient, m.status, m.generation, m.attempts, m.last_attempt_at, \
     m.error_class, m.smtp_code, m.enhanced_code, m.smtp_reply";

/// Whether a redelivery of the message is under way: its item for the next generation, found by
/// its key, still waiting, being sent or to be retried.
const BEING_REDELIVERED: &str = "EXISTS (SELECT 1 FROM redelivery_items i WHERE i.message_id = m.id \
     AND i.generation = m.generation + 1 AND i.status IN ('queued', 'sending', 'deferred')) AS being_redelivered";

pub(super) fn recipients_sql(
    query: &RecipientQuery,
    cursor: Option<(Direction, &str)>,
    limit: i64,
) -> (String, Vec<Param>) {
    let conditions = recipient_conditions(query);
    let mut sql =
        conditions.after(&format!("SELECT {RECIPIENT_COLUMNS}, {BEING_REDELIVERED} FROM messages m"));
    let order = match cursor {
        Some((Direction::After, address)) => {
            sql.push(" AND m.recipient > $?", [Param::Text(address.to_string())]);
            "ASC"
        }
        Some((Direction::Before, address)) => {
            sql.push(" AND m.recipient < $?", [Param::Text(address.to_string())]);
            "DESC"
        }
        None => "ASC",
    };
    sql.push(&format!(" ORDER BY m.recipient {order} LIMIT $?"), [Param::Int(limit)]);
    sql.finish()
}

pub(super) fn count_recipients_sql(query: &RecipientQuery) -> (String, Vec<Param>) {
    let conditions = recipient_conditions(query);
    conditions.after("SELECT COUNT(*) FROM messages m").finish()
}

pub(super) fn message_ids_sql(query: &RecipientQuery) -> (String, Vec<Param>) {
    let conditions = recipient_conditions(query);
    let mut sql = conditions.after("SELECT m.id FROM messages m");
    sql.push(" ORDER BY m.id", []);
    sql.finish()
}

pub(super) fn stream_recipients_sql(query: &RecipientQuery) -> (String, Vec<Param>) {
    let conditions = recipient_conditions(query);
    let mut sql = conditions.after(&format!("SELECT {RECIPIENT_COLUMNS} FROM messages m"));
    sql.push(" ORDER BY m.recipient", []);
    sql.finish()
}

/// Adds one `release_counts` row to a release's totals.
pub(super) fn add_count(totals: &mut Totals, status: &str, redelivered: bool, messages: i64) {
    let slot = match (DeliveryStatus::from_keyword(status), redelivered) {
        (Some(DeliveryStatus::Sent), true) => &mut totals.redelivered,
        (Some(DeliveryStatus::Sent), false) => &mut totals.sent,
        (Some(DeliveryStatus::Queued), _) => &mut totals.queued,
        (Some(DeliveryStatus::Deferred), _) => &mut totals.deferred,
        (Some(DeliveryStatus::Bounced), _) => &mut totals.bounced,
        (Some(DeliveryStatus::Failed), _) => &mut totals.failed,
        (Some(DeliveryStatus::NotSent), _) => &mut totals.not_sent,
        (Some(DeliveryStatus::Unknown), _) | (None, _) => &mut totals.unknown,
    };
    *slot += messages;
}

/// `release_counts` of the releases in `ids` (integers, written into the statement).
pub(super) fn counts_sql(ids: &[i64]) -> String {
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT release_id, status, redelivered, messages FROM release_counts WHERE release_id IN ({list})"
    )
}

/// Implements [`PortalStore`] for a backend whose struct has a `pool`.
macro_rules! portable_portal {
    ($store:ty) => {
        impl $store {
            /// Totals of each release in `ids`.
            async fn totals_of(
                &self,
                ids: &[i64],
            ) -> Result<std::collections::HashMap<i64, statusdesk_app::model::Totals>, StoreError> {
                let mut totals = std::collections::HashMap::<i64, statusdesk_app::model::Totals>::new();
                if ids.is_empty() {
                    return Ok(totals);
                }
                let rows: Vec<(i64, String, bool, i64)> =
                    sqlx::query_as(&$crate::store::portal::counts_sql(ids)).fetch_all(&self.pool).await?;
                for (release_id, status, redelivered, messages) in rows {
                    $crate::store::portal::add_count(totals.entry(release_id).or_default(), &status, redelivered, messages);
                }
                Ok(totals)
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::portal::PortalStore for $store {
            async fn release(
                &self,
                company_id: i64,
                release_id: i64,
            ) -> Result<Option<$crate::store::portal::ReleaseRecord>, StoreError> {
                let row: Option<$crate::store::portal::ReleaseRow> = sqlx::query_as(
                    "SELECT id, company_id, title, sender_address, sender_is_default, recipient_source, sent_at
                     FROM releases WHERE id = $1 AND company_id = $2",
                )
                .bind(release_id)
                .bind(company_id)
                .fetch_optional(&self.pool)
                .await?;
                let Some(row) = row else { return Ok(None) };
                let totals = self.totals_of(&[release_id]).await?.remove(&release_id).unwrap_or_default();
                Ok(Some(row.with_totals(totals)))
            }

            async fn release_owner(&self, release_id: i64) -> Result<Option<String>, StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT c.slug FROM releases r JOIN companies c ON c.id = r.company_id WHERE r.id = $1",
                )
                .bind(release_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn releases(
                &self,
                query: &$crate::store::portal::ReleaseQuery,
            ) -> Result<Vec<$crate::store::portal::ReleaseRecord>, StoreError> {
                let (sql, params) = $crate::store::portal::releases_sql(query);
                let mut rows: Vec<$crate::store::portal::ReleaseRow> =
                    $crate::store::sql::bind_params!(sqlx::query_as(&sql), params).fetch_all(&self.pool).await?;
                if matches!(query.cursor, Some(($crate::store::portal::Direction::Before, _))) {
                    rows.reverse();
                }
                let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
                let mut totals = self.totals_of(&ids).await?;
                Ok(rows
                    .into_iter()
                    .map(|row| {
                        let t = totals.remove(&row.id).unwrap_or_default();
                        row.with_totals(t)
                    })
                    .collect())
            }

            async fn release_titles(&self, company_id: i64, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                Ok(sqlx::query_as(&format!(
                    "SELECT id, title FROM releases WHERE company_id = $1 AND id IN ({list}) ORDER BY id"
                ))
                .bind(company_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn recipients(
                &self,
                query: &$crate::store::portal::RecipientQuery,
                cursor: Option<($crate::store::portal::Direction, &str)>,
                limit: i64,
            ) -> Result<Vec<$crate::store::portal::RecipientRecord>, StoreError> {
                let (sql, params) = $crate::store::portal::recipients_sql(query, cursor, limit);
                let mut rows: Vec<$crate::store::portal::RecipientRecord> =
                    $crate::store::sql::bind_params!(sqlx::query_as(&sql), params).fetch_all(&self.pool).await?;
                if matches!(cursor, Some(($crate::store::portal::Direction::Before, _))) {
                    rows.reverse();
                }
                Ok(rows)
            }

            async fn count_recipients(&self, query: &$crate::store::portal::RecipientQuery) -> Result<i64, StoreError> {
                let (sql, params) = $crate::store::portal::count_recipients_sql(query);
                Ok($crate::store::sql::bind_params!(sqlx::query_scalar(&sql), params).fetch_one(&self.pool).await?)
            }

            async fn message_ids(&self, query: &$crate::store::portal::RecipientQuery) -> Result<Vec<i64>, StoreError> {
                let (sql, params) = $crate::store::portal::message_ids_sql(query);
                Ok($crate::store::sql::bind_params!(sqlx::query_scalar(&sql), params).fetch_all(&self.pool).await?)
            }

            fn stream_recipients(
                &self,
                query: $crate::store::portal::RecipientQuery,
            ) -> $crate::store::portal::RecipientChunks {
                use futures_util::StreamExt;
                let pool = self.pool.clone();
                let (sender, receiver) = tokio::sync::mpsc::channel(2);
                tokio::spawn(async move {
                    let (sql, params) = $crate::store::portal::stream_recipients_sql(&query);
                    let mut rows =
                        $crate::store::sql::bind_params!(sqlx::query_as::<_, $crate::store::portal::RecipientRecord>(&sql), params)
                            .fetch(&pool);
                    let mut chunk = Vec::with_capacity($crate::store::portal::CHUNK_ROWS);
                    while let Some(row) = rows.next().await {
                        match row {
                            Ok(row) => {
                                chunk.push(row);
                                if chunk.len() == $crate::store::portal::CHUNK_ROWS {
                                    let full = std::mem::replace(
                                        &mut chunk,
                                        Vec::with_capacity($crate::store::portal::CHUNK_ROWS),
                                    );
                                    if sender.send(Ok(full)).await.is_err() {
                                        return; // The client went away.
                                    }
                                }
                            }
                            Err(e) => {
                                let _ = sender.send(Err(e.into())).await;
                                return;
                            }
                        }
                    }
                    if !chunk.is_empty() {
                        let _ = sender.send(Ok(chunk)).await;
                    }
                });
                receiver
            }

            async fn record_audit(&self, entry: &$crate::store::portal::AuditEntry) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO audit_log (at, actor_id, actor, action, company_id, target, detail)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(chrono::Utc::now())
                .bind(entry.actor_id)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(entry.company_id)
                .bind(&entry.target)
                .bind(&entry.detail)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn audit_log(
                &self,
                query: &$crate::store::portal::AuditQuery,
            ) -> Result<Vec<$crate::store::portal::AuditRecord>, StoreError> {
                let (sql, params) = $crate::store::portal::audit_sql(query);
                Ok($crate::store::sql::bind_params!(sqlx::query_as(&sql), params).fetch_all(&self.pool).await?)
            }
        }
    };
}
pub(super) use portable_portal;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_the_order_they_are_added() {
        let query = ReleaseQuery {
            company_id: 7,
            title: Some("50%_ｏｆｆ".into()),
            undelivered_only: true,
            cursor: Some((Direction::Before, ReleaseCursor { sent_at: Utc::now(), id: 3 })),
            limit: 26,
            ..ReleaseQuery::default()
        };
        let (sql, params) = releases_sql(&query);
        assert!(sql.contains("r.company_id = $1"), "{sql}");
        assert!(sql.contains("LIKE lower($2) ESCAPE") && sql.contains("LIKE lower($3) ESCAPE"), "{sql}");
        assert!(sql.contains("(r.sent_at, r.id) > ($4, $5)"), "{sql}");
        assert!(sql.ends_with("ORDER BY r.sent_at ASC, r.id ASC LIMIT $6"), "{sql}");
        assert_eq!(params.len(), 6);
        assert!(matches!(&params[1], Param::Text(p) if p == "%50\\%\\_ｏｆｆ%"));
        assert!(matches!(&params[2], Param::Text(p) if p == "%50\\%\\_off%"), "and as ASCII");
    }

    #[test]
    fn a_single_undelivered_status_can_use_the_partial_index() {
        let query = RecipientQuery {
            company_id: 1,
            release_id: 2,
            status: StatusFilter::Only(DeliveryStatus::NotSent),
            address: Some(" Example ".into()),
        };
        let (sql, params) = recipients_sql(&query, Some((Direction::After, "b@x")), 101);
        assert!(sql.contains("m.status = 'not_sent' AND m.status IN ('deferred'"), "{sql}");
        assert!(sql.contains("lower(m.recipient) LIKE lower($3)"), "{sql}");
        assert!(sql.contains("m.recipient > $4 ORDER BY m.recipient ASC LIMIT $5"), "{sql}");
        assert!(matches!(&params[2], Param::Text(p) if p == "%Example%"), "folded by the database");
    }

    #[test]
    fn counts_fill_the_totals() {
        let mut totals = Totals::default();
        add_count(&mut totals, "sent", false, 10);
        add_count(&mut totals, "sent", true, 3);
        add_count(&mut totals, "not_sent", false, 2);
        add_count(&mut totals, "not_sent", true, 1);
        assert_eq!((totals.sent, totals.redelivered, totals.not_sent), (10, 3, 3));
        assert_eq!((totals.messages(), totals.undelivered()), (16, 3));
    }
}
