//! Finds dates written in prose, in Japanese (`2021年2月24日(水)`, `2月24日（水）`), with
//! slashes or dashes and a weekday (`2021/2/24(水)`, `2/24（水）`, `2021-02-24 (Wed)`, full-width
//! too) and in English (`Wednesday, February 24, 2021`, `Wed 24 Feb 2021`, `Feb 24, 2021 (Wed)`),
//! so that the linter can check the weekday and the year that a person typed under pressure.

use std::sync::LazyLock;

use chrono::Weekday;
use regex::{Captures, Regex};

/// A date as written in the text, not yet checked: the day may not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProseDate<'a> {
    /// Byte offset of the date in the scanned text.
    pub start: usize,
    /// The date as written.
    pub text: &'a str,
    /// The year, when written.
    pub year: Option<i32>,
    pub month: u32,
    pub day: u32,
    /// The weekday, when written.
    pub weekday: Option<Weekday>,
}

const WEEKDAY_EN: &str = r"(?P<wd>Mon(?:day)?|Tue(?:s|sday)?|Wed(?:nesday)?|Thu(?:r|rs|rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)\.?";
/// A weekday in brackets after an English date: `Feb 24, 2021 (Wed)`.
const WEEKDAY_EN_AFTER: &str = r"(?:\s*\(\s*(?P<wd_after>Mon(?:day)?|Tue(?:s|sday)?|Wed(?:nesday)?|Thu(?:r|rs|rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)\.?\s*\))?";
const MONTH_EN: &str = r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sep(?:t|tember)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?";

static JAPANESE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:(?P<y>\d{4})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日(?:\s*[（(]\s*(?P<wd>[月火水木金土日])(?:曜日?)?\s*[)）])?",
    )
    .expect("valid regex")
});

/// `2021/2/24(水)`, `2/24（水）`, `2021/02/24 (Wed)`: only with a weekday, which tells a date
/// from a fraction or a path.
static SLASHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?:(?P<y>\d{{4}})\s*[/／]\s*)?(?P<m>\d{{1,2}})\s*[/／]\s*(?P<d>\d{{1,2}})\s*[（(]\s*(?:(?P<ja>[月火水木金土日])(?:曜日?)?|{WEEKDAY_EN})\s*[)）]"
    ))
    .expect("valid regex")
});

/// `2021-02-24(水)`, `2021-02-24 (Wed)`: the year and a weekday tell a date from a range.
static DASHED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?P<y>\d{{4}})\s*[-－]\s*(?P<m>\d{{1,2}})\s*[-－]\s*(?P<d>\d{{1,2}})\s*[（(]\s*(?:(?P<ja>[月火水木金土日])(?:曜日?)?|{WEEKDAY_EN})\s*[)）]"
    ))
    .expect("valid regex")
});

/// `Wed 24 Feb 2021`, `Wednesday, 24 February 2021`, `24 Feb 2021 (Wed)`.
static ENGLISH_DAY_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:{WEEKDAY_EN},?\s+)?(?P<d>\d{{1,2}})\s+{MONTH_EN},?\s+(?P<y>\d{{4}})\b{WEEKDAY_EN_AFTER}"
    ))
    .expect("valid regex")
});

/// `Wednesday, February 24, 2021`, `Feb 24 2021`, `Feb 24, 2021 (Wed)`.
static ENGLISH_MONTH_FIRST: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b(?:{WEEKDAY_EN},?\s+)?{MONTH_EN}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b{WEEKDAY_EN_AFTER}"
    ))
    .expect("valid regex")
});

/// Every date written in `text`, in order of appearance.
pub fn find(text: &str) -> Vec<ProseDate<'_>> {
    let mut found: Vec<ProseDate> = Vec::new();
    for caps in JAPANESE.captures_iter(text) {
        found.push(prose_date(&caps, month_number_ja(&caps), weekday_ja));
    }
    for caps in SLASHED.captures_iter(text).chain(DASHED.captures_iter(text)) {
        let start = caps.get(0).expect("group 0 always matches").start();
        // Inside a longer run of digits, letters and slashes (a URL's path, a version): not a
        // date. Japanese text runs straight into a date, so kana and kanji before it are fine.
        let inside = |c: char| c == '/' || c.is_ascii_alphanumeric() || c.is_numeric();
        if text[..start].chars().next_back().is_some_and(inside) {
            continue;
        }
        let mut date = prose_date(&caps, month_number_ja(&caps), weekday_en);
        if let Some(ja) = caps.name("ja") {
            date.weekday = weekday_ja(ja.as_str());
        }
        found.push(date);
    }
    for regex in [&*ENGLISH_DAY_FIRST, &*ENGLISH_MONTH_FIRST] {
        for caps in regex.captures_iter(text) {
            let month = caps.name("mon").and_then(|m| month_en(m.as_str()));
            let date = prose_date(&caps, month, weekday_en);
            let overlaps = found
                .iter()
                .any(|f| date.start < f.start + f.text.len() && f.start < date.start + date.text.len());
            if !overlaps {
                found.push(date);
            }
        }
    }
    found.sort_by_key(|d| d.start);
    found
}

fn prose_date<'a>(
    caps: &Captures<'a>,
    month: Option<u32>,
    weekday: fn(&str) -> Option<Weekday>,
) -> ProseDate<'a> {
    let whole = caps.get(0).expect("group 0 always matches");
    ProseDate {
        start: whole.start(),
        text: whole.as_str(),
        year: caps.name("y").and_then(|y| number(y.as_str())).map(|y| y as i32),
        month: month.unwrap_or(0),
        day: caps.name("d").and_then(|d| number(d.as_str())).unwrap_or(0),
        weekday: caps.name("wd").or_else(|| caps.name("wd_after")).and_then(|w| weekday(w.as_str())),
    }
}

fn month_number_ja(caps: &Captures) -> Option<u32> {
    caps.name("m").and_then(|m| number(m.as_str()))
}

/// Reads ASCII or full-width digits.
fn number(digits: &str) -> Option<u32> {
    digits.chars().try_fold(0u32, |n, c| {
        let digit = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '０'..='９' => c as u32 - '０' as u32,
            _ => return None,
        };
        n.checked_mul(10)?.checked_add(digit)
    })
}

fn weekday_ja(w: &str) -> Option<Weekday> {
    Some(match w {
        "月" => Weekday::Mon,
        "火" => Weekday::Tue,
        "水" => Weekday::Wed,
        "木" => Weekday::Thu,
        "金" => Weekday::Fri,
        "土" => Weekday::Sat,
        "日" => Weekday::Sun,
        _ => return None,
    })
}

fn weekday_en(w: &str) -> Option<Weekday> {
    w.get(..3)?.parse().ok()
}

fn month_en(m: &str) -> Option<u32> {
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    months.iter().position(|&name| m.starts_with(name)).map(|i| i as u32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (Option<i32>, u32, u32, Option<Weekday>) {
        let found = find(text);
        assert_eq!(found.len(), 1, "{text}: {found:?}");
        let d = &found[0];
        (d.year, d.month, d.day, d.weekday)
    }

    #[test]
    fn japanese_forms() {
        assert_eq!(one("2021年2月24日(水)に移行"), (Some(2021), 2, 24, Some(Weekday::Wed)));
        assert_eq!(one("2月24日（水）21時"), (None, 2, 24, Some(Weekday::Wed)));
        assert_eq!(one("２０２１年３月１日（月曜日）"), (Some(2021), 3, 1, Some(Weekday::Mon)));
        assert_eq!(one("3月12日に更新"), (None, 3, 12, None));
    }

    #[test]
    fn slashed_forms_with_a_weekday() {
        assert_eq!(one("2021/03/22(火)に再開"), (Some(2021), 3, 22, Some(Weekday::Tue)));
        assert_eq!(one("3/22（火曜日）"), (None, 3, 22, Some(Weekday::Tue)));
        assert_eq!(one("on 2021/3/22 (Mon) at"), (Some(2021), 3, 22, Some(Weekday::Mon)));
        assert_eq!(
            one("作業は3/22(火)に行います"),
            (None, 3, 22, Some(Weekday::Tue)),
            "written into a sentence"
        );
        assert_eq!(
            one("本日２０２１／３／２２（火）"),
            (Some(2021), 3, 22, Some(Weekday::Tue)),
            "full-width"
        );
        assert!(find("1/2 (half) of them").is_empty());
        assert!(find("2021/03/22 and 3/4").is_empty(), "no weekday: no telling it is a date");
        assert!(find("https://example.com/news/2021/03/22(火)").is_empty(), "inside a path");
        assert_eq!(one("2026-12-02(火)に実施"), (Some(2026), 12, 2, Some(Weekday::Tue)), "dashed");
        assert_eq!(one("on 2026-12-02 (Wed)."), (Some(2026), 12, 2, Some(Weekday::Wed)));
        assert!(find("2021-03-22 to 2021-03-24").is_empty(), "no weekday: a range, not checked");
    }

    #[test]
    fn english_forms() {
        assert_eq!(one("on Wednesday, February 24, 2021 at"), (Some(2021), 2, 24, Some(Weekday::Wed)));
        assert_eq!(one("Wed 24 Feb 2021"), (Some(2021), 2, 24, Some(Weekday::Wed)));
        assert_eq!(one("Mon, 1 March 2021"), (Some(2021), 3, 1, Some(Weekday::Mon)));
        assert_eq!(one("since March 1st, 2021."), (Some(2021), 3, 1, None));
        assert_eq!(one("on Dec 2, 2026 (Tue)."), (Some(2026), 12, 2, Some(Weekday::Tue)), "weekday after");
        assert_eq!(one("2 Dec 2026 (Wednesday)"), (Some(2026), 12, 2, Some(Weekday::Wed)));
    }

    #[test]
    fn offsets_point_at_the_date() {
        let text = "前文。\n2021年3月1日(月)";
        let found = find(text);
        assert_eq!(&text[found[0].start..], "2021年3月1日(月)");
    }

    #[test]
    fn numbers_without_a_date_shape_are_ignored() {
        assert!(find("2,310 emails in 228 releases of 117 companies").is_empty());
    }
}
