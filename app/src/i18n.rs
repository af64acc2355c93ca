//! The site's two languages: every fixed piece of text, and how dates and durations read.
//!
//! Weekdays are always computed from the date, never taken from anything written by hand.

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};

use crate::model::{
    ComponentState, DeliveryStatus, FailureReason, Kind, Moment, Severity, SkipReason, Status,
};

/// A language the site is published in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lang {
    Ja,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Ja, Lang::En];

    /// The BCP 47 code, as used in `<html lang>`, URLs and the `lang` cookie.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        match code {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The language's own name, for the switch between them.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Ja => "日本語",
            Lang::En => "English",
        }
    }

    /// Chooses between the Japanese and the English text.
    pub fn pick<'a>(self, ja: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Ja => ja,
            Lang::En => en,
        }
    }

    pub fn kind(self, kind: Kind) -> &'static str {
        match kind {
            Kind::Incident => self.pick("障害", "Incident"),
            Kind::Maintenance => self.pick("メンテナンス", "Maintenance"),
            Kind::Announcement => self.pick("お知らせ", "Announcement"),
        }
    }

    pub fn status(self, status: Status) -> &'static str {
        match status {
            Status::Investigating => self.pick("調査中", "Investigating"),
            Status::Identified => self.pick("原因特定", "Identified"),
            Status::Monitoring => self.pick("経過観察中", "Monitoring"),
            Status::Resolved => self.pick("解決済み", "Resolved"),
            Status::Scheduled => self.pick("予定", "Scheduled"),
            Status::InProgress => self.pick("実施中", "In progress"),
            Status::Completed => self.pick("完了", "Completed"),
            Status::Cancelled => self.pick("中止", "Cancelled"),
        }
    }

    pub fn severity(self, severity: Severity) -> &'static str {
        match severity {
            Severity::Minor => self.pick("軽微", "Minor"),
            Severity::Major => self.pick("重大", "Major"),
            Severity::Critical => self.pick("深刻", "Critical"),
        }
    }

    pub fn component_state(self, state: ComponentState) -> &'static str {
        match state {
            ComponentState::Operational => self.pick("正常", "Operational"),
            ComponentState::Maintenance => self.pick("メンテナンス中", "Under maintenance"),
            ComponentState::Degraded => self.pick("一部に影響", "Degraded"),
            ComponentState::PartialOutage => self.pick("部分的な障害", "Partial outage"),
            ComponentState::MajorOutage => self.pick("重大な障害", "Major outage"),
        }
    }

    /// The headline of the status page for the worst state among the components.
    pub fn overall(self, state: ComponentState) -> &'static str {
        match state {
            ComponentState::Operational => {
                self.pick("すべてのサービスは正常に稼働しています", "All systems operational")
            }
            ComponentState::Maintenance => self.pick("メンテナンスを実施中です", "Maintenance in progress"),
            ComponentState::Degraded => {
                self.pick("一部のサービスで遅延などが発生しています", "Some services are degraded")
            }
            ComponentState::PartialOutage => {
                self.pick("一部のサービスに影響が出ています", "Some services are affected")
            }
            ComponentState::MajorOutage => {
                self.pick("重大な障害が発生しています", "Major outage in progress")
            }
        }
    }

    /// An incident's impact in one sentence, and its heading.
    pub fn impact_summary(self, companies: i64, releases: i64, messages: i64) -> (&'static str, String) {
        let (c, r, m) = (self.number(companies), self.number(releases), self.number(messages));
        match self {
            Lang::Ja => {
                ("影響", format!("{c} 社の {r} 件のリリースで、{m} 通のメールが配信されませんでした。"))
            }
            Lang::En => {
                ("Impact", format!("{m} emails of {r} releases from {c} companies were not delivered."))
            }
        }
    }

    /// "As of" before the time figures were computed.
    pub fn as_of(self) -> &'static str {
        self.pick("集計時刻: ", "As of ")
    }

    /// "Revised N times", for a notice with N versions after its first.
    pub fn revised(self, times: usize) -> String {
        match self {
            Lang::Ja => format!("このお知らせは {times} 回改訂されました"),
            Lang::En if times == 1 => "Revised once".to_string(),
            Lang::En => format!("Revised {times} times"),
        }
    }

    /// The label of an impact scope's key (as the notice file's `[impact]` table names it),
    /// followed by the key itself where the label does not say it: "送信経路 (route)".
    pub fn scope_key(self, key: &str) -> String {
        let name = match key {
            // Not a key of the file (it has `from` and `to`): the label alone.
            "window" => return self.pick("期間", "Window").to_string(),
            "from" => self.pick("開始", "From"),
            "to" => self.pick("終了", "To"),
            "route" => self.pick("送信経路", "Route"),
            "error_class" => self.pick("エラーの種類", "Error class"),
            "recipient_source" => self.pick("宛先リスト", "Recipients from"),
            "sender" => self.pick("送信元", "Sender"),
            "company" => self.pick("企業", "Company"),
            other => return other.to_string(),
        };
        match name.to_lowercase().replace(' ', "_") == key {
            true => name.to_string(),
            false => format!("{name} ({key})"),
        }
    }

    /// A recipient filter's `status` that is no status.
    pub fn unknown_status(self, status: &str) -> String {
        match self {
            Lang::Ja => format!("状況 `{status}` はありません。一覧から選んでください"),
            Lang::En => format!("There is no status `{status}`: choose one from the list"),
        }
    }

    /// The company chose to leave the messages the incident `title` left unsent, at `when`.
    /// An incident's "leave them" answer, said to the company itself or, for staff, of it.
    pub fn declined_incident(self, title: &str, when: &str, to_company: bool) -> String {
        match (self, to_company) {
            (Lang::Ja, true) => {
                format!("「{title}」で届かなかったメールは「再送しない」とご回答いただいています（{when}）。")
            }
            (Lang::Ja, false) => {
                format!(
                    "この企業は「{title}」で届かなかったメールを「再送しない」と回答しています（{when}）。"
                )
            }
            (Lang::En, true) => format!(
                "You answered \u{201c}leave them\u{201d} for the messages \u{201c}{title}\u{201d} left unsent ({when})."
            ),
            (Lang::En, false) => format!(
                "The company answered \u{201c}leave them\u{201d} for the messages \u{201c}{title}\u{201d} left unsent ({when})."
            ),
        }
    }

    /// What an audit log action code stands for ("" for a code it does not know).
    pub fn audit_action(self, code: &str) -> &'static str {
        match code {
            "incident.answer" => self.pick("障害への回答", "Incident answered"),
            "incident.notify" => self.pick("障害の通知", "Companies told of an incident"),
            "notice.create" => self.pick("お知らせの作成", "Notice created"),
            "notice.edit" => self.pick("お知らせの編集", "Notice edited"),
            "notice.impact" => self.pick("影響範囲の添付", "Impact scope attached"),
            "notice.update" => self.pick("経過の追加", "Update added"),
            "portal.denied" => self.pick("アクセスの拒否", "Access refused"),
            "portal.export" => self.pick("CSV の書き出し", "CSV exported"),
            "portal.view" => self.pick("スタッフによる閲覧", "Viewed by staff"),
            "redelivery.request" => self.pick("再送の依頼", "Redelivery requested"),
            "user.disable" => self.pick("ユーザーの無効化", "User disabled"),
            _ => "",
        }
    }

    /// A slug over the length allowed.
    pub fn slug_too_long(self, len: usize, max: usize) -> String {
        match self {
            Lang::Ja => format!("識別名は {max} 文字までにしてください（いまは {len} 文字）"),
            Lang::En => format!("A slug may have at most {max} characters (this one has {len})"),
        }
    }

    /// The name of a notice's version `number`.
    pub fn version(self, number: u32) -> String {
        match self {
            Lang::Ja => format!("第 {number} 版"),
            Lang::En => format!("Version {number}"),
        }
    }

    /// Labels of a version's page: the changes from the one before, its whole text, the
    /// version list, and the notice as it is now.
    pub fn version_labels(self) -> [&'static str; 4] {
        match self {
            Lang::Ja => ["前の版からの変更", "この版の全文", "改訂履歴", "現在のお知らせ"],
            Lang::En => [
                "Changes from the previous version",
                "The whole text of this version",
                "Revisions",
                "The notice as it is now",
            ],
        }
    }

    /// Formats a moment as `2021年3月1日(月) 17:35 JST` or `Mon, 1 Mar 2021 17:35 JST`.
    pub fn datetime(self, moment: &Moment) -> String {
        format!("{} {}", self.date_time_local(moment.local), moment.zone)
    }

    /// Formats a wall-clock time without its zone.
    pub fn date_time_local(self, t: NaiveDateTime) -> String {
        let (hour, minute) = (t.hour(), t.minute());
        match self {
            Lang::Ja => format!(
                "{}年{}月{}日({}) {hour:02}:{minute:02}",
                t.year(),
                t.month(),
                t.day(),
                weekday_ja(t.weekday())
            ),
            Lang::En => format!(
                "{}, {} {} {} {hour:02}:{minute:02}",
                t.weekday(),
                t.day(),
                MONTHS_EN[t.month0() as usize],
                t.year()
            ),
        }
    }

    /// A month heading: `2021年3月` or `March 2021`.
    pub fn month(self, year: i32, month: u32) -> String {
        match self {
            Lang::Ja => format!("{year}年{month}月"),
            Lang::En => format!("{} {year}", MONTH_NAMES_EN[(month - 1) as usize % 12]),
        }
    }

    /// A duration in whole minutes: `4日19時間35分` or `4 days 19 hours 35 minutes`.
    pub fn duration(self, minutes: i64) -> String {
        let minutes = minutes.max(0);
        let (days, hours, mins) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
        let mut parts = Vec::new();
        match self {
            Lang::Ja => {
                for (n, unit) in [(days, "日"), (hours, "時間"), (mins, "分")] {
                    if n > 0 {
                        parts.push(format!("{n}{unit}"));
                    }
                }
                if parts.is_empty() {
                    return "0分".into();
                }
                parts.concat()
            }
            Lang::En => {
                for (n, unit) in [(days, "day"), (hours, "hour"), (mins, "minute")] {
                    if n > 0 {
                        parts.push(format!("{n} {unit}{}", if n == 1 { "" } else { "s" }));
                    }
                }
                if parts.is_empty() {
                    return "0 minutes".into();
                }
                parts.join(" ")
            }
        }
    }
}

const MONTHS_EN: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const MONTH_NAMES_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The one-character Japanese weekday: 月火水木金土日.
pub fn weekday_ja(weekday: Weekday) -> &'static str {
    ["月", "火", "水", "木", "金", "土", "日"][weekday.num_days_from_monday() as usize]
}

/// Fixed text of the site's frame and pages.
pub struct Text {
    pub status: &'static str,
    pub notices: &'static str,
    pub components: &'static str,
    pub active: &'static str,
    pub upcoming: &'static str,
    pub recent: &'static str,
    pub no_active: &'static str,
    pub all_notices: &'static str,
    pub no_notices: &'static str,
    pub kind: &'static str,
    pub state: &'static str,
    pub severity: &'static str,
    pub affected: &'static str,
    pub started: &'static str,
    pub ended: &'static str,
    pub scheduled_start: &'static str,
    pub scheduled_end: &'static str,
    pub duration: &'static str,
    pub published: &'static str,
    pub timeline: &'static str,
    pub details: &'static str,
    pub after_resolution: &'static str,
    pub untranslated: &'static str,
    pub partly_untranslated: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub page: &'static str,
    pub times_in: &'static str,
    pub feed: &'static str,
    pub api: &'static str,
    pub language: &'static str,
    pub site_nav: &'static str,
    pub skip_to_main: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_home: &'static str,
    pub latest: &'static str,
}

impl Lang {
    pub fn text(self) -> &'static Text {
        match self {
            Lang::Ja => &JA,
            Lang::En => &EN,
        }
    }
}

static JA: Text = Text {
    status: "稼働状況",
    notices: "お知らせ一覧",
    components: "サービスの状態",
    active: "対応中の障害・メンテナンス",
    upcoming: "予定されているメンテナンス",
    recent: "最近のお知らせ",
    no_active: "現在対応中の障害はありません。",
    all_notices: "すべてのお知らせ",
    no_notices: "お知らせはまだありません。",
    kind: "種別",
    state: "状況",
    severity: "影響度",
    affected: "対象",
    started: "発生・開始",
    ended: "終了",
    scheduled_start: "開始予定",
    scheduled_end: "終了予定",
    duration: "期間",
    published: "掲載",
    timeline: "経過",
    details: "詳細",
    after_resolution: "解決後の更新",
    untranslated: "このお知らせは日本語版のみです。",
    partly_untranslated: "このお知らせの一部は日本語版のみです。",
    previous: "新しいお知らせ",
    next: "過去のお知らせ",
    page: "ページ",
    times_in: "時刻の表示",
    feed: "Atom フィード",
    api: "JSON API",
    language: "言語",
    site_nav: "サイト内",
    skip_to_main: "本文へ移動",
    not_found_title: "ページが見つかりません",
    not_found_body: "お探しのページは存在しないか、移動した可能性があります。",
    back_home: "稼働状況のページへ戻る",
    latest: "最新情報",
};

static EN: Text = Text {
    status: "Status",
    notices: "All notices",
    components: "Components",
    active: "Active incidents and maintenance",
    upcoming: "Scheduled maintenance",
    recent: "Recent notices",
    no_active: "There are no active incidents.",
    all_notices: "All notices",
    no_notices: "No notices yet.",
    kind: "Kind",
    state: "Status",
    severity: "Severity",
    affected: "Affects",
    started: "Started",
    ended: "Ended",
    scheduled_start: "Scheduled start",
    scheduled_end: "Scheduled end",
    duration: "Duration",
    published: "Published",
    timeline: "Timeline",
    details: "Details",
    after_resolution: "Update after resolution",
    untranslated: "This notice is available in Japanese only.",
    partly_untranslated: "Parts of this notice are available in Japanese only.",
    previous: "Newer notices",
    next: "Older notices",
    page: "Page",
    times_in: "Times are shown in",
    feed: "Atom feed",
    api: "JSON API",
    language: "Language",
    site_nav: "Site",
    skip_to_main: "Skip to the main content",
    not_found_title: "Page not found",
    not_found_body: "The page you are looking for does not exist or has moved.",
    back_home: "Back to the status page",
    latest: "Latest update",
};

impl Lang {
    /// A count with its thousands grouped, the same in both languages: `14,012,784`.
    pub fn number(self, n: i64) -> String {
        let digits = n.unsigned_abs().to_string();
        let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
        if n < 0 {
            out.push('-');
        }
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(digit);
        }
        out
    }

    /// Where a message stands, in the reader's words.
    pub fn delivery_status(self, status: DeliveryStatus) -> &'static str {
        match status {
            DeliveryStatus::Queued => self.pick("送信待ち", "Queued"),
            DeliveryStatus::Sent => self.pick("送信済み", "Sent"),
            DeliveryStatus::Deferred => self.pick("保留(再試行中)", "Deferred (retrying)"),
            DeliveryStatus::Bounced => self.pick("差し戻し(バウンス)", "Bounced"),
            DeliveryStatus::Failed => self.pick("失敗", "Failed"),
            DeliveryStatus::NotSent => self.pick("未送信", "Not sent"),
            DeliveryStatus::Unknown => self.pick("不明", "Unknown"),
        }
    }

    /// Why a message was not delivered, in words for someone who does not run mail servers.
    pub fn failure_reason(self, reason: FailureReason) -> &'static str {
        match reason {
            FailureReason::MailboxUnknown => {
                self.pick("宛先のメールアドレスが存在しません", "The address does not exist")
            }
            FailureReason::DomainNotFound => self.pick(
                "宛先のドメイン(@以降)が見つかりません",
                "The address's domain (after the @) does not exist",
            ),
            FailureReason::MailboxFull => {
                self.pick("受信者のメールボックスが満杯です", "The recipient's mailbox is full")
            }
            FailureReason::RejectedAsSpam => self.pick(
                "受信側のサーバーに迷惑メールと判定され、受け取りを拒否されました",
                "The receiving server refused it as spam",
            ),
            FailureReason::Timeout => self.pick(
                "受信側のサーバーから時間内に応答がありませんでした",
                "The receiving server did not answer in time",
            ),
            FailureReason::SenderDomainUnverified => self.pick(
                "送信元ドメインが認証されていなかったため送信されませんでした",
                "Not sent: the sender's domain was not verified",
            ),
            FailureReason::ConnectionLost => self.pick(
                "送信中に受信側のサーバーとの接続が切れました",
                "The connection to the receiving server was lost while sending",
            ),
        }
    }

    /// Where a release's recipients came from (`media_list`, `import_list`); any other
    /// keyword is returned as it is.
    pub fn recipient_source(self, keyword: &str) -> &str {
        match keyword {
            "media_list" => self.pick("当サービスの媒体リスト", "The service's media list"),
            "import_list" => self.pick("取り込んだ独自リスト", "A list the company imported"),
            other => other,
        }
    }

    /// Too many failed logins: when to try again.
    pub fn login_throttled(self, minutes: u64) -> String {
        let minutes = minutes.max(1);
        match self {
            Lang::Ja => format!(
                "ログインの失敗が続いたため、一時的にログインできません。{minutes}分ほど経ってから、もう一度お試しください。"
            ),
            Lang::En => format!(
                "Too many failed attempts. Please try again in {minutes} minute{}.",
                plural(minutes as i64)
            ),
        }
    }

    /// The size of an incident's impact on the company, above its list of releases.
    pub fn incident_messages(self, messages: i64) -> String {
        let n = self.number(messages);
        match self {
            Lang::Ja => format!("この障害により、{n}件のメールが届いていません。"),
            Lang::En => {
                format!("{n} message{} could not be delivered because of this incident.", plural(messages))
            }
        }
    }

    /// A count of messages, e.g. in a list of releases: `1,204件` or `1,204 messages`.
    pub fn messages(self, messages: i64) -> String {
        let n = self.number(messages);
        match self {
            Lang::Ja => format!("{n}件"),
            Lang::En => format!("{n} message{}", plural(messages)),
        }
    }

    /// How many recipients match the filter.
    pub fn matching_recipients(self, matching: i64) -> String {
        let n = self.number(matching);
        match self {
            Lang::Ja => format!("条件に一致する宛先: {n}件"),
            Lang::En => {
                format!("{n} recipient{} match{}", plural(matching), if matching == 1 { "es" } else { "" })
            }
        }
    }

    /// The staff form named no company.
    pub fn unknown_company(self, slug: &str) -> String {
        match self {
            Lang::Ja => format!("「{slug}」に該当する企業はありません。"),
            Lang::En => format!("No company's name or slug contains “{slug}”."),
        }
    }
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Fixed text of the company portal.
pub struct PortalText {
    pub portal: &'static str,
    pub releases: &'static str,
    pub staff: &'static str,
    pub signed_in_as: &'static str,
    pub logout: &'static str,
    pub status_page: &'static str,
    pub login_title: &'static str,
    pub login_intro: &'static str,
    pub email: &'static str,
    pub password: &'static str,
    pub login_button: &'static str,
    pub login_invalid: &'static str,
    pub login_incomplete: &'static str,
    pub session_ended: &'static str,
    pub logged_out: &'static str,
    pub form_expired: &'static str,
    pub incident_heading: &'static str,
    pub incident_none_left: &'static str,
    pub title_words: &'static str,
    pub sent_from: &'static str,
    pub sent_to: &'static str,
    pub undelivered_only: &'static str,
    pub apply_filter: &'static str,
    pub clear_filter: &'static str,
    pub title: &'static str,
    pub sent_at: &'static str,
    pub redelivered_total: &'static str,
    pub total: &'static str,
    pub undelivered: &'static str,
    pub undelivered_only_option: &'static str,
    pub needs_attention: &'static str,
    pub no_releases: &'static str,
    pub no_matching_releases: &'static str,
    pub newer: &'static str,
    pub older: &'static str,
    pub first_page: &'static str,
    pub pick_title: &'static str,
    pub pick_intro: &'static str,
    pub company_slug: &'static str,
    pub company_matches: &'static str,
    pub more_matches: &'static str,
    pub show: &'static str,
    pub affected_companies: &'static str,
    pub company: &'static str,
    pub no_affected: &'static str,
    pub sender: &'static str,
    pub default_sender: &'static str,
    pub own_sender: &'static str,
    pub recipient_source: &'static str,
    pub results: &'static str,
    pub recipients: &'static str,
    pub status: &'static str,
    pub all: &'static str,
    pub address_part: &'static str,
    pub csv: &'static str,
    pub address: &'static str,
    pub attempts: &'static str,
    pub last_attempt: &'static str,
    pub reason: &'static str,
    pub redelivered: &'static str,
    pub being_redelivered: &'static str,
    pub no_recipients: &'static str,
    /// An empty later page (a link kept past the list's end).
    pub past_the_end: &'static str,
    /// A date filter whose start is after its end.
    pub dates_reversed: &'static str,
    /// A date filter that is not a date (followed by what was typed).
    pub bad_date: &'static str,
    pub no_such_date: &'static str,
    pub back_to_releases: &'static str,
    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub unavailable_title: &'static str,
    pub unavailable_body: &'static str,
    pub unavailable_status: &'static str,
    pub forbidden_title: &'static str,
    pub forbidden_body: &'static str,
    pub logged_out_title: &'static str,
    pub logged_out_body: &'static str,
    pub log_in_again: &'static str,
    pub unsaved_title: &'static str,
    pub unsaved_body: &'static str,
    pub unsaved_database_body: &'static str,
    pub unsaved_reopen: &'static str,
    pub unsaved_gone_body: &'static str,
    pub unsaved_write_new: &'static str,
    pub too_large_title: &'static str,
    pub bad_request_title: &'static str,
    pub bad_request_body: &'static str,
    pub too_large_body: &'static str,
    pub portal_top: &'static str,
}

impl Lang {
    /// The company portal's fixed text.
    pub fn portal(self) -> &'static PortalText {
        match self {
            Lang::Ja => &PORTAL_JA,
            Lang::En => &PORTAL_EN,
        }
    }
}

static PORTAL_JA: PortalText = PortalText {
    portal: "企業ポータル",
    releases: "リリース一覧",
    staff: "運営スタッフ",
    signed_in_as: "ログイン中",
    logout: "ログアウト",
    status_page: "稼働状況ページ",
    login_title: "企業ポータルにログイン",
    login_intro: "ご登録のメールアドレスとパスワードを入力してください。",
    email: "メールアドレス",
    password: "パスワード",
    login_button: "ログイン",
    login_invalid: "メールアドレスまたはパスワードが正しくありません。",
    login_incomplete: "メールアドレスとパスワードの両方を入力してください。",
    session_ended: "ログインの有効期限が切れたか、ログアウトしました。お手数ですが、もう一度ログインしてください。",
    logged_out: "ログアウトしました。",
    form_expired: "フォームの有効期限が切れたか、別のサイトから送信されました。もう一度ログインしてください。",
    incident_heading: "障害の影響",
    incident_none_left: "この障害で届かなかったメールのうち、未配信のまま残っているものはありません。",
    title_words: "タイトル",
    sent_from: "送信日(から)",
    sent_to: "送信日(まで)",
    undelivered_only: "届いていないメールがあるリリースのみ",
    apply_filter: "絞り込む",
    clear_filter: "条件をクリア",
    title: "タイトル",
    sent_at: "送信日時",
    redelivered_total: "再送で送信",
    total: "合計",
    undelivered: "未達",
    undelivered_only_option: "未達のみ",
    needs_attention: "要確認",
    no_releases: "まだ配信したリリースはありません。",
    no_matching_releases: "条件に一致するリリースはありません。",
    newer: "前のページ",
    older: "次のページ",
    first_page: "最初のページ",
    pick_title: "企業の選択",
    pick_intro: "表示する企業の名前か ID(スラッグ)を、一部でも入力してください。",
    company_slug: "企業名・企業 ID",
    company_matches: "該当する企業",
    more_matches: "ほかにも該当する企業があります。名前か ID をもう少し詳しく入力してください。",
    show: "表示",
    affected_companies: "障害で未配信のメールが残っている企業",
    company: "企業",
    no_affected: "障害で未配信のまま残っているメールのある企業はありません。",
    sender: "送信元アドレス",
    default_sender: "サービス標準の送信元",
    own_sender: "企業独自のアドレス",
    recipient_source: "宛先リスト",
    results: "配信結果",
    recipients: "宛先",
    status: "状況",
    all: "すべて",
    address_part: "メールアドレス(一部)",
    csv: "CSV でダウンロード",
    address: "メールアドレス",
    attempts: "試行回数",
    last_attempt: "最終試行",
    reason: "理由",
    redelivered: "再送",
    being_redelivered: "再送の手続き中",
    no_recipients: "条件に一致する宛先はありません。",
    past_the_end: "一覧はこのページより前で終わっています。最初のページからご覧ください。",
    dates_reversed: "開始日が終了日より後になっているため、日付の条件を外して表示しています。",
    bad_date: "日付は 2021-03-01 のように年-月-日で入力してください: ",
    no_such_date: "その日付はありません（日の数を確かめてください）: ",
    back_to_releases: "リリース一覧へ戻る",
    not_found_title: "ページが見つかりません",
    not_found_body: "お探しのページは見つかりませんでした。URL をご確認のうえ、リリース一覧からお探しください。",
    unavailable_title: "ただいま企業ポータルをご利用いただけません",
    unavailable_body: "配信データベースに接続できないため、一時的にご利用いただけない状態です。お手数ですが、数分ほど経ってから再度お試しください。",
    unavailable_status: "障害やメンテナンスの情報は、稼働状況ページで引き続きご確認いただけます。",
    forbidden_title: "フォームの有効期限が切れました",
    forbidden_body: "フォームの有効期限が切れたか、別のサイトから送信されたため、処理できませんでした。前のページに戻ってページを再読み込みし、もう一度お試しください。",
    logged_out_title: "もう一度ログインしてください",
    logged_out_body: "ログインの有効期限が切れたか、ログアウトしたため、送信した内容は処理していません。もう一度ログインしてから、操作をやり直してください。",
    log_in_again: "ログインする",
    unsaved_title: "保存していません",
    unsaved_body: "ログインの有効期限が切れたか、フォームが古くなっていた(別の画面でログインし直した、など)ため、保存も公開もしていません。入力した内容を下に残しています。コピーしてからフォームを開き直し(求められたらログインして)、貼り付けてください。",
    unsaved_database_body: "データベースに接続できないため、保存も公開もしていません。入力した内容を下に残しています。コピーしておき、しばらくしてからフォームを開き直して貼り付けてください。",
    unsaved_reopen: "フォームを開き直す",
    unsaved_gone_body: "このお知らせは、フォームを開いた後にファイルが削除されたか名前が変わったため、もう公開されていません。保存も公開もしていません。入力した内容を下に残しています。お知らせ一覧で確かめ、必要なら新しいお知らせとして書いてください。",
    unsaved_write_new: "新しいお知らせを書く",
    too_large_title: "フォームの内容が大きすぎます",
    bad_request_title: "リクエストを読み取れませんでした",
    bad_request_body: "ページのアドレスかフォームに、読み取れない値が含まれていたため、処理していません。何も保存・変更されていません。前のページに戻り、リンクかフォームからもう一度お試しください。",
    too_large_body: "送信された内容が 2 MB を超えたため、処理していません。何も保存・変更されていません。前のページに戻り、内容を短くしてからもう一度送信してください。",
    portal_top: "企業ポータルのトップへ",
};

static PORTAL_EN: PortalText = PortalText {
    portal: "Company portal",
    releases: "Your releases",
    staff: "Staff",
    signed_in_as: "Signed in as",
    logout: "Log out",
    status_page: "Public status page",
    login_title: "Log in to the company portal",
    login_intro: "Enter the email address and password of your account.",
    email: "Email address",
    password: "Password",
    login_button: "Log in",
    login_invalid: "The email address or password is incorrect.",
    login_incomplete: "Enter both your email address and your password.",
    session_ended: "Your session has ended. Please log in again.",
    logged_out: "You have logged out.",
    form_expired: "The form expired or was sent from another site. Please log in again.",
    incident_heading: "Affected by an incident",
    incident_none_left: "No message this incident left undelivered is still waiting to be delivered.",
    title_words: "Title contains",
    sent_from: "Sent from",
    sent_to: "Sent until",
    undelivered_only: "Only releases with undelivered messages",
    apply_filter: "Filter",
    clear_filter: "Clear filters",
    title: "Title",
    sent_at: "Date sent",
    redelivered_total: "Sent on redelivery",
    total: "Total",
    undelivered: "Undelivered",
    undelivered_only_option: "Undelivered only",
    needs_attention: "Needs attention",
    no_releases: "No releases have been sent yet.",
    no_matching_releases: "No releases match these filters.",
    newer: "Previous page",
    older: "Next page",
    first_page: "First page",
    pick_title: "Choose a company",
    pick_intro: "Enter the name or the slug of the company to view, or part of it.",
    company_slug: "Company name or slug",
    company_matches: "Matching companies",
    more_matches: "More companies match: type more of the name or slug.",
    show: "Show",
    affected_companies: "Companies with messages incidents left undelivered",
    company: "Company",
    no_affected: "No company has messages an incident left undelivered.",
    sender: "Sender address",
    default_sender: "the service's default sender",
    own_sender: "the company's own address",
    recipient_source: "Recipients from",
    results: "Delivery results",
    recipients: "Recipients",
    status: "Status",
    all: "All",
    address_part: "Address contains",
    csv: "Download as CSV",
    address: "Address",
    attempts: "Attempts",
    last_attempt: "Last attempt",
    reason: "Reason",
    redelivered: "Redelivered",
    being_redelivered: "Being redelivered",
    no_recipients: "No recipients match these filters.",
    past_the_end: "The list ends before this page: start again from the first page.",
    dates_reversed: "The start date is after the end date, so the dates are left out of the filter.",
    bad_date: "Write dates as year-month-day, such as 2021-03-01: ",
    no_such_date: "There is no such day (check the day of the month): ",
    back_to_releases: "Back to your releases",
    not_found_title: "Page not found",
    not_found_body: "We could not find that page. Please check the address, or look for the release in your list.",
    unavailable_title: "The company portal is temporarily unavailable",
    unavailable_body: "We cannot reach the delivery database right now. Please try again in a few minutes.",
    unavailable_status: "The public status page keeps working and has the latest on incidents and maintenance.",
    forbidden_title: "This form has expired",
    forbidden_body: "The form expired or was sent from another site, so it was not processed. Go back, reload the page and try again.",
    logged_out_title: "Please log in again",
    logged_out_body: "Your session has ended or you logged out, so what you sent was not processed. Log in again, then do it once more.",
    log_in_again: "Log in",
    unsaved_title: "Not saved",
    unsaved_body: "Your session ended, or the form was out of date (you logged in again elsewhere, say), so nothing was saved or published. What you typed is below: copy it, open the form again (logging in if asked) and paste it.",
    unsaved_database_body: "The database cannot be reached, so nothing was saved or published. What you typed is below: copy it, and open the form again in a while to paste it.",
    unsaved_reopen: "Open the form again",
    unsaved_gone_body: "This notice is no longer published: its file was deleted or renamed after the form was opened. Nothing was saved or published. What you typed is below: check the list of notices, and write it as a new notice if it is still needed.",
    unsaved_write_new: "Write a new notice",
    too_large_title: "This form is too large",
    bad_request_title: "This request could not be read",
    bad_request_body: "The page's address or the form held a value that could not be read, so nothing was processed: nothing was saved or changed. Go back and try again from a link or the form.",
    too_large_body: "What was sent is over 2 MB, so it was not processed: nothing was saved or changed. Go back, shorten it and send it again.",
    portal_top: "Go to the company portal",
};

/// Fixed text of redelivery: the form on a release, its confirmation and its progress.
pub struct RedeliveryText {
    pub heading: &'static str,
    pub intro: &'static str,
    pub filter_button: &'static str,
    pub selected_button: &'static str,
    pub select: &'static str,
    pub confirm_title: &'static str,
    pub skipped_heading: &'static str,
    pub confirm_button: &'static str,
    pub back: &'static str,
    pub reason_label: &'static str,
    pub for_incident: &'static str,
    pub reason_missing: &'static str,
    pub answer_reason_missing: &'static str,
    pub reason_too_long: &'static str,
    pub answer_missing: &'static str,
    pub nothing: &'static str,
    pub taken_meanwhile: &'static str,
    pub none_selected: &'static str,
    pub unknown_selection: &'static str,
    pub progress_heading: &'static str,
    pub reload_hint: &'static str,
    pub on_behalf: &'static str,
    pub in_progress: &'static str,
    pub done: &'static str,
    pub queued: &'static str,
    pub sent: &'static str,
    pub failed: &'static str,
    pub unknown: &'static str,
    pub question: &'static str,
    pub answer_redeliver: &'static str,
    pub answer_leave: &'static str,
    pub answered_redeliver: &'static str,
    pub answered_leave: &'static str,
    pub leave_title: &'static str,
    pub leave_final: &'static str,
    pub leave_button: &'static str,
}

static REDELIVERY_JA: RedeliveryText = RedeliveryText {
    heading: "届いていないメールの再送",
    intro: "配信済みのメールが再び送られることはなく、同じメールを二重に再送することもありません。再送しても届かなかったメールは、あらためて再送を依頼できます。",
    filter_button: "この条件に合う未達の宛先すべてに再送…",
    selected_button: "選択した宛先に再送…",
    select: "再送する",
    confirm_title: "再送の確認",
    skipped_heading: "再送しないもの",
    confirm_button: "再送する",
    back: "戻る",
    reason_label: "企業に代わって操作する理由(必須)",
    for_incident: "障害への回答による再送（このリリースの分）: ",
    reason_missing: "代理で再送する理由を入力してください。",
    answer_reason_missing: "企業に代わって操作する理由を入力してください。",
    reason_too_long: "理由が長すぎます。500文字以内で入力してください。",
    answer_missing: "「未送信のメールを再送する」か「再送しない」のどちらかを選んでください。",
    nothing: "再送できる宛先がありません。",
    taken_meanwhile: "この確認のあいだに、これらのメールは別の再送の依頼に含まれたか配信されました。新しい依頼は作成していません。",
    none_selected: "宛先が選ばれていません。再送する宛先にチェックを入れてください。",
    unknown_selection: "再送する宛先の選び方がわかりません。リリースのページで、チェックした宛先か、絞り込みの未配信の宛先を選んでください。",
    progress_heading: "再送の状況",
    reload_hint: "選んでいる宛先を消さないよう、このページは自動では更新しません。最新の状況はページを再読み込みしてご覧ください。",
    on_behalf: "サポート担当が代理で操作",
    in_progress: "再送中",
    done: "完了",
    queued: "再送待ち",
    sent: "再送済み",
    failed: "再送失敗",
    unknown: "結果不明",
    question: "この障害で送信されなかったメールを再送しますか。",
    answer_redeliver: "未送信のメールを再送する",
    answer_leave: "再送しない",
    answered_redeliver: "回答済み: 未送信のメールを再送する",
    answered_leave: "回答済み: 再送しない",
    leave_title: "「再送しない」の確認",
    leave_final: "この回答は、あとから変えられません。必要になったときは、各リリースのページで宛先を選んで再送を依頼できます。",
    leave_button: "「再送しない」と回答する",
};

static REDELIVERY_EN: RedeliveryText = RedeliveryText {
    heading: "Redeliver what did not arrive",
    intro: "A delivered message is never sent again, and no message is redelivered twice at once; one that a redelivery could not deliver may be redelivered again.",
    filter_button: "Redeliver to every undelivered recipient of this filter…",
    selected_button: "Redeliver to the selected recipients…",
    select: "Redeliver",
    confirm_title: "Confirm the redelivery",
    skipped_heading: "Not sent again",
    confirm_button: "Redeliver",
    back: "Back",
    reason_label: "Why you act on the company's behalf (required)",
    for_incident: "Asked for in answer to an incident (this release's share): ",
    reason_missing: "Give the reason for redelivering on the company's behalf.",
    answer_reason_missing: "Give the reason for acting on the company's behalf.",
    reason_too_long: "The reason is too long: 500 characters at most.",
    answer_missing: "Choose whether to redeliver the messages or to leave them.",
    nothing: "There is nothing to redeliver.",
    taken_meanwhile: "While this was being confirmed, these messages were taken by another redelivery request or delivered: no request was created.",
    none_selected: "No recipient was selected: check the recipients to redeliver.",
    unknown_selection: "The selection of recipients is not one the release page makes: choose the checked recipients or the filter's undelivered ones there.",
    progress_heading: "Redeliveries",
    reload_hint: "So as not to clear the recipients you may be choosing, this page does not reload itself: reload it to see the latest.",
    on_behalf: "done by support on the company's behalf",
    in_progress: "in progress",
    done: "done",
    queued: "waiting",
    sent: "sent again",
    failed: "failed again",
    unknown: "outcome unknown",
    question: "Should the messages this incident left unsent be redelivered?",
    answer_redeliver: "Redeliver the unsent messages",
    answer_leave: "Leave them",
    answered_redeliver: "Answered: redeliver the unsent messages",
    answered_leave: "Answered: leave them",
    leave_title: "Confirm: leave them",
    leave_final: "This answer cannot be changed later. Should you need them after all, each release's page lets you choose recipients and ask for a redelivery.",
    leave_button: "Answer \u{201c}leave them\u{201d}",
};

impl Lang {
    /// Redelivery's fixed text.
    pub fn redelivery(self) -> &'static RedeliveryText {
        match self {
            Lang::Ja => &REDELIVERY_JA,
            Lang::En => &REDELIVERY_EN,
        }
    }

    /// Why a selected message is not sent again, in the reader's words.
    pub fn skip_reason(self, reason: SkipReason) -> &'static str {
        match reason {
            SkipReason::Delivered => {
                self.pick("配信済み(二重に送ることはありません)", "already delivered (never sent twice)")
            }
            SkipReason::Queued => self.pick("初回の送信待ち", "still queued for its first delivery"),
            SkipReason::BeingRedelivered => self.pick("すでに再送の手続き中", "already being redelivered"),
            SkipReason::Suppressed => self.pick(
                "配信停止中の宛先(不達・苦情・配信停止)",
                "suppressed address (bounce, complaint or unsubscribe)",
            ),
            SkipReason::AddressNotFound => self.pick(
                "宛先のアドレスまたはドメインが存在しない(受信側サーバーの回答。再送しても届きません)",
                "the address or its domain does not exist (the receiving server said so: it would bounce again)",
            ),
            SkipReason::OutcomeUnknown => self.pick(
                "結果不明(届いている可能性があるため、担当者が判断します)",
                "outcome unknown (it may have arrived: a person decides)",
            ),
            SkipReason::ContentUnavailable => {
                self.pick("配信内容の保存期間が終了しています", "the release's content is no longer kept")
            }
        }
    }

    /// `N messages will be sent again to N recipients.`
    pub fn redelivery_summary(self, messages: i64) -> String {
        let n = self.number(messages);
        match self {
            Lang::Ja => format!("{n}件の宛先に、{n}件のメールを再送します。"),
            Lang::En => {
                let s = plural(messages);
                format!("{n} message{s} will be sent again, to {n} recipient{s}.")
            }
        }
    }

    /// The button that emails the affected companies not yet told of a notice's version.
    /// `updates` of the `companies` were told of an earlier version: theirs is an update.
    pub fn notify_button(self, companies: usize, updates: usize) -> String {
        let (n, m) = (self.number(companies as i64), self.number(updates as i64));
        let ies = |n: usize| if n == 1 { "y" } else { "ies" };
        match (self, updates) {
            (Lang::Ja, 0) => format!("この版をまだ通知していない影響企業 {n} 社にメールで通知する"),
            (Lang::Ja, _) => {
                format!(
                    "この版をまだ通知していない影響企業 {n} 社にメールで通知する（うち {m} 社へは続報として）"
                )
            }
            (Lang::En, 0) => {
                format!("Email the {n} affected compan{} not yet told of this version", ies(companies))
            }
            (Lang::En, _) => format!(
                "Email the {n} affected compan{} not yet told of this version ({m} of them as an update)",
                ies(companies)
            ),
        }
    }

    /// The refusal of an answer to an incident the company answered otherwise already.
    pub fn answered_already(self, redeliver: bool, at: &str) -> String {
        let r = self.redelivery();
        let answer = if redeliver { r.answer_redeliver } else { r.answer_leave };
        match self {
            Lang::Ja => {
                format!("この障害にはすでに回答済みです（{at}、「{answer}」）。回答は変わっていません。")
            }
            Lang::En => format!(
                "This incident was answered already ({at}: \u{201c}{answer}\u{201d}); the answer stays."
            ),
        }
    }

    /// The refusal of a request over the company's daily cap: what was asked today, and what
    /// more may be.
    /// The daily cap refusing a request of `asked` messages; `choosing`: the recipients were
    /// chosen (a release's page), so fewer may be, rather than an incident's answer, which takes
    /// them all.
    pub fn over_quota(self, used: i64, cap: i64, (asked, choosing): (i64, bool)) -> String {
        let left = (cap - used).max(0);
        let (n_used, n_cap, n_left, n_asked) =
            (self.number(used), self.number(cap), self.number(left), self.number(asked));
        // Larger than a whole day's cap: waiting for tomorrow does not help.
        if asked > cap {
            return match (self, choosing) {
                (Lang::Ja, true) => format!(
                    "1日に再送できるのは{n_cap}件までのため、{n_asked}件の依頼は受け付けられません。宛先を{n_cap}件以内ずつ選んで、日を分けて依頼してください。"
                ),
                (Lang::Ja, false) => format!(
                    "1日に再送できるのは{n_cap}件までのため、この障害の{n_asked}件をまとめて再送することはできません。各リリースのページで宛先を{n_cap}件以内ずつ選んで、日を分けて依頼してください。"
                ),
                (Lang::En, true) => format!(
                    "At most {n_cap} messages can be redelivered a day, so this request for {n_asked} cannot be taken: choose {n_cap} recipient{} or fewer at a time, on different days.",
                    plural(cap)
                ),
                (Lang::En, false) => format!(
                    "At most {n_cap} messages can be redelivered a day, so the {n_asked} this incident left unsent cannot be redelivered at once: choose {n_cap} recipient{} or fewer at a time on each release's page, on different days.",
                    plural(cap)
                ),
            };
        }
        match (self, left, choosing) {
            (Lang::Ja, 0, _) => format!(
                "1日の再送の上限({n_cap}件)に達しているため受け付けられません。本日はすでに{n_used}件の再送を依頼しています。翌日0時から、あらためて依頼できます。"
            ),
            (Lang::Ja, _, true) => format!(
                "1日の再送の上限({n_cap}件)を超えるため受け付けられません。本日はすでに{n_used}件の再送を依頼しており、あと{n_left}件まで依頼できます。宛先を{n_left}件以内に絞って選ぶか、翌日0時以降にあらためて依頼してください。"
            ),
            (Lang::Ja, _, false) => format!(
                "1日の再送の上限({n_cap}件)を超えるため受け付けられません。本日はすでに{n_used}件の再送を依頼しており、あと{n_left}件まで依頼できます。各リリースのページで宛先を選んで再送するか、翌日0時以降にあらためて回答してください。"
            ),
            (Lang::En, 0, _) => format!(
                "The daily limit of {n_cap} redelivered messages is reached: {n_used} already requested today. Redelivery can be requested again from midnight."
            ),
            (Lang::En, _, true) => format!(
                "Over the daily limit of {n_cap} redelivered messages: {n_used} already requested today, {n_left} more can be. Choose {n_left} recipient{} or fewer, or ask again after midnight.",
                plural(left)
            ),
            (Lang::En, _, false) => format!(
                "Over the daily limit of {n_cap} redelivered messages: {n_used} already requested today, {n_left} more can be. Choose recipients on each release's page, or answer again after midnight."
            ),
        }
    }

    /// What the answer "leave them" does with the `messages` an incident left unsent.
    pub fn leave_summary(self, messages: i64) -> String {
        let n = self.number(messages);
        match self {
            Lang::Ja => format!("この障害で届かなかった{n}件のメールを、この回答では再送しません。"),
            Lang::En => format!(
                "With this answer, the {n} message{} this incident left unsent will not be redelivered.",
                plural(messages)
            ),
        }
    }

    /// What a redelivery over the daily cap would have sent: nothing is, as it stands.
    pub fn redelivery_over_quota_size(self, messages: i64) -> String {
        let n = self.number(messages);
        match self {
            Lang::Ja => {
                format!("この依頼は{n}件のメールの再送です。上限を超えるため、このままでは再送できません。")
            }
            Lang::En => format!(
                "This request is for {n} message{}: over the limit, it cannot be sent as it stands.",
                plural(messages)
            ),
        }
    }

    /// Which recipients a redelivery takes: those checked, or every undelivered one that a
    /// filter (`status`: its label, `None` for any; `address`: part of the address) shows, on
    /// every page of it.
    pub fn redelivery_selection(self, checked: Option<usize>, status: Option<&str>, address: &str) -> String {
        if let Some(n) = checked {
            let count = self.number(n as i64);
            return match self {
                Lang::Ja => format!("対象: チェックした{count}件の宛先"),
                Lang::En => format!("Recipients: the {count} you checked"),
            };
        }
        match self {
            Lang::Ja => {
                let status = status.map(|s| format!("状況が「{s}」で")).unwrap_or_default();
                let address = match address.is_empty() {
                    true => String::new(),
                    false => format!("宛先に「{address}」を含み"),
                };
                format!("対象: {status}{address}まだ届いていない宛先すべて（表示中のページ以外も含みます）")
            }
            Lang::En => {
                let status =
                    status.map(|s| format!(" with the status \u{201c}{s}\u{201d}")).unwrap_or_default();
                let address = match address.is_empty() {
                    true => String::new(),
                    false => format!(" whose address contains \u{201c}{address}\u{201d}"),
                };
                format!(
                    "Recipients: every undelivered one{status}{address}, on every page, not only the one shown"
                )
            }
        }
    }
}

impl StaffText {
    /// The label of a staff form's field, by its name (`None`: not a field of the staff forms).
    pub fn field_label(&self, name: &str) -> Option<&'static str> {
        Some(match name {
            "slug" => self.slug,
            "title" => self.title,
            "title_en" => self.title_en,
            "kind" => self.kind,
            "status" => self.status,
            "severity" => self.severity,
            "components" => self.components,
            "started_at" => self.started_at,
            "resolved_at" => self.resolved_at,
            "published_at" => self.published_at,
            "body" => self.body,
            "body_en" => self.body_en,
            "note" => self.note,
            "at" => self.at,
            "text" => self.text,
            "text_en" => self.text_en,
            "reason" => self.reason,
            "reason_en" => self.reason_en,
            _ => return None,
        })
    }
}

/// Fixed text of the staff console.
pub struct StaffText {
    pub console_top: &'static str,
    pub reason_needed: &'static str,
    pub untranslated: &'static str,
    pub dates_reversed: &'static str,
    pub file_broken: &'static str,
    pub file_broken_help: &'static str,
    pub not_found_body: &'static str,
    /// The header's name of the staff pages.
    pub console: &'static str,
    pub notices: &'static str,
    pub title: &'static str,
    pub kind: &'static str,
    pub status: &'static str,
    pub last_change: &'static str,
    pub add_update: &'static str,
    pub updated: &'static str,
    pub unchanged: &'static str,
    pub files_with_errors: &'static str,
    /// Before the status readers see for a maintenance past its planned time.
    pub shown_publicly_as: &'static str,
    pub past_planned_end: &'static str,
    pub at: &'static str,
    pub text: &'static str,
    pub text_en: &'static str,
    pub publish: &'static str,
    pub note: &'static str,
    pub reason: &'static str,
    pub not_saved: &'static str,
    pub conflict: &'static str,
    pub conflict_help: &'static str,
    pub bad_time: &'static str,
    pub no_such_time: &'static str,
    pub before_latest: &'static str,
    pub in_the_future: &'static str,
    pub not_happened_yet: &'static str,
    pub not_published_yet: &'static str,
    pub completed_before_start: &'static str,
    pub cancelled_under_way: &'static str,
    pub time_missing: &'static str,
    /// Before the label of a required field left empty.
    pub field_required: &'static str,
    pub slug_missing: &'static str,
    pub marker_in_body: &'static str,
    pub ambiguous_time: &'static str,
    pub no_status: &'static str,
    pub status_unchanged: &'static str,
    pub follows_plan: &'static str,
    pub status_by_kind: &'static str,
    pub reason_en: &'static str,
    pub no_text: &'static str,
    pub audit: &'static str,
    pub actor: &'static str,
    pub action: &'static str,
    pub company: &'static str,
    pub from: &'static str,
    pub to: &'static str,
    pub filter: &'static str,
    pub target: &'static str,
    pub detail: &'static str,
    pub no_lines: &'static str,
    pub older: &'static str,
    pub unknown_company: &'static str,
    pub impact: &'static str,
    pub scope: &'static str,
    pub no_scope: &'static str,
    pub as_of: &'static str,
    pub companies: &'static str,
    pub releases: &'static str,
    pub undelivered: &'static str,
    pub share: &'static str,
    pub per_release: &'static str,
    pub histogram: &'static str,
    pub affected: &'static str,
    pub contact: &'static str,
    pub answer: &'static str,
    pub redelivered: &'static str,
    pub answer_redeliver: &'static str,
    pub answer_leave: &'static str,
    pub not_answered: &'static str,
    pub notified: &'static str,
    pub notified_count: &'static str,
    pub told_earlier: &'static str,
    pub none_notified: &'static str,
    pub all_told: &'static str,
    pub scope_editor: &'static str,
    pub any: &'static str,
    pub preview: &'static str,
    pub previewing: &'static str,
    pub attach: &'static str,
    pub attached: &'static str,
    pub attached_note: &'static str,
    pub to_before_from: &'static str,
    pub new_notice: &'static str,
    pub slug: &'static str,
    pub title_en: &'static str,
    pub severity: &'static str,
    pub components: &'static str,
    pub started_at: &'static str,
    pub published_at: &'static str,
    pub body: &'static str,
    pub body_en: &'static str,
    pub none: &'static str,
    pub show_preview: &'static str,
    pub publish_notice: &'static str,
    pub preview_title: &'static str,
    pub preview_warnings: &'static str,
    pub update_warnings: &'static str,
    pub publish_warnings: &'static str,
    pub bad_slug: &'static str,
    pub slug_taken: &'static str,
    pub edit: &'static str,
    pub resolved_at: &'static str,
}

impl Lang {
    pub fn staff(self) -> &'static StaffText {
        match self {
            Lang::Ja => &STAFF_JA,
            Lang::En => &STAFF_EN,
        }
    }
}

static STAFF_JA: StaffText = StaffText {
    console_top: "お知らせの一覧へ",
    reason_needed: "解決した後の経過には、追記する理由を書いてください（例: 原因と再発防止策を追記）。",
    untranslated: "英訳が空です（英語のページでは日本語のまま表示されます。公開はできます）: ",
    dates_reversed: "開始日が終了日より後になっています。日付を確かめてください。",
    file_broken: "このお知らせのファイルにエラーがあります",
    file_broken_help: "ファイルが直接書き換えられ、エラーがあるため、公開ページにはその前の版が表示されています。ここでは、その公開中の版を表示しています。このフォームから保存するには、先に次のエラーをファイルで直してください。",
    not_found_body: "お探しのページは見つかりませんでした。お知らせのファイルが削除されたか名前が変わったのかもしれません。お知らせの一覧からお探しください。",
    console: "スタッフ用コンソール",
    notices: "お知らせの管理",
    title: "タイトル",
    kind: "種類",
    status: "状況",
    last_change: "最終更新",
    add_update: "経過を追加",
    updated: "公開しました: ",
    unchanged: "変更がなかったため、新しい版は公開していません: ",
    files_with_errors: "次のファイルにエラーがあるため、書かれたままでは公開されていません（以前の版があれば、それを公開し続けています）。ファイルを直してください:",
    shown_publicly_as: "予定の時刻を過ぎたため、公開ページでの表示: ",
    past_planned_end: "予定の終了時刻を過ぎています。終わったら「完了」の経過を追加してください",
    at: "日時",
    text: "本文 (日本語)",
    text_en: "本文 (英語、任意)",
    publish: "追加して公開",
    note: "改訂の説明 (任意。例: 原因と対策を追記)",
    reason: "解決後に追記する理由 (解決済みのお知らせでは必須)",
    not_saved: "次の点を直してください（何も保存・公開していません）。",
    conflict: "開いた後に、このお知らせは変更されています",
    conflict_help: "変更点は次のとおりです。入力内容はそのまま残してあります。最新の内容を確かめてから、もう一度公開してください。",
    bad_time: "日時は 2021-03-01T17:35 の形で入力してください: ",
    no_such_time: "その日時はありません。日付と時刻を確かめてください: ",
    before_latest: "最新の経過より前の日時です。経過は古い順に並ぶので、これより後の日時にしてください: ",
    in_the_future: "まだ来ていない日時です。経過は起きたことを書くので、現在までの日時にしてください。現在: ",
    cancelled_under_way: "実施中または完了したメンテナンスは「中止」にできません。終わったときは「完了」を選んでください。",
    completed_before_start: "予定の開始時刻より前に「完了」にはできません。実施せずに取りやめたときは「中止」を選んでください。延期するときは、編集画面で予定の時刻を変えてください。予定の開始: ",
    not_happened_yet: "まだ来ていない日時です。障害の発生・解決は起きたことなので、現在までの日時にしてください。現在: ",
    not_published_yet: "まだ来ていない日時です。お知らせは保存するとすぐに公開されるので(予約公開はできません)、公開日時は現在までにしてください。現在: ",
    time_missing: "日時を 2021-03-01T17:35 の形で入力してください（必須）",
    field_required: "入力・選択してください（必須）: ",
    marker_in_body: "本文の言語の区切りの行は書けません（英語の本文は「本文 (英語)」欄へ）: ",
    slug_missing: "識別名を入力してください（英小文字・数字・ハイフン。URL とファイル名になります）",
    ambiguous_time: "この日時はタイムゾーンの切り替えにかかり、一つに決まりません: ",
    no_status: "このお知らせの種類で使える状況を選んでください。",
    status_unchanged: "状況は変えない",
    follows_plan: "このメンテナンスの状況は「予定」のままなので、公開ページでは予定の開始時刻から「実施中」、予定の終了時刻から「完了」と表示されます。延期するときは、編集画面で予定の時刻を変えてください。",
    status_by_kind: "空欄なら、障害は「調査中」、メンテナンスは「予定」",
    reason_en: "追記する理由 (英語、任意)",
    no_text: "経過の本文を入力してください。",
    audit: "操作記録",
    actor: "操作した人",
    action: "操作",
    company: "企業 (識別名)",
    from: "開始日",
    to: "終了日",
    filter: "絞り込む",
    target: "対象",
    detail: "内容",
    no_lines: "条件に合う記録はありません。",
    older: "さらに古い記録",
    unknown_company: "その識別名の企業はありません: ",
    impact: "影響",
    scope: "範囲 (お知らせの [impact])",
    no_scope: "このお知らせには影響の範囲 ([impact]) が書かれていません。",
    as_of: "集計時刻: ",
    companies: "企業",
    releases: "リリース",
    undelivered: "未配信のメール",
    share: "期間中の全メールに対する割合",
    per_release: "リリースあたり (最小〜最大)",
    histogram: "未配信数ごとのリリース数",
    affected: "影響を受けた企業",
    contact: "連絡先",
    answer: "回答",
    redelivered: "再送で配信済み",
    answer_redeliver: "再送する",
    answer_leave: "再送しない",
    not_answered: "未回答",
    notified: "通知",
    notified_count: "通知メールを送信待ちに入れた企業の数: ",
    told_earlier: "前の版を通知: ",
    none_notified: "新しく通知した企業はありません。どの企業もこの版を通知済みか、連絡先のメールアドレスがありません。",
    all_told: "影響を受けたすべての企業に、この版を通知済みです",
    scope_editor: "範囲を指定して集計する",
    any: "指定しない",
    preview: "この範囲で集計",
    previewing: "上の数字は、入力した範囲で集計したものです (まだお知らせには添付されていません)。",
    attach: "この範囲をお知らせに添付して公開",
    attached: "範囲をお知らせに添付しました。",
    attached_note: "影響の範囲を添付",
    to_before_from: "終わりは始まりより後にしてください。",
    new_notice: "新しいお知らせ",
    slug: "識別名 (URL とファイル名。英小文字・数字・ハイフン)",
    title_en: "タイトル (英語)",
    severity: "影響度",
    components: "影響するサービス",
    started_at: "発生・開始日時",
    published_at: "公開日時",
    body: "本文 (日本語、Markdown)",
    body_en: "本文 (英語、Markdown)",
    none: "なし",
    show_preview: "プレビュー",
    publish_notice: "公開する",
    preview_title: "プレビュー (公開ページと同じ表示)",
    preview_warnings: "このまま公開できますが、次の点を確かめてください (lint の警告):",
    publish_warnings: "まだ公開していません。次の点を確かめてください (lint の警告)。このまま公開するには、もう一度「公開する」を押してください:",
    update_warnings: "まだ公開していません。次の点を確かめてください (lint の警告)。このまま公開するには、もう一度「追加して公開」を押してください:",
    bad_slug: "識別名は英小文字・数字・ハイフンで、英小文字か数字から書いてください: ",
    slug_taken: "この識別名のお知らせはすでにあります: ",
    edit: "編集",
    resolved_at: "解決・終了日時",
};

static STAFF_EN: StaffText = StaffText {
    console_top: "Go to the notices",
    reason_needed: "An entry after the resolution needs the reason it is added (e.g. \"cause and countermeasures added\").",
    untranslated: "No English yet (the English page shows the Japanese; it can be published as it is): ",
    dates_reversed: "The start date is after the end date: check the dates.",
    file_broken: "This notice's file has errors",
    file_broken_help: "The file was changed directly and has errors, so the public page shows the version before. This form shows that published version. To save from this form, first fix these errors in the file.",
    not_found_body: "We could not find that page: the notice's file may have been deleted or renamed. Look for it in the list of notices.",
    console: "Staff console",
    notices: "Notices",
    title: "Title",
    kind: "Kind",
    status: "Status",
    last_change: "Last change",
    add_update: "Add update",
    updated: "Published: ",
    unchanged: "Nothing had changed, so no new version was published: ",
    files_with_errors: "These files have errors and are not published as they stand (their last good version, if any, stays published). Correct the files:",
    shown_publicly_as: "past its planned time, shown publicly as: ",
    past_planned_end: "past its planned end: add a “completed” update when it is over",
    at: "Time",
    text: "Text (Japanese)",
    text_en: "Text (English, optional)",
    publish: "Add and publish",
    note: "Note for this revision (optional, e.g. cause and countermeasures added)",
    reason: "Why this comes after the resolution (required once the notice is resolved)",
    not_saved: "Please fix the following (nothing was saved or published).",
    conflict: "Changed since you opened it",
    conflict_help: "These are the changes. What you typed is kept; check the current version, then publish again.",
    bad_time: "Enter the time as 2021-03-01T17:35: ",
    no_such_time: "There is no such time: check the date and the hour: ",
    before_latest: "This is before the latest entry: entries are listed oldest first, so give a time after ",
    in_the_future: "This time has not come yet: an entry tells what happened, so give a time up to now, ",
    cancelled_under_way: "A maintenance under way or done cannot be cancelled: when it is over, choose \u{201c}Completed\u{201d}.",
    completed_before_start: "It cannot be completed before its planned start: if it was called off, choose \u{201c}Cancelled\u{201d}; to postpone it, change its planned times in the edit form. Planned start: ",
    not_happened_yet: "This time has not come yet: an incident's start and end have happened, so give a time up to now, ",
    not_published_yet: "This time has not come yet: a notice is published when it is saved (it cannot be scheduled), so give a time up to now, ",
    time_missing: "Enter a time, as 2021-03-01T17:35 (required)",
    field_required: "Required, please fill in: ",
    marker_in_body: "The line that divides the body between the languages cannot be typed (the English text goes in its own field): ",
    slug_missing: "Enter a slug (lowercase letters, digits and hyphens: it becomes the URL and the file name)",
    ambiguous_time: "This time falls in a clock change of the time zone and is not one instant: ",
    no_status: "Choose a status that a notice of this kind may have.",
    status_unchanged: "Leave the status as it is",
    follows_plan: "This maintenance is still “scheduled”, so the public site shows it in progress from its planned start and completed from its planned end. To postpone it, change its planned times in the editor.",
    status_by_kind: "left empty: investigating for an incident, scheduled for a maintenance",
    reason_en: "Why it is added (in English, optional)",
    no_text: "Write what happened.",
    audit: "Audit log",
    actor: "Who",
    action: "Action",
    company: "Company (slug)",
    from: "From",
    to: "To",
    filter: "Filter",
    target: "Target",
    detail: "Detail",
    no_lines: "No lines match.",
    older: "Older lines",
    unknown_company: "No company has this slug: ",
    impact: "Impact",
    scope: "Scope (the notice's [impact])",
    no_scope: "This notice has no impact scope ([impact]).",
    as_of: "As of ",
    companies: "Companies",
    releases: "Releases",
    undelivered: "Undelivered emails",
    share: "Share of all emails in the window",
    per_release: "Per release (fewest to most)",
    histogram: "Releases by undelivered emails",
    affected: "Affected companies",
    contact: "Contact",
    answer: "Answer",
    redelivered: "Redelivered since",
    answer_redeliver: "Redeliver",
    answer_leave: "Leave them",
    not_answered: "Not answered",
    notified: "Told",
    notified_count: "Companies whose email is queued: ",
    told_earlier: "told of an earlier version: ",
    none_notified: "No company was emailed: each has been told of this version already, or has no contact address.",
    all_told: "Every affected company has been told of this version",
    scope_editor: "Compute for a scope",
    any: "Any",
    preview: "Compute",
    previewing: "The figures above are for the scope typed below (not attached to the notice yet).",
    attach: "Attach this scope to the notice and publish",
    attached: "The scope is attached to the notice.",
    attached_note: "Impact scope attached",
    to_before_from: "The end must come after the start.",
    new_notice: "New notice",
    slug: "Slug (its address and file name: lowercase letters, digits, hyphens)",
    title_en: "Title (English)",
    severity: "Severity",
    components: "Affected services",
    started_at: "Started at",
    published_at: "Published at",
    body: "Text (Japanese, Markdown)",
    body_en: "Text (English, Markdown)",
    none: "None",
    show_preview: "Preview",
    publish_notice: "Publish",
    preview_title: "Preview (as the public page will show it)",
    preview_warnings: "This can be published as it is, but check these points (the linter's warnings):",
    publish_warnings: "Not published yet: check these points (the linter's warnings). To publish it as it is, press \"Publish\" again:",
    update_warnings: "Not published yet: check these points (the linter's warnings). To publish it as it is, press \"Add and publish\" again:",
    bad_slug: "Write the slug with lowercase letters, digits and hyphens, starting with a letter or digit: ",
    slug_taken: "A notice with this slug exists already: ",
    edit: "Edit",
    resolved_at: "Resolved at",
};

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, min, 0).unwrap()
    }

    #[test]
    fn dates_read_as_each_language_writes_them() {
        let t = at(2021, 3, 1, 17, 35);
        assert_eq!(Lang::Ja.date_time_local(t), "2021年3月1日(月) 17:35");
        assert_eq!(Lang::En.date_time_local(t), "Mon, 1 Mar 2021 17:35");
        assert_eq!(Lang::Ja.date_time_local(at(2021, 2, 24, 9, 5)), "2021年2月24日(水) 09:05");
    }

    #[test]
    fn a_scope_key_is_named_with_the_key_where_the_name_does_not_say_it() {
        assert_eq!(Lang::Ja.scope_key("route"), "送信経路 (route)");
        assert_eq!(Lang::En.scope_key("window"), "Window");
        assert_eq!(Lang::En.scope_key("error_class"), "Error class");
        assert_eq!(Lang::En.scope_key("recipient_source"), "Recipients from (recipient_source)");
    }

    #[test]
    fn durations_drop_zero_units_and_pluralise() {
        assert_eq!(Lang::Ja.duration(4 * 1440 + 19 * 60 + 35), "4日19時間35分");
        assert_eq!(Lang::En.duration(4 * 1440 + 19 * 60 + 35), "4 days 19 hours 35 minutes");
        assert_eq!(Lang::En.duration(61), "1 hour 1 minute");
        assert_eq!(Lang::Ja.duration(0), "0分");
    }

    #[test]
    fn a_redelivery_summary_counts_in_the_singular_too() {
        assert_eq!(Lang::En.redelivery_summary(1), "1 message will be sent again, to 1 recipient.");
        assert_eq!(Lang::En.redelivery_summary(2), "2 messages will be sent again, to 2 recipients.");
        assert_eq!(Lang::Ja.redelivery_summary(1), "1件の宛先に、1件のメールを再送します。");
    }

    #[test]
    fn the_daily_cap_says_what_can_still_be_done() {
        assert!(
            Lang::En
                .over_quota(29, 30, (2, true))
                .ends_with("Choose 1 recipient or fewer, or ask again after midnight.")
        );
        // An incident's answer takes all its messages: no recipients to choose there.
        let answer = Lang::Ja.over_quota(4, 30, (27, false));
        assert!(
            answer.contains("各リリースのページで宛先を選んで再送する") && !answer.contains("件以内に絞って"),
            "{answer}"
        );
        assert!(Lang::En.over_quota(30, 30, (1, true)).contains("is reached"));
        // More than a whole day's cap: to split it, not to wait.
        let huge = Lang::Ja.over_quota(0, 5, (148, true));
        assert!(huge.contains("5件以内ずつ選んで、日を分けて") && !huge.contains("翌日0時"), "{huge}");
    }

    #[test]
    fn numbers_group_thousands() {
        assert_eq!(Lang::Ja.number(14_012_784), "14,012,784");
        assert_eq!(Lang::En.number(14_012_784), "14,012,784");
        assert_eq!(Lang::En.number(0), "0");
        assert_eq!(Lang::En.number(999), "999");
        assert_eq!(Lang::En.number(1000), "1,000");
        assert_eq!(Lang::En.number(-1234), "-1,234");
        assert_eq!(Lang::En.number(i64::MIN), "-9,223,372,036,854,775,808");
    }

    #[test]
    fn counts_agree_in_number() {
        assert_eq!(Lang::En.matching_recipients(1), "1 recipient matches");
        assert_eq!(Lang::En.matching_recipients(2500), "2,500 recipients match");
        assert_eq!(Lang::En.login_throttled(1), "Too many failed attempts. Please try again in 1 minute.");
        assert_eq!(Lang::En.recipient_source("other"), "other");
    }
}
