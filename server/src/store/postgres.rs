//! The PostgreSQL store: the production database, shared with the mail sender.

use std::fmt::Write;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::PgConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::mpsc;

use super::rows::Batch;
use super::{Progress, StoreError, portable_store, redact};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// The big tables a bulk load writes without their indexes and keys, rebuilt afterwards.
const BULK_TABLES: &str = "'messages'::regclass, 'delivery_attempts'::regclass";

pub struct PgStore {
    pool: PgPool,
}

portable_store!(PgStore, "postgres", MIGRATOR);

impl PgStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let connect_error = |source| StoreError::Connect { url: redact(url), source };
        let options = PgConnectOptions::from_str(url).map_err(connect_error)?.application_name("statusdesk");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(PgStore { pool })
    }

    /// One transaction: the big tables' keys and indexes dropped, every row streamed in with
    /// `COPY`, keys and indexes built again; then statistics and identity sequences brought up
    /// to date.
    async fn load(&self, mut batches: mpsc::Receiver<Batch>, progress: &Progress) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET LOCAL maintenance_work_mem = '512MB'").execute(&mut *tx).await?;
        let rebuild = Rebuild::take_down(&mut tx).await?;
        let (mut written, mut messages) = (0u64, 0u64);
        while let Some(batch) = batches.recv().await {
            copy_batch(&mut tx, &batch).await?;
            written += batch.rows() as u64;
            messages += batch.messages.len() as u64;
            progress(messages);
        }
        rebuild.put_back(&mut tx).await?;
        tx.commit().await?;
        for table in ["companies", "releases", "messages", "delivery_attempts"] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT MAX(id) FROM {table}), 1))"
            ))
            .execute(&self.pool)
            .await?;
        }
        // Statistics for the planner, and a visibility map for index-only scans.
        sqlx::query("VACUUM ANALYZE companies, releases, messages, delivery_attempts")
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

async fn copy_batch(conn: &mut PgConnection, batch: &Batch) -> Result<(), StoreError> {
    let mut text = CopyText::default();
    if !batch.companies.is_empty() {
        for c in &batch.companies {
            text.row(|r| {
                r.int(c.id)
                    .text(&c.slug)
                    .text(&c.name)
                    .text(c.language)
                    .text(&c.contact_email)
                    .time(c.created_at)
            });
        }
        text.send(conn, "COPY companies (id, slug, name, language, contact_email, created_at) FROM STDIN")
            .await?;
    }
    for rel in &batch.releases {
        text.row(|r| {
            r.int(rel.id)
                .int(rel.company_id)
                .text(&rel.title)
                .text(&rel.sender_address)
                .boolean(rel.sender_is_default)
                .text(rel.recipient_source)
                .time(rel.created_at)
                .time(rel.sent_at)
        });
    }
    text.send(
        conn,
        "COPY releases (id, company_id, title, sender_address, sender_is_default, recipient_source, created_at, sent_at) FROM STDIN",
    )
    .await?;
    for m in &batch.messages {
        text.row(|r| {
            r.int(m.id)
                .int(m.company_id)
                .int(m.release_id)
                .text(&m.recipient)
                .text(m.route)
                .text(m.status)
                .maybe_text(m.error_class)
                .maybe_int(m.smtp_code.map(i64::from))
                .maybe_text(m.enhanced_code)
                .maybe_text(m.smtp_reply.as_deref())
                .int(m.attempts.into())
                .time(m.queued_at)
                .time(m.last_attempt_at)
        });
    }
    text.send(
        conn,
        "COPY messages (id, company_id, release_id, recipient, route, status, error_class, smtp_code, enhanced_code, smtp_reply, attempts, queued_at, last_attempt_at) FROM STDIN",
    )
    .await?;
    for a in &batch.attempts {
        text.row(|r| {
            r.int(a.message_id)
                .int(0)
                .int(a.attempt.into())
                .time(a.attempted_at)
                .text(a.route)
                .maybe_int(a.smtp_code.map(i64::from))
                .maybe_text(a.enhanced_code)
                .maybe_text(a.reply.as_deref())
                .text(a.outcome)
        });
    }
    text.send(
        conn,
        "COPY delivery_attempts (message_id, generation, attempt, attempted_at, route, smtp_code, enhanced_code, reply, outcome) FROM STDIN",
    )
    .await
}

/// Rows in `COPY ... FROM STDIN` text format: tab-separated, `\N` for NULL, backslash escapes.
#[derive(Default)]
struct CopyText {
    buf: String,
    first: bool,
}

impl CopyText {
    fn row(&mut self, fields: impl FnOnce(&mut Self) -> &mut Self) {
        self.first = true;
        fields(self);
        self.buf.push('\n');
    }

    fn separate(&mut self) {
        if !std::mem::take(&mut self.first) {
            self.buf.push('\t');
        }
    }

    fn int(&mut self, value: i64) -> &mut Self {
        self.separate();
        let _ = write!(self.buf, "{value}");
        self
    }

    fn text(&mut self, value: &str) -> &mut Self {
        self.separate();
        for c in value.chars() {
            match c {
                '\\' => self.buf.push_str("\\\\"),
                '\t' => self.buf.push_str("\\t"),
                '\n' => self.buf.push_str("\\n"),
                '\r' => self.buf.push_str("\\r"),
                c => self.buf.push(c),
            }
        }
        self
    }

    fn boolean(&mut self, value: bool) -> &mut Self {
        self.separate();
        self.buf.push(if value { 't' } else { 'f' });
        self
    }

    fn time(&mut self, value: DateTime<Utc>) -> &mut Self {
        self.separate();
        self.buf.push_str(&value.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        self
    }

    fn null(&mut self) -> &mut Self {
        self.separate();
        self.buf.push_str("\\N");
        self
    }

    fn maybe_text(&mut self, value: Option<&str>) -> &mut Self {
        match value {
            Some(v) => self.text(v),
            None => self.null(),
        }
    }

    fn maybe_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(v) => self.int(v),
            None => self.null(),
        }
    }

    /// Sends the rows collected so far with `statement`, and starts afresh.
    async fn send(&mut self, conn: &mut PgConnection, statement: &str) -> Result<(), StoreError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let mut copy = conn.copy_in_raw(statement).await?;
        copy.send(std::mem::take(&mut self.buf).into_bytes()).await?;
        copy.finish().await?;
        Ok(())
    }
}
