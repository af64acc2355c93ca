//! Impact analysis: which undelivered messages an incident's scope covers, summarised the way a
//! notice and the staff need it — companies, releases, messages, the share of the window's
//! traffic, the per-release histogram and the per-company list. Always computed from the
//! delivery database, never typed by hand.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::rows::ReleaseImpactRow;

/// A sending route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Route {
    Legacy,
    Cloud,
}

/// Why a message was not delivered: the closed list of `messages.error_class`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
#[clap(rename_all = "snake_case")]
pub enum ErrorClass {
    MailboxUnknown,
    DomainNotFound,
    MailboxFull,
    RejectedAsSpam,
    Timeout,
    SenderDomainUnverified,
    ConnectionLost,
}

/// Where a release's recipients came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
#[clap(rename_all = "snake_case")]
pub enum RecipientSource {
    MediaList,
    ImportList,
}

/// Whether a release was sent from the service's default address or the company's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SenderKind {
    Default,
    Custom,
}

macro_rules! column_value {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// The value as stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }
        }
    };
}

column_value!(Route { Legacy => "legacy", Cloud => "cloud" });
column_value!(ErrorClass {
    MailboxUnknown => "mailbox_unknown",
    DomainNotFound => "domain_not_found",
    MailboxFull => "mailbox_full",
    RejectedAsSpam => "rejected_as_spam",
    Timeout => "timeout",
    SenderDomainUnverified => "sender_domain_unverified",
    ConnectionLost => "connection_lost",
});
column_value!(RecipientSource { MediaList => "media_list", ImportList => "import_list" });

/// Message statuses that count as "not delivered".
pub const UNDELIVERED: [&str; 5] = ["deferred", "bounced", "failed", "not_sent", "unknown"];

/// Which undelivered messages an incident covers: those queued in `[from, to)` that match
/// every filter given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub route: Option<Route>,
    pub error_class: Option<ErrorClass>,
    pub recipient_source: Option<RecipientSource>,
    pub sender: Option<SenderKind>,
    /// A company's slug.
    pub company: Option<String>,
}

impl Scope {
    /// The whole window, no filters.
    pub fn window(from: DateTime<Utc>, to: DateTime<Utc>) -> Scope {
        Scope {
            from,
            to,
            route: None,
            error_class: None,
            recipient_source: None,
            sender: None,
            company: None,
        }
    }
}

/// Ranges of "undelivered messages per release" for the histogram: contiguous from 1, the last
/// one open-ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Buckets(Vec<(i64, Option<i64>)>);

impl Default for Buckets {
    /// The reference postmortem's ranges.
    fn default() -> Self {
        "1-5,6-10,11-25,26-50,51-75,76-".parse().expect("valid default buckets")
    }
}

impl FromStr for Buckets {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut buckets = Vec::new();
        let mut next_from = 1;
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        for (i, part) in parts.iter().enumerate() {
            let (from, to) =
                part.split_once('-').ok_or_else(|| format!("`{part}` is not a range like 6-10 or 76-"))?;
            let from: i64 = from.parse().map_err(|_| format!("`{part}`: `{from}` is not a whole number"))?;
            let to: Option<i64> = match to {
                "" => None,
                to => Some(to.parse().map_err(|_| format!("`{part}`: `{to}` is not a whole number"))?),
            };
            if from != next_from {
                return Err(format!(
                    "`{part}` should start at {next_from}: ranges start at 1 and follow each other without gaps"
                ));
            }
            match to {
                Some(to) if to < from => return Err(format!("`{part}` ends before it starts")),
                Some(to) => next_from = to + 1,
                None if i + 1 < parts.len() => {
                    return Err(format!("`{part}` is open-ended, so it must be the last range"));
                }
                None => {}
            }
            buckets.push((from, to));
        }
        if buckets.last().is_some_and(|(_, to)| to.is_some()) {
            return Err("the last range must be open-ended, like 76-".into());
        }
        Ok(Buckets(buckets))
    }
}

/// One bar of the histogram.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Bucket {
    pub from: i64,
    /// `None`: and above.
    pub to: Option<i64>,
    pub releases: i64,
}

/// One affected company.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CompanyImpact {
    pub company: String,
    pub name: String,
    pub releases: i64,
    pub messages: i64,
    /// Of `messages`, those delivered since by a redelivery.
    pub redelivered: i64,
}

/// The impact of a scope.
#[derive(Clone, Debug, Serialize)]
pub struct Impact {
    pub scope: Scope,
    pub companies: i64,
    pub releases: i64,
    pub messages: i64,
    /// Every message queued in the window (of the company, when the scope names one).
    pub total_messages: i64,
    /// `messages / total_messages`.
    pub share: f64,
    pub min_per_release: Option<i64>,
    pub max_per_release: Option<i64>,
    pub histogram: Vec<Bucket>,
    /// Most affected first.
    pub per_company: Vec<CompanyImpact>,
    /// When it was computed.
    pub as_of: DateTime<Utc>,
}

impl Impact {
    /// Summarises per-release counts.
    pub fn summarise(
        scope: Scope,
        rows: &[ReleaseImpactRow],
        total_messages: i64,
        buckets: &Buckets,
    ) -> Impact {
        let messages: i64 = rows.iter().map(|r| r.messages).sum();
        let mut by_company: BTreeMap<&str, CompanyImpact> = BTreeMap::new();
        for row in rows {
            let company = by_company.entry(&row.company_slug).or_insert_with(|| CompanyImpact {
                company: row.company_slug.clone(),
                name: row.company_name.clone(),
                releases: 0,
                messages: 0,
                redelivered: 0,
            });
            company.releases += 1;
            company.messages += row.messages;
            company.redelivered += row.redelivered;
        }
        let mut per_company: Vec<CompanyImpact> = by_company.into_values().collect();
        per_company.sort_by(|a, b| b.messages.cmp(&a.messages).then_with(|| a.company.cmp(&b.company)));
        let histogram = buckets
            .0
            .iter()
            .map(|&(from, to)| Bucket {
                from,
                to,
                releases: rows
                    .iter()
                    .filter(|r| r.messages >= from && to.is_none_or(|to| r.messages <= to))
                    .count() as i64,
            })
            .collect();
        Impact {
            scope,
            companies: per_company.len() as i64,
            releases: rows.len() as i64,
            messages,
            total_messages,
            share: if total_messages > 0 { messages as f64 / total_messages as f64 } else { 0.0 },
            min_per_release: rows.iter().map(|r| r.messages).min(),
            max_per_release: rows.iter().map(|r| r.messages).max(),
            histogram,
            per_company,
            as_of: Utc::now(),
        }
    }
}

impl fmt::Display for Bucket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to {
            Some(to) if to == self.from => write!(f, "{}", self.from),
            Some(to) => write!(f, "{}-{to}", self.from),
            None => write!(f, "{}-", self.from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(slug: &str, messages: i64) -> ReleaseImpactRow {
        ReleaseImpactRow {
            release_id: 0,
            release_title: String::new(),
            company_slug: slug.into(),
            company_name: slug.into(),
            messages,
            redelivered: 0,
        }
    }

    #[test]
    fn buckets_must_be_contiguous_from_one_and_end_open() {
        assert!("1-5,6-".parse::<Buckets>().is_ok());
        assert!("2-5,6-".parse::<Buckets>().unwrap_err().contains("should start at 1"));
        assert!("1-5,7-".parse::<Buckets>().unwrap_err().contains("should start at 6"));
        assert!("1-5,6-9".parse::<Buckets>().unwrap_err().contains("open-ended"));
        assert!("1-,6-9".parse::<Buckets>().unwrap_err().contains("must be the last"));
        assert!("1-x".parse::<Buckets>().unwrap_err().contains("not a whole number"));
    }

    #[test]
    fn summary_counts_companies_releases_and_buckets() {
        let rows = [row("a", 1), row("a", 148), row("b", 6), row("c", 76)];
        let scope = Scope::window(Utc::now(), Utc::now());
        let impact = Impact::summarise(scope, &rows, 1000, &Buckets::default());
        assert_eq!((impact.companies, impact.releases, impact.messages), (3, 4, 231));
        assert_eq!((impact.min_per_release, impact.max_per_release), (Some(1), Some(148)));
        let bars: Vec<i64> = impact.histogram.iter().map(|b| b.releases).collect();
        assert_eq!(bars, [1, 1, 0, 0, 0, 2]);
        assert_eq!(impact.per_company[0].company, "a");
        assert!((impact.share - 0.231).abs() < 1e-9);
    }
}
