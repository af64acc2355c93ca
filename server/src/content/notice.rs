//! One notice file: TOML front matter between `+++` lines, then the Markdown body (Japanese,
//! then optionally `<!-- lang: en -->` and the English body). Parsing and every check of a single
//! file live here; each problem becomes a [`Finding`](super::Finding) with the line it is about.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, NaiveDateTime, Utc, Weekday};
use clap::ValueEnum;
use serde::Deserialize;
use statusdesk_app::i18n::weekday_ja;
use statusdesk_app::model::{Kind, Severity, Status};
use toml::Spanned;

use super::finding::{Findings, line_of, toml_problem};
use super::markdown::MAX_FILE_BYTES;
use super::prose_dates;
use super::site::{Localized, Site, is_identifier};
use crate::delivery::impact::{ErrorClass, RecipientSource, Route, Scope, SenderKind};

/// The line that separates the Japanese body from its English translation.
pub const ENGLISH_MARKER: &str = "<!-- lang: en -->";

/// Dates in prose this far outside the notice's own span are probably a mistyped year.
const PLAUSIBLE_MARGIN_DAYS: i64 = 180;

/// A text in the site's main language and, when written, its English translation.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Translated {
    pub ja: String,
    pub en: Option<String>,
}

impl Translated {
    /// The text in `lang`, or the main language's when there is no translation.
    pub fn get(&self, lang: statusdesk_app::Lang) -> &str {
        match (lang, &self.en) {
            (statusdesk_app::Lang::En, Some(en)) if !en.trim().is_empty() => en,
            _ => &self.ja,
        }
    }
}

/// One dated entry of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimelineEntry {
    pub at: DateTime<FixedOffset>,
    pub status: Option<Status>,
    pub text: Translated,
    /// Why an entry dated after the notice was resolved was added.
    pub reason: Option<Translated>,
}

/// A notice that passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub slug: String,
    /// Where it was read from.
    pub path: PathBuf,
    pub title: Translated,
    pub kind: Kind,
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub components: Vec<String>,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub resolved_at: Option<DateTime<FixedOffset>>,
    pub published_at: DateTime<FixedOffset>,
    pub timeline: Vec<TimelineEntry>,
    pub body: Translated,
    /// Which undelivered messages the incident covers (`[impact]`), for the figures computed from
    /// the delivery database and the portal's banner. Incidents only.
    pub impact: Option<Scope>,
    /// The file's text this notice was read from: what its revision history records.
    pub source: String,
}

impl Notice {
    /// Whether the notice is still open: an incident not resolved or maintenance not completed.
    pub fn is_open(&self) -> bool {
        self.status.is_some_and(|s| !s.is_closed())
    }

    /// The status readers see at `now`. A maintenance left `scheduled` follows its plan, as
    /// status pages do: under way from `started_at`, completed at `resolved_at` (its planned
    /// end), until staff set its status themselves — the public site never calls work that has
    /// begun "upcoming". Every other notice has the status its file gives.
    pub fn status_at(&self, now: DateTime<Utc>) -> Option<Status> {
        if !self.follows_plan() {
            return self.status;
        }
        match (self.started_at, self.resolved_at) {
            (_, Some(end)) if end <= now => Some(Status::Completed),
            (Some(start), _) if start <= now => Some(Status::InProgress),
            _ => self.status,
        }
    }

    /// The notice as readers see it at `now`: with [`Notice::status_at`], and for each planned
    /// time passed a timeline entry that says the status follows it (so that the page, the feed
    /// and the API show when it changed, not only that it did).
    pub fn as_of(&self, now: DateTime<Utc>) -> Notice {
        let mut notice = self.clone();
        if !self.follows_plan() {
            return notice;
        }
        notice.status = self.status_at(now);
        let passed = [
            (self.started_at, Status::InProgress, PLANNED_START),
            (self.resolved_at, Status::Completed, PLANNED_END),
        ];
        for (at, status, (ja, en)) in passed {
            if let Some(at) = at.filter(|at| at.to_utc() <= now) {
                let text = Translated { ja: ja.into(), en: Some(en.into()) };
                notice.timeline.push(TimelineEntry { at, status: Some(status), text, reason: None });
            }
        }
        notice.timeline.sort_by_key(|entry| entry.at);
        notice
    }

    /// The next instant after `now` at which [`Notice::status_at`] changes, if any.
    pub fn next_status_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if !self.follows_plan() {
            return None;
        }
        [self.started_at, self.resolved_at]
            .into_iter()
            .flatten()
            .map(|t| t.to_utc())
            .filter(|t| *t > now)
            .min()
    }

    /// Whether it is a maintenance staff set in progress whose planned end has passed: under
    /// way still, until they complete it.
    pub fn past_planned_end(&self, now: DateTime<Utc>) -> bool {
        self.kind == Kind::Maintenance
            && self.status == Some(Status::InProgress)
            && self.resolved_at.is_some_and(|end| end < now)
    }

    /// Whether the status follows the clock: a maintenance still `scheduled` in its file.
    pub fn follows_plan(&self) -> bool {
        self.kind == Kind::Maintenance && self.status == Some(Status::Scheduled)
    }

    /// The line of its file that names the slug: the front matter's `slug`, or `None` when the
    /// slug comes from the file's name.
    pub fn slug_line(&self) -> Option<usize> {
        front_matter_slug(&self.source).map(|(line, _)| line)
    }

    /// When the notice last changed: its newest timeline entry or its publication.
    pub fn updated_at(&self) -> DateTime<FixedOffset> {
        self.timeline.iter().map(|e| e.at).chain([self.published_at]).max().expect("never empty")
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrontMatter {
    slug: Option<Spanned<String>>,
    title: Option<Spanned<String>>,
    title_en: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    status: Option<Spanned<String>>,
    severity: Option<Spanned<String>>,
    #[serde(default)]
    components: Vec<Spanned<String>>,
    started_at: Option<Spanned<toml::Value>>,
    resolved_at: Option<Spanned<toml::Value>>,
    published_at: Option<Spanned<toml::Value>>,
    #[serde(default)]
    timeline: Vec<Spanned<RawEntry>>,
    impact: Option<Spanned<RawImpact>>,
}

/// `[impact]`: an incident's scope in the delivery database.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImpact {
    from: Option<Spanned<toml::Value>>,
    to: Option<Spanned<toml::Value>>,
    route: Option<Spanned<String>>,
    error_class: Option<Spanned<String>>,
    recipient_source: Option<Spanned<String>>,
    sender: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    at: Option<Spanned<toml::Value>>,
    status: Option<Spanned<String>>,
    text: Option<Spanned<String>>,
    text_en: Option<Spanned<String>>,
    reason: Option<Spanned<String>>,
    reason_en: Option<Spanned<String>>,
}

/// The parts of a notice file, with where each starts.
struct Split<'a> {
    front_matter: &'a str,
    /// Byte offset of the front matter in the file.
    front_matter_offset: usize,
    body_ja: &'a str,
    body_ja_offset: usize,
    body_en: Option<(&'a str, usize)>,
}

/// The `slug` a notice file's front matter sets (among its keys, above its first table), with
/// its line, read line by line: it is found even in a file whose other lines do not parse (the
/// value is empty when its own line does not).
pub fn front_matter_slug(source: &str) -> Option<(usize, String)> {
    source
        .lines()
        .enumerate()
        .skip(1)
        .take_while(|(_, line)| line.trim_end() != "+++" && !line.trim_start().starts_with('['))
        .find(|(_, line)| line.split_once('=').is_some_and(|(key, _)| key.trim().trim_matches('"') == "slug"))
        .map(|(index, line)| {
            let value =
                line.parse::<toml::Table>().ok().and_then(|t| t.get("slug")?.as_str().map(String::from));
            (index + 1, value.unwrap_or_default())
        })
}

/// What the timeline says when a maintenance left `scheduled` reaches its planned start and end
/// ([`Notice::as_of`]): in Japanese, and in English.
const PLANNED_START: (&str, &str) =
    ("予定の開始時刻になったため、実施中としています。", "Shown as in progress from its planned start.");
const PLANNED_END: (&str, &str) =
    ("予定の終了時刻になったため、完了としています。", "Shown as completed at its planned end.");

/// The longest title, in characters: a page's heading and an email's subject.
pub const MAX_TITLE_CHARS: usize = 200;

/// Parses and checks one notice. Returns the notice when it has no errors; every finding,
/// errors and warnings, goes into `findings`.
pub fn parse(path: &Path, source: &str, site: &Site, findings: &mut Findings) -> Option<Notice> {
    if source.len() > MAX_FILE_BYTES {
        let (size, limit) = (source.len() / 1024, MAX_FILE_BYTES / 1024);
        findings.error(
            1,
            Localized {
                en: format!("the file is {size} KiB; notices are limited to {limit} KiB"),
                ja: format!("ファイルが {size} KiB あります。お知らせは {limit} KiB までです"),
            },
        );
        return None;
    }
    let split = split(source, findings)?;
    let raw: RawFrontMatter = match toml::from_str(split.front_matter) {
        Ok(raw) => raw,
        Err(e) => {
            let what = ("front matter: ", "フロントマター: ");
            let (line, problem) = toml_problem(split.front_matter, &e, what);
            let lines_before = line_of(source, split.front_matter_offset) - 1;
            findings.error(lines_before + line, problem);
            return None;
        }
    };
    Checker { source, split: &split, site, findings }.check(path, raw)
}

fn split<'a>(source: &'a str, findings: &mut Findings) -> Option<Split<'a>> {
    let source_no_bom = source.strip_prefix('\u{feff}').unwrap_or(source);
    let bom = source.len() - source_no_bom.len();
    let Some(first_line_end) = source_no_bom.find('\n') else {
        findings.error(1, no_front_matter());
        return None;
    };
    if source_no_bom[..first_line_end].trim_end() != "+++" {
        findings.error(1, no_front_matter());
        return None;
    }
    let fm_start = bom + first_line_end + 1;
    let mut offset = fm_start;
    let mut fm_end = None;
    for line in source[fm_start..].split_inclusive('\n') {
        if line.trim_end() == "+++" {
            fm_end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((fm_end, body_start)) = fm_end else {
        findings.error(
            1,
            Localized {
                en: "front matter is not closed: no `+++` line after the first one".into(),
                ja: "フロントマターが閉じていません。最初の `+++` の行のあとに `+++` の行がありません".into(),
            },
        );
        return None;
    };
    let body = &source[body_start..];
    let (body_ja, body_en) = match find_line(body, ENGLISH_MARKER) {
        Some((marker_start, marker_end)) => {
            (&body[..marker_start], Some((&body[marker_end..], body_start + marker_end)))
        }
        None => (body, None),
    };
    Some(Split {
        front_matter: &source[fm_start..fm_end],
        front_matter_offset: fm_start,
        body_ja,
        body_ja_offset: body_start,
        body_en,
    })
}

/// Finds a line that is exactly `wanted` (ignoring surrounding white space): its start and the
/// offset just past its line break.
fn find_line(text: &str, wanted: &str) -> Option<(usize, usize)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if line.trim() == wanted {
            return Some((offset, offset + line.len()));
        }
        offset += line.len();
    }
    None
}

struct Checker<'s, 'f, 'p> {
    source: &'s str,
    split: &'s Split<'s>,
    site: &'s Site,
    findings: &'f mut Findings<'p>,
}

impl<'s, 'f, 'p> Checker<'s, 'f, 'p> {
    /// The file line of a span in the front matter.
    fn line<T>(&self, spanned: &Spanned<T>) -> usize {
        line_of(self.source, self.split.front_matter_offset + spanned.span().start)
    }

    /// The line of the `+++` that opens the front matter, for what is missing from it.
    fn header_line(&self) -> usize {
        line_of(self.source, self.split.front_matter_offset) - 1
    }

    fn required<'v, T>(
        &mut self,
        value: &'v Option<Spanned<T>>,
        name: &'static str,
    ) -> Option<&'v Spanned<T>> {
        if value.is_none() {
            let line = self.header_line();
            self.findings.missing(line, name, super::finding::missing_field(name));
        }
        value.as_ref()
    }

    fn keyword<T>(
        &mut self,
        value: &Spanned<String>,
        field: &str,
        parse: fn(&str) -> Option<T>,
        allowed: &[&str],
    ) -> Option<T> {
        let parsed = parse(value.get_ref());
        if parsed.is_none() {
            let line = self.line(value);
            self.findings.error(line, not_one_of(field, value.get_ref(), allowed));
        }
        parsed
    }

    fn time(&mut self, value: &Spanned<toml::Value>, field: &str) -> Option<DateTime<FixedOffset>> {
        let line = self.line(value);
        let text = match value.get_ref() {
            toml::Value::Datetime(dt) => dt.to_string(),
            toml::Value::String(s) => s.clone(),
            other => {
                let kind = other.type_str();
                self.findings.error(
                    line,
                    Localized {
                        en: format!("`{field}` must be a time such as 2021-03-01T17:35:00+09:00, not a {kind}"),
                        ja: format!("`{field}` には 2021-03-01T17:35:00+09:00 のような日時を書いてください（いまは {kind} です）"),
                    },
                );
                return None;
            }
        };
        match DateTime::parse_from_rfc3339(&text) {
            Ok(t) => Some(t),
            Err(_) => {
                let message = if NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S").is_ok()
                    || NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S").is_ok()
                {
                    let fixed = text.replace(' ', "T");
                    Localized {
                        en: format!(
                            "`{field}` = {text} has no UTC offset; write it as {fixed}+09:00 (or the offset it was in)"
                        ),
                        ja: format!(
                            "`{field}` = {text} に UTC オフセット（+09:00 など）がありません。{fixed}+09:00 のように書いてください（日本時間以外ならその時刻のオフセットで）"
                        ),
                    }
                } else if NaiveDate::parse_from_str(&text, "%Y-%m-%d").is_ok() {
                    Localized {
                        en: format!(
                            "`{field}` = {text} has no time of day and offset; write it as {text}T00:00:00+09:00"
                        ),
                        ja: format!(
                            "`{field}` = {text} に時刻と UTC オフセットがありません。{text}T00:00:00+09:00 のように書いてください"
                        ),
                    }
                } else {
                    Localized {
                        en: format!(
                            "`{field}` = {text} is not an RFC 3339 time such as 2021-03-01T17:35:00+09:00"
                        ),
                        ja: format!(
                            "`{field}` = {text} は 2021-03-01T17:35:00+09:00 のような RFC 3339 の日時ではありません"
                        ),
                    }
                };
                self.findings.error(line, message);
                None
            }
        }
    }

    fn check(mut self, path: &Path, raw: RawFrontMatter) -> Option<Notice> {
        let slug = match &raw.slug {
            Some(slug) => slug.get_ref().clone(),
            None => path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        };
        if !is_identifier(&slug) {
            let line = raw.slug.as_ref().map_or(1, |s| self.line(s));
            self.findings.error(line, Localized {
                en: format!("slug `{slug}` must be lowercase letters, digits and `-`, starting with a letter or digit (it comes from the file name unless `slug` is set)"),
                ja: format!("スラッグ `{slug}` に使えるのは英小文字、数字、`-` だけで、英小文字か数字で始まります（`slug` を書かなければファイル名から決まります）"),
            });
        }
        let title = self.required(&raw.title, "title").map(|t| t.get_ref().clone());
        if let Some(title) = &raw.title
            && title.get_ref().trim().is_empty()
        {
            let line = self.line(title);
            self.findings.error(line, super::finding::empty_field("title"));
        }
        let kind_keywords: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        let kind = self
            .required(&raw.kind, "kind")
            .and_then(|k| self.keyword(k, "kind", Kind::from_keyword, &kind_keywords));
        let status = self.status(&raw, kind);
        let severity = self.severity(&raw, kind);
        let components = self.components(&raw.components);
        let published_at =
            self.required(&raw.published_at, "published_at").and_then(|t| self.time(t, "published_at"));
        let started_at = match (&raw.started_at, kind) {
            (Some(t), _) => self.time(t, "started_at"),
            (None, Some(Kind::Incident | Kind::Maintenance)) => {
                self.required(&raw.started_at, "started_at");
                None
            }
            (None, _) => None,
        };
        let resolved_at = raw.resolved_at.as_ref().and_then(|t| self.time(t, "resolved_at"));
        self.check_resolution(&raw, kind, status, started_at, resolved_at);
        let timeline = self.timeline(&raw.timeline, kind, started_at, resolved_at);
        if let (Some(status), Some(last)) = (status, timeline.iter().rev().find_map(|e| e.status))
            && last != status
        {
            let line = raw.status.as_ref().map_or(1, |s| self.line(s));
            let (status, last) = (status.as_str(), last.as_str());
            self.findings.warning(
                line,
                Localized {
                    en: format!("`status` is `{status}` but the latest timeline entry says `{last}`"),
                    ja: format!("`status` は `{status}` ですが、最新のタイムラインの項目は `{last}` です"),
                },
            );
        }
        let title_en = raw.title_en.as_ref().map(|t| t.get_ref().clone());
        self.check_translations(&raw);
        self.check_characters(&raw);
        self.check_images();
        let body = Translated {
            ja: self.split.body_ja.trim().to_string(),
            en: self.split.body_en.map(|(en, _)| en.trim().to_string()),
        };
        self.check_prose_dates(&raw, started_at, resolved_at, published_at, &timeline);
        let impact =
            raw.impact.as_ref().and_then(|impact| self.impact(impact, kind, started_at, resolved_at));
        if self.findings.has_errors() {
            return None;
        }
        Some(Notice {
            slug,
            path: path.to_path_buf(),
            title: Translated { ja: title?, en: title_en },
            kind: kind?,
            status,
            severity,
            components,
            started_at,
            resolved_at,
            published_at: published_at?,
            timeline,
            body,
            impact,
            source: self.source.to_string(),
        })
    }

    /// `[impact]`: incidents only; a window with offsets, `to` after `from`; filters from the
    /// database's closed lists. Checked against the incident's times (`started_at`,
    /// `resolved_at`) too: a window entirely outside them counts other messages than the
    /// incident's (a warning).
    fn impact(
        &mut self,
        raw: &Spanned<RawImpact>,
        kind: Option<Kind>,
        started_at: Option<DateTime<FixedOffset>>,
        resolved_at: Option<DateTime<FixedOffset>>,
    ) -> Option<Scope> {
        let line = self.line(raw);
        if kind.is_some_and(|k| k != Kind::Incident) {
            self.findings.error(line, incidents_only("[impact]"));
            return None;
        }
        let table = raw.get_ref();
        let missing = |name: &str| Localized {
            en: format!("`[impact]` needs `{name}`, a time such as 2021-02-24T21:00:00+09:00"),
            ja: format!("`[impact]` には `{name}`（2021-02-24T21:00:00+09:00 のような日時）が必要です"),
        };
        let from = match &table.from {
            Some(t) => self.time(t, "impact.from"),
            None => {
                self.findings.missing(line, "from", missing("from"));
                None
            }
        };
        let to = match &table.to {
            Some(t) => self.time(t, "impact.to"),
            None => {
                self.findings.missing(line, "to", missing("to"));
                None
            }
        };
        let route = table.route.as_ref().map(|v| self.filter::<Route>(v, "impact.route"));
        let error_class =
            table.error_class.as_ref().map(|v| self.filter::<ErrorClass>(v, "impact.error_class"));
        let recipient_source = table
            .recipient_source
            .as_ref()
            .map(|v| self.filter::<RecipientSource>(v, "impact.recipient_source"));
        let sender = table.sender.as_ref().map(|v| self.filter::<SenderKind>(v, "impact.sender"));
        let (from, to) = (from?, to?);
        if to <= from {
            let line = table.to.as_ref().map_or(line, |t| self.line(t));
            self.findings.error(
                line,
                Localized {
                    en: format!("`impact.to` ({to}) must be after `impact.from` ({from})"),
                    ja: format!("`impact.to`（{to}）は `impact.from`（{from}）より後にしてください"),
                },
            );
            return None;
        }
        if let Some(start) = started_at.filter(|start| to <= *start) {
            let line = table.to.as_ref().map_or(line, |t| self.line(t));
            self.findings.warning(line, Localized {
                en: format!("`impact.to` ({to}) is not after `started_at` ({start}): the figures would count messages from before the incident"),
                ja: format!("`impact.to`（{to}）が `started_at`（{start}）より後になっていません。障害の前のメールを数えることになります"),
            });
        }
        if let Some(end) = resolved_at.filter(|end| from >= *end) {
            let line = table.from.as_ref().map_or(line, |t| self.line(t));
            self.findings.warning(line, Localized {
                en: format!("`impact.from` ({from}) is not before `resolved_at` ({end}): the figures would count messages from after the incident"),
                ja: format!("`impact.from`（{from}）が `resolved_at`（{end}）より前になっていません。障害の後のメールを数えることになります"),
            });
        }
        Some(Scope {
            from: from.to_utc(),
            to: to.to_utc(),
            route: route.transpose().ok()?,
            error_class: error_class.transpose().ok()?,
            recipient_source: recipient_source.transpose().ok()?,
            sender: sender.transpose().ok()?,
            company: None,
        })
    }

    /// A filter value of `[impact]`: one of the enum's keywords. `Err` once reported.
    fn filter<T: ValueEnum>(&mut self, value: &Spanned<String>, field: &str) -> Result<T, ()> {
        T::from_str(value.get_ref(), false).map_err(|_| {
            let allowed: Vec<String> = T::value_variants()
                .iter()
                .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
                .collect();
            let allowed: Vec<&str> = allowed.iter().map(String::as_str).collect();
            let line = self.line(value);
            self.findings.error(line, not_one_of(field, value.get_ref(), &allowed));
        })
    }

    fn status(&mut self, raw: &RawFrontMatter, kind: Option<Kind>) -> Option<Status> {
        let kind = kind?;
        let allowed: Vec<&str> = Status::allowed_for(kind).iter().map(|s| s.as_str()).collect();
        match (&raw.status, kind) {
            (Some(s), Kind::Announcement) => {
                let line = self.line(s);
                self.findings.error(
                    line,
                    Localized {
                        en: "announcements have no `status`; remove it".into(),
                        ja: "kind が `announcement` のお知らせに `status` は書けません。削除してください"
                            .into(),
                    },
                );
                None
            }
            (None, Kind::Announcement) => None,
            (None, _) => {
                self.required(&raw.status, "status");
                None
            }
            (Some(s), _) => {
                let status = self.keyword(s, "status", Status::from_keyword, &allowed)?;
                if Status::allowed_for(kind).contains(&status) {
                    return Some(status);
                }
                let line = self.line(s);
                let (status, kind, allowed) = (s.get_ref(), kind.as_str(), quoted_list(&allowed));
                self.findings.error(
                    line,
                    Localized {
                        en: format!("status `{status}` is not for {} {kind}; expected one of {allowed}", if kind.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" }),
                        ja: format!("status `{status}` は kind が `{kind}` のお知らせには使えません。{allowed} のいずれかにしてください"),
                    },
                );
                None
            }
        }
    }

    fn severity(&mut self, raw: &RawFrontMatter, kind: Option<Kind>) -> Option<Severity> {
        let keywords: Vec<&str> = Severity::ALL.iter().map(|s| s.as_str()).collect();
        match (&raw.severity, kind) {
            (Some(s), Some(Kind::Incident)) => self.keyword(s, "severity", Severity::from_keyword, &keywords),
            (Some(s), Some(_)) => {
                let line = self.line(s);
                self.findings.error(line, incidents_only("severity"));
                None
            }
            (None, Some(Kind::Incident)) => {
                self.required(&raw.severity, "severity");
                None
            }
            _ => None,
        }
    }

    fn components(&mut self, ids: &[Spanned<String>]) -> Vec<String> {
        let mut components = Vec::new();
        for id in ids {
            let line = self.line(id);
            if self.site.component(id.get_ref()).is_none() {
                let known: Vec<&str> = self.site.components.iter().map(|c| c.id.as_str()).collect();
                let (id, known) = (id.get_ref(), quoted_list(&known));
                self.findings.error(
                    line,
                    Localized {
                        en: format!("unknown component `{id}`; site.toml defines {known}"),
                        ja: format!("コンポーネント `{id}` はありません。site.toml にあるのは {known} です"),
                    },
                );
            } else if components.contains(id.get_ref()) {
                let id = id.get_ref();
                self.findings.warning(
                    line,
                    Localized {
                        en: format!("component `{id}` is listed twice"),
                        ja: format!("コンポーネント `{id}` が二度書かれています"),
                    },
                );
            } else {
                components.push(id.get_ref().clone());
            }
        }
        components
    }

    fn check_resolution(
        &mut self,
        raw: &RawFrontMatter,
        kind: Option<Kind>,
        status: Option<Status>,
        started_at: Option<DateTime<FixedOffset>>,
        resolved_at: Option<DateTime<FixedOffset>>,
    ) {
        if let (Some(start), Some(end), Some(span)) = (started_at, resolved_at, &raw.resolved_at)
            && end < start
        {
            let line = self.line(span);
            self.findings.error(
                line,
                Localized {
                    en: format!("`resolved_at` ({end}) is before `started_at` ({start})"),
                    ja: format!("`resolved_at`（{end}）が `started_at`（{start}）より前です"),
                },
            );
        }
        match (status, &raw.resolved_at) {
            (Some(status), None) if status.ended() => {
                let line = raw.status.as_ref().map_or(1, |s| self.line(s));
                let status = status.as_str();
                self.findings.missing(
                    line,
                    "resolved_at",
                    Localized {
                        en: format!("status is `{status}` but `resolved_at` is missing: say when it ended"),
                        ja: format!("status が `{status}` ですが `resolved_at` がありません。いつ終わったかを書いてください"),
                    },
                );
            }
            (Some(status), Some(span)) if kind == Some(Kind::Incident) && !status.is_closed() => {
                let line = self.line(span);
                let status = status.as_str();
                self.findings.error(line, Localized {
                    en: format!("`resolved_at` is set but the incident's status is `{status}`; set status to `resolved` or remove `resolved_at`"),
                    ja: format!("`resolved_at` がありますが、status は `{status}` です。status を `resolved` にするか、`resolved_at` を削除してください"),
                });
            }
            _ => {}
        }
    }

    fn timeline(
        &mut self,
        raw: &[Spanned<RawEntry>],
        kind: Option<Kind>,
        started_at: Option<DateTime<FixedOffset>>,
        resolved_at: Option<DateTime<FixedOffset>>,
    ) -> Vec<TimelineEntry> {
        let mut entries = Vec::new();
        let mut previous: Option<(DateTime<FixedOffset>, usize)> = None;
        for entry in raw {
            let entry_line = self.line(entry);
            let entry = entry.get_ref();
            let Some(at_span) = &entry.at else {
                self.findings.missing(
                    entry_line,
                    "at",
                    Localized {
                        en: "timeline entry without `at`".into(),
                        ja: "タイムラインの項目に `at` がありません".into(),
                    },
                );
                continue;
            };
            let line = self.line(at_span);
            let at = self.time(at_span, "at");
            let status = entry.status.as_ref().and_then(|s| {
                let kind = kind?;
                let allowed: Vec<&str> = Status::allowed_for(kind).iter().map(|s| s.as_str()).collect();
                let status =
                    Status::from_keyword(s.get_ref()).filter(|st| Status::allowed_for(kind).contains(st));
                if status.is_none() {
                    let (line, value) = (self.line(s), s.get_ref());
                    let message = if allowed.is_empty() {
                        Localized {
                            en: format!("timeline `status` is `{value}`; expected no status for an announcement"),
                            ja: format!("タイムラインの `status` が `{value}` になっています。kind が `announcement` のお知らせのタイムラインに status は書けません"),
                        }
                    } else {
                        let allowed = quoted_list(&allowed);
                        Localized {
                            en: format!("timeline `status` is `{value}`; expected one of {allowed}"),
                            ja: format!("タイムラインの `status` が `{value}` になっています。{allowed} のいずれかにしてください"),
                        }
                    };
                    self.findings.error(line, message);
                }
                status
            });
            let Some(text) = &entry.text else {
                self.findings.missing(
                    entry_line,
                    "text",
                    Localized {
                        en: "timeline entry without `text`".into(),
                        ja: "タイムラインの項目に `text` がありません".into(),
                    },
                );
                continue;
            };
            let Some(at) = at else { continue };
            if let Some((before, before_line)) = previous
                && at < before
            {
                self.findings.error(line, Localized {
                    en: format!("timeline entry at {at} is earlier than the entry before it ({before}, line {before_line}); list entries oldest first"),
                    ja: format!("{at} のタイムラインの項目が、その前の項目（{before}、{before_line} 行目）より前です。古い順に並べてください"),
                });
            }
            // A maintenance's start is its plan: entries before it (a reminder, a change of
            // plan, a cancellation) are what its readers need.
            if let Some(start) = started_at.filter(|_| kind != Some(Kind::Maintenance))
                && at < start
            {
                self.findings.warning(
                    line,
                    Localized {
                        en: format!("timeline entry at {at} is before `started_at` ({start})"),
                        ja: format!("{at} のタイムラインの項目が `started_at`（{start}）より前です"),
                    },
                );
            }
            let reason = entry.reason.as_ref().map(|r| Translated {
                ja: r.get_ref().clone(),
                en: entry.reason_en.as_ref().map(|r| r.get_ref().clone()),
            });
            // An end before the start is reported once, not again for every entry after it.
            if let Some(end) = resolved_at
                && at > end
                && reason.is_none()
                && started_at.is_none_or(|start| start <= end)
            {
                self.findings.missing(line, "reason", Localized {
                    en: format!("timeline entry at {at} is after `resolved_at` ({end}); add `reason` saying why (e.g. \"原因と再発防止策を追記\")"),
                    ja: format!("{at} のタイムラインの項目が `resolved_at`（{end}）より後です。`reason` に理由を書いてください（例: \"原因と再発防止策を追記\"）"),
                });
            }
            previous = Some((at, line));
            entries.push(TimelineEntry {
                at,
                status,
                text: Translated {
                    ja: text.get_ref().clone(),
                    en: entry.text_en.as_ref().map(|t| t.get_ref().clone()),
                },
                reason,
            });
        }
        entries
    }

    /// Titles are one line of a readable length; no text carries control characters (they
    /// break the feeds' XML and mean nothing to a reader), line breaks and tabs aside.
    fn check_characters(&mut self, raw: &RawFrontMatter) {
        for (key, title) in [("title", &raw.title), ("title_en", &raw.title_en)] {
            let Some(title) = title else { continue };
            let (line, chars) = (self.line(title), title.get_ref().chars().count());
            if title.get_ref().chars().any(char::is_control) {
                self.findings.error(
                    line,
                    Localized {
                        en: format!(
                            "`{key}` must be one line of text, without line breaks or control characters"
                        ),
                        ja: format!("`{key}` は改行や制御文字を含まない 1 行の文字列にしてください"),
                    },
                );
            }
            if chars > MAX_TITLE_CHARS {
                self.findings.error(
                    line,
                    Localized {
                        en: format!(
                            "`{key}` is {chars} characters long; titles are limited to {MAX_TITLE_CHARS}"
                        ),
                        ja: format!(
                            "`{key}` が {chars} 文字あります。タイトルは {MAX_TITLE_CHARS} 文字までです"
                        ),
                    },
                );
            }
        }
        let is_stray = |c: char| c.is_control() && !matches!(c, '\n' | '\r' | '\t');
        let entries = raw.timeline.iter().map(|e| e.get_ref());
        let spanned = entries.flat_map(|e| [&e.text, &e.text_en, &e.reason, &e.reason_en]).flatten();
        let mut stray: Vec<usize> =
            spanned.filter(|text| text.get_ref().chars().any(is_stray)).map(|text| self.line(text)).collect();
        let bodies =
            std::iter::once((self.split.body_ja, self.split.body_ja_offset)).chain(self.split.body_en);
        for (body, offset) in bodies {
            if let Some(at) = body.find(is_stray) {
                stray.push(line_of(self.source, offset + at));
            }
        }
        for line in stray {
            self.findings.error(
                line,
                Localized {
                    en: "a control character is in the text; remove it (only line breaks and tabs may be)"
                        .into(),
                    ja: "文字列に制御文字が含まれています。削除してください（改行とタブは使えます）".into(),
                },
            );
        }
    }

    /// Warns of an image in a body without a text alternative (what a screen reader says, and
    /// what shows when the image does not load).
    fn check_images(&mut self) {
        use pulldown_cmark::{Event, Parser, Tag, TagEnd};
        let bodies =
            std::iter::once((self.split.body_ja, self.split.body_ja_offset)).chain(self.split.body_en);
        let mut lines = Vec::new();
        for (body, offset) in bodies {
            let mut image: Option<(usize, String)> = None;
            for (event, range) in Parser::new(body).into_offset_iter() {
                match event {
                    Event::Start(Tag::Image { .. }) => image = Some((range.start, String::new())),
                    Event::Text(text) if image.is_some() => {
                        image.as_mut().expect("inside an image").1.push_str(&text);
                    }
                    Event::End(TagEnd::Image) => {
                        if let Some((start, alt)) = image.take()
                            && alt.trim().is_empty()
                        {
                            lines.push(line_of(self.source, offset + start));
                        }
                    }
                    Event::Html(html) | Event::InlineHtml(html) => {
                        let lower = html.to_ascii_lowercase();
                        for (at, _) in lower.match_indices("<img") {
                            let tag = &lower[at..lower[at..].find('>').map_or(lower.len(), |end| at + end)];
                            if !tag.contains("alt=") {
                                lines.push(line_of(self.source, offset + range.start + at));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        for line in lines {
            self.findings.warning(line, Localized {
                en: "an image without a text alternative: say what it shows, `![what it shows](…)` or `alt=\"…\"`".into(),
                ja: "代替テキストのない画像です。何が写っているかを `![説明](…)` か `alt=\"…\"` で書いてください".into(),
            });
        }
    }

    /// Warns where an English reader would fall back to Japanese.
    fn check_translations(&mut self, raw: &RawFrontMatter) {
        if !self.site.languages.contains(&statusdesk_app::Lang::En) {
            return;
        }
        if raw.title_en.is_none() {
            let line = raw.title.as_ref().map_or(1, |t| self.line(t));
            self.findings.untranslated(
                line,
                "title_en",
                Localized {
                    en: "no `title_en`: English readers will see the Japanese title".into(),
                    ja: "`title_en` がありません。英語の読者には日本語のタイトルが表示されます".into(),
                },
            );
        }
        if self.split.body_en.is_none() && !self.split.body_ja.trim().is_empty() {
            let body = self.split.body_ja;
            let first_text = self.split.body_ja_offset + (body.len() - body.trim_start().len());
            let line = line_of(self.source, first_text);
            self.findings.untranslated(line, "body_en", Localized {
                en: format!("the body has no English translation (a `{ENGLISH_MARKER}` line followed by the English text)"),
                ja: format!("本文に英訳がありません（`{ENGLISH_MARKER}` の行に続けて英語の本文を書きます）"),
            });
        }
        for entry in &raw.timeline {
            if entry.get_ref().text_en.is_none() {
                let line = self.line(entry);
                self.findings.untranslated(
                    line,
                    "text_en",
                    Localized {
                        en: "timeline entry has no `text_en`".into(),
                        ja: "タイムラインの項目に `text_en` がありません".into(),
                    },
                );
            }
        }
    }

    /// Checks every date written in prose: it must exist, its weekday must be right, and a year far
    /// from the notice's own dates is probably mistyped.
    fn check_prose_dates(
        &mut self,
        raw: &RawFrontMatter,
        started_at: Option<DateTime<FixedOffset>>,
        resolved_at: Option<DateTime<FixedOffset>>,
        published_at: Option<DateTime<FixedOffset>>,
        timeline: &[TimelineEntry],
    ) {
        let tz = self.site.time_zone;
        let local = |t: DateTime<FixedOffset>| t.with_timezone(&tz).date_naive();
        let known: Vec<NaiveDate> = started_at
            .into_iter()
            .chain(resolved_at)
            .chain(published_at)
            .chain(timeline.iter().map(|e| e.at))
            .map(local)
            .collect();
        let (Some(&first), Some(&last)) = (known.iter().min(), known.iter().max()) else {
            return;
        };
        let anchor = started_at.or(published_at).map(local).unwrap_or(first);

        // Scan the raw source of each text, so that offsets map straight to file lines.
        let mut texts: Vec<(usize, &str)> = vec![(self.split.body_ja_offset, self.split.body_ja)];
        texts.extend(self.split.body_en.map(|(text, offset)| (offset, text)));
        let entries = raw.timeline.iter().map(|e| e.get_ref());
        let fields = [&raw.title, &raw.title_en]
            .into_iter()
            .chain(entries.flat_map(|e| [&e.text, &e.text_en, &e.reason, &e.reason_en]))
            .flatten();
        for field in fields {
            let span = field.span();
            let offset = self.split.front_matter_offset + span.start;
            texts.push((offset, &self.source[offset..self.split.front_matter_offset + span.end]));
        }
        for (offset, text) in texts {
            for date in prose_dates::find(text) {
                let line = line_of(self.source, offset + date.start);
                self.check_prose_date(&date, line, anchor, (first, last));
            }
        }
    }

    fn check_prose_date(
        &mut self,
        date: &prose_dates::ProseDate,
        line: usize,
        anchor: NaiveDate,
        span: (NaiveDate, NaiveDate),
    ) {
        let year = date.year.unwrap_or_else(|| nearest_year(anchor, date.month, date.day));
        let Some(day) = NaiveDate::from_ymd_opt(year, date.month, date.day) else {
            let (text, month, day) = (&date.text, date.month, date.day);
            let message = if !(1..=12).contains(&month) {
                Localized {
                    en: format!("`{text}` is not a date: there is no month {month}"),
                    ja: format!("`{text}` は日付ではありません。{month} 月はありません"),
                }
            } else {
                Localized {
                    en: format!("`{text}` is not a date: {year}-{month:02} has no day {day}"),
                    ja: format!("`{text}` は日付ではありません。{year}年{month}月に{day}日はありません"),
                }
            };
            self.findings.error(line, message);
            return;
        };
        if let Some(written) = date.weekday
            && written != day.weekday()
        {
            let (text, date, real) = (&date.text, day.format("%Y-%m-%d"), day.weekday());
            self.findings.error(
                line,
                Localized {
                    en: format!(
                        "`{text}`: {date} is a {} ({}), not {} ({})",
                        weekday_en(real),
                        weekday_ja(real),
                        weekday_en(written),
                        weekday_ja(written)
                    ),
                    ja: format!(
                        "`{text}`: {date} は{}曜日です（{}曜日ではありません）",
                        weekday_ja(real),
                        weekday_ja(written)
                    ),
                },
            );
        }
        let margin = Duration::days(PLAUSIBLE_MARGIN_DAYS);
        if date.year.is_some() && (day < span.0 - margin || day > span.1 + margin) {
            let (text, first, last) = (&date.text, span.0.format("%Y-%m-%d"), span.1.format("%Y-%m-%d"));
            self.findings.warning(
                line,
                Localized {
                    en: format!("`{text}` is far outside this notice's dates ({first} to {last}); is the year mistyped?"),
                    ja: format!("`{text}` はこのお知らせの日付（{first}〜{last}）から大きく離れています。年の誤記ではありませんか"),
                },
            );
        }
    }
}

/// For a date written without its year: the year that puts it closest to `anchor`.
fn nearest_year(anchor: NaiveDate, month: u32, day: u32) -> i32 {
    let y = anchor.year();
    [y - 1, y, y + 1]
        .into_iter()
        .min_by_key(|&year| {
            // Invalid days are judged by the first of their month, so 2月30日 still gets a year.
            NaiveDate::from_ymd_opt(year, month.clamp(1, 12), day.clamp(1, 28))
                .map_or(i64::MAX, |d| (d - anchor).num_days().abs())
        })
        .unwrap_or(y)
}

fn quoted_list(items: &[&str]) -> String {
    items.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", ")
}

/// A weekday's English name in full.
fn weekday_en(weekday: Weekday) -> &'static str {
    ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
        [weekday.num_days_from_monday() as usize]
}

fn no_front_matter() -> Localized {
    Localized {
        en: "expected front matter: the file must start with a `+++` line".into(),
        ja: "フロントマターがありません。ファイルは `+++` の行で始めてください".into(),
    }
}

/// `field` holds `value`, which is none of the keywords `allowed`.
fn not_one_of(field: &str, value: &str, allowed: &[&str]) -> Localized {
    let allowed = quoted_list(allowed);
    Localized {
        en: format!("`{field}` is `{value}`; expected one of {allowed}"),
        ja: format!("`{field}` が `{value}` になっています。{allowed} のいずれかにしてください"),
    }
}

/// `what` (a field or table) written on a notice that is not an incident.
fn incidents_only(what: &str) -> Localized {
    Localized {
        en: format!("`{what}` is for incidents only; remove it"),
        ja: format!("`{what}` は kind が `incident` のお知らせにだけ書けます。削除してください"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(kind: Kind, status: Status, start: &str, end: Option<&str>) -> Notice {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap();
        Notice {
            slug: "n".into(),
            path: PathBuf::from("n.md"),
            title: Translated { ja: "n".into(), en: None },
            kind,
            status: Some(status),
            severity: None,
            components: Vec::new(),
            started_at: Some(at(start)),
            resolved_at: end.map(at),
            published_at: at("2021-03-01T00:00:00+09:00"),
            timeline: Vec::new(),
            body: Translated::default(),
            impact: None,
            source: String::new(),
        }
    }

    fn utc(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().to_utc()
    }

    #[test]
    fn a_maintenance_left_scheduled_starts_and_ends_as_planned() {
        let planned = notice(
            Kind::Maintenance,
            Status::Scheduled,
            "2021-03-27T01:00:00+09:00",
            Some("2021-03-27T03:00:00+09:00"),
        );
        let status_and_next = |now| (planned.status_at(utc(now)), planned.next_status_change(utc(now)));
        assert_eq!(
            status_and_next("2021-03-27T00:59:59+09:00"),
            (Some(Status::Scheduled), Some(utc("2021-03-27T01:00:00+09:00")))
        );
        assert_eq!(
            status_and_next("2021-03-26T16:00:00Z"),
            (Some(Status::InProgress), Some(utc("2021-03-27T03:00:00+09:00"))),
            "from its start, in any zone"
        );
        assert_eq!(status_and_next("2021-03-27T03:00:00+09:00"), (Some(Status::Completed), None));

        let open_ended = notice(Kind::Maintenance, Status::Scheduled, "2021-03-27T01:00:00+09:00", None);
        assert_eq!(open_ended.status_at(utc("2030-01-01T00:00:00Z")), Some(Status::InProgress));
        assert_eq!(open_ended.next_status_change(utc("2030-01-01T00:00:00Z")), None);
    }

    #[test]
    fn a_status_staff_set_is_kept_whatever_the_time() {
        let late = utc("2030-01-01T00:00:00Z");
        for (kind, status) in [
            (Kind::Maintenance, Status::InProgress),
            (Kind::Incident, Status::Investigating),
            (Kind::Announcement, Status::Scheduled),
        ] {
            let n = notice(kind, status, "2021-03-27T01:00:00+09:00", Some("2021-03-27T03:00:00+09:00"));
            assert_eq!(n.status_at(late), Some(status), "{kind:?} {status:?}");
            assert_eq!(n.next_status_change(utc("2021-03-01T00:00:00Z")), None);
        }
    }
}
