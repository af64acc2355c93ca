//! The site being served, and its reloading: the content folder is watched, and every change
//! loads it again and swaps the new index in atomically. Readers never wait for a reload and never
//! see a half-built site; a file with errors keeps its last good version.
//!
//! A site that keeps history ([`LiveSite::serve`]) records each published notice's text as a new
//! version when it changed ([`content::revisions`]): with its author when the staff console
//! publishes it ([`LiveSite::publish`]), as `file` when it was changed on disk. Publishing and
//! reloading take turns, so a change is never recorded twice or under the wrong author.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use arc_swap::ArcSwap;
use notify::{RecursiveMode, Watcher};

use chrono::Utc;

use super::PublicSite;
use crate::content::revisions::{self, FILE_AUTHOR};
use crate::content::{self, Content, ContentError, Level};

/// How long to wait for more changes after the first one, so that an editor's save (often
/// several events) becomes one reload.
const SETTLE: Duration = Duration::from_millis(100);

/// How long the clock sleeps at most: a change of status that a reload brought nearer is
/// published at most this late.
const CLOCK_RECHECK: Duration = Duration::from_secs(15);

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
    /// Record each published notice's versions (`serve`); lint and export only read them.
    keeps_history: bool,
    /// Held by a reload and by a publication, which must not interleave.
    changing: Mutex<()>,
}

impl LiveSite {
    /// Loads the content folder. Fails only when nothing can be published at all (no readable
    /// folder or a broken `site.toml`); each problem found is logged with its file and line.
    pub fn load(dir: &Path) -> Result<Arc<LiveSite>, ContentError> {
        LiveSite::open(dir, false)
    }

    /// [`LiveSite::load`] for serving: also records every published notice's versions.
    pub fn serve(dir: &Path) -> Result<Arc<LiveSite>, ContentError> {
        LiveSite::open(dir, true)
    }

    fn open(dir: &Path, keeps_history: bool) -> Result<Arc<LiveSite>, ContentError> {
        let content = record_versions(dir, keeps_history, content::load(dir, None)?);
        log_findings(&content);
        let site = PublicSite::build(&content, Utc::now());
        Ok(Arc::new(LiveSite {
            dir: dir.to_path_buf(),
            current: ArcSwap::from_pointee(Published { content, site }),
            watcher: Mutex::new(None),
            keeps_history,
            changing: Mutex::new(()),
        }))
    }

    /// The content folder.
    pub fn dir(&self) -> &Path {
        &self.dir
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
        let _turn = self.changing.lock().expect("the reload lock is never poisoned");
        self.reload_now();
    }

    fn reload_now(&self) {
        let previous = self.current.load_full();
        match content::load(&self.dir, Some(&previous.content)) {
            Ok(content) => {
                let content = record_versions(&self.dir, self.keeps_history, content);
                log_findings(&content);
                let site = PublicSite::build(&content, Utc::now());
                tracing::info!(notices = site.notices, errors = site.errors, "content reloaded");
                self.current.store(Arc::new(Published { content, site }));
            }
            Err(e) => {
                tracing::error!(error = %e, "content reload failed; the last good version keeps serving")
            }
        }
    }

    /// Publishes `text` as the notice file at `path` — written atomically, recorded as a version
    /// by `author` with `note`, and live when this returns. An error means the file was not
    /// written; a version that cannot be recorded is logged, and the next reload records it (as
    /// `file`).
    pub fn publish(
        &self,
        path: &Path,
        slug: &str,
        text: &str,
        author: &str,
        note: Option<&str>,
    ) -> std::io::Result<()> {
        self.update(|dir| {
            content::write::replace_file(path, text)?;
            if self.keeps_history
                && let Err(e) = revisions::record(dir, slug, text, author, note, Utc::now())
            {
                tracing::error!(notice = slug, error = %e, "published, but its version could not be recorded");
            }
            Ok(())
        })
    }

    /// Changes files of the content folder with `change` (given the folder), then reloads: one
    /// change at a time, and never during a reload.
    pub fn update(&self, change: impl FnOnce(&Path) -> std::io::Result<()>) -> std::io::Result<()> {
        let _turn = self.changing.lock().expect("the reload lock is never poisoned");
        change(&self.dir)?;
        self.reload_now();
        Ok(())
    }

    /// Starts watching the content folder; every change reloads it.
    pub fn watch(self: &Arc<Self>) -> notify::Result<()> {
        let (tx, rx) = mpsc::channel();
        let dir = self.dir.clone();
        let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            // Temporary files and the versions folder start with a dot: not content changes.
            let is_content = |path: &Path| {
                let inside = path.strip_prefix(&dir).unwrap_or(path);
                !inside.components().any(|c| c.as_os_str().to_str().is_some_and(|c| c.starts_with('.')))
            };
            if event.is_ok_and(|e| !e.kind.is_access() && e.paths.iter().any(|p| is_content(p))) {
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

    /// Starts the clock: the site is built again when a notice's status changes with time (a
    /// scheduled maintenance starting or ending, [`crate::content::Notice::status_at`]), so
    /// that its pages say so without anyone publishing.
    pub fn keep_time(self: &Arc<Self>) -> std::io::Result<()> {
        let live = Arc::downgrade(self);
        std::thread::Builder::new().name("content-clock".into()).spawn(move || {
            loop {
                let Some(site) = live.upgrade() else { break };
                let next_change = site.site().site.next_change;
                drop(site);
                let wait =
                    next_change.map_or(CLOCK_RECHECK, |at| (at - Utc::now()).to_std().unwrap_or_default());
                std::thread::sleep(wait.min(CLOCK_RECHECK));
                let Some(site) = live.upgrade() else { break };
                site.catch_up_with_the_clock();
            }
        })?;
        Ok(())
    }

    /// Builds the site again from the content already loaded, when the time it was built for
    /// has passed a change of status. Cannot fail, and reads no file.
    fn catch_up_with_the_clock(&self) {
        let _turn = self.changing.lock().expect("the reload lock is never poisoned");
        let current = self.current.load_full();
        let now = Utc::now();
        if current.site.next_change.is_some_and(|at| at <= now) {
            let content = current.content.clone();
            let site = PublicSite::build(&content, now);
            self.current.store(Arc::new(Published { content, site }));
        }
    }
}

/// Records the published notices of `content` whose text changed as new versions by
/// [`FILE_AUTHOR`] (when the site keeps history), and gives `content` with its versions read
/// again.
fn record_versions(dir: &Path, keeps_history: bool, mut content: Content) -> Content {
    if !keeps_history {
        return content;
    }
    let mut recorded = false;
    for notice in &content.notices {
        match revisions::record(dir, &notice.slug, &notice.source, FILE_AUTHOR, None, Utc::now()) {
            Ok(version) => recorded |= version.is_some(),
            Err(e) => {
                tracing::error!(notice = %notice.slug, error = %e, "cannot record the notice's version")
            }
        }
    }
    if recorded {
        content.revisions = revisions::load_all(dir, content.notices.iter().map(|n| n.slug.as_str()));
    }
    content
}

fn log_findings(content: &Content) {
    for finding in &content.findings {
        match finding.level {
            Level::Error => tracing::error!("{finding}"),
            Level::Warning => tracing::warn!("{finding}"),
        }
    }
}
