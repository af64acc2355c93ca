//! The published content: `site.toml` and the notices under `notices/`, loaded, checked and
//! rendered from Markdown.
//!
//! [`load`] reads the whole folder. Each file is checked on its own ([`notice::parse`]); a file
//! with errors is not published, and if an earlier load had a good version of it, that version
//! stays up. The linter (`statusdesk lint`) is the same load with nothing to fall back on.

pub mod figures;
pub mod finding;
pub mod markdown;
pub mod notice;
pub mod prose_dates;
pub mod revisions;
pub mod site;
pub mod update;
pub mod write;

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

pub use finding::{Finding, Findings, Level};
pub use notice::{Notice, Translated};
pub use revisions::Revision;
use site::Localized;
pub use site::Site;

/// Everything that is published, and every finding from reading it.
#[derive(Clone, Debug)]
pub struct Content {
    pub site: Site,
    /// Newest first (by start, or publication when there is no start).
    pub notices: Vec<Notice>,
    pub findings: Vec<Finding>,
    /// Each published notice's recorded versions, oldest first (`revisions`), by slug.
    pub revisions: HashMap<String, Vec<Revision>>,
    /// Each incident's figures as last computed from the database (`figures`), by slug.
    pub figures: HashMap<String, figures::Figures>,
}

/// Why there is nothing to publish at all.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    #[error("{path}: cannot read the content folder: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    BadSite(Finding),
}

impl Content {
    /// When `notice` last changed for its readers: its publication, its latest timeline entry,
    /// or the latest version published after its first (an edit of its text, say).
    pub fn updated_at(&self, notice: &Notice) -> chrono::DateTime<chrono::FixedOffset> {
        let edited =
            self.revisions.get(&notice.slug).and_then(|versions| versions.iter().skip(1).map(|v| v.at).max());
        let offset = *notice.published_at.offset();
        notice.updated_at().max(edited.map_or(notice.published_at, |at| at.with_timezone(&offset)))
    }

    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.level == Level::Error)
    }

    pub fn notice(&self, slug: &str) -> Option<&Notice> {
        self.notices.iter().find(|n| n.slug == slug)
    }

    /// The content as readers see it at `now`: each notice as of that time ([`Notice::as_of`]).
    /// Borrowed when no status differs from its file's.
    pub fn as_of(&self, now: DateTime<Utc>) -> Cow<'_, Content> {
        if self.notices.iter().all(|n| n.status_at(now) == n.status) {
            return Cow::Borrowed(self);
        }
        let mut content = self.clone();
        for notice in &mut content.notices {
            *notice = notice.as_of(now);
        }
        Cow::Owned(content)
    }

    /// The next instant after `now` at which [`Content::as_of`] gives something different.
    pub fn next_change(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.notices.iter().filter_map(|n| n.next_status_change(now)).min()
    }

    /// The recorded versions of a notice, oldest first.
    pub fn revisions(&self, slug: &str) -> &[Revision] {
        self.revisions.get(slug).map_or(&[], Vec::as_slice)
    }
}

/// Reads a content file as text. A file that cannot be read is a problem at line 1; one that is
/// not UTF-8 a problem at the line of its first bad byte (with the byte's place in the line, as an
/// editor counts from 1). Gives the line and the message.
pub fn read_text(path: &Path) -> Result<String, (usize, Localized)> {
    let bytes = std::fs::read(path).map_err(|e| {
        (
            1,
            Localized {
                en: format!("cannot read the file: {e}"), ja: format!("ファイルを読めません: {e}")
            },
        )
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let byte = valid.len() - line_start + 1;
        (line, Localized {
            en: format!("not valid UTF-8 (byte {byte} of the line): save the file as UTF-8"),
            ja: format!("UTF-8 として正しくない文字があります（この行の {byte} バイト目）。UTF-8 で保存してください"),
        })
    })
}

/// Loads the content folder. A notice file that fails its checks keeps the version last
/// published: the one in `previous` (the content loaded before), else the newest in its
/// `.revisions/` (a start, or an export, over a file broken since). With `previous`, a broken
/// `site.toml` keeps the site as it was.
pub fn load(dir: &Path, previous: Option<&Content>) -> Result<Content, ContentError> {
    let site_path = dir.join("site.toml");
    let mut site_findings = Findings::new(&site_path);
    let parsed_site = Site::load(dir, &mut site_findings);
    let mut findings = site_findings.list;
    let site = match (parsed_site, previous) {
        (Some(site), _) => site,
        (None, Some(previous)) => previous.site.clone(),
        (None, None) => {
            let first = findings.into_iter().next().expect("a failed parse reports why");
            return Err(ContentError::BadSite(first));
        }
    };

    let notices_dir = dir.join("notices");
    let mut paths = Vec::new();
    if notices_dir.exists() {
        collect_markdown(&notices_dir, &mut paths)
            .map_err(|source| ContentError::Unreadable { path: notices_dir.clone(), source })?;
    }
    paths.sort();

    let previous_by_path: HashMap<&Path, &Notice> =
        previous.map(|p| p.notices.iter().map(|n| (n.path.as_path(), n)).collect()).unwrap_or_default();
    let mut notices: Vec<Notice> = Vec::new();
    let mut broken = Vec::new();
    for path in &paths {
        let mut file_findings = Findings::new(path);
        let parsed = match read_text(path) {
            Ok(source) => notice::parse(path, &source, &site, &mut file_findings),
            Err((line, problem)) => {
                file_findings.error(line, problem);
                None
            }
        };
        let parsed = parsed.and_then(|notice| match notices.iter().find(|n| n.slug == notice.slug) {
            Some(first) => {
                let (slug, first) = (&notice.slug, first.path.display());
                let line = notice.slug_line();
                let (from_en, from_ja) = match line {
                    Some(_) => ("", ""),
                    None => (
                        " (from the file's name; set `slug` to choose another)",
                        "（ファイル名から決まるスラッグです。別のものにするには `slug` を書いてください）",
                    ),
                };
                file_findings.error(
                    line.unwrap_or(1),
                    Localized {
                        en: format!("duplicate slug `{slug}`{from_en}: {first} has it already"),
                        ja: format!("スラッグ `{slug}` が重複しています{from_ja}（{first} で使用済み）"),
                    },
                );
                None
            }
            None => Some(notice),
        });
        match parsed {
            Some(notice) => notices.push(notice),
            None => broken.push(path),
        }
        file_findings.list.sort_by_key(|f| f.line);
        findings.extend(file_findings.list);
    }
    // Then the last good version of each broken file, unless a file that passed has its slug.
    for path in broken {
        let last_good = match previous_by_path.get(path.as_path()) {
            Some(&notice) => Some(notice.clone()),
            None => last_published(dir, path, &site),
        };
        if let Some(last_good) = last_good
            && !notices.iter().any(|n| n.slug == last_good.slug)
        {
            notices.push(last_good);
        }
    }
    notices.sort_by(|a, b| {
        let key = |n: &Notice| n.started_at.unwrap_or(n.published_at);
        key(b).cmp(&key(a)).then_with(|| a.slug.cmp(&b.slug))
    });
    let revisions = revisions::load_all(dir, notices.iter().map(|n| n.slug.as_str()));
    let figures =
        figures::load_all(dir, notices.iter().filter(|n| n.impact.is_some()).map(|n| n.slug.as_str()));
    Ok(Content { site, notices, findings, revisions, figures })
}

/// The newest recorded version of the notice file at `path`, if it passes its checks. The
/// versions are kept by slug: the one its front matter sets, when that line can still be read,
/// else its file's name.
fn last_published(dir: &Path, path: &Path, site: &Site) -> Option<Notice> {
    // Read leniently: a file broken by its encoding still names its slug.
    let own = std::fs::read(path)
        .ok()
        .and_then(|bytes| notice::front_matter_slug(&String::from_utf8_lossy(&bytes)))
        .map(|(_, slug)| slug);
    let slug = match own.filter(|s| !s.is_empty()) {
        Some(slug) => slug,
        None => path.file_stem()?.to_str()?.to_string(),
    };
    let revision = revisions::load(dir, &slug).pop()?;
    notice::parse(path, &revision.text, site, &mut Findings::new(path))
}

fn collect_markdown(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_markdown(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "md")
            && !path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            out.push(path);
        }
    }
    Ok(())
}
