//! The command line: `serve`, `lint`, `export`, `migrate`. Every flag can also come from the
//! environment (named in `--help`) or, for `serve`, from a TOML configuration file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The status and notice site of a press-release mail service.
#[derive(Debug, Parser)]
#[command(name = "statusdesk", version, about, max_term_width = 100)]
pub struct Cli {
    /// Log format: human-readable text or one JSON object per line.
    #[arg(long, global = true, env = "STATUSDESK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site: public pages, feeds and JSON API (and, as they arrive, the portal and
    /// staff console). The public pages keep serving while the database is down.
    Serve(ServeArgs),
    /// Check every notice and print one line per finding (`path:line: error: message`); exits 1
    /// when there is an error.
    Lint(LintArgs),
    /// Write the public site as static files, to host anywhere as a fallback.
    Export(ExportArgs),
    /// Apply the database migrations this binary has and the database lacks.
    Migrate(DatabaseArgs),
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address and port to listen on [default: 127.0.0.1:3000]
    #[arg(long, env = "STATUSDESK_ADDR")]
    pub addr: Option<std::net::SocketAddr>,

    /// The content folder: site.toml and notices/ [default: content]
    #[arg(long, env = "STATUSDESK_CONTENT")]
    pub content: Option<PathBuf>,

    /// Database URL, sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://data/statusdesk.db]
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Demo mode: uses its own SQLite database (data/demo.db) unless --database-url is given.
    #[arg(long, env = "STATUSDESK_DEMO")]
    pub demo: bool,

    /// Send Strict-Transport-Security: set when the site is reached over HTTPS.
    #[arg(long, env = "STATUSDESK_HSTS")]
    pub hsts: bool,

    /// A TOML file with any of: addr, content, database_url, demo, hsts. Flags and the
    /// environment take precedence over it.
    #[arg(long, env = "STATUSDESK_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LintArgs {
    /// The content folder to check [default: content]
    #[arg(env = "STATUSDESK_CONTENT")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Folder to write the site into; replaced as a whole once the export is complete.
    #[arg(long, env = "STATUSDESK_EXPORT_OUT")]
    pub out: PathBuf,

    /// The content folder [default: content]
    #[arg(long, env = "STATUSDESK_CONTENT")]
    pub content: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DatabaseArgs {
    /// Database URL, sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://data/statusdesk.db]
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
}
