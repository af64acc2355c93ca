//! The command line: `serve`, `lint`, `export`, `migrate`. Every flag can also come from the
//! environment (named in `--help`) or, for `serve`, from a TOML configuration file.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::delivery::impact::{Buckets, ErrorClass, RecipientSource, Route, SenderKind};

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
    /// Fill the database with the reference-incident replay: companies, releases and messages
    /// around the incident of 24 February – 1 March 2021, deterministic for a seed.
    DemoData(DemoDataArgs),
    /// Compute an incident's impact from the delivery data: the undelivered messages queued in a
    /// time window that match the filters.
    Impact(ImpactArgs),
    /// Companies.
    #[command(subcommand)]
    Company(CompanyCommand),
}

#[derive(Debug, Args)]
pub struct DemoDataArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Size of the background traffic: 1 reproduces the reference figures (14,012,784 messages
    /// in the window); smaller values shrink it. The incident itself is always whole.
    #[arg(long, default_value_t = 1.0, value_parser = parse_scale)]
    pub scale: f64,

    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 20_210_301)]
    pub seed: u64,

    /// Delete the existing delivery data, users and audit log first.
    #[arg(long)]
    pub replace: bool,
}

#[derive(Debug, Args)]
pub struct ImpactArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Start of the window, RFC 3339 with an offset (2021-02-24T21:00:00+09:00)
    #[arg(long, value_parser = parse_time)]
    pub from: DateTime<Utc>,

    /// End of the window (exclusive), RFC 3339 with an offset
    #[arg(long, value_parser = parse_time)]
    pub to: DateTime<Utc>,

    /// Only messages sent over this route
    #[arg(long, value_enum)]
    pub route: Option<Route>,

    /// Only messages that failed for this reason
    #[arg(long, value_enum)]
    pub error_class: Option<ErrorClass>,

    /// Only releases to this kind of recipient list
    #[arg(long, value_enum)]
    pub recipient_source: Option<RecipientSource>,

    /// Only releases sent from the service's default address, or from the company's own
    #[arg(long, value_enum)]
    pub sender: Option<SenderKind>,

    /// Only this company (its slug)
    #[arg(long)]
    pub company: Option<String>,

    /// Ranges of undelivered messages per release for the histogram [default: 1-5,6-10,11-25,26-50,51-75,76-]
    #[arg(long)]
    pub buckets: Option<Buckets>,

    /// Output: a readable table, JSON, or CSV (one row per company)
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum CompanyCommand {
    /// List companies with their releases, messages and undelivered messages.
    List(CompanyListArgs),
}

#[derive(Debug, Args)]
pub struct CompanyListArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Output: a readable table or JSON
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// A time with an explicit offset, as everywhere in statusdesk.
fn parse_time(value: &str) -> Result<DateTime<Utc>, String> {
    match DateTime::parse_from_rfc3339(value) {
        Ok(t) => Ok(t.to_utc()),
        Err(_) if chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S").is_ok() => {
            Err(format!("`{value}` has no UTC offset; write it as {value}+09:00 (or the offset it is in)"))
        }
        Err(_) => Err(format!("`{value}` is not an RFC 3339 time such as 2021-02-24T21:00:00+09:00")),
    }
}

fn parse_scale(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(scale) if scale > 0.0 && scale <= 10.0 => Ok(scale),
        _ => Err(format!("`{value}` is not a scale between 0 (exclusive) and 10")),
    }
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
