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

/// Where a notice stands. Incidents use the first four, maintenance the last four (a
/// maintenance called off before it began is `Cancelled`); announcements have none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Investigating,
    Identified,
    Monitoring,
    Resolved,
    Scheduled,
    InProgress,
    Completed,
    Cancelled,
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
    Cancelled => "cancelled",
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
            Kind::Maintenance => {
                &[Status::Scheduled, Status::InProgress, Status::Completed, Status::Cancelled]
            }
            Kind::Announcement => &[],
        }
    }

    /// Whether the notice is over: nothing more is expected to happen.
    pub fn is_closed(self) -> bool {
        matches!(self, Status::Resolved | Status::Completed | Status::Cancelled)
    }

    /// Whether the notice ended with something that happened, at its `resolved_at`: not a
    /// maintenance called off, whose planned times stay as they were.
    pub fn ended(self) -> bool {
        self.is_closed() && self != Status::Cancelled
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
    /// The site's address (no trailing slash), for the page's canonical and alternate links.
    pub base_url: String,
    /// The page's path without a language prefix, e.g. `/notices/mail-delay`.
    pub path: String,
    /// The page is the one at `path` (the 404 is not): it names its canonical address and is
    /// marked current in the site's navigation.
    pub at_path: bool,
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
    /// The title's language when it is not the page's (no translation).
    pub title_lang: Option<&'static str>,
    pub kind: Kind,
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub started: Option<Moment>,
    pub resolved: Option<Moment>,
    pub published: Moment,
    /// The newest timeline entry, as plain text, when there is one; with its language when it
    /// is not the page's.
    pub latest_update: Option<(Moment, String, Option<&'static str>)>,
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
    /// The language the text and the reason are shown in when it is not the page's (no
    /// translation): `lang` attributes for readers and screen readers.
    pub text_lang: Option<&'static str>,
    pub reason_lang: Option<&'static str>,
}

/// How much of a notice is written in the page's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Translation {
    Complete,
    /// Some of its text (the title, the body, a timeline entry) is not translated.
    Partial,
    /// None of it is.
    Missing,
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
    /// The body's language when it is not the page's (no translation).
    pub body_lang: Option<&'static str>,
    /// How much of the notice the page's language has; what it lacks is shown in the site's
    /// main language.
    pub translation: Translation,
    /// Every published version, oldest first, when there is more than one.
    pub revisions: Vec<RevisionLink>,
    /// What the incident did, as last computed from the delivery database.
    pub impact: Option<PublicImpact>,
}

/// An incident's impact on the public notice page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicImpact {
    pub as_of: Moment,
    pub companies: i64,
    pub releases: i64,
    pub messages: i64,
}

/// One published version of a notice, as the notice page lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionLink {
    pub number: u32,
    pub at: Moment,
    /// The author's note for this version.
    pub note: Option<String>,
    pub href: String,
}

/// One published version of a notice: what changed from the one before, and its whole text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RevisionPage {
    pub title: String,
    pub notice_href: String,
    pub revision: RevisionLink,
    /// A unified diff from the version before (none for the first).
    pub changes: Option<String>,
    /// The notice file's text as published then.
    pub text: String,
    pub all: Vec<RevisionLink>,
}

// ---------------------------------------------------------------------------------------------
// The company portal (logged in). Every link arrives ready to use (`href`): the server adds the
// `company=` parameter that staff views carry, and keeps the filters across pages.

/// Where a message stands, as the delivery database records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Queued,
    Sent,
    Deferred,
    Bounced,
    Failed,
    NotSent,
    Unknown,
}

keyword_enum!(DeliveryStatus {
    Queued => "queued",
    Sent => "sent",
    Deferred => "deferred",
    Bounced => "bounced",
    Failed => "failed",
    NotSent => "not_sent",
    Unknown => "unknown",
});

impl DeliveryStatus {
    /// Whether the message has not (yet) reached its recipient for good.
    pub fn is_undelivered(self) -> bool {
        !matches!(self, DeliveryStatus::Sent | DeliveryStatus::Queued)
    }
}

/// Why a message was not delivered, as the delivery database classifies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FailureReason {
    MailboxUnknown,
    DomainNotFound,
    MailboxFull,
    RejectedAsSpam,
    Timeout,
    SenderDomainUnverified,
    ConnectionLost,
}

keyword_enum!(FailureReason {
    MailboxUnknown => "mailbox_unknown",
    DomainNotFound => "domain_not_found",
    MailboxFull => "mailbox_full",
    RejectedAsSpam => "rejected_as_spam",
    Timeout => "timeout",
    SenderDomainUnverified => "sender_domain_unverified",
    ConnectionLost => "connection_lost",
});

impl FailureReason {
    /// Whether the receiving server said the address, or its domain, does not exist: a message
    /// that failed so is never redelivered (the database refuses it).
    pub fn address_not_found(self) -> bool {
        matches!(self, FailureReason::MailboxUnknown | FailureReason::DomainNotFound)
    }
}

/// A release's messages counted by outcome. `sent` counts first deliveries, `redelivered` the
/// messages a redelivery got through; together with the rest they add up to every message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub queued: i64,
    pub sent: i64,
    pub redelivered: i64,
    pub deferred: i64,
    pub bounced: i64,
    pub failed: i64,
    pub not_sent: i64,
    pub unknown: i64,
}

impl Totals {
    /// Every message of the release, whatever its outcome.
    pub fn messages(&self) -> i64 {
        self.queued
            + self.sent
            + self.redelivered
            + self.deferred
            + self.bounced
            + self.failed
            + self.not_sent
            + self.unknown
    }

    /// Messages that did not reach their recipient (every status but sent and queued).
    pub fn undelivered(&self) -> i64 {
        self.deferred + self.bounced + self.failed + self.not_sent + self.unknown
    }
}

/// The frame of every portal page: who is signed in and as which company.
#[derive(Clone, Debug)]
pub struct PortalChrome {
    pub lang: Lang,
    pub site_name: String,
    pub stylesheet: String,
    /// The page title, without the site name.
    pub title: String,
    pub user_email: String,
    /// Staff see any company: then `true`, and `company` is the one being viewed, if any.
    pub staff: bool,
    pub company: Option<CompanyRef>,
    /// The session's CSRF token, for the logout form (and every other form that posts).
    pub csrf: String,
    /// This page in each language: `(lang, href)`.
    pub languages: Vec<(Lang, String)>,
    /// `/portal`, with `?company=` for staff.
    pub home_href: String,
    /// A page of the staff console (`/staff/...`) rather than of the portal: the header says so.
    pub staff_console: bool,
    /// Reload the page after this many seconds (a redelivery in progress), without script.
    pub refresh_seconds: Option<u32>,
}

/// A company as the portal names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompanyRef {
    pub slug: String,
    pub name: String,
}

/// Pagination links of a keyset-paged list; `None` where there is no such page.
#[derive(Clone, Debug, Default)]
pub struct Pager {
    pub first: Option<String>,
    pub newer: Option<String>,
    pub older: Option<String>,
}

/// The release list's filters as the reader set them (echoed into the form).
#[derive(Clone, Debug, Default)]
pub struct ReleaseFilterView {
    /// Words in the title.
    pub q: String,
    /// `YYYY-MM-DD`, in the site's time zone; empty when not set.
    pub from: String,
    pub to: String,
    pub undelivered_only: bool,
    /// A problem with the filters, already in the page's language (e.g. a malformed date), and
    /// the fields it is about (`from`, `to`).
    pub error: Option<String>,
    pub invalid: Vec<&'static str>,
    /// Where the form posts its GET to, with the hidden `company` field for staff.
    pub company_slug: Option<String>,
}

/// One release in the portal's list.
#[derive(Clone, Debug)]
pub struct ReleaseRowView {
    pub id: i64,
    pub title: String,
    pub href: String,
    pub sent_at: Option<Moment>,
    pub totals: Totals,
}

/// An incident that left messages of this company undelivered, and the question it asks.
#[derive(Clone, Debug)]
pub struct IncidentBanner {
    pub title: String,
    /// The public notice.
    pub notice_href: String,
    pub releases: Vec<AffectedRelease>,
    pub messages: i64,
    /// The company's answer, once given.
    pub answer: Option<IncidentAnswerView>,
    /// The progress of the redelivery a "redeliver" answer asked for.
    pub redelivery: Option<RedeliveryProgress>,
    /// Where the question's two buttons post, and the session's CSRF token.
    pub answer_action: String,
    pub csrf: String,
    /// Staff answer on the company's behalf and must say why.
    pub needs_reason: bool,
    /// Why the last answer was not taken.
    pub error: Option<String>,
}

/// "Redeliver the unsent messages" or "leave them", as answered.
#[derive(Clone, Debug)]
pub struct IncidentAnswerView {
    pub redeliver: bool,
    pub at: Moment,
    pub by: Option<String>,
    pub on_behalf: bool,
}

/// A release with messages an incident left undelivered, and how many.
#[derive(Clone, Debug)]
pub struct AffectedRelease {
    pub title: String,
    pub href: String,
    pub messages: i64,
}

/// `/portal`: the company's releases.
#[derive(Clone, Debug)]
pub struct PortalHomePage {
    pub banners: Vec<IncidentBanner>,
    pub filter: ReleaseFilterView,
    pub releases: Vec<ReleaseRowView>,
    pub pager: Pager,
}

/// `/portal` for staff before a company is chosen: a form for the slug, and the companies the
/// known incidents affected.
#[derive(Clone, Debug)]
pub struct StaffPickPage {
    /// What was typed, when it named no one company.
    pub unknown_slug: Option<String>,
    /// The companies whose slug or name contains it (with their links), when several do, and
    /// whether more do than are listed.
    pub matches: Vec<(CompanyRef, String)>,
    pub more_matches: bool,
    pub affected: Vec<(CompanyRef, String, i64)>,
}

/// The release's facts on its page.
#[derive(Clone, Debug)]
pub struct ReleaseView {
    pub id: i64,
    pub title: String,
    pub sender_address: String,
    /// `true`: the service's default sender address; `false`: the company's own.
    pub sender_is_default: bool,
    /// `media_list` or `import_list`.
    pub recipient_source: String,
    pub sent_at: Option<Moment>,
    pub totals: Totals,
}

/// The recipient list's filters as the reader set them.
#[derive(Clone, Debug, Default)]
pub struct RecipientFilterView {
    /// `""` (all), `undelivered`, or a [`DeliveryStatus`] keyword.
    pub status: String,
    /// Part of an address.
    pub q: String,
    pub company_slug: Option<String>,
    /// Why the filter as given could not be applied.
    pub error: Option<String>,
}

/// One recipient of a release.
#[derive(Clone, Debug)]
pub struct RecipientView {
    /// The message's id: the value of its checkbox in the redelivery form.
    pub message_id: i64,
    pub address: String,
    pub status: DeliveryStatus,
    /// Redelivered at least once (generation above 0).
    pub redelivered: bool,
    /// A redelivery of it is waiting, being sent or to be retried.
    pub being_redelivered: bool,
    pub attempts: i32,
    pub last_attempt: Option<Moment>,
    pub reason: Option<FailureReason>,
    /// The last SMTP reply in full: code, enhanced code and text, e.g. `554 5.7.1 Sender
    /// domain not verified`.
    pub smtp_reply: Option<String>,
}

impl RecipientView {
    /// Whether the row can be chosen for redelivery: undelivered, not waiting for a person's
    /// call (an unknown outcome), not on its way already, not to an address that does not exist.
    pub fn choosable(&self) -> bool {
        self.status.is_undelivered()
            && self.status != DeliveryStatus::Unknown
            && !self.being_redelivered
            && !self.reason.is_some_and(FailureReason::address_not_found)
    }
}

/// `/portal/releases/{id}`.
#[derive(Clone, Debug)]
pub struct ReleasePage {
    pub release: ReleaseView,
    pub filter: RecipientFilterView,
    pub recipients: Vec<RecipientView>,
    /// Recipients matching the filter.
    pub matching: i64,
    pub pager: Pager,
    /// The CSV export of the recipients matching the filter.
    pub csv_href: String,
    /// Where the redelivery form posts (`/portal/releases/{id}/redeliver`, with `?company=` for
    /// staff), and the session's CSRF token it carries.
    pub redeliver_action: String,
    pub csrf: String,
    /// Redelivery requests of this release, newest first.
    pub redeliveries: Vec<RedeliveryProgress>,
}

/// Why a selected message is not redelivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SkipReason {
    Delivered,
    Queued,
    BeingRedelivered,
    Suppressed,
    /// The receiving server said the address, or its domain, does not exist: sent again, it
    /// would bounce again.
    AddressNotFound,
    OutcomeUnknown,
    ContentUnavailable,
}

keyword_enum!(SkipReason {
    Delivered => "delivered",
    Queued => "queued",
    BeingRedelivered => "being_redelivered",
    Suppressed => "suppressed",
    AddressNotFound => "address_not_found",
    OutcomeUnknown => "outcome_unknown",
    ContentUnavailable => "content_unavailable",
});

/// One redelivery request and how far it got.
#[derive(Clone, Debug)]
pub struct RedeliveryProgress {
    pub requested_at: Moment,
    /// Staff asked for it on the company's behalf.
    pub on_behalf: bool,
    /// The incident whose question it answered, on a release's page: (title, notice link).
    pub incident: Option<(String, String)>,
    pub done: bool,
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub unknown: i64,
}

/// The confirmation of an incident's answer "leave them": what it means before it is recorded.
#[derive(Clone, Debug)]
pub struct LeaveConfirmPage {
    /// The incident's notice.
    pub title: String,
    pub title_href: String,
    /// The messages the incident left unsent that the answer leaves.
    pub messages: i64,
    /// Where the answer posts, and the fields it carries (the CSRF token, the answer, a staff
    /// member's reason).
    pub confirm_action: String,
    pub hidden: Vec<(String, String)>,
    /// The portal's home, where the question was asked.
    pub back_href: String,
}

/// The confirmation of a redelivery: exactly what will happen before anything does.
#[derive(Clone, Debug)]
pub struct RedeliverConfirmPage {
    /// What is redelivered: a release, or the incident that left the messages unsent.
    pub title: String,
    pub title_href: String,
    /// The page the redelivery was asked from, with its filter.
    pub back_href: String,
    /// Which recipients were asked for, in words (a release's: checked, or a filter's).
    pub selection: Option<String>,
    /// Messages that will be sent again (one per recipient).
    pub messages: i64,
    pub skipped: Vec<(SkipReason, i64)>,
    /// Where the confirmation posts, and the fields it carries: the selection, the CSRF token,
    /// the idempotency key.
    pub confirm_action: String,
    pub hidden: Vec<(String, String)>,
    /// Staff act on the company's behalf and must give a reason.
    pub needs_reason: bool,
    pub reason: String,
    /// Why the request was not made (over the daily cap, nothing left, no reason given).
    pub error: Option<String>,
    /// Over the daily cap: it cannot be confirmed as it stands (no form; `error` says why).
    pub over_quota: bool,
    /// Incidents whose messages the company chose to leave unsent: (title, when it answered).
    pub declined: Vec<(String, Moment)>,
}

/// Why the login form is shown again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginNotice {
    /// Unknown address, wrong password or disabled account: always the same words.
    Invalid,
    /// The address or the password was left empty: nothing was checked.
    Incomplete,
    /// Too many failed attempts: try again after this many minutes (at least 1).
    Throttled { minutes: u64 },
    /// The session ended (idle too long, or past its lifetime): log in again.
    SessionEnded,
    /// Logged out.
    LoggedOut,
    /// The form was too old or came from another site (CSRF check failed).
    FormExpired,
}

/// `/login`.
#[derive(Clone, Debug)]
pub struct LoginPage {
    pub notice: Option<LoginNotice>,
    /// The address typed, kept on a failed attempt.
    pub email: String,
    pub csrf: String,
    /// The local path to go to after login, if any.
    pub next: String,
}

/// `/staff/notices`: every published notice, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffNoticesPage {
    pub notices: Vec<StaffNoticeRow>,
    /// The content's errors, `path:line: error: message`: files not published as they stand
    /// (the site keeps their last good version, if any).
    pub errors: Vec<String>,
    /// The notice just saved, to confirm it.
    pub saved: Option<NoticeSaved>,
}

/// What saving a notice did, with the notice's title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoticeSaved {
    Published(String),
    /// The form held what was published already: no new version.
    Unchanged(String),
}

/// One notice in the staff list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaffNoticeRow {
    pub title: String,
    pub kind: Kind,
    pub status: Option<Status>,
    /// The status readers see, when it is not the file's: a maintenance still `scheduled` in its
    /// file after its planned start or end.
    pub shown_publicly_as: Option<Status>,
    /// A maintenance set `in_progress` by staff whose planned end has passed: it stays under way
    /// until they complete it.
    pub past_planned_end: bool,
    pub updated: Moment,
    /// The public page.
    pub public_href: String,
    /// The "add update" form, for notices that have a status.
    pub update_href: Option<String>,
    /// The form with every field and the body.
    pub edit_href: String,
    /// The impact page, for incidents with a scope.
    pub impact_href: Option<String>,
}

/// The "add update" form of one notice, as typed so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeUpdateForm {
    pub title: String,
    pub action: String,
    /// `YYYY-MM-DDTHH:MM` in the site's zone.
    pub at: String,
    /// The site's zone, as the form shows it (`Asia/Tokyo, UTC+09:00`).
    pub zone: String,
    /// The status chosen; `None`: the notice's status is left as it is.
    pub status: Option<Status>,
    pub statuses: Vec<Status>,
    pub text: String,
    pub text_en: String,
    /// Why the entry comes after the notice was resolved, in each language.
    pub reason: String,
    pub reason_en: String,
    /// The notice's status now, named by the option that keeps it.
    pub current_status: Option<Status>,
    /// A maintenance still `scheduled`: the public site follows its planned times, and the form
    /// says so (postponing it means changing them).
    pub follows_plan: bool,
    /// The author's note for this version ("cause and countermeasures added").
    pub note: String,
    /// The file as it was when the form was opened: saving is refused if it changed since.
    /// The SHA-256 of the file then: the version the form stands on.
    pub version: String,
    pub original: String,
    /// What the linter warns of since this entry: shown before it is published.
    pub warnings: Vec<String>,
    /// Carried back with the form: publishing with these same warnings goes ahead.
    pub warned: String,
    pub problems: Vec<FieldProblem>,
    /// The file changed since the form was opened: the changes, as a unified diff.
    pub conflict: Option<String>,
    /// The linter's errors in the notice's file as it is on disk (`path:line: message`): the
    /// public page shows its last good version, and the form cannot save until it is fixed.
    pub file_errors: Vec<String>,
}

/// A problem with what was typed; `field` names the form field it is about (`None`: the whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem {
    pub field: Option<&'static str>,
    pub message: String,
}

/// `/staff/audit`: the audit log, filtered, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditPage {
    pub filter: AuditFilterView,
    pub rows: Vec<AuditRowView>,
    /// The next page (older lines), when there is one.
    pub older_href: Option<String>,
    pub problems: Vec<FieldProblem>,
}

/// The audit filter as typed, and the actions to offer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilterView {
    pub actor: String,
    pub action: String,
    pub company: String,
    /// `YYYY-MM-DD`, in the site's zone; both days included.
    pub from: String,
    pub to: String,
    pub actions: Vec<&'static str>,
}

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRowView {
    pub at: Moment,
    pub actor: String,
    pub action: String,
    pub company: Option<String>,
    pub target: Option<String>,
    pub detail: Option<String>,
}

/// `/staff/notices/{slug}/impact`: an incident's scope and what it did, from the database.
#[derive(Clone, Debug, PartialEq)]
pub struct NoticeImpactPage {
    pub title: String,
    /// The notice's current version: companies are told of it, once each.
    pub version: u32,
    /// The form that tells every affected company not yet told of this version.
    pub notify_action: String,
    /// How many companies were just told, to confirm it.
    pub notified: Option<u64>,
    /// The scope was just attached to the notice.
    pub attached: bool,
    /// The scope the figures are for (`key = value`); empty when there is none.
    pub scope: Vec<(String, String)>,
    pub figures: Option<ImpactFigures>,
    /// The scope form (incidents only): as the notice has it, or as typed to preview.
    pub editor: Option<ScopeEditor>,
}

/// The form that previews a scope's impact and attaches it to the notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScopeEditor {
    /// The figures shown are for the typed scope, not the notice's.
    pub previewing: bool,
    /// `YYYY-MM-DDTHH:MM` in the site's zone.
    pub from: String,
    pub to: String,
    /// The site's zone, as the form shows it.
    pub zone: String,
    /// Each filter: (key, chosen value or "", the values offered).
    pub filters: Vec<(&'static str, String, Vec<String>)>,
    pub attach_action: String,
    /// The notice file's SHA-256 when the page was made: attaching is refused if it changed.
    pub version: String,
    /// The notice file's text when the page was made, to show what changed if it did.
    pub original: String,
    pub problems: Vec<FieldProblem>,
    /// What the linter would newly warn of with the previewed scope attached.
    pub warnings: Vec<String>,
    /// An attach refused because the notice changed: the changes, as a unified diff.
    pub conflict: Option<String>,
}

/// An incident's impact, computed at `as_of`.
#[derive(Clone, Debug, PartialEq)]
pub struct ImpactFigures {
    pub as_of: Moment,
    pub companies: i64,
    pub releases: i64,
    pub messages: i64,
    pub total_messages: i64,
    /// `messages / total_messages`.
    pub share: f64,
    /// Undelivered messages per release, smallest and largest.
    pub per_release: Option<(i64, i64)>,
    /// (`1-5`, releases).
    pub histogram: Vec<(String, i64)>,
    pub affected: Vec<AffectedCompanyView>,
}

/// A company the incident affected, with its contact and what it answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AffectedCompanyView {
    pub name: String,
    pub slug: String,
    pub contact: Option<String>,
    pub releases: i64,
    pub messages: i64,
    /// `redeliver` or `leave`.
    pub answer: Option<String>,
    /// Of its `messages`, those delivered since by a redelivery (whoever asked for it).
    pub redelivered: i64,
    /// When staff told it of this version.
    pub notified: Option<Moment>,
    /// When staff last told it of an earlier version: this one goes to it as an update.
    pub told_before: Option<Moment>,
    /// The company's portal, as staff see it.
    pub portal_href: String,
}

/// `/staff/notices/new`: a notice's fields as typed, what is wrong with them, and its preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoticeEditorPage {
    pub heading: String,
    pub action: String,
    /// Editing a published notice: its slug cannot change.
    pub slug_fixed: bool,
    /// The file name and address: lowercase letters, digits and hyphens.
    pub slug: String,
    pub title: String,
    pub title_en: String,
    pub kind: String,
    pub status: String,
    pub severity: String,
    /// Each component of the site: (id, name, chosen).
    pub components: Vec<(String, String, bool)>,
    /// `YYYY-MM-DDTHH:MM` in the site's zone.
    pub started_at: String,
    pub resolved_at: String,
    pub published_at: String,
    pub zone: String,
    pub body: String,
    pub body_en: String,
    /// The author's note for the version an edit publishes.
    pub note: String,
    /// Editing: the file's SHA-256 and text when the form was opened.
    pub version: String,
    pub original: String,
    /// The file changed since the form was opened: the changes, as a unified diff.
    pub conflict: Option<String>,
    /// As for [`NoticeUpdateForm::file_errors`].
    pub file_errors: Vec<String>,
    pub problems: Vec<FieldProblem>,
    /// The public page's content as it would be published, in each language (sanitised HTML).
    pub preview: Vec<(crate::Lang, String)>,
    /// What the linter warns of in the previewed notice (it may be published all the same).
    pub warnings: Vec<String>,
    /// What it newly warns of in a notice about to be published: shown first, unpublished.
    pub publish_warnings: Vec<String>,
    /// Carried back with the form: publishing with these same warnings goes ahead.
    pub warned: String,
}
