//! The site's two languages: every fixed piece of text, and how dates and durations read.
//!
//! Weekdays are always computed from the date, never taken from anything written by hand.

use chrono::{Datelike, NaiveDateTime, Timelike, Weekday};

use crate::model::{ComponentState, Kind, Moment, Severity, Status};

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
            _ => self.pick("一部のサービスに影響が出ています", "Some services are affected"),
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
    pub scheduled_end: &'static str,
    pub duration: &'static str,
    pub published: &'static str,
    pub timeline: &'static str,
    pub details: &'static str,
    pub after_resolution: &'static str,
    pub untranslated: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub page: &'static str,
    pub times_in: &'static str,
    pub feed: &'static str,
    pub api: &'static str,
    pub language: &'static str,
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
    scheduled_end: "終了予定",
    duration: "期間",
    published: "掲載",
    timeline: "経過",
    details: "詳細",
    after_resolution: "解決後の更新",
    untranslated: "このお知らせは日本語版のみです。",
    previous: "新しいお知らせ",
    next: "過去のお知らせ",
    page: "ページ",
    times_in: "時刻の表示",
    feed: "Atom フィード",
    api: "JSON API",
    language: "言語",
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
    scheduled_end: "Scheduled end",
    duration: "Duration",
    published: "Published",
    timeline: "Timeline",
    details: "Details",
    after_resolution: "Update after resolution",
    untranslated: "This notice is available in Japanese only.",
    previous: "Newer notices",
    next: "Older notices",
    page: "Page",
    times_in: "Times are shown in",
    feed: "Atom feed",
    api: "JSON API",
    language: "Language",
    not_found_title: "Page not found",
    not_found_body: "The page you are looking for does not exist or has moved.",
    back_home: "Back to the status page",
    latest: "Latest update",
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
    fn durations_drop_zero_units_and_pluralise() {
        assert_eq!(Lang::Ja.duration(4 * 1440 + 19 * 60 + 35), "4日19時間35分");
        assert_eq!(Lang::En.duration(4 * 1440 + 19 * 60 + 35), "4 days 19 hours 35 minutes");
        assert_eq!(Lang::En.duration(61), "1 hour 1 minute");
        assert_eq!(Lang::Ja.duration(0), "0分");
    }
}
