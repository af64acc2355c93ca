//! Changes the staff console writes into a notice file's text, leaving everything else exactly
//! as written (a file kept in git changes by those lines only):
//! - "add update": a new timeline entry at the end of the front matter; the notice's `status`
//!   becomes the entry's, and an entry that closes the notice (resolved, completed) also sets
//!   `resolved_at` (a maintenance's planned end becomes the actual one; a notice closed already
//!   keeps its own; a maintenance called off keeps its plan); a maintenance that begins has its
//!   planned start become the actual one;
//! - "attach to notice": the incident's scope as its `[impact]` table, replacing the one there;
//! - "new notice": the whole file of a notice from its fields;
//! - "edit": a notice's fields and body replaced, its tables (timeline, impact) kept.

use chrono::{DateTime, FixedOffset};
use statusdesk_app::model::Status;

/// One timeline entry as staff type it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Update {
    pub at: DateTime<FixedOffset>,
    /// The notice's new status; `None` leaves it as it is (an entry that only adds news).
    pub status: Option<Status>,
    pub text: String,
    pub text_en: Option<String>,
    /// Why an entry comes after the notice was resolved (required then), in each language.
    pub reason: Option<String>,
    pub reason_en: Option<String>,
}

/// Why an update cannot be written into a file.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    #[error("the file has no front matter between `+++` lines")]
    NoFrontMatter,
}

/// A new notice's fields; keywords as typed (the linter checks them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNotice {
    pub title: String,
    pub title_en: Option<String>,
    pub kind: String,
    pub status: Option<String>,
    pub severity: Option<String>,
    pub components: Vec<String>,
    pub started_at: Option<DateTime<FixedOffset>>,
    pub resolved_at: Option<DateTime<FixedOffset>>,
    pub published_at: DateTime<FixedOffset>,
    pub body: String,
    pub body_en: Option<String>,
}

/// The top-level keys a notice's form writes.
pub const FORM_KEYS: [&str; 9] = [
    "title",
    "title_en",
    "kind",
    "status",
    "severity",
    "components",
    "started_at",
    "resolved_at",
    "published_at",
];

/// The file of a new notice.
pub fn new_notice_text(notice: &NewNotice) -> String {
    let fields: String = form_lines(notice).into_iter().map(|(_, line)| line).collect();
    format!("+++\n{fields}+++\n{}", body_text(notice))
}

/// `source` with the fields and body of `notice` in place of its own. Every other line of the
/// front matter stays as written: comments, blank lines, keys the form does not know, the tables
/// (timeline, impact). A field keeps its line (and a comment after its value) where it is; a
/// field the file lacked goes after the field that precedes it in the form's order; a field the
/// form left empty loses its line. What is written anew keeps the file's line ending.
pub fn replace_fields(source: &str, notice: &NewNotice) -> Result<String, UpdateError> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let (open, close) = fences(&lines)?;
    let ending = if lines[open].ends_with("\r\n") { "\r\n" } else { "\n" };
    let in_ending = |text: &str| text.replace('\n', ending);
    let fields = form_lines(notice);
    let new_line = |key: &str| fields.iter().find(|(k, _)| *k == key).map(|(_, line)| line.as_str());
    // The top-level lines in order, up to the first table; a form key's value may span several
    // lines (an array, a multi-line string).
    let mut top: Vec<(Option<&'static str>, String)> = Vec::new();
    let mut i = open + 1;
    while i < close && !lines[i].trim_start().starts_with('[') {
        let Some(key) = form_key(lines[i]) else {
            top.push((None, lines[i].to_string()));
            i += 1;
            continue;
        };
        let end = (i + 1..=close).find(|&end| toml::from_str::<toml::Table>(&lines[i..end].concat()).is_ok());
        let end = end.unwrap_or(i + 1);
        if let Some(new) = new_line(key) {
            top.push((Some(key), rewritten(&lines[i..end].concat(), key, new)));
        }
        i = end;
    }
    let tables = i;
    for (key, line) in &fields {
        if top.iter().any(|(k, _)| k == &Some(*key)) {
            continue;
        }
        let rank = |key: &str| FORM_KEYS.iter().position(|k| *k == key);
        let after = top.iter().rposition(|(k, _)| k.is_some_and(|k| rank(k) < rank(key)));
        let at = match after {
            Some(n) => n + 1,
            None => top.iter().position(|(k, _)| k.is_some()).unwrap_or(0),
        };
        top.insert(at, (Some(key), in_ending(line)));
    }
    let mut out: String = lines[..=open].concat();
    for (_, line) in top {
        out += &line;
    }
    if tables < close && !out.ends_with('\n') {
        out += ending;
    }
    out += &lines[tables..close].concat();
    if !out.ends_with('\n') {
        out += ending;
    }
    out += &in_ending(&format!("+++\n{}", body_text(notice)));
    Ok(out)
}

/// The form key a front-matter line sets, if it sets one.
fn form_key(line: &str) -> Option<&'static str> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches(['"', '\'']);
    FORM_KEYS.iter().copied().find(|k| *k == key)
}

/// The line(s) `old` of `key` as they become with `new`: unchanged when the value is the same
/// (however it was written); otherwise `new`, with the comment that followed the old value
/// and the old line ending.
fn rewritten(old: &str, key: &str, new: &str) -> String {
    let value = |text: &str| toml::from_str::<toml::Table>(text).ok().and_then(|mut t| t.remove(key));
    if value(old).is_some_and(|old| Some(old) == value(new)) {
        return old.to_string();
    }
    let ending = if old.ends_with("\r\n") { "\r\n" } else { "\n" };
    let line = old.trim_end_matches(['\r', '\n']);
    let comment = comment_start(line).map(|at| line[at..].to_string());
    match comment {
        Some(comment) => format!("{} {comment}{ending}", new.trim_end()),
        None => format!("{}{ending}", new.trim_end()),
    }
}

/// Where the comment after a TOML line's value starts: the first `#` before which the line is
/// a whole `key = value` (or table header); a `#` inside a string is not one.
pub(super) fn comment_start(line: &str) -> Option<usize> {
    line.match_indices('#')
        .map(|(at, _)| at)
        .find(|&at| toml::from_str::<toml::Table>(&line[..at]).is_ok_and(|table| !table.is_empty()))
}

/// The top-level lines of `notice`'s front matter, each with its key, in the form's order.
fn form_lines(notice: &NewNotice) -> Vec<(&'static str, String)> {
    let mut lines = vec![("title", format!("title = {}\n", quoted(&notice.title)))];
    if let Some(en) = &notice.title_en {
        lines.push(("title_en", format!("title_en = {}\n", quoted(en))));
    }
    lines.push(("kind", format!("kind = {}\n", quoted(&notice.kind))));
    for (key, value) in [("status", &notice.status), ("severity", &notice.severity)] {
        if let Some(value) = value {
            lines.push((key, format!("{key} = {}\n", quoted(value))));
        }
    }
    if !notice.components.is_empty() {
        let list: Vec<String> = notice.components.iter().map(|c| quoted(c)).collect();
        lines.push(("components", format!("components = [{}]\n", list.join(", "))));
    }
    for (key, at) in [("started_at", notice.started_at), ("resolved_at", notice.resolved_at)] {
        if let Some(at) = at {
            lines.push((key, format!("{key} = {}\n", at.to_rfc3339())));
        }
    }
    lines.push(("published_at", format!("published_at = {}\n", notice.published_at.to_rfc3339())));
    lines
}

/// The body after the front matter: Japanese, then English after its marker.
fn body_text(notice: &NewNotice) -> String {
    let mut text = format!("\n{}\n", notice.body.trim_end());
    if let Some(en) = &notice.body_en {
        text += &format!("\n{}\n\n{}\n", super::notice::ENGLISH_MARKER, en.trim_end());
    }
    text
}

/// The lines of the two `+++` fences around the front matter.
fn fences(lines: &[&str]) -> Result<(usize, usize), UpdateError> {
    let is_fence = |line: &&str| line.trim_end() == "+++";
    let open = lines.iter().position(is_fence).ok_or(UpdateError::NoFrontMatter)?;
    let close = open + 1 + lines[open + 1..].iter().position(is_fence).ok_or(UpdateError::NoFrontMatter)?;
    Ok((open, close))
}

/// An incident's scope as staff attach it: each value as typed (the linter checks them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImpactTable {
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    /// `(key, value)` of each filter given: `route`, `error_class`, `recipient_source`, `sender`.
    pub filters: Vec<(&'static str, String)>,
}

/// `source` with `impact` as its `[impact]` table (in place of the one there, if any).
pub fn set_impact(source: &str, impact: &ImpactTable) -> Result<String, UpdateError> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let (open, close) = fences(&lines)?;
    let mut table =
        format!("[impact]\nfrom = {}\nto = {}\n", impact.from.to_rfc3339(), impact.to.to_rfc3339());
    for (key, value) in &impact.filters {
        table += &format!("{key} = {}\n", quoted(value));
    }
    table.push('\n');
    let is_header = |i: usize| lines[i].trim_start().starts_with('[');
    let existing = (open + 1..close).find(|&i| lines[i].trim() == "[impact]");
    let (start, end) = match existing {
        Some(start) => (start, (start + 1..close).find(|&i| is_header(i)).unwrap_or(close)),
        None => {
            // Above the first table, and above the comment lines written over it (theirs).
            let mut first = (open + 1..close).find(|&i| is_header(i)).unwrap_or(close);
            while first > open + 1 && lines[first - 1].trim_start().starts_with('#') {
                first -= 1;
            }
            (first, first)
        }
    };
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    if !out[start - 1].ends_with('\n') {
        out[start - 1].push('\n');
    }
    if existing.is_none() && !out[start - 1].trim().is_empty() {
        table.insert(0, '\n');
    }
    out.splice(start..end, [table]);
    Ok(out.concat())
}

/// `source` with `update` added.
pub fn append_update(source: &str, update: &Update) -> Result<String, UpdateError> {
    let lines: Vec<&str> = source.split_inclusive('\n').collect();
    let (open, close) = fences(&lines)?;
    // Top-level keys end at the first table header.
    let tables = (open + 1..close).find(|&i| lines[i].trim_start().starts_with('[')).unwrap_or(close);
    let key_line = |key: &str| {
        (open + 1..tables).find(|&i| {
            lines[i].trim_start().strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
        })
    };
    let at = update.at.to_rfc3339();
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let mut entry = format!("\n[[timeline]]\nat = {at}\n");
    if let Some(status) = update.status {
        entry += &format!("status = {}\n", quoted(status.as_str()));
    }
    entry += &format!("text = {}\n", quoted(&update.text));
    let optional =
        [("text_en", &update.text_en), ("reason", &update.reason), ("reason_en", &update.reason_en)];
    for (key, value) in optional {
        if let Some(value) = value.as_deref().filter(|t| !t.trim().is_empty()) {
            entry += &format!("{key} = {}\n", quoted(value));
        }
    }
    // The entry goes before the closing fence (after a last line without its newline, if any).
    if !out[close - 1].ends_with('\n') {
        out[close - 1].push('\n');
    }
    out.insert(close, entry);
    // Then the top-level keys, which sit above every table (indexes below `close` hold).
    let Some(status) = update.status else { return Ok(out.concat()) };
    let mut top_level = vec![format!("status = {}\n", quoted(status.as_str()))];
    // A top-level keyword as TOML reads it (a comment after it, a literal string), before this
    // entry.
    let keyword = |key: &str| {
        let table = lines[key_line(key)?].parse::<toml::Table>().ok()?;
        table.get(key)?.as_str().map(str::to_string)
    };
    let closed_already =
        keyword("status").and_then(|s| Status::from_keyword(&s)).is_some_and(Status::is_closed);
    // A maintenance called off keeps its planned times: nothing ended.
    let ends = status.ended();
    let incident = keyword("kind").as_deref() == Some("incident");
    // Lines below are replaced in place (an empty string removes one): indexes hold.
    match key_line("resolved_at") {
        // A maintenance's planned end gives way to the time it actually ended (the line keeps
        // its own line ending).
        Some(i) if ends && !closed_already => {
            let ending = if lines[i].ends_with("\r\n") { "\r\n" } else { "\n" };
            out[i] = format!("resolved_at = {at}{ending}");
        }
        // An incident reopened: it has not ended after all (its timeline keeps when it was
        // thought resolved). A maintenance's end stays, as planned.
        Some(i) if incident && closed_already && !status.is_closed() => out[i] = String::new(),
        None if ends => top_level.push(format!("resolved_at = {at}\n")),
        _ => {}
    }
    // A maintenance that begins (early, late, or after all): its planned start gives way to the
    // actual one.
    let not_begun = [Status::Scheduled, Status::Cancelled].map(Status::as_str);
    if status == Status::InProgress
        && keyword("status").is_some_and(|s| not_begun.contains(&s.as_str()))
        && let Some(i) = key_line("started_at")
    {
        let ending = if lines[i].ends_with("\r\n") { "\r\n" } else { "\n" };
        out[i] = format!("started_at = {at}{ending}");
    }
    match key_line("status") {
        Some(i) => out[i] = top_level.concat(),
        None => out.insert(open + 1, top_level.concat()),
    }
    Ok(out.concat())
}

/// `text` as a one-line TOML basic string: line breaks are escaped, so no line of it can ever be
/// read as the `+++` that ends the front matter.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTICE: &str = "+++\ntitle = \"遅延\"\nkind = \"incident\"\nstatus = \"investigating\"\nstarted_at = 2021-03-01T09:00:00+09:00\npublished_at = 2021-03-01T09:10:00+09:00\n\n[[timeline]]\nat = 2021-03-01T09:10:00+09:00\nstatus = \"investigating\"\ntext = \"調査中です。\"\n+++\n\n本文\n";

    fn update(status: Status) -> Update {
        Update {
            at: DateTime::parse_from_rfc3339("2021-03-01T10:00:00+09:00").unwrap(),
            status: Some(status),
            text: "原因は \"設定\" でした。\n+++\n対処済みです。".into(),
            text_en: Some("It was the \"configuration\".".into()),
            reason: None,
            reason_en: None,
        }
    }

    #[test]
    fn an_update_appends_an_entry_and_changes_the_status_only() {
        let updated = append_update(NOTICE, &update(Status::Identified)).unwrap();
        assert_eq!(
            updated,
            NOTICE.replace("status = \"investigating\"\nstarted_at", "status = \"identified\"\nstarted_at").replace(
                "text = \"調査中です。\"\n+++",
                "text = \"調査中です。\"\n\n[[timeline]]\nat = 2021-03-01T10:00:00+09:00\nstatus = \"identified\"\ntext = \"原因は \\\"設定\\\" でした。\\n+++\\n対処済みです。\"\ntext_en = \"It was the \\\"configuration\\\".\"\n+++"
            )
        );
        // The `+++` inside the text stays inside its string: the front matter ends where it did.
        let front: String =
            updated.split_inclusive('\n').skip(1).take_while(|l| l.trim_end() != "+++").collect();
        let parsed: toml::Table = toml::from_str(&front).unwrap();
        assert_eq!(parsed["timeline"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn an_update_that_resolves_sets_when_it_ended() {
        let updated = append_update(NOTICE, &update(Status::Resolved)).unwrap();
        assert!(
            updated.contains("status = \"resolved\"\nresolved_at = 2021-03-01T10:00:00+09:00\nstarted_at")
        );
        let later = Update {
            at: DateTime::parse_from_rfc3339("2021-03-01T12:00:00+09:00").unwrap(),
            ..update(Status::Resolved)
        };
        let again = append_update(&updated, &later).unwrap();
        assert_eq!(again.matches("resolved_at").count(), 1, "an existing resolved_at is kept");
        assert!(again.contains("resolved_at = 2021-03-01T10:00:00+09:00\n"), "{again}");
        // Closed already, however its status is written: its end stays.
        let commented = updated.replace("status = \"resolved\"\n", "status = 'resolved' # fixed\n");
        let again = append_update(&commented, &later).unwrap();
        assert!(again.contains("resolved_at = 2021-03-01T10:00:00+09:00\n"), "{again}");
    }

    #[test]
    fn an_update_that_reopens_an_incident_removes_its_end() {
        let resolved = append_update(NOTICE, &update(Status::Resolved)).unwrap();
        let recurred = Update {
            at: DateTime::parse_from_rfc3339("2021-03-01T13:00:00+09:00").unwrap(),
            ..update(Status::Investigating)
        };
        let reopened = append_update(&resolved, &recurred).unwrap();
        assert!(!reopened.contains("resolved_at"), "{reopened}");
        assert!(
            reopened.contains(
                "+++\ntitle = \"遅延\"\nkind = \"incident\"\nstatus = \"investigating\"\nstarted_at"
            ),
            "{reopened}"
        );
        assert_eq!(reopened.matches("[[timeline]]").count(), 3, "the resolution stays in the timeline");
        // Resolved again, it ends anew.
        let fixed = Update {
            at: DateTime::parse_from_rfc3339("2021-03-01T14:00:00+09:00").unwrap(),
            ..update(Status::Resolved)
        };
        assert!(
            append_update(&reopened, &fixed)
                .unwrap()
                .contains("status = \"resolved\"\nresolved_at = 2021-03-01T14:00:00+09:00\n")
        );
    }

    #[test]
    fn a_maintenance_under_way_again_keeps_its_end() {
        let completed = "+++\ntitle = \"保守\"\nkind = \"maintenance\"\nstatus = \"completed\"\nstarted_at = 2021-03-01T02:00:00+09:00\nresolved_at = 2021-03-01T04:00:00+09:00\npublished_at = 2021-02-20T12:00:00+09:00\n+++\n\n本文\n";
        let again = Update {
            at: DateTime::parse_from_rfc3339("2021-03-01T04:30:00+09:00").unwrap(),
            ..update(Status::InProgress)
        };
        let updated = append_update(completed, &again).unwrap();
        assert!(
            updated.contains("status = \"in_progress\"\nstarted_at")
                && updated.contains("\nresolved_at = 2021-03-01T04:00:00+09:00\n"),
            "{updated}"
        );
    }

    #[test]
    fn an_entry_without_a_status_leaves_the_notice_as_it_is() {
        let resolved = append_update(NOTICE, &update(Status::Resolved)).unwrap();
        let news = Update {
            at: DateTime::parse_from_rfc3339("2021-03-02T15:00:00+09:00").unwrap(),
            status: None,
            reason: Some("原因を追記".into()),
            reason_en: Some("Cause added".into()),
            ..update(Status::Resolved)
        };
        let updated = append_update(&resolved, &news).unwrap();
        let entry = "\n[[timeline]]\nat = 2021-03-02T15:00:00+09:00\ntext = \"原因は \\\"設定\\\" でした。\\n+++\\n対処済みです。\"\ntext_en = \"It was the \\\"configuration\\\".\"\nreason = \"原因を追記\"\nreason_en = \"Cause added\"\n";
        assert_eq!(
            updated,
            resolved.replace("\n+++\n\n本文", &format!("\n{entry}+++\n\n本文")),
            "only the entry added"
        );
    }

    #[test]
    fn a_maintenance_completed_early_ends_when_it_was_completed() {
        let planned = "+++\ntitle = \"保守\"\nkind = \"maintenance\"\nstatus = \"in_progress\"\nstarted_at = 2021-03-01T02:00:00+09:00\nresolved_at = 2021-03-01T04:00:00+09:00\npublished_at = 2021-02-20T12:00:00+09:00\n+++\n\n本文\n";
        let completed = Update {
            at: DateTime::parse_from_rfc3339("2021-03-01T03:10:00+09:00").unwrap(),
            ..update(Status::Completed)
        };
        let updated = append_update(planned, &completed).unwrap();
        assert!(updated.contains("status = \"completed\"\nstarted_at"), "{updated}");
        assert!(updated.contains("\nresolved_at = 2021-03-01T03:10:00+09:00\n"), "{updated}");
        assert_eq!(updated.matches("resolved_at").count(), 1, "{updated}");
    }

    #[test]
    fn a_maintenance_that_begins_starts_when_it_began_and_one_called_off_keeps_its_plan() {
        let planned = "+++\ntitle = \"保守\"\nkind = \"maintenance\"\nstatus = \"scheduled\"\nstarted_at = 2021-03-01T02:00:00+09:00\nresolved_at = 2021-03-01T04:00:00+09:00\npublished_at = 2021-02-20T12:00:00+09:00\n+++\n\n本文\n";
        let at = |t| DateTime::parse_from_rfc3339(t).unwrap();
        let early = Update { at: at("2021-03-01T01:40:00+09:00"), ..update(Status::InProgress) };
        let begun = append_update(planned, &early).unwrap();
        assert!(
            begun.contains("\nstarted_at = 2021-03-01T01:40:00+09:00\nresolved_at = 2021-03-01T04:00:00"),
            "{begun}"
        );
        // Under way already: a later entry leaves its start alone.
        let later = Update { at: at("2021-03-01T02:30:00+09:00"), ..update(Status::InProgress) };
        assert!(append_update(&begun, &later).unwrap().contains("started_at = 2021-03-01T01:40:00+09:00"));
        let off = Update { at: at("2021-02-28T09:00:00+09:00"), ..update(Status::Cancelled) };
        let cancelled = append_update(planned, &off).unwrap();
        assert!(
            cancelled.contains("status = \"cancelled\"\nstarted_at = 2021-03-01T02:00:00+09:00\nresolved_at = 2021-03-01T04:00:00+09:00\n"),
            "{cancelled}"
        );
    }

    #[test]
    fn a_scope_is_written_as_the_impact_table_in_place_of_the_old_one() {
        let at = |t| DateTime::parse_from_rfc3339(t).unwrap();
        let impact = ImpactTable {
            from: at("2021-02-24T21:00:00+09:00"),
            to: at("2021-03-01T17:35:00+09:00"),
            filters: vec![("error_class", "sender_domain_unverified".into())],
        };
        let attached = set_impact(NOTICE, &impact).unwrap();
        let table = "[impact]\nfrom = 2021-02-24T21:00:00+09:00\nto = 2021-03-01T17:35:00+09:00\nerror_class = \"sender_domain_unverified\"\n\n";
        assert_eq!(attached, NOTICE.replace("[[timeline]]", &format!("{table}[[timeline]]")));
        // A comment over the timeline stays with it.
        let commented = NOTICE.replace("\n[[timeline]]", "\n# 経過\n[[timeline]]");
        let attached_over = set_impact(&commented, &impact).unwrap();
        assert!(attached_over.contains(&format!("{table}# 経過\n[[timeline]]")), "{attached_over}");
        let narrower = ImpactTable { filters: vec![("route", "cloud".into())], ..impact };
        let again = set_impact(&attached, &narrower).unwrap();
        assert_eq!(again.matches("[impact]").count(), 1, "{again}");
        assert!(
            again.contains("route = \"cloud\"\n\n[[timeline]]") && !again.contains("error_class"),
            "{again}"
        );
        let front: String =
            again.split_inclusive('\n').skip(1).take_while(|l| l.trim_end() != "+++").collect();
        toml::from_str::<toml::Table>(&front).unwrap();
    }

    /// An incident's form fields as staff fill them in: `title`, published 2021-03-01 09:10,
    /// body `本文`, nothing else.
    fn form(title: &str) -> NewNotice {
        NewNotice {
            title: title.into(),
            title_en: None,
            kind: "incident".into(),
            status: None,
            severity: None,
            components: Vec::new(),
            started_at: None,
            resolved_at: None,
            published_at: DateTime::parse_from_rfc3339("2021-03-01T09:10:00+09:00").unwrap(),
            body: "本文".into(),
            body_en: None,
        }
    }

    #[test]
    fn editing_replaces_the_fields_and_body_and_keeps_the_timeline() {
        let notice = NewNotice {
            status: Some("identified".into()),
            components: vec!["email-delivery".into()],
            started_at: Some(DateTime::parse_from_rfc3339("2021-03-01T09:00:00+09:00").unwrap()),
            body: "新しい本文".into(),
            body_en: Some("New text".into()),
            ..form("配信の遅延 (更新)")
        };
        let edited = replace_fields(NOTICE, &notice).unwrap();
        assert!(edited.starts_with("+++\ntitle = \"配信の遅延 (更新)\"\nkind = \"incident\"\nstatus = \"identified\"\ncomponents = [\"email-delivery\"]\n"), "{edited}");
        assert!(edited.contains("[[timeline]]\nat = 2021-03-01T09:10:00+09:00\nstatus = \"investigating\"\ntext = \"調査中です。\"\n+++\n\n新しい本文\n\n<!-- lang: en -->\n\nNew text\n"), "{edited}");
        assert_eq!(edited.matches("title =").count(), 1);
        assert_eq!(replace_fields(&edited, &notice).unwrap(), edited, "editing is stable");
    }

    #[test]
    fn editing_keeps_comments_blank_lines_and_the_place_of_each_field() {
        let at = |t| DateTime::parse_from_rfc3339(t).unwrap();
        let source = "+++\r\n# 担当: 運用チーム\r\ntitle = \"遅延\"\r\nkind = \"incident\"\r\n\r\nstatus = \"investigating\"  # 10時に見直す\r\ncomponents = [\r\n  \"email-delivery\",\r\n]\r\nstarted_at = 2021-03-01 09:00:00+09:00\r\nseverity = \"minor\"\r\npublished_at = 2021-03-01T09:10:00+09:00\r\n\r\n[[timeline]]\r\nat = 2021-03-01T09:10:00+09:00\r\ntext = \"調査中です。\"\r\n+++\r\n\r\n本文\r\n";
        let notice = NewNotice {
            title_en: Some("Delays".into()),
            status: Some("identified".into()),
            components: vec!["email-delivery".into()],
            started_at: Some(at("2021-03-01T09:00:00+09:00")),
            ..form("遅延")
        };
        let edited = replace_fields(source, &notice).unwrap();
        let front = "+++\r\n# 担当: 運用チーム\r\ntitle = \"遅延\"\r\ntitle_en = \"Delays\"\r\nkind = \"incident\"\r\n\r\nstatus = \"identified\" # 10時に見直す\r\ncomponents = [\r\n  \"email-delivery\",\r\n]\r\nstarted_at = 2021-03-01 09:00:00+09:00\r\npublished_at = 2021-03-01T09:10:00+09:00\r\n\r\n[[timeline]]\r\nat = 2021-03-01T09:10:00+09:00\r\ntext = \"調査中です。\"\r\n+++\r\n";
        assert_eq!(edited, format!("{front}\r\n本文\r\n"), "every line as the file ends them");
        assert_eq!(replace_fields(&edited, &notice).unwrap(), edited, "editing is stable");
    }

    #[test]
    fn editing_reads_a_multi_line_value_and_a_quoted_key_as_the_fields_they_are() {
        let source = "+++\n\"title\" = \"\"\"遅延\n[重要] 続報\"\"\"\nkind = \"incident\"\npublished_at = 2021-03-01T09:10:00+09:00\n+++\n\n本文\n";
        let notice = form("遅延\n[重要] 続報");
        assert_eq!(replace_fields(source, &notice).unwrap(), source, "nothing changed, nothing rewritten");
        let retitled = replace_fields(source, &NewNotice { title: "新しい題".into(), ..notice }).unwrap();
        let front: String =
            retitled.split_inclusive('\n').skip(1).take_while(|l| l.trim_end() != "+++").collect();
        let table: toml::Table = toml::from_str(&front).unwrap();
        assert_eq!(table["title"].as_str(), Some("新しい題"));
        assert_eq!(front.matches("title").count(), 1, "{retitled}");
    }

    #[test]
    fn a_file_without_front_matter_is_refused() {
        assert_eq!(
            append_update("just text\n", &update(Status::Identified)),
            Err(UpdateError::NoFrontMatter)
        );
    }
}
