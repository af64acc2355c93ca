//! The database: one [`Store`] trait, a PostgreSQL and a SQLite implementation, per-backend
//! migrations under `server/migrations/`. PostgreSQL is the production database shared with the
//! mail sender; SQLite is the embedded default, so the site runs on a bare machine.
//!
//! Queries whose SQL is the same in both dialects are written once ([`portable_store!`]); only
//! what the dialects force differs: bulk loading (`COPY` on PostgreSQL, batched inserts on
//! SQLite), counting a window's traffic (per-hour sums on PostgreSQL) and the dispatcher's
//! commit (one statement on PostgreSQL, a transaction of several on SQLite). [`monitor`] keeps a
//! connection in the background for `serve`: the public site never waits for the database, and
//! `/readyz` reports whether it is reachable.

pub mod accounts;
pub mod monitor;
pub mod portal;
mod postgres;
pub mod redelivery;
pub mod rows;
mod sql;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::mpsc;

use crate::delivery::impact::{Buckets, Impact, Scope};
pub use accounts::AccountStore;
pub use monitor::DatabaseMonitor;
pub use portal::PortalStore;
pub use redelivery::RedeliveryStore;
use rows::{Batch, CompanySummary, ReleaseImpactRow};

/// What went wrong talking to the database, in words an operator can act on.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot connect to {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error(
        "the database has migration {version} that this statusdesk does not know: it was migrated by a newer version; upgrade statusdesk"
    )]
    NewerSchema { version: i64 },
    #[error("migrating the database failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(
        "the database already holds delivery data; load into an empty database, or pass --replace to delete it first"
    )]
    NotEmpty,
    /// A unique key refused the row; the message names what exists already.
    #[error("{0}")]
    AlreadyExists(String),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// Reports the messages written so far during a bulk load.
pub type Progress = dyn Fn(u64) + Send + Sync;

/// Everything the site asks of the database, in the words of the domain: the delivery data
/// here, accounts and sessions in [`AccountStore`], the portal's reads in [`PortalStore`],
/// redelivery requests and the dispatcher's queue in [`RedeliveryStore`].
#[async_trait]
pub trait Store: AccountStore + PortalStore + RedeliveryStore {
    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies every migration this binary has that the database lacks. Refuses a database
    /// migrated by a newer binary.
    async fn migrate(&self) -> Result<usize, StoreError>;

    /// Answers whether the database responds.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Whether any company, release or message is stored.
    async fn has_delivery_data(&self) -> Result<bool, StoreError>;

    /// Deletes all delivery data, users and the audit log (the demo loader's `--replace`).
    async fn clear_delivery_data(&self) -> Result<(), StoreError>;

    /// Writes every batch received, as fast as the backend allows, all or nothing: indexes are
    /// built after the rows are in. Returns the number of rows written.
    async fn bulk_load(&self, batches: mpsc::Receiver<Batch>, progress: &Progress)
    -> Result<u64, StoreError>;

    /// Messages queued in the scope's window (of its company, when it names one), delivered or not.
    async fn messages_in_window(&self, scope: &Scope) -> Result<i64, StoreError>;

    /// Undelivered messages in the scope, counted per release.
    async fn undelivered_by_release(&self, scope: &Scope) -> Result<Vec<ReleaseImpactRow>, StoreError>;

    /// Messages in the scope that were not delivered and have been since, by a redelivery,
    /// counted per release; the scope's error class is the one they first failed with.
    async fn redelivered_by_release(&self, scope: &Scope) -> Result<Vec<ReleaseImpactRow>, StoreError>;

    /// What the scope's incident left undelivered, per release: the messages still undelivered
    /// and those redelivered since (also counted apart, as `redelivered`), so that the figures
    /// do not shrink as redeliveries get through. A message whose redelivery failed again counts
    /// with its latest error class.
    async fn affected_by_release(&self, scope: &Scope) -> Result<Vec<ReleaseImpactRow>, StoreError> {
        let mut rows = self.undelivered_by_release(scope).await?;
        for row in self.redelivered_by_release(scope).await? {
            match rows.iter_mut().find(|r| r.release_id == row.release_id) {
                Some(known) => {
                    known.messages += row.messages;
                    known.redelivered += row.messages;
                }
                None => rows.push(ReleaseImpactRow { redelivered: row.messages, ..row }),
            }
        }
        rows.sort_by_key(|r| r.release_id);
        Ok(rows)
    }

    /// The values the undelivered messages in the scope's window have, for each filter a scope
    /// may set (`route`, `error_class`, `recipient_source`, `sender`): `(filter, value)`.
    async fn scope_values(&self, scope: &Scope) -> Result<Vec<(String, String)>, StoreError>;

    /// Gives every release without stored content one made from its title (the replay's
    /// releases, whose text the generator does not invent). Returns how many it gave.
    async fn fill_missing_release_contents(&self) -> Result<u64, StoreError>;

    /// Every company with its number of releases, messages and undelivered messages.
    async fn company_summaries(&self) -> Result<Vec<CompanySummary>, StoreError>;

    /// Whether a company with this slug exists.
    async fn company_exists(&self, slug: &str) -> Result<bool, StoreError>;

    /// The impact of an incident's scope, computed from the delivery data.
    async fn impact(&self, scope: &Scope, buckets: &Buckets) -> Result<Impact, StoreError> {
        let rows = self.affected_by_release(scope).await?;
        let total = self.messages_in_window(scope).await?;
        Ok(Impact::summarise(scope.clone(), &rows, total, buckets))
    }
}

/// The tables the delivery data lives in, children first (the order to delete in).
const DELIVERY_TABLES: [&str; 12] = [
    "audit_log",
    "sessions",
    "incident_answers",
    "redelivery_items",
    "redelivery_requests",
    "delivery_attempts",
    "messages",
    "release_counts",
    "release_contents",
    "releases",
    "users",
    "companies",
];

/// The conditions of an impact [`Scope`] other than its error class, on `messages m` and
/// `releases r`: `$1`, `$2` and `$3`, `$5`–`$7` ([`bind_scope!`]).
macro_rules! scope_conditions {
    () => {
        "
       AND m.queued_at >= $1 AND m.queued_at < $2
       AND ($3 IS NULL OR m.route = $3)
       AND ($5 IS NULL OR r.recipient_source = $5)
       AND ($6 IS NULL OR r.sender_is_default = $6)
       AND ($7 IS NULL OR m.company_id = (SELECT id FROM companies WHERE slug = $7))"
    };
}

/// The undelivered messages an impact [`Scope`] covers: `FROM` and `WHERE` over `messages m`
/// and `releases r`, with the scope's values as `$1`–`$7` ([`bind_scope!`]).
const UNDELIVERED_IN_SCOPE: &str = concat!(
    "FROM messages m JOIN releases r ON r.id = m.release_id
     WHERE m.status IN ('deferred', 'bounced', 'failed', 'not_sent', 'unknown')
       AND ($4 IS NULL OR m.error_class = $4)",
    scope_conditions!()
);

/// The messages of an impact [`Scope`] that were not delivered and have been since: as
/// [`UNDELIVERED_IN_SCOPE`], the error class the one recorded on the message's first redelivery.
const REDELIVERED_IN_SCOPE: &str = concat!(
    "FROM redelivery_items i
     JOIN messages m ON m.id = i.message_id JOIN releases r ON r.id = m.release_id
     WHERE i.generation = 1 AND m.status NOT IN ('deferred', 'bounced', 'failed', 'not_sent', 'unknown')
       AND ($4 IS NULL OR i.previous_error_class = $4)",
    scope_conditions!()
);

/// Binds a [`Scope`]'s values to a query written around [`UNDELIVERED_IN_SCOPE`].
macro_rules! bind_scope {
    ($query:expr, $scope:expr) => {{
        let scope: &$crate::delivery::impact::Scope = $scope;
        $query
            .bind(scope.from)
            .bind(scope.to)
            .bind(scope.route.map(|r| r.as_str()))
            .bind(scope.error_class.map(|c| c.as_str()))
            .bind(scope.recipient_source.map(|s| s.as_str()))
            .bind(scope.sender.map(|s| s == $crate::delivery::impact::SenderKind::Default))
            .bind(scope.company.as_deref())
    }};
}
use bind_scope;

/// Counts every release's messages again, after a bulk load wrote them with the counting
/// triggers off.
const RECOUNT_RELEASES: [&str; 2] = [
    "DELETE FROM release_counts",
    "INSERT INTO release_counts (release_id, status, redelivered, messages)
     SELECT release_id, status, generation > 0, COUNT(*) FROM messages GROUP BY release_id, status, generation > 0",
];

/// Implements [`Store`], [`AccountStore`], [`PortalStore`] and [`RedeliveryStore`] for a backend:
/// the queries that are the same in both dialects are written here once; `bulk_load` and
/// `messages_in_window` are the backend's own (`$store::load`, `$store::window_messages`), and so
/// is the dispatcher's commit (`$store::record_and_claim`).
macro_rules! portable_store {
    ($store:ty, $backend:literal, $migrator:expr) => {
        $crate::store::accounts::portable_accounts!($store);
        $crate::store::portal::portable_portal!($store);
        $crate::store::redelivery::portable_redelivery!($store);

        impl $store {
            /// Messages queued in `[from, to)`, of one company when `company` names it.
            async fn count_queued(
                &self,
                from: chrono::DateTime<chrono::Utc>,
                to: chrono::DateTime<chrono::Utc>,
                company: Option<&str>,
            ) -> Result<i64, StoreError> {
                Ok(sqlx::query_scalar(
                    "SELECT COUNT(*) FROM messages m
                     WHERE m.queued_at >= $1 AND m.queued_at < $2
                       AND ($3 IS NULL OR m.company_id = (SELECT id FROM companies WHERE slug = $3))",
                )
                .bind(from)
                .bind(to)
                .bind(company)
                .fetch_one(&self.pool)
                .await?)
            }

            /// The messages `fragment` (a `FROM ... WHERE` over the scope's values) finds,
            /// counted per release: counted first (from an index where one covers them), then
            /// the releases and companies named.
            async fn per_release(
                &self,
                fragment: &str,
                scope: &$crate::delivery::impact::Scope,
            ) -> Result<Vec<$crate::store::rows::ReleaseImpactRow>, StoreError> {
                let sql = format!(
                    "SELECT u.release_id, r.title, c.slug, c.name, u.messages
                     FROM (SELECT m.release_id, m.company_id, COUNT(*) AS messages {fragment}
                           GROUP BY m.release_id, m.company_id) u
                     JOIN companies c ON c.id = u.company_id
                     JOIN releases r ON r.id = u.release_id
                     ORDER BY u.release_id"
                );
                let rows: Vec<(i64, String, String, String, i64)> =
                    $crate::store::bind_scope!(sqlx::query_as(&sql), scope).fetch_all(&self.pool).await?;
                Ok(rows
                    .into_iter()
                    .map(|(release_id, release_title, company_slug, company_name, messages)| {
                        $crate::store::rows::ReleaseImpactRow {
                            release_id,
                            release_title,
                            company_slug,
                            company_name,
                            messages,
                            redelivered: 0,
                        }
                    })
                    .collect())
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                $backend
            }

            async fn migrate(&self) -> Result<usize, StoreError> {
                $crate::store::migrate_checked(&$migrator, &self.pool).await
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn has_delivery_data(&self) -> Result<bool, StoreError> {
                let found: Option<i32> = sqlx::query_scalar(
                    "SELECT 1 FROM companies UNION ALL SELECT 1 FROM releases UNION ALL SELECT 1 FROM messages LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.is_some())
            }

            async fn clear_delivery_data(&self) -> Result<(), StoreError> {
                let mut tx = self.pool.begin().await?;
                for table in $crate::store::DELIVERY_TABLES {
                    sqlx::query(&format!("DELETE FROM {table}")).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn bulk_load(
                &self,
                batches: tokio::sync::mpsc::Receiver<$crate::store::rows::Batch>,
                progress: &$crate::store::Progress,
            ) -> Result<u64, StoreError> {
                self.load(batches, progress).await
            }

            async fn messages_in_window(&self, scope: &$crate::delivery::impact::Scope) -> Result<i64, StoreError> {
                self.window_messages(scope).await
            }

            async fn undelivered_by_release(
                &self,
                scope: &$crate::delivery::impact::Scope,
            ) -> Result<Vec<$crate::store::rows::ReleaseImpactRow>, StoreError> {
                self.per_release($crate::store::UNDELIVERED_IN_SCOPE, scope).await
            }

            async fn redelivered_by_release(
                &self,
                scope: &$crate::delivery::impact::Scope,
            ) -> Result<Vec<$crate::store::rows::ReleaseImpactRow>, StoreError> {
                self.per_release($crate::store::REDELIVERED_IN_SCOPE, scope).await
            }

            async fn scope_values(
                &self,
                scope: &$crate::delivery::impact::Scope,
            ) -> Result<Vec<(String, String)>, StoreError> {
                let fragment = $crate::store::UNDELIVERED_IN_SCOPE;
                let sql = format!(
                    "SELECT DISTINCT 'route', m.route {fragment}
                     UNION SELECT DISTINCT 'error_class', m.error_class {fragment} AND m.error_class IS NOT NULL
                     UNION SELECT DISTINCT 'recipient_source', r.recipient_source {fragment}
                     UNION SELECT DISTINCT 'sender', CASE WHEN r.sender_is_default THEN 'default' ELSE 'custom' END
                           {fragment}
                     ORDER BY 1, 2"
                );
                Ok($crate::store::bind_scope!(sqlx::query_as(&sql), scope).fetch_all(&self.pool).await?)
            }

            async fn fill_missing_release_contents(&self) -> Result<u64, StoreError> {
                Ok(sqlx::query(
                    "INSERT INTO release_contents (release_id, subject, body_text)
                     SELECT r.id, r.title, r.title || '

' || 'This release was sent by ' || r.sender_address || '.'
                     FROM releases r
                     WHERE NOT EXISTS (SELECT 1 FROM release_contents c WHERE c.release_id = r.id)",
                )
                .execute(&self.pool)
                .await?
                .rows_affected())
            }

            async fn company_exists(&self, slug: &str) -> Result<bool, StoreError> {
                let found: Option<i64> = sqlx::query_scalar("SELECT id FROM companies WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(found.is_some())
            }

            async fn company_summaries(&self) -> Result<Vec<$crate::store::rows::CompanySummary>, StoreError> {
                let rows: Vec<(String, String, i64, i64, i64)> = sqlx::query_as(
                    "SELECT c.slug, c.name,
                            (SELECT COUNT(*) FROM releases r WHERE r.company_id = c.id),
                            COALESCE(s.messages, 0), COALESCE(s.undelivered, 0)
                     FROM companies c
                     LEFT JOIN (
                         SELECT company_id, COUNT(*) AS messages,
                                SUM(CASE WHEN status IN ('deferred', 'bounced', 'failed', 'not_sent', 'unknown')
                                         THEN 1 ELSE 0 END) AS undelivered
                         FROM messages GROUP BY company_id
                     ) s ON s.company_id = c.id
                     ORDER BY c.slug",
                )
                .fetch_all(&self.pool)
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(slug, name, releases, messages, undelivered)| $crate::store::rows::CompanySummary {
                        slug,
                        name,
                        releases,
                        messages,
                        undelivered,
                    })
                    .collect())
            }
        }
    };
}
use portable_store;

/// Opens the database named by `url` (`sqlite://...` or `postgres://...`). A SQLite file and
/// its folder are created when missing.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else {
        Err(StoreError::UnsupportedUrl(redact(url)))
    }
}

/// Runs `migrator` on `pool` after checking that the database holds no migration the binary
/// lacks. Returns how many migrations were applied.
async fn migrate_checked<DB>(
    migrator: &sqlx::migrate::Migrator,
    pool: &sqlx::Pool<DB>,
) -> Result<usize, StoreError>
where
    DB: sqlx::Database,
    <DB as sqlx::Database>::Connection: sqlx::migrate::Migrate,
{
    use sqlx::migrate::Migrate;
    let mut conn = pool.acquire().await?;
    conn.ensure_migrations_table().await?;
    let applied = conn.list_applied_migrations().await?;
    if let Some(unknown) = applied.iter().find(|a| !migrator.iter().any(|m| m.version == a.version)) {
        return Err(StoreError::NewerSchema { version: unknown.version });
    }
    let before = applied.len();
    drop(conn);
    migrator.run(pool).await?;
    let mut conn = pool.acquire().await?;
    Ok(conn.list_applied_migrations().await?.len() - before)
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_print() {
        assert_eq!(super::redact("postgres://app:s3cret@db/x"), "postgres://app:***@db/x");
        assert_eq!(super::redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(super::redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
