//! View models: the plain data every page is rendered from.
//!
//! The server builds these from the content index (and later from the store); the views only
//! read them. Text written by staff arrives already in the page's language and, for Markdown,
//! already rendered and sanitised to HTML.

use chrono::NaiveDateTime;

use crate::i18n::Lang;

/// What a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Incident,
    Maintenance,
    Announcement,
}

/// Where a notice stands. Incidents use the first four, maintenance the last three;
/// announcements have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Scheduled,
    InProgress,
    Completed,
}

/// How bad an incident is for the people who depend on the component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Minor,
    Major,
    Critical,
}

/// The state of one service component, derived from the open notices that name it.
/// Ordered from best to worst, so the worst of several is their maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ComponentState {
    Operational,
    Maintenance,
    Degraded,
    PartialOutage,
    MajorOutage,
}

macro_rules! keyword_enum {
    ($ty:ty { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            /// The keyword used in content files, URLs and the JSON API.
            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }

            /// The value named by `keyword`, if any.
            pub fn from_keyword(keyword: &str) -> Option<Self> {
                match keyword { $($text => Some(<$ty>::$variant),)+ _ => None }
            }
        }
    };
}

keyword_enum!(Kind { Incident => "incident", Maintenance => "maintenance", Announcement => "announcement" });
keyword_enum!(Status {
    Investigating => "investigating",
    Identified => "identified",
    Monitoring => "monitoring",
    Resolved => "resolved",
    Scheduled => "scheduled",
    InProgress => "in_progress",
    Completed => "completed",
});
keyword_enum!(Severity { Minor => "minor", Major => "major", Critical => "critical" });
keyword_enum!(ComponentState {
    Operational => "operational",
    Maintenance => "maintenance",
    Degraded => "degraded",
    PartialOutage => "partial_outage",
    MajorOutage => "major_outage",
});

impl Status {
    /// The statuses a notice of `kind` may have.
    pub fn allowed_for(kind: Kind) -> &'static [Status] {
        match kind {
            Kind::Incident => {
                &[Status::Investigating, Status::Identified, Status::Monitoring, Status::Resolved]
            }
            Kind::Maintenance => &[Status::Scheduled, Status::InProgress, Status::Completed],
            Kind::Announcement => &[],
        }
    }

    /// Whether the notice is over: nothing more is expected to happen.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::Completed)
    }
}

impl ComponentState {
    /// The state an open notice of this kind and severity puts its components in.
    pub fn from_open_notice(kind: Kind, status: Status, severity: Option<Severity>) -> Self {
        match (kind, status) {
            (Kind::Maintenance, Status::InProgress) => ComponentState::Maintenance,
            (Kind::Incident, status) if !status.is_closed() => match severity {
                Some(Severity::Critical) => ComponentState::MajorOutage,
                Some(Severity::Major) => ComponentState::PartialOutage,
                Some(Severity::Minor) | None => ComponentState::Degraded,
            },
            _ => ComponentState::Operational,
        }
    }
}

/// One instant, as a reader in the site's time zone sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Moment {
    /// The instant in RFC 3339 with its offset, for `<time datetime>`.
    pub rfc3339: String,
    /// Wall-clock time in the site's zone.
    pub local: NaiveDateTime,
    /// The zone's abbreviation at that instant, e.g. `JST`.
    pub zone: String,
}

/// Everything a page's frame needs: language, site name and where the page lives.
#[derive(Clone, Debug)]
pub struct Chrome {
    pub lang: Lang,
    pub site_name: String,
    /// The page's path without a language prefix, e.g. `/notices/mail-delay`.
    pub path: String,
    /// The page title, without the site name.
    pub title: String,
    /// URL of the stylesheet, versioned by its content.
    pub stylesheet: String,
    /// The site's time zone as readers know it, e.g. `Asia/Tokyo (JST)`.
    pub zone_label: String,
}

/// A service component and its current state.
#[derive(Clone, Debug)]
pub struct ComponentView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub state: ComponentState,
}

/// A notice as it appears in lists.
#[derive(Clone, Debug)]
pub struct NoticeSummary {
    pub slug: String,
    pub title: String,
    pub kind: Kind,
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub started: Option<Moment>,
    pub resolved: Option<Moment>,
    pub published: Moment,
    /// The newest timeline entry, as plain text, when there is one.
    pub latest_update: Option<(Moment, String)>,
}

/// `/`: the state of every component, then open, upcoming and recent notices.
#[derive(Clone, Debug)]
pub struct StatusPage {
    pub overall: ComponentState,
    pub components: Vec<ComponentView>,
    pub active: Vec<NoticeSummary>,
    pub upcoming: Vec<NoticeSummary>,
    pub recent: Vec<NoticeSummary>,
}

/// Notices published in one calendar month, in the site's zone.
#[derive(Clone, Debug)]
pub struct MonthGroup {
    pub year: i32,
    pub month: u32,
    pub notices: Vec<NoticeSummary>,
}

/// `/notices`: one page of the archive.
#[derive(Clone, Debug)]
pub struct NoticeListPage {
    pub months: Vec<MonthGroup>,
    pub page: usize,
    pub total_pages: usize,
}

/// One dated entry of a notice's timeline.
#[derive(Clone, Debug)]
pub struct TimelineEntryView {
    pub at: Moment,
    pub status: Option<Status>,
    /// Sanitised HTML of the entry's text.
    pub html: String,
    /// Why the entry came after the notice was resolved, when it did.
    pub reason: Option<String>,
}

/// `/notices/{slug}`: one notice in full.
#[derive(Clone, Debug)]
pub struct NoticePage {
    pub summary: NoticeSummary,
    pub components: Vec<String>,
    /// Minutes from start to end, once both are known (planned ones for maintenance).
    pub duration_minutes: Option<i64>,
    pub timeline: Vec<TimelineEntryView>,
    /// Sanitised HTML of the body.
    pub body_html: String,
    /// The page's language has no translation of this notice: the text is shown in
    /// the site's main language.
    pub untranslated: bool,
}
