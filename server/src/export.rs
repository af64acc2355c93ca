//! `statusdesk export`: the public site as static files. Each file holds exactly the bytes the
//! server sends for its URL: `/en/notices/x` is written to `en/notices/x/index.html`, and the
//! default language's pages also at their unprefixed paths, as the server answers a reader who
//! states no preference.

use std::path::{Path, PathBuf};

use crate::public_site::{PublicSite, Resource};

/// Why the export did not complete. Nothing is left half-written: the export is built in a
/// temporary folder and replaces the target only when complete.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct ExportError {
    path: PathBuf,
    source: std::io::Error,
}

/// Writes `site` into `out`, replacing what was there. Returns how many files were written.
pub fn export(site: &PublicSite, out: &Path) -> Result<usize, ExportError> {
    let at = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ExportError { path, source }
    };
    let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(at(parent))?;
    let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "export".into());
    let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
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
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(at(out))?;
    }
    std::fs::rename(&staging, out).map_err(at(out))?;
    Ok(files.len())
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
