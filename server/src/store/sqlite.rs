//! The embedded SQLite store: the default, so that the site runs on a bare machine.

use std::collections::HashSet;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};
use tokio::sync::mpsc;

use super::redelivery::{self, AttemptResult, ClaimedItem, Recorded};
use super::rows::Batch;
use super::sql::{Sql, bind_params};
use super::{Progress, RECOUNT_RELEASES, StoreError, portable_store};
use crate::delivery::impact::Scope;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Rows per INSERT statement: SQLite allows 32,766 bound values per statement.
const ROWS_PER_INSERT: usize = 2_000;

pub struct SqliteStore {
    pool: SqlitePool,
}

portable_store!(SqliteStore, "sqlite", MIGRATOR);

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let connect_error = |source| StoreError::Connect { url: url.to_string(), source };
        let options = SqliteConnectOptions::from_str(url)
            .map_err(connect_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| connect_error(sqlx::Error::Io(e)))?;
        }
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(5))
            .connect_with(options)
            .await
            .map_err(connect_error)?;
        Ok(SqliteStore { pool })
    }

    /// A dispatcher's commit (`RedeliveryStore::record_attempts`): statement after
    /// statement in one transaction, since SQLite's `WITH` clauses cannot change rows.
    async fn record_and_claim(
        &self,
        ended: &[(ClaimedItem, AttemptResult)],
        start: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<Recorded, StoreError> {
        let mut tx = self.pool.begin().await?;
        let mut kept = HashSet::new();
        if !ended.is_empty() {
            let (sql, params) = Sql::built(|sql| redelivery::push_end_items(sql, ended, now));
            kept = bind_params!(sqlx::query_scalar(&sql), params)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
            // The outcomes of lapsed items are kept off by the updates' own conditions.
            let (sql, params) = Sql::built(|sql| redelivery::push_attempt_outcomes(sql, ended));
            bind_params!(sqlx::query(&sql), params).execute(&mut *tx).await?;
            let ends = redelivery::final_outcomes(ended);
            if !ends.is_empty() {
                let (sql, params) = Sql::built(|sql| redelivery::push_message_outcomes(sql, &ends, now));
                bind_params!(sqlx::query(&sql), params).execute(&mut *tx).await?;
            }
        }
        let mut started = Vec::new();
        if start > 0 {
            // A guarded update: SQLite has one writer at a time.
            let ids: Vec<i64> =
                sqlx::query_scalar(&redelivery::claim_items_sql("", |due| format!("IN ({due})")))
                    .bind(now)
                    .bind(lease_until)
                    .bind(start as i64)
                    .fetch_all(&mut *tx)
                    .await?;
            if !ids.is_empty() {
                let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
                let claimed =
                    format!("WITH claimed AS (SELECT * FROM redelivery_items WHERE id IN ({list})) ");
                sqlx::query(&format!("{claimed}{}", redelivery::IN_FLIGHT_ATTEMPTS))
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                started = sqlx::query_as(&format!("{claimed}SELECT {}", redelivery::CLAIMED_ITEMS))
                    .fetch_all(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(Recorded::new(ended, &kept, started))
    }

    /// Messages in the scope's window: counted through the `messages_queued_at` index.
    async fn window_messages(&self, scope: &Scope) -> Result<i64, StoreError> {
        self.count_queued(scope.from, scope.to, scope.company.as_deref()).await
    }

    /// One transaction: secondary indexes and the counting triggers dropped, rows inserted in
    /// multi-row statements, indexes and triggers created again, releases counted, commit.
    async fn load(&self, mut batches: mpsc::Receiver<Batch>, progress: &Progress) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let mut tx = sqlx::Connection::begin(&mut *conn).await?;
        // Secondary indexes, and the triggers that count each release's messages row by row.
        let taken_down: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT type, name, sql FROM sqlite_master
             WHERE type IN ('index', 'trigger') AND sql IS NOT NULL AND tbl_name IN ('releases', 'messages', 'delivery_attempts')",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (kind, name, _) in &taken_down {
            sqlx::query(&format!("DROP {kind} {name}")).execute(&mut *tx).await?;
        }
        let (mut written, mut messages) = (0u64, 0u64);
        while let Some(batch) = batches.recv().await {
            written += insert_batch(&mut tx, &batch).await?;
            messages += batch.messages.len() as u64;
            progress(messages);
        }
        for (_, _, sql) in &taken_down {
            sqlx::query(sql).execute(&mut *tx).await?;
        }
        for statement in RECOUNT_RELEASES {
            sqlx::query(statement).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        sqlx::query("ANALYZE").execute(&self.pool).await?;
        Ok(written)
    }
}

async fn insert_batch(conn: &mut SqliteConnection, batch: &Batch) -> Result<u64, StoreError> {
    for rows in batch.companies.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO companies (id, slug, name, language, contact_email, created_at) ",
        );
        insert.push_values(rows, |mut b, c| {
            b.push_bind(c.id)
                .push_bind(&c.slug)
                .push_bind(&c.name)
                .push_bind(c.language)
                .push_bind(&c.contact_email)
                .push_bind(c.created_at);
        });
        insert.build().persistent(rows.len() == ROWS_PER_INSERT).execute(&mut *conn).await?;
    }
    for rows in batch.releases.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO releases (id, company_id, title, sender_address, sender_is_default, recipient_source, created_at, sent_at) ",
        );
        insert.push_values(rows, |mut b, r| {
            b.push_bind(r.id)
                .push_bind(r.company_id)
                .push_bind(&r.title)
                .push_bind(&r.sender_address)
                .push_bind(r.sender_is_default)
                .push_bind(r.recipient_source)
                .push_bind(r.created_at)
                .push_bind(r.sent_at);
        });
        insert.build().persistent(rows.len() == ROWS_PER_INSERT).execute(&mut *conn).await?;
    }
    for rows in batch.messages.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO messages (id, company_id, release_id, recipient, route, status, error_class, smtp_code, enhanced_code, smtp_reply, attempts, queued_at, last_attempt_at) ",
        );
        insert.push_values(rows, |mut b, m| {
            b.push_bind(m.id)
                .push_bind(m.company_id)
                .push_bind(m.release_id)
                .push_bind(&m.recipient)
                .push_bind(m.route)
                .push_bind(m.status)
                .push_bind(m.error_class)
                .push_bind(m.smtp_code)
                .push_bind(m.enhanced_code)
                .push_bind(&m.smtp_reply)
                .push_bind(m.attempts)
                .push_bind(m.queued_at)
                .push_bind(m.last_attempt_at);
        });
        insert.build().persistent(rows.len() == ROWS_PER_INSERT).execute(&mut *conn).await?;
    }
    for rows in batch.attempts.chunks(ROWS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO delivery_attempts (message_id, generation, attempt, attempted_at, route, smtp_code, enhanced_code, reply, outcome) ",
        );
        insert.push_values(rows, |mut b, a| {
            b.push_bind(a.message_id)
                .push_bind(0)
                .push_bind(a.attempt)
                .push_bind(a.attempted_at)
                .push_bind(a.route)
                .push_bind(a.smtp_code)
                .push_bind(a.enhanced_code)
                .push_bind(&a.reply)
                .push_bind(a.outcome);
        });
        insert.build().persistent(rows.len() == ROWS_PER_INSERT).execute(&mut *conn).await?;
    }
    Ok(batch.rows() as u64)
}
