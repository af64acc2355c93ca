//! An incident's figures as last computed from the delivery database, kept beside the content
//! (`.figures/<slug>.toml`: when, companies, releases, undelivered messages) so that the public
//! notice page shows them without asking the database: pre-rendered, exported, and still there
//! — with their time — when the database is down. The server computes them again every few
//! minutes ([`crate::delivery::figures`]).

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::write;

/// The folder of the figures, inside the content folder (its dot keeps the loader out).
pub const DIR: &str = ".figures";

/// An incident's impact as published.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// When they were computed.
    pub as_of: DateTime<Utc>,
    pub companies: i64,
    pub releases: i64,
    pub messages: i64,
}

fn path(content_dir: &Path, slug: &str) -> PathBuf {
    content_dir.join(DIR).join(format!("{slug}.toml"))
}

/// The figures of each of `slugs` that has some.
pub fn load_all<'s>(
    content_dir: &Path,
    slugs: impl IntoIterator<Item = &'s str>,
) -> HashMap<String, Figures> {
    slugs
        .into_iter()
        .filter_map(|slug| {
            let text = std::fs::read_to_string(path(content_dir, slug)).ok()?;
            match toml::from_str(&text) {
                Ok(figures) => Some((slug.to_string(), figures)),
                Err(e) => {
                    tracing::warn!(notice = slug, error = %e, "unreadable figures left out");
                    None
                }
            }
        })
        .collect()
}

/// Keeps `figures` as the notice's latest, atomically.
pub fn save(content_dir: &Path, slug: &str, figures: &Figures) -> io::Result<()> {
    std::fs::create_dir_all(content_dir.join(DIR))?;
    write::replace_file(&path(content_dir, slug), &toml::to_string(figures).map_err(io::Error::other)?)
}
