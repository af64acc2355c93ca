//! CSV (RFC 4180) fields, for the command line's `--format csv` and the portal's exports.

use std::borrow::Cow;

/// A field: quoted when it holds a comma, a quote or a line break, its quotes doubled.
pub fn field(text: &str) -> Cow<'_, str> {
    if text.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", text.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(text)
    }
}

/// A text field of a file meant for spreadsheets: as [`field`], and a text that a spreadsheet
/// would run as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return: SMTP
/// replies come from other people's servers) is prefixed with `'` so that it stays text.
pub fn spreadsheet_field(text: &str) -> Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(field(&format!("'{text}")).into_owned())
    } else {
        field(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(field("日本語"), "日本語");
    }

    #[test]
    fn formulas_stay_text() {
        assert_eq!(spreadsheet_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(spreadsheet_field("@sum"), "'@sum");
        assert_eq!(spreadsheet_field("550 5.1.1 unknown"), "550 5.1.1 unknown");
    }
}
