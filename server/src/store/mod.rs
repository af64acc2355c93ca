//! The database: one [`Store`] trait, a PostgreSQL and a SQLite implementation, per-backend
//! migrations under `server/migrations/`. PostgreSQL is the production database shared with the
//! mail sender; SQLite is the embedded default, so the site runs on a bare machine.
//!
//! [`monitor`] keeps a connection in the background for `serve`: the public site never waits for
//! the database, and `/readyz` reports whether it is reachable.

pub mod monitor;
mod postgres;
mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;

pub use monitor::DatabaseMonitor;

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
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// Everything the site asks of the database, in the words of the domain.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which backend this is: `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Applies every migration this binary has that the database lacks. Refuses a database
    /// migrated by a newer binary.
    async fn migrate(&self) -> Result<usize, StoreError>;

    /// Answers whether the database responds.
    async fn ping(&self) -> Result<(), StoreError>;
}

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
    if let Some(unknown) = applied
        .iter()
        .find(|a| !migrator.iter().any(|m| m.version == a.version))
    {
        return Err(StoreError::NewerSchema {
            version: unknown.version,
        });
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
        assert_eq!(
            super::redact("postgres://app:s3cret@db/x"),
            "postgres://app:***@db/x"
        );
        assert_eq!(super::redact("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(super::redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
