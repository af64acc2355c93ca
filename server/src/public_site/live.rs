//! The site being served, and its reloading: the content folder is watched, and every change
//! loads it again and swaps the new index in atomically. Readers never wait for a reload and never
//! see a half-built site; a file with errors keeps its last good version.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use arc_swap::ArcSwap;
use notify::{RecursiveMode, Watcher};

use super::PublicSite;
use crate::content::{self, Content, ContentError, Level};

/// How long to wait for more changes after the first one, so that an editor's save (often
/// several events) becomes one reload.
const SETTLE: Duration = Duration::from_millis(100);

/// Content and its pre-rendered site, always replaced together.
pub struct Published {
    pub content: Content,
    pub site: PublicSite,
}

/// The published site, reloadable while it serves.
pub struct LiveSite {
    dir: PathBuf,
    current: ArcSwap<Published>,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
}

impl LiveSite {
    /// Loads the content folder. Fails only when nothing can be published at all (no readable
    /// folder or a broken `site.toml`); each problem found is logged with its file and line.
    pub fn load(dir: &Path) -> Result<Arc<LiveSite>, ContentError> {
        let content = content::load(dir, None)?;
        log_findings(&content);
        let site = PublicSite::build(&content);
        Ok(Arc::new(LiveSite {
            dir: dir.to_path_buf(),
            current: ArcSwap::from_pointee(Published { content, site }),
            watcher: Mutex::new(None),
        }))
    }

    /// What is published now.
    pub fn current(&self) -> Arc<Published> {
        self.current.load_full()
    }

    /// A cheap view of what is published now, for the request path.
    pub fn site(&self) -> arc_swap::Guard<Arc<Published>> {
        self.current.load()
    }

    /// Loads the folder again, keeping the last good version of anything now broken.
    pub fn reload(&self) {
        let previous = self.current.load_full();
        match content::load(&self.dir, Some(&previous.content)) {
            Ok(content) => {
                log_findings(&content);
                let site = PublicSite::build(&content);
                tracing::info!(notices = site.notices, errors = site.errors, "content reloaded");
                self.current.store(Arc::new(Published { content, site }));
            }
            Err(e) => {
                tracing::error!(error = %e, "content reload failed; the last good version keeps serving")
            }
        }
    }

    /// Starts watching the content folder; every change reloads it.
    pub fn watch(self: &Arc<Self>) -> notify::Result<()> {
        let (tx, rx) = mpsc::channel();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| !e.kind.is_access()) {
                let _ = tx.send(());
            }
        })?;
        watcher.watch(&self.dir, RecursiveMode::Recursive)?;
        *self.watcher.lock().expect("watcher lock") = Some(watcher);
        let live = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("content-watch".into())
            .spawn(move || {
                while rx.recv().is_ok() {
                    while rx.recv_timeout(SETTLE).is_ok() {}
                    match live.upgrade() {
                        Some(live) => live.reload(),
                        None => break,
                    }
                }
            })
            .map_err(|e| notify::Error::generic(&e.to_string()))?;
        Ok(())
    }
}

fn log_findings(content: &Content) {
    for finding in &content.findings {
        match finding.level {
            Level::Error => tracing::error!("{finding}"),
            Level::Warning => tracing::warn!("{finding}"),
        }
    }
}
