//! The notice linter, one fixture per rule under `tests/fixtures/lint/<rule>/`. Each test checks
//! every finding the fixture produces: its exact `path:line: level:` and what the message says.

mod common;

use std::path::Path;

use statusdesk::content;

/// Lints a fixture (with the shared lint `site.toml`) and returns its findings as printed, with
/// paths relative to the content folder.
fn lint(case: &str) -> Vec<String> {
    lint_dir(fixture(case).path())
}

/// A copy of a fixture with the shared lint `site.toml`.
fn fixture(case: &str) -> tempfile::TempDir {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures.join("site.toml"), dir.path().join("site.toml")).unwrap();
    common::copy_dir(&fixtures.join(case), dir.path());
    dir
}

fn lint_dir(dir: &Path) -> Vec<String> {
    let loaded = content::load(dir, None).expect("the site loads");
    let prefix = format!("{}/", dir.display());
    loaded.findings.iter().map(|f| f.to_string().replacen(&prefix, "", 1)).collect()
}

/// Asserts the findings one by one: each starts with `location` and contains `says`.
fn assert_findings(case: &str, expected: &[(&str, &str)]) {
    let found = lint(case);
    assert_eq!(found.len(), expected.len(), "{case}: {found:#?}");
    for (finding, (location, says)) in found.iter().zip(expected) {
        assert!(finding.starts_with(location), "{case}: expected `{location}`, got `{finding}`");
        assert!(finding.contains(says), "{case}: expected `{says}` in `{finding}`");
    }
}

#[test]
fn front_matter_that_is_not_toml() {
    assert_findings("invalid-toml", &[("notices/notice.md:3: error:", "front matter:")]);
}

#[test]
fn toml_mistakes_name_their_key() {
    assert_findings(
        "toml-values",
        &[
            ("notices/bad-date.md:5: error:", "front matter: `started_at`: invalid date"),
            ("notices/duplicate.md:5: error:", "front matter: `status`: duplicate key"),
            (
                "notices/unquoted-ja.md:2: error:",
                "front matter: `title`: text must be in double quotes: title = \"配信の遅延\"",
            ),
            (
                "notices/unquoted.md:3: error:",
                "front matter: `kind`: text must be in double quotes: kind = \"incident\"",
            ),
        ],
    );
}

#[test]
fn titles_are_one_short_line_and_no_text_has_control_characters() {
    assert_findings(
        "characters",
        &[
            (
                "notices/notice.md:2: error:",
                "`title` must be one line of text, without line breaks or control characters",
            ),
            ("notices/notice.md:3: error:", "`title_en` is 201 characters long; titles are limited to 200"),
            ("notices/notice.md:13: error:", "a control character is in the text"),
            ("notices/notice.md:17: error:", "a control character is in the text"),
        ],
    );
}

#[test]
fn images_without_a_text_alternative() {
    assert_findings(
        "image-alt",
        &[
            ("notices/notice.md:8: warning:", "an image without a text alternative"),
            ("notices/notice.md:12: warning:", "an image without a text alternative"),
        ],
    );
}

#[test]
fn unknown_fields() {
    assert_findings("unknown-field", &[("notices/notice.md:4: error:", "unknown field `colour`")]);
}

#[test]
fn missing_fields() {
    assert_findings("missing-field", &[("notices/notice.md:1: error:", "error: missing field `kind`")]);
}

#[test]
fn bad_enum_values() {
    assert_findings(
        "bad-enum",
        &[
            (
                "notices/notice.md:4: error:",
                "`status` is `fixed`; expected one of `investigating`, `identified`, `monitoring`, `resolved`",
            ),
            (
                "notices/notice.md:5: error:",
                "`severity` is `huge`; expected one of `minor`, `major`, `critical`",
            ),
        ],
    );
}

#[test]
fn statuses_of_another_kind() {
    assert_findings(
        "status-of-other-kind",
        &[(
            "notices/notice.md:4: error:",
            "status `resolved` is not for a maintenance; expected one of `scheduled`, `in_progress`, `completed`",
        )],
    );
}

#[test]
fn unknown_component_ids() {
    assert_findings(
        "unknown-component",
        &[("notices/notice.md:5: error:", "unknown component `fax`; site.toml defines `email-delivery`")],
    );
}

#[test]
fn an_impact_window_outside_the_incident_is_warned_about() {
    // A window that overlaps the incident (starting before it was noticed) is fine.
    assert_findings(
        "impact-outside-incident",
        &[
            (
                "notices/after.md:11: warning:",
                "`impact.from` (2021-03-01 12:00:00 +09:00) is not before `resolved_at` (2021-03-01 12:00:00 +09:00)",
            ),
            (
                "notices/before.md:12: warning:",
                "`impact.to` (2021-02-01 12:00:00 +09:00) is not after `started_at` (2021-03-01 10:00:00 +09:00)",
            ),
        ],
    );
}

#[test]
fn duplicate_slugs() {
    assert_findings(
        "duplicate-slug",
        &[
            ("notices/b.md:2: error:", "duplicate slug `a`: "),
            (
                "notices/c.md:1: error:",
                "duplicate slug `c` (from the file's name; set `slug` to choose another)",
            ),
        ],
    );
}

#[test]
fn a_file_not_in_utf8_is_named_with_the_line_of_its_first_bad_byte() {
    assert_findings(
        "not-utf8",
        &[("notices/notice.md:7: error:", "not valid UTF-8 (byte 11 of the line): save the file as UTF-8")],
    );
}

#[test]
fn times_without_an_offset() {
    assert_findings(
        "no-offset",
        &[
            (
                "notices/notice.md:6: error:",
                "`started_at` = 2021-02-24T21:00:00 has no UTC offset; write it as 2021-02-24T21:00:00+09:00",
            ),
            ("notices/notice.md:7: error:", "`published_at` = 2021-02-25 has no time of day and offset"),
        ],
    );
}

#[test]
fn timeline_out_of_order() {
    assert_findings(
        "timeline-order",
        &[(
            "notices/notice.md:14: error:",
            "is earlier than the entry before it (2021-03-01 16:35:00 +09:00, line 10)",
        )],
    );
}

#[test]
fn resolved_before_started() {
    assert_findings(
        "resolved-before-start",
        &[(
            "notices/notice.md:7: error:",
            "`resolved_at` (2021-02-28 17:35:00 +09:00) is before `started_at`",
        )],
    );
}

#[test]
fn entries_after_resolution_must_say_why() {
    assert_findings(
        "entry-after-resolution",
        &[(
            "notices/notice.md:16: error:",
            "is after `resolved_at` (2021-03-01 17:35:00 +09:00); add `reason`",
        )],
    );
}

/// A finding about a key the file lacks names that key, so that the staff console can point at
/// the form field that writes it; one about a line's own value names none.
#[test]
fn findings_name_the_key_that_is_missing() {
    let missing_key = |case: &str| {
        let dir = fixture(case);
        let loaded = content::load(dir.path(), None).expect("the site loads");
        loaded.findings.iter().map(|f| f.missing_key).collect::<Vec<_>>()
    };
    assert_eq!(missing_key("entry-after-resolution"), [Some("reason")]);
    assert_eq!(missing_key("resolved-without-time"), [Some("resolved_at")]);
    assert_eq!(missing_key("resolved-before-start"), [None]);
}

#[test]
fn resolved_incident_without_resolution_time() {
    assert_findings(
        "resolved-without-time",
        &[("notices/notice.md:4: error:", "status is `resolved` but `resolved_at` is missing")],
    );
}

#[test]
fn wrong_weekdays_in_japanese_and_english_prose() {
    assert_findings(
        "wrong-weekday",
        &[
            // In the titles too.
            ("notices/notice.md:2: error:", "`3月2日(月)`: 2021-03-02 is a Tuesday"),
            ("notices/notice.md:9: error:", "`Wed 2 Mar 2021`: 2021-03-02 is a Tuesday"),
            // Inside a multi-line timeline text: the line of the date itself.
            ("notices/notice.md:15: error:", "`3月1日(火)`: 2021-03-01 is a Monday"),
            (
                "notices/notice.md:20: error:",
                "`2021年2月24日(木)`: 2021-02-24 is a Wednesday (水), not Thursday (木)",
            ),
            (
                "notices/notice.md:21: error:",
                "`2月25日（水）`: 2021-02-25 is a Thursday (木), not Wednesday (水)",
            ),
            ("notices/notice.md:23: error:", "`Thursday, February 24, 2021`: 2021-02-24 is a Wednesday"),
            (
                "notices/notice.md:24: error:",
                "`Tue 1 Mar 2021`: 2021-03-01 is a Monday (月), not Tuesday (火)",
            ),
            (
                "notices/notice.md:25: error:",
                "`2021/3/2（月）`: 2021-03-02 is a Tuesday (火), not Monday (月)",
            ),
            // The ISO form, and an English date with its weekday after it.
            ("notices/notice.md:26: error:", "`2021-03-02(月)`: 2021-03-02 is a Tuesday"),
            ("notices/notice.md:26: error:", "`Mar 2, 2021 (Mon)`: 2021-03-02 is a Tuesday"),
        ],
    );
}

#[test]
fn mistyped_years_are_warned_about() {
    assert_findings(
        "implausible-year",
        &[
            (
                "notices/notice.md:12: warning:",
                "`2012年2月24日(金)` is far outside this notice's dates (2021-02-24 to 2021-03-02); is the year mistyped?",
            ),
            ("notices/notice.md:13: warning:", "`March 1, 2012` is far outside"),
        ],
    );
}

#[test]
fn impossible_dates() {
    assert_findings(
        "impossible-date",
        &[
            ("notices/notice.md:11: error:", "`2月30日` is not a date: 2021-02 has no day 30"),
            ("notices/notice.md:12: error:", "`13月1日` is not a date: there is no month 13"),
        ],
    );
}

#[test]
fn files_without_front_matter() {
    assert_findings("no-front-matter", &[("notices/notice.md:1: error:", "must start with a `+++` line")]);
    assert_findings(
        "unclosed-front-matter",
        &[("notices/notice.md:1: error:", "front matter is not closed")],
    );
}

#[test]
fn files_over_256_kib_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lint");
    std::fs::copy(fixtures.join("site.toml"), dir.path().join("site.toml")).unwrap();
    std::fs::create_dir(dir.path().join("notices")).unwrap();
    let big = format!(
        "+++\ntitle = \"大きい\"\nkind = \"announcement\"\npublished_at = 2021-03-01T10:00:00+09:00\n+++\n{}",
        "あ".repeat(90 * 1024)
    );
    std::fs::write(dir.path().join("notices/big.md"), big).unwrap();
    let found = lint_dir(dir.path());
    assert_eq!(found, ["notices/big.md:1: error: the file is 270 KiB; notices are limited to 256 KiB"]);
}

#[test]
fn the_shipped_content_is_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../content");
    let loaded = content::load(&dir, None).unwrap();
    assert!(loaded.findings.is_empty(), "{:#?}", loaded.findings);
    assert!(loaded.notices.len() >= 5);
    let reference =
        loaded.notice("2021-02-unsent-import-list-mail").expect("the reference incident is published");
    assert_eq!(reference.status, Some(statusdesk_app::model::Status::Resolved));
}

#[test]
fn impact_scopes() {
    assert_findings(
        "bad-impact",
        &[
            ("notices/maintenance.md:9: error:", "`[impact]` is for incidents only"),
            (
                "notices/notice.md:12: error:",
                "`impact.to` (2021-03-01 10:00:00 +09:00) must be after `impact.from`",
            ),
            (
                "notices/notice.md:13: error:",
                "`impact.route` is `satellite`; expected one of `legacy`, `cloud`",
            ),
        ],
    );
}
