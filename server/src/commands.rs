//! What each command does, given its parsed arguments. Every failure becomes one line on
//! standard error and an exit code: 2 for bad usage or input, 1 for what went wrong while running.

use std::path::PathBuf;

use crate::cli::{Command, DatabaseArgs, ExportArgs, LintArgs, ServeArgs};
use crate::config::{ConfigError, DEFAULT_CONTENT, DEFAULT_DATABASE_URL, ServeConfig};
use crate::content::{self, ContentError, Level};
use crate::http::{self, AppState, HttpOptions};
use crate::public_site::PublicSite;
use crate::public_site::live::LiveSite;
use crate::store::{self, DatabaseMonitor, StoreError};

/// A command's failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Content(#[from] ContentError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The linter found errors (already printed); the summary line.
    #[error("{0}")]
    LintFailed(String),
}

impl CommandError {
    pub fn exit_code(&self) -> u8 {
        match self {
            CommandError::Config(_) | CommandError::Content(_) => 2,
            CommandError::Store(
                StoreError::UnsupportedUrl(_)
                | StoreError::Connect { .. }
                | StoreError::NewerSchema { .. },
            ) => 2,
            _ => 1,
        }
    }
}

pub async fn run(command: Command) -> Result<(), CommandError> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Lint(args) => lint(args),
        Command::Export(args) => export(args),
        Command::Migrate(args) => migrate(args).await,
    }
}

async fn serve(args: ServeArgs) -> Result<(), CommandError> {
    let config = ServeConfig::resolve(args)?;
    let site = LiveSite::load(&config.content)?;
    if let Err(e) = site.watch() {
        tracing::warn!(error = %e, "cannot watch the content folder; changes need a restart");
    }
    let database = DatabaseMonitor::new(&config.database_url);
    tokio::spawn(database.clone().run());
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| CommandError::Listen {
            addr: config.addr,
            source,
        })?;
    if config.demo {
        tracing::info!(database = %database.url(), "demo mode");
    }
    let router = http::router(
        AppState { site, database },
        &HttpOptions { hsts: config.hsts },
    );
    http::serve(listener, router).await?;
    Ok(())
}

fn content_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(|| PathBuf::from(DEFAULT_CONTENT))
}

fn lint(args: LintArgs) -> Result<(), CommandError> {
    let dir = content_dir(args.dir);
    let content = content::load(&dir, None)?;
    for finding in &content.findings {
        println!("{finding}");
    }
    let errors = content.errors().count();
    let warnings = content
        .findings
        .iter()
        .filter(|f| f.level == Level::Warning)
        .count();
    let summary = format!(
        "{}: {} notices published, {errors} error(s), {warnings} warning(s)",
        dir.display(),
        content.notices.len()
    );
    if errors > 0 {
        return Err(CommandError::LintFailed(summary));
    }
    eprintln!("{summary}");
    Ok(())
}

fn export(args: ExportArgs) -> Result<(), CommandError> {
    let dir = content_dir(args.content);
    let content = content::load(&dir, None)?;
    for finding in &content.findings {
        eprintln!("{finding}");
    }
    let site = PublicSite::build(&content);
    let files = crate::export::export(&site, &args.out)?;
    eprintln!(
        "{}: {files} files, {} notices",
        args.out.display(),
        site.notices
    );
    Ok(())
}

async fn migrate(args: DatabaseArgs) -> Result<(), CommandError> {
    let url = args
        .database_url
        .unwrap_or_else(|| DEFAULT_DATABASE_URL.into());
    let store = store::connect(&url).await?;
    let applied = store.migrate().await?;
    eprintln!("{}: {applied} migration(s) applied", store::redact(&url));
    Ok(())
}
