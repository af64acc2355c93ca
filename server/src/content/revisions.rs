//! Every published version of each notice, kept append-only beside the content:
//! `.revisions/<slug>/<number>.toml`, one file per version with when it was published, by whom,
//! the author's note ("cause and countermeasures added") and the file's whole text. A version
//! is written once, atomically, and never changed; the public site lists them and shows the
//! differences between consecutive ones.
//!
//! The staff console records a version with its author when it publishes; a change made to the
//! file directly (in git, in an editor) is recorded when the server loads it, as `file`.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::write;

/// A version's text as the public reads it: the front matter's comments, which staff write for
/// each other, left out; everything else as written.
pub fn public_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut fences, mut in_string) = (0, false);
    for line in text.split_inclusive('\n') {
        let in_front_matter = fences == 1 && !in_string;
        if line.trim_end() == "+++" && !in_string {
            fences += 1;
        } else if fences == 1 {
            // A multi-line string opens or closes on a line with an odd count of its quotes.
            in_string ^= (line.matches("\"\"\"").count() + line.matches("\'\'\'").count()) % 2 == 1;
        }
        if !in_front_matter {
            out += line;
        } else if line.trim_start().starts_with('#') {
            continue;
        } else if let Some(at) = super::update::comment_start(line) {
            out += line[..at].trim_end();
            out += if line.ends_with("\r\n") { "\r\n" } else { "\n" };
        } else {
            out += line;
        }
    }
    out
}

/// The folder of the versions, inside the content folder (its dot keeps the loader out).
pub const DIR: &str = ".revisions";

/// The author of a version recorded from a change to the file itself.
pub const FILE_AUTHOR: &str = "file";

/// One published version of a notice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revision {
    /// 1 for the first version.
    #[serde(skip)]
    pub number: u32,
    pub at: DateTime<Utc>,
    pub author: String,
    pub note: Option<String>,
    /// The notice file's whole text.
    pub text: String,
}

fn folder(content_dir: &Path, slug: &str) -> PathBuf {
    content_dir.join(DIR).join(slug)
}

fn file_name(number: u32) -> String {
    format!("{number:04}.toml")
}

/// The versions of `slug`, oldest first. A file that cannot be read is left out (and logged).
pub fn load(content_dir: &Path, slug: &str) -> Vec<Revision> {
    let dir = folder(content_dir, slug);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut revisions: Vec<Revision> = entries
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let number: u32 = path.file_name()?.to_str()?.strip_suffix(".toml")?.parse().ok()?;
            let parsed = std::fs::read_to_string(&path)
                .map_err(|e| e.to_string())
                .and_then(|text| toml::from_str::<Revision>(&text).map_err(|e| e.to_string()));
            match parsed {
                Ok(revision) => Some(Revision { number, ..revision }),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "unreadable revision left out");
                    None
                }
            }
        })
        .collect();
    revisions.sort_by_key(|r| r.number);
    revisions
}

/// The versions of each of `slugs`.
pub fn load_all<'s>(
    content_dir: &Path,
    slugs: impl IntoIterator<Item = &'s str>,
) -> HashMap<String, Vec<Revision>> {
    slugs.into_iter().map(|slug| (slug.to_string(), load(content_dir, slug))).collect()
}

/// Records `text` as the newest version of `slug`, unless it already is. Returns the version
/// written, if any. Never replaces a version: the next number must be free.
pub fn record(
    content_dir: &Path,
    slug: &str,
    text: &str,
    author: &str,
    note: Option<&str>,
    at: DateTime<Utc>,
) -> io::Result<Option<Revision>> {
    let existing = load(content_dir, slug);
    if existing.last().is_some_and(|last| last.text == text) {
        return Ok(None);
    }
    let number = existing.last().map_or(1, |last| last.number + 1);
    let dir = folder(content_dir, slug);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(file_name(number));
    if path.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!("{}: a version is never replaced", path.display()),
        ));
    }
    let revision = Revision {
        number,
        at,
        author: author.to_string(),
        note: note.map(str::trim).filter(|n| !n.is_empty()).map(String::from),
        text: text.to_string(),
    };
    let serialized = toml::to_string(&revision).map_err(io::Error::other)?;
    write::replace_file(&path, &serialized)?;
    Ok(Some(revision))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_reads_a_version_without_the_front_matters_comments() {
        let text = "+++\n# 担当: 山田\ntitle = \"障害 #1\"  # 要確認\ntext = \"\"\"\n# 見出しではない\n\"\"\"\n\n[[timeline]]  # 経過\nat = 2021-03-01T09:00:00+09:00\n+++\n\n# 本文の見出し\n";
        assert_eq!(
            public_text(text),
            "+++\ntitle = \"障害 #1\"\ntext = \"\"\"\n# 見出しではない\n\"\"\"\n\n[[timeline]]\nat = 2021-03-01T09:00:00+09:00\n+++\n\n# 本文の見出し\n"
        );
    }

    #[test]
    fn versions_are_appended_numbered_and_only_when_the_text_changed() {
        let dir = tempfile::tempdir().unwrap();
        let at = DateTime::parse_from_rfc3339("2021-03-01T08:00:00Z").unwrap().with_timezone(&Utc);
        let first = record(dir.path(), "outage", "+++\none\n+++\n", FILE_AUTHOR, None, at).unwrap().unwrap();
        assert_eq!(first.number, 1);
        assert_eq!(record(dir.path(), "outage", "+++\none\n+++\n", "a@b.example", None, at).unwrap(), None);
        let note = Some("cause and countermeasures added");
        let second = record(dir.path(), "outage", "+++\ntwo \"\"\" '''\n+++\n", "a@b.example", note, at)
            .unwrap()
            .unwrap();
        assert_eq!(second.number, 2);
        let loaded = load(dir.path(), "outage");
        assert_eq!(loaded, vec![first, second.clone()]);
        assert_eq!(loaded[1].note.as_deref(), note);
        assert!(dir.path().join(".revisions/outage/0002.toml").exists());
        assert_eq!(load(dir.path(), "missing"), Vec::new());
    }
}
