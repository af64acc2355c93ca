//! The PostgreSQL store: the production database, shared with the mail sender.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, DurationRound, Utc};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{FromRow, PgConnection, Row};
use tokio::sync::mpsc;

use super::redelivery::{self, AttemptResult, ClaimedItem, Recorded};
use super::rows::Batch;
use super::sql::{Param, Sql, bind_params};
use super::{Progress, RECOUNT_RELEASES, StoreError, portable_store, redact};
use crate::delivery::impact::Scope;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The big tables a bulk load writes without their indexes and keys, rebuilt afterwards.
const BULK_TABLES: &str = "'messages'::regclass, 'delivery_attempts'::regclass";

pub struct PgStore {
    pool: PgPool,
    /// Connections for the dispatcher's commits alone ([`PgStore::record_and_claim`]).
    queue: PgPool,
    /// The database's URL without its password, for the errors of `queue`'s lazy connections.
    url: String,
}

portable_store!(PgStore, "postgres", MIGRATOR);

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let connect_error = |source| StoreError::Connect { url: redact(url), source };
        let options = PgConnectOptions::from_str(url).map_err(connect_error)?.application_name("statusdesk");
        // The site's statements are prepared once per connection but planned for each
        // execution's values: skewed companies want plans of their own, and a generic plan made
        // once can outlive the data it was made for.
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options.clone().options([("plan_cache_mode", "force_custom_plan")]))
            .await
            .map_err(connect_error)?;
        // A dispatcher's commit is one statement run many times a second, its lists padded to a
        // few lengths: planning it for each execution cost a third of the database's time. Its
        // connections plan each length once, with sequential scans, hash and merge joins made so
        // costly that index lookups and nested loops win — the plan a few rows of big tables
        // want — so that a plan made while the tables were still small stays right as they grow.
        // Opened when a dispatcher first commits (a database that cannot be reached then fails
        // that commit with a `Connect` error, and the dispatcher tries again).
        let queue = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            // A table still empty when a plan was made is the one case its size can mislead;
            // connections are renewed, and their plans made again, every minute.
            .max_lifetime(Duration::from_secs(60))
            .connect_lazy_with(options.statement_cache_capacity(256).options([
                ("plan_cache_mode", "force_generic_plan"),
                ("enable_seqscan", "off"),
                ("enable_hashjoin", "off"),
                ("enable_mergejoin", "off"),
            ]));
        Ok(PgStore { pool, queue, url: redact(url) })
    }

    /// A dispatcher's commit (`RedeliveryStore::record_attempts`) as one statement, its
    /// parts joined by `WITH` clauses: one round trip, committed on its own. The claim skips the
    /// rows of competing dispatchers. Rows come back of two kinds: an item kept (`kept`, its id),
    /// or an item claimed.
    async fn record_and_claim(
        &self,
        ended: &[(ClaimedItem, AttemptResult)],
        start: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let mut sql = Sql::numbered(
            "WITH ",
            vec![Param::Time(now), Param::Time(lease_until), Param::Int(start as i64)],
        );
        let mut selects = Vec::new();
        if start > 0 {
            sql.push(
                &format!(
                    "claimed AS ({}), started AS ({})",
                    // An array of the ids, not a semi-join: the items are then found by their
                    // key whatever the plan was made for.
                    redelivery::claim_items_sql("FOR UPDATE SKIP LOCKED", |due| format!(
                        "= ANY(ARRAY({due}))"
                    )),
                    redelivery::IN_FLIGHT_ATTEMPTS
                ),
                [],
            );
            selects.push(format!("SELECT NULL::BIGINT AS kept, {}", redelivery::CLAIMED_ITEMS));
        }
        if !ended.is_empty() {
            sql.push(if start > 0 { ", ended AS (" } else { "ended AS (" }, []);
            redelivery::push_end_items(&mut sql, ended, now);
            sql.push("), outcomes AS (", []);
            redelivery::push_attempt_outcomes(&mut sql, ended);
            let ends = redelivery::final_outcomes(ended);
            if !ends.is_empty() {
                sql.push("), finals AS (", []);
                redelivery::push_message_outcomes(&mut sql, &ends, now);
            }
            sql.push(")", []);
            selects.push(
                "SELECT id AS kept, NULL::BIGINT, NULL::BIGINT, NULL::INTEGER, NULL::INTEGER, NULL::TIMESTAMPTZ,
                        NULL::TEXT COLLATE \"C\", NULL::TEXT, NULL::BIGINT
                 FROM ended"
                    .into(),
            );
        }
        sql.push(&format!(" {}", selects.join(" UNION ALL ")), []);
        let (sql, params) = sql.finish();
        let (mut kept, mut started) = (HashSet::new(), Vec::new());
        let mut connection = self
            .queue
            .acquire()
            .await
            .map_err(|source| StoreError::Connect { url: self.url.clone(), source })?;
        for row in bind_params!(sqlx::query(&sql), params).fetch_all(&mut *connection).await? {
            match row.try_get::<Option<i64>, _>("kept")? {
                Some(id) => _ = kept.insert(id),
                None => started.push(ClaimedItem::from_row(&row)?),
            }
        }
        Ok(Recorded::new(ended, &kept, started))
    }

    /// Messages in the scope's window: whole hours from `message_hours` (kept by triggers), the
    /// partial hours at either end counted from `messages`.
    async fn window_messages(&self, scope: &Scope) -> Result<i64, StoreError> {
        let company = scope.company.as_deref();
        let first_hour = ceil_hour(scope.from);
        let last_hour = floor_hour(scope.to);
        if first_hour >= last_hour {
            return self.count_queued(scope.from, scope.to, company).await;
        }
        let whole_hours: i64 = sqlx::query_scalar(
            "SELECT COALESCE(SUM(messages), 0)::BIGINT FROM message_hours
             WHERE hour >= $1 AND hour < $2
               AND ($3::TEXT IS NULL OR company_id = (SELECT id FROM companies WHERE slug = $3))",
        )
        .bind(first_hour.naive_utc())
        .bind(last_hour.naive_utc())
        .bind(company)
        .fetch_one(&self.pool)
        .await?;
        let head = self.count_queued(scope.from, first_hour, company).await?;
        let tail = self.count_queued(last_hour, scope.to, company).await?;
        Ok(whole_hours + head + tail)
    }

    /// One transaction: the big tables' keys, indexes and counting triggers taken down, every row
    /// streamed in with binary `COPY` (`FREEZE`: the rows need no vacuum afterwards), then keys,
    /// indexes, per-hour and per-release counts built in one pass each; statistics and identity sequences
    /// brought up to date after the commit.
    async fn load(&self, mut batches: mpsc::Receiver<Batch>, progress: &Progress) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        let occupied: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM messages)").fetch_one(&mut *tx).await?;
        if occupied {
            return Err(StoreError::NotEmpty);
        }
        sqlx::query("SET LOCAL maintenance_work_mem = '1GB'").execute(&mut *tx).await?;
        let rebuild = Rebuild::take_down(&mut tx).await?;
        // Empty already; truncating them in this transaction is what allows COPY ... FREEZE.
        sqlx::query("TRUNCATE messages, delivery_attempts").execute(&mut *tx).await?;
        // The per-hour and per-release counts are computed once at the end instead.
        sqlx::query("ALTER TABLE messages DISABLE TRIGGER USER").execute(&mut *tx).await?;
        // Encoding runs on its own thread, so the server never waits for the next batch's bytes.
        let (encoded_sender, mut encoded) = mpsc::channel::<Encoded>(4);
        let encoder = tokio::task::spawn_blocking(move || {
            while let Some(batch) = batches.blocking_recv() {
                if encoded_sender.blocking_send(Encoded::from(&batch)).is_err() {
                    break;
                }
            }
        });
        let (mut written, mut messages) = (0u64, 0u64);
        while let Some(batch) = encoded.recv().await {
            for (statement, data) in batch.copies {
                let mut copy = tx.copy_in_raw(statement).await?;
                copy.send(data).await?;
                copy.finish().await?;
            }
            written += batch.rows;
            messages += batch.messages;
            progress(messages);
        }
        encoder.await.map_err(|e| StoreError::Query(sqlx::Error::Io(std::io::Error::other(e))))?;
        rebuild.put_back(&mut tx).await?;
        sqlx::query(
            "INSERT INTO message_hours (hour, company_id, messages)
             SELECT date_trunc('hour', queued_at AT TIME ZONE 'UTC'), company_id, COUNT(*) FROM messages GROUP BY 1, 2
             ON CONFLICT (hour, company_id) DO UPDATE SET messages = message_hours.messages + EXCLUDED.messages",
        )
        .execute(&mut *tx)
        .await?;
        for statement in RECOUNT_RELEASES {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        sqlx::query("ALTER TABLE messages ENABLE TRIGGER USER").execute(&mut *tx).await?;
        tx.commit().await?;
        for table in ["companies", "releases", "messages"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
            ))
            .execute(&self.pool)
            .await?;
        }
        sqlx::query(
            "ANALYZE companies, releases, messages, delivery_attempts, message_hours, release_counts",
        )
        .execute(&self.pool)
        .await?;
        Ok(written)
    }
}

/// The keys and indexes of the big tables, taken down for a bulk load and put back after it,
/// from their own definitions in the catalogue (so the migrations stay the one place they are
/// written).
struct Rebuild {
    /// (table, name, definition): primary and unique keys, then foreign keys.
    constraints: Vec<(String, String, String)>,
    /// Index definitions that back no constraint.
    indexes: Vec<(String, String)>,
}

impl Rebuild {
    async fn take_down(conn: &mut PgConnection) -> Result<Rebuild, StoreError> {
        let constraints: Vec<(String, String, String)> = sqlx::query_as(&format!(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
             FROM pg_constraint
             WHERE contype IN ('p', 'u', 'f')
               AND (conrelid IN ({BULK_TABLES}) OR confrelid IN ({BULK_TABLES}))
             ORDER BY contype = 'f', conname"
        ))
        .fetch_all(&mut *conn)
        .await?;
        let indexes: Vec<(String, String)> = sqlx::query_as(&format!(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid)
             FROM pg_index
             WHERE indrelid IN ({BULK_TABLES})
               AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = pg_index.indexrelid)"
        ))
        .fetch_all(&mut *conn)
        .await?;
        // Foreign keys first, then the keys they point at.
        for (table, name, _) in constraints.iter().rev() {
            sqlx::query(&format!("ALTER TABLE {table} DROP CONSTRAINT {name}")).execute(&mut *conn).await?;
        }
        for (name, _) in &indexes {
            sqlx::query(&format!("DROP INDEX {name}")).execute(&mut *conn).await?;
        }
        Ok(Rebuild { constraints, indexes })
    }

    async fn put_back(self, conn: &mut PgConnection) -> Result<(), StoreError> {
        for (table, name, definition) in &self.constraints {
            sqlx::query(&format!("ALTER TABLE {table} ADD CONSTRAINT {name} {definition}"))
                .execute(&mut *conn)
                .await?;
        }
        for (_, definition) in &self.indexes {
            sqlx::query(definition).execute(&mut *conn).await?;
        }
        Ok(())
    }
}

/// One batch as binary `COPY` data: a statement and its bytes per table.
struct Encoded {
    copies: Vec<(&'static str, Vec<u8>)>,
    rows: u64,
    messages: u64,
}

impl From<&Batch> for Encoded {
    fn from(batch: &Batch) -> Encoded {
        let mut encoded =
            Encoded { copies: Vec::new(), rows: batch.rows() as u64, messages: batch.messages.len() as u64 };
        encoded.add(batch);
        encoded
    }
}

impl Encoded {
    fn add(&mut self, batch: &Batch) {
        let mut copy = CopyBinary::default();
        for c in &batch.companies {
            copy.row(6)
                .int8(c.id)
                .text(&c.slug)
                .text(&c.name)
                .text(c.language)
                .text(&c.contact_email)
                .time(c.created_at);
        }
        self.take(
            &mut copy,
            "COPY companies (id, slug, name, language, contact_email, created_at) FROM STDIN (FORMAT binary)",
        );
        for r in &batch.releases {
            copy.row(8)
                .int8(r.id)
                .int8(r.company_id)
                .text(&r.title)
                .text(&r.sender_address)
                .boolean(r.sender_is_default)
                .text(r.recipient_source)
                .time(r.created_at)
                .time(r.sent_at);
        }
        self.take(
        &mut copy,
        "COPY releases (id, company_id, title, sender_address, sender_is_default, recipient_source, created_at, sent_at) FROM STDIN (FORMAT binary)",
    );
        for m in &batch.messages {
            copy.row(13)
                .int8(m.id)
                .int8(m.company_id)
                .int8(m.release_id)
                .text(&m.recipient)
                .text(m.route)
                .text(m.status)
                .maybe_text(m.error_class)
                .maybe_int4(m.smtp_code)
                .maybe_text(m.enhanced_code)
                .maybe_text(m.smtp_reply.as_deref())
                .int4(m.attempts)
                .time(m.queued_at)
                .time(m.last_attempt_at);
        }
        self.take(
        &mut copy,
        "COPY messages (id, company_id, release_id, recipient, route, status, error_class, smtp_code, enhanced_code, smtp_reply, attempts, queued_at, last_attempt_at) FROM STDIN (FORMAT binary, FREEZE)",
    );
        for a in &batch.attempts {
            copy.row(9)
                .int8(a.message_id)
                .int4(0)
                .int4(a.attempt)
                .time(a.attempted_at)
                .text(a.route)
                .maybe_int4(a.smtp_code)
                .maybe_text(a.enhanced_code)
                .maybe_text(a.reply.as_deref())
                .text(a.outcome);
        }
        self.take(
        &mut copy,
        "COPY delivery_attempts (message_id, generation, attempt, attempted_at, route, smtp_code, enhanced_code, reply, outcome) FROM STDIN (FORMAT binary, FREEZE)",
    );
    }

    /// Moves the rows collected in `copy` into this batch, to be sent with `statement`.
    fn take(&mut self, copy: &mut CopyBinary, statement: &'static str) {
        if let Some(data) = copy.finish() {
            self.copies.push((statement, data));
        }
    }
}

/// Rows in PostgreSQL's binary `COPY` format: what the server parses fastest (no text to turn
/// back into numbers and times).
#[derive(Default)]
struct CopyBinary {
    buf: Vec<u8>,
}

/// Microseconds from the Unix epoch to PostgreSQL's, 2000-01-01T00:00:00Z.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

impl CopyBinary {
    fn row(&mut self, fields: i16) -> &mut Self {
        if self.buf.is_empty() {
            self.buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
            self.buf.extend_from_slice(&0i32.to_be_bytes()); // flags
            self.buf.extend_from_slice(&0i32.to_be_bytes()); // header extension
        }
        self.buf.extend_from_slice(&fields.to_be_bytes());
        self
    }

    fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
        self.buf.extend_from_slice(bytes);
        self
    }

    fn int8(&mut self, value: i64) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    fn int4(&mut self, value: i32) -> &mut Self {
        self.field(&value.to_be_bytes())
    }

    fn text(&mut self, value: &str) -> &mut Self {
        self.field(value.as_bytes())
    }

    fn boolean(&mut self, value: bool) -> &mut Self {
        self.field(&[u8::from(value)])
    }

    fn time(&mut self, value: DateTime<Utc>) -> &mut Self {
        self.int8(value.timestamp_micros() - POSTGRES_EPOCH_MICROS)
    }

    fn null(&mut self) -> &mut Self {
        self.buf.extend_from_slice(&(-1i32).to_be_bytes());
        self
    }

    fn maybe_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    fn maybe_int4(&mut self, value: Option<i32>) -> &mut Self {
        match value {
            Some(v) => self.int4(v),
            None => self.null(),
        }
    }

    /// The rows collected so far, with the trailer; `None` when there are none. Starts afresh.
    fn finish(&mut self) -> Option<Vec<u8>> {
        if self.buf.is_empty() {
            return None;
        }
        let mut data = std::mem::take(&mut self.buf);
        data.extend_from_slice(&(-1i16).to_be_bytes());
        Some(data)
    }
}

fn floor_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(chrono::TimeDelta::hours(1)).expect("an hour divides any instant")
}

fn ceil_hour(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = floor_hour(t);
    if floor == t { t } else { floor + chrono::TimeDelta::hours(1) }
}
