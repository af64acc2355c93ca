//! Plain rows of the delivery tables, as written by a bulk load and read back by the impact
//! and company queries.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// A batch of rows to load, in dependency order: companies, then releases, then messages and
/// their attempts. Ids are assigned by the producer.
#[derive(Debug, Default)]
pub struct Batch {
    pub companies: Vec<CompanyRow>,
    pub releases: Vec<ReleaseRow>,
    pub messages: Vec<MessageRow>,
    pub attempts: Vec<AttemptRow>,
}

impl Batch {
    pub fn rows(&self) -> usize {
        self.companies.len() + self.releases.len() + self.messages.len() + self.attempts.len()
    }
}

#[derive(Clone, Debug)]
pub struct CompanyRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub language: &'static str,
    pub contact_email: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct ReleaseRow {
    pub id: i64,
    pub company_id: i64,
    pub title: String,
    pub sender_address: String,
    pub sender_is_default: bool,
    pub recipient_source: &'static str,
    pub created_at: DateTime<Utc>,
    pub sent_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct MessageRow {
    pub id: i64,
    pub company_id: i64,
    pub release_id: i64,
    pub recipient: String,
    pub route: &'static str,
    pub status: &'static str,
    pub error_class: Option<&'static str>,
    pub smtp_code: Option<i32>,
    pub enhanced_code: Option<&'static str>,
    pub smtp_reply: Option<String>,
    pub attempts: i32,
    pub queued_at: DateTime<Utc>,
    pub last_attempt_at: DateTime<Utc>,
}

#[derive(Clone, Debug)]
pub struct AttemptRow {
    pub message_id: i64,
    pub attempt: i32,
    pub attempted_at: DateTime<Utc>,
    pub route: &'static str,
    pub smtp_code: Option<i32>,
    pub enhanced_code: Option<&'static str>,
    pub reply: Option<String>,
    pub outcome: &'static str,
}

/// One company, for `statusdesk company list`.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CompanySummary {
    pub slug: String,
    pub name: String,
    pub releases: i64,
    pub messages: i64,
    pub undelivered: i64,
}

/// Undelivered messages of one release within an impact scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseImpactRow {
    pub release_id: i64,
    pub release_title: String,
    pub company_slug: String,
    pub company_name: String,
    pub messages: i64,
    /// Of `messages`, those delivered since by a redelivery (counted by
    /// [`affected_by_release`](super::Store::affected_by_release); 0 elsewhere).
    pub redelivered: i64,
}

/// A user to create: a company's (`company` is its slug) or staff (`None`).
#[derive(Clone, Debug)]
pub struct NewUser {
    pub company: Option<String>,
    pub email: String,
    pub name: String,
}
