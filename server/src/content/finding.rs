//! What the linter reports: one finding per problem, pointing at a file and line, said in
//! Japanese and in English (the command line prints English; the staff console speaks its
//! reader's language).

use std::fmt;
use std::path::{Path, PathBuf};

use statusdesk_app::Lang;

use super::site::Localized;

/// How serious a finding is. An error keeps a notice from being published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error,
    Warning,
}

/// One problem in one file: printed as `path:line: error: message`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub path: PathBuf,
    pub line: usize,
    pub level: Level,
    pub message: Localized,
    /// The key the problem is about when the file lacks it, so that no line holds it (a form
    /// that writes the file points its writer at the field for that key).
    pub missing_key: Option<&'static str>,
}

impl Finding {
    /// A warning that a translation is missing (English is optional; the page says so).
    pub fn is_untranslated(&self) -> bool {
        self.level == Level::Warning && matches!(self.missing_key, Some("title_en" | "text_en" | "body_en"))
    }

    /// `path:line: error: message` in `lang`.
    pub fn describe(&self, lang: Lang) -> String {
        let level = match self.level {
            Level::Error => lang.pick("エラー", "error"),
            Level::Warning => lang.pick("警告", "warning"),
        };
        format!("{}:{}: {level}: {}", self.path.display(), self.line, self.message.get(lang))
    }
}

/// In English, as the command line prints it.
impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe(Lang::En))
    }
}

/// Collects the findings for one file, turning byte offsets into line numbers.
pub struct Findings<'a> {
    path: &'a Path,
    pub list: Vec<Finding>,
}

impl<'a> Findings<'a> {
    pub fn new(path: &'a Path) -> Self {
        Findings { path, list: Vec::new() }
    }

    pub fn error(&mut self, line: usize, message: Localized) {
        self.push(Level::Error, line, message, None);
    }

    pub fn warning(&mut self, line: usize, message: Localized) {
        self.push(Level::Warning, line, message, None);
    }

    /// An error about `key`, missing from the table that `line` belongs to.
    pub fn missing(&mut self, line: usize, key: &'static str, message: Localized) {
        self.push(Level::Error, line, message, Some(key));
    }

    /// A warning that the English of `key` (`title_en`, `text_en`, `body_en` for the body's
    /// second part) is missing: readers of English see the Japanese.
    pub fn untranslated(&mut self, line: usize, key: &'static str, message: Localized) {
        self.push(Level::Warning, line, message, Some(key));
    }

    fn push(&mut self, level: Level, line: usize, message: Localized, missing_key: Option<&'static str>) {
        self.list.push(Finding { path: self.path.to_path_buf(), line, level, message, missing_key });
    }

    pub fn has_errors(&self) -> bool {
        self.list.iter().any(|f| f.level == Level::Error)
    }
}

/// That a required field `name` is missing, and nothing more: a form that writes the file says
/// it in its own words, next to the field.
pub fn missing_field(name: &str) -> Localized {
    Localized { en: format!("missing field `{name}`"), ja: format!("`{name}` がありません") }
}

/// The message for a required key given an empty value.
pub fn empty_field(name: &str) -> Localized {
    Localized { en: format!("`{name}` is empty"), ja: format!("`{name}` が空です") }
}

/// A TOML syntax error in `text` as its writer reads it: the key of the line it points at is
/// named, and a value that should have been quoted text is said so. An error about the whole
/// text (a missing field) names no key. Returns the line and the message (prefixed by `what`,
/// e.g. "front matter: ").
pub fn toml_problem(text: &str, error: &toml::de::Error, what: (&str, &str)) -> (usize, Localized) {
    let problem = error.message().trim();
    // The whole text's problems come with no span, an empty one at its start, or all of it.
    let whole = error.span().is_none_or(|s| s.start == 0 && (s.end == 0 || s.end >= text.trim_end().len()));
    let offset = error.span().map_or(0, |s| s.start).min(text.len());
    let line = line_of(text, offset);
    let line_text = text.lines().nth(line - 1).unwrap_or("");
    let key_value = line_text
        .split_once('=')
        .map(|(key, value)| (key.trim(), value.split('#').next().unwrap_or("").trim()))
        .filter(|(key, _)| {
            !whole
                && !key.is_empty()
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        });
    // A value TOML cannot start to read: text without its quotes.
    let unquoted = |value: &str| {
        !value.is_empty()
            && !value.starts_with(['"', '\'', '[', '{', '+', '-'])
            && !value.starts_with(|c: char| c.is_ascii_digit())
            && !["true", "false", "inf", "nan"].contains(&value)
    };
    let (en, ja) = match key_value {
        Some((key, value)) if unquoted(value) => (
            format!("`{key}`: text must be in double quotes: {key} = \"{value}\""),
            format!("`{key}`: 文字列は二重引用符で囲んでください: {key} = \"{value}\""),
        ),
        Some((key, _)) => (format!("`{key}`: {problem}"), format!("`{key}`: {problem}")),
        None => (problem.to_string(), problem.to_string()),
    };
    (line, Localized { en: format!("{}{en}", what.0), ja: format!("{}{ja}", what.1) })
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset].iter().filter(|&&b| b == b'\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_with_the_whole_text_names_no_key() {
        #[derive(Debug, serde::Deserialize)]
        struct Needs {
            #[allow(dead_code)]
            base_url: String,
        }
        let text = "name = \"x\"\n";
        let error = toml::from_str::<Needs>(text).unwrap_err();
        let (line, problem) = toml_problem(text, &error, ("", ""));
        assert_eq!((line, problem.en.as_str()), (1, "missing field `base_url`"));
    }
}
