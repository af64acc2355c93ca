//! `statusdesk export`: the public site as static files. Each file holds exactly the bytes the
//! server sends for its URL: `/en/notices/x` is written to `en/notices/x/index.html`, and the
//! default language's pages also at their unprefixed paths, as the server answers a reader who
//! states no preference.

use std::path::{Component, Path, PathBuf};

use crate::public_site::{PublicSite, Resource};

/// The file that marks a folder as an export, so that the next export may replace it.
const MARKER: &str = ".statusdesk-export";

/// Why the export did not complete. Nothing is left half-written: the export is built in a
/// temporary folder and replaces the target only when complete; a folder that is not an earlier
/// export (and is not empty) is never replaced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error(
        "{0}: holds files that an export did not write, which the export would delete; give a new or empty folder, or one an export marked (an export made before `.statusdesk-export` files were written has none: delete it first)"
    )]
    NotAnExport(PathBuf),
    #[error("{0}: not a folder that can be replaced")]
    NoFolder(PathBuf),
    #[error(
        "{out}: the export would replace the content folder it is made from ({content}); give a folder outside it"
    )]
    OverContent { out: PathBuf, content: PathBuf },
}

/// Writes `site`, made from the content folder `content`, into `out`, replacing an earlier
/// export there. Returns how many files were written.
pub fn export(site: &PublicSite, content: &Path, out: &Path) -> Result<usize, ExportError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError::Io { path, source }
    };
    // Every check, and the replacement, act on the one folder `out` names once resolved.
    let (given, out) = (out, resolved(out));
    let content = resolved(content);
    if out.starts_with(&content) || content.starts_with(&out) {
        return Err(ExportError::OverContent { out: given.to_path_buf(), content: content.to_path_buf() });
    }
    let (Some(parent), Some(name)) = (out.parent(), out.file_name()) else {
        return Err(ExportError::NoFolder(given.to_path_buf()));
    };
    if out.exists() && !out.join(MARKER).exists() {
        let empty = std::fs::read_dir(&out).map_err(at(given))?.next().is_none();
        if !empty {
            return Err(ExportError::NotAnExport(given.to_path_buf()));
        }
    }
    std::fs::create_dir_all(parent).map_err(at(parent))?;
    let staging = parent.join(format!(".{}.partial-{}", name.to_string_lossy(), std::process::id()));
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(at(&staging))?;
    }

    let default_prefix = format!("/{}/", site.default_lang().code());
    let mut files: Vec<(String, &Resource)> = Vec::new();
    for (path, resource) in site.resources() {
        files.push((file_for(path), resource));
        if let Some(rest) = path.strip_prefix(&default_prefix[..default_prefix.len() - 1]) {
            files.push((file_for(if rest.is_empty() { "/" } else { rest }), resource));
        }
    }
    for &lang in &site.languages {
        files.push((format!("{}/404.html", lang.code()), site.not_found(lang)));
    }
    files.push(("404.html".into(), site.not_found(site.default_lang())));

    for (file, resource) in &files {
        let target = staging.join(file);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir).map_err(at(dir))?;
        }
        std::fs::write(&target, &resource.identity).map_err(at(&target))?;
    }
    let marker = staging.join(MARKER);
    std::fs::write(&marker, "Written by `statusdesk export`: the next export replaces this folder.\n")
        .map_err(at(&marker))?;
    if out.exists() {
        std::fs::remove_dir_all(&out).map_err(at(given))?;
    }
    std::fs::rename(&staging, &out).map_err(at(given))?;
    Ok(files.len())
}

/// `path` made absolute with links and `..` resolved: through the file system as far as it
/// exists, then (folders still to be created, which cannot be links) as written.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut resolved = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::ParentDir => {
                resolved.pop();
            }
            Component::CurDir => {}
            other => {
                resolved.push(other);
                if let Ok(real) = resolved.canonicalize() {
                    resolved = real;
                }
            }
        }
    }
    resolved
}

/// The file (relative to the export folder) that answers a canonical path.
fn file_for(path: &str) -> String {
    let relative = path.trim_start_matches('/');
    let last = relative.rsplit('/').next().unwrap_or("");
    if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else if last.contains('.') {
        relative.to_string()
    } else {
        format!("{relative}/index.html")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn paths_map_to_files_a_static_server_finds() {
        assert_eq!(super::file_for("/ja/"), "ja/index.html");
        assert_eq!(super::file_for("/"), "index.html");
        assert_eq!(super::file_for("/en/notices/x"), "en/notices/x/index.html");
        assert_eq!(super::file_for("/en/feed.atom"), "en/feed.atom");
        assert_eq!(super::file_for("/api/v1/notices/x.json"), "api/v1/notices/x.json");
    }
}
