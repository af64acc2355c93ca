//! Companies, users and login sessions: what the portal's login and the `company`/`user`
//! commands ask of the database. The SQL is the same in both dialects ([`portable_accounts!`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::StoreError;
use super::rows::NewUser;

/// A company, as the portal and the commands use it.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct CompanyRecord {
    pub id: i64,
    pub slug: String,
    pub name: String,
    /// `ja` or `en`: the language its notifications are written in.
    pub language: String,
}

/// A company to create.
#[derive(Clone, Debug)]
pub struct NewCompany {
    pub slug: String,
    pub name: String,
    pub language: String,
    pub contact_email: Option<String>,
}

/// A user with what logging in needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRecord {
    pub id: i64,
    pub email: String,
    pub name: String,
    /// The user's company; `None` for support staff.
    pub company: Option<CompanyRecord>,
    pub password_hash: String,
    pub disabled_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl UserRecord {
    pub fn is_staff(&self) -> bool {
        self.company.is_none()
    }
}

/// A logged-in session and its user.
#[derive(Clone, Debug)]
pub struct SessionRecord {
    pub user: UserRecord,
    pub csrf_token: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
}

/// A new session: the hash of the cookie's token, never the token itself.
#[derive(Clone, Debug)]
pub struct NewSession {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub at: DateTime<Utc>,
}

/// The user row joined with its company, as every user query selects it.
#[derive(sqlx::FromRow)]
pub(super) struct UserRow {
    id: i64,
    email: String,
    name: String,
    password_hash: String,
    disabled_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    company_id: Option<i64>,
    company_slug: Option<String>,
    company_name: Option<String>,
    company_language: Option<String>,
}

impl From<UserRow> for UserRecord {
    fn from(row: UserRow) -> UserRecord {
        let company = match (row.company_id, row.company_slug, row.company_name, row.company_language) {
            (Some(id), Some(slug), Some(name), Some(language)) => {
                Some(CompanyRecord { id, slug, name, language })
            }
            _ => None,
        };
        UserRecord {
            id: row.id,
            email: row.email,
            name: row.name,
            company,
            password_hash: row.password_hash,
            disabled_at: row.disabled_at,
            created_at: row.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SessionRow {
    #[sqlx(flatten)]
    pub(super) user: UserRow,
    pub(super) csrf_token: String,
    pub(super) session_created_at: DateTime<Utc>,
    pub(super) last_seen_at: DateTime<Utc>,
}

/// The columns of [`UserRow`], from `users u LEFT JOIN companies c`.
pub(super) const USER_COLUMNS: &str = "u.id, u.email, u.name, u.password_hash, u.disabled_at, u.created_at,
    c.id AS company_id, c.slug AS company_slug, c.name AS company_name, c.language AS company_language";

/// Companies, users and sessions.
#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Creates a company; [`StoreError::AlreadyExists`] when the slug is taken.
    async fn add_company(&self, company: &NewCompany) -> Result<i64, StoreError>;

    /// The company with this slug.
    async fn company(&self, slug: &str) -> Result<Option<CompanyRecord>, StoreError>;

    /// Up to `limit` companies whose slug or name contains `text` (ignoring case), by name.
    async fn companies_matching(&self, text: &str, limit: i64) -> Result<Vec<CompanyRecord>, StoreError>;

    /// Creates a user with an already hashed password; returns its id.
    /// [`StoreError::AlreadyExists`] when the address (ignoring case) is taken.
    async fn add_user(&self, user: &NewUser, password_hash: &str) -> Result<i64, StoreError>;

    /// The user with this address, ignoring case.
    async fn user_by_email(&self, email: &str) -> Result<Option<UserRecord>, StoreError>;

    /// Every user, staff first, then by company and address.
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;

    /// Disables the user and ends all its sessions, in one transaction. Returns whether a user
    /// with this address exists.
    async fn disable_user(&self, email: &str, at: DateTime<Utc>) -> Result<bool, StoreError>;

    async fn create_session(&self, session: &NewSession) -> Result<(), StoreError>;

    /// The session whose token hashes to `token_hash`, with its user.
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRecord>, StoreError>;

    /// Records activity on a session (for the idle timeout).
    async fn touch_session(&self, token_hash: &str, at: DateTime<Utc>) -> Result<(), StoreError>;

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Deletes sessions idle since before `idle_before` or created before `created_before`.
    async fn delete_expired_sessions(
        &self,
        idle_before: DateTime<Utc>,
        created_before: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
}

/// Maps a unique-key violation to [`StoreError::AlreadyExists`] with `what` as its message.
pub(super) fn unique_as_exists(error: sqlx::Error, what: impl FnOnce() -> String) -> StoreError {
    match &error {
        sqlx::Error::Database(e) if e.is_unique_violation() => StoreError::AlreadyExists(what()),
        _ => StoreError::Query(error),
    }
}

/// Implements [`AccountStore`] for a backend whose struct has a `pool`.
macro_rules! portable_accounts {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::accounts::AccountStore for $store {
            async fn add_company(&self, company: &$crate::store::accounts::NewCompany) -> Result<i64, StoreError> {
                sqlx::query_scalar(
                    "INSERT INTO companies (slug, name, language, contact_email, created_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&company.slug)
                .bind(&company.name)
                .bind(&company.language)
                .bind(&company.contact_email)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| {
                    $crate::store::accounts::unique_as_exists(e, || {
                        format!("a company with the slug `{}` already exists", company.slug)
                    })
                })
            }

            async fn company(&self, slug: &str) -> Result<Option<$crate::store::accounts::CompanyRecord>, StoreError> {
                Ok(sqlx::query_as("SELECT id, slug, name, language FROM companies WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn companies_matching(
                &self,
                text: &str,
                limit: i64,
            ) -> Result<Vec<$crate::store::accounts::CompanyRecord>, StoreError> {
                let [typed, folded] = $crate::store::portal::typed_or_half_width(text);
                Ok(sqlx::query_as(
                    "SELECT id, slug, name, language FROM companies
                     WHERE lower(slug) LIKE lower($1) ESCAPE '\\' OR lower(name) LIKE lower($1) ESCAPE '\\'
                        OR lower(slug) LIKE lower($2) ESCAPE '\\' OR lower(name) LIKE lower($2) ESCAPE '\\'
                     ORDER BY name, slug LIMIT $3",
                )
                .bind(typed)
                .bind(folded)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn add_user(&self, user: &$crate::store::rows::NewUser, password_hash: &str) -> Result<i64, StoreError> {
                sqlx::query_scalar(
                    "INSERT INTO users (company_id, email, name, role, password_hash, created_at)
                     VALUES ((SELECT id FROM companies WHERE slug = $1), $2, $3, $4, $5, $6)
                     RETURNING id",
                )
                .bind(user.company.as_deref())
                .bind(&user.email)
                .bind(&user.name)
                .bind(if user.company.is_some() { "company" } else { "staff" })
                .bind(password_hash)
                .bind(chrono::Utc::now())
                .fetch_one(&self.pool)
                .await
                .map_err(|e| {
                    $crate::store::accounts::unique_as_exists(e, || {
                        format!("a user with the address `{}` already exists", user.email)
                    })
                })
            }

            async fn user_by_email(&self, email: &str) -> Result<Option<$crate::store::accounts::UserRecord>, StoreError> {
                let row: Option<$crate::store::accounts::UserRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM users u LEFT JOIN companies c ON c.id = u.company_id
                     WHERE lower(u.email) = lower($1)",
                    $crate::store::accounts::USER_COLUMNS
                ))
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(Into::into))
            }

            async fn users(&self) -> Result<Vec<$crate::store::accounts::UserRecord>, StoreError> {
                let rows: Vec<$crate::store::accounts::UserRow> = sqlx::query_as(&format!(
                    "SELECT {} FROM users u LEFT JOIN companies c ON c.id = u.company_id
                     ORDER BY c.slug IS NOT NULL, c.slug, lower(u.email)",
                    $crate::store::accounts::USER_COLUMNS
                ))
                .fetch_all(&self.pool)
                .await?;
                Ok(rows.into_iter().map(Into::into).collect())
            }

            async fn disable_user(&self, email: &str, at: chrono::DateTime<chrono::Utc>) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                let id: Option<i64> = sqlx::query_scalar(
                    "UPDATE users SET disabled_at = COALESCE(disabled_at, $2) WHERE lower(email) = lower($1) RETURNING id",
                )
                .bind(email)
                .bind(at)
                .fetch_optional(&mut *tx)
                .await?;
                if let Some(id) = id {
                    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(id.is_some())
            }

            async fn create_session(&self, session: &$crate::store::accounts::NewSession) -> Result<(), StoreError> {
                sqlx::query(
                    "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at)
                     VALUES ($1, $2, $3, $4, $4)",
                )
                .bind(&session.token_hash)
                .bind(session.user_id)
                .bind(&session.csrf_token)
                .bind(session.at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str) -> Result<Option<$crate::store::accounts::SessionRecord>, StoreError> {
                let row: Option<$crate::store::accounts::SessionRow> = sqlx::query_as(&format!(
                    "SELECT {}, s.csrf_token, s.created_at AS session_created_at, s.last_seen_at
                     FROM sessions s JOIN users u ON u.id = s.user_id LEFT JOIN companies c ON c.id = u.company_id
                     WHERE s.token_hash = $1",
                    $crate::store::accounts::USER_COLUMNS
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|row| $crate::store::accounts::SessionRecord {
                    user: row.user.into(),
                    csrf_token: row.csrf_token,
                    created_at: row.session_created_at,
                    last_seen_at: row.last_seen_at,
                }))
            }

            async fn touch_session(&self, token_hash: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), StoreError> {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(token_hash)
                    .bind(at)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
                sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
                Ok(())
            }

            async fn delete_expired_sessions(
                &self,
                idle_before: chrono::DateTime<chrono::Utc>,
                created_before: chrono::DateTime<chrono::Utc>,
            ) -> Result<u64, StoreError> {
                Ok(sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
                    .bind(idle_before)
                    .bind(created_before)
                    .execute(&self.pool)
                    .await?
                    .rows_affected())
            }
        }
    };
}
pub(super) use portable_accounts;
