//! The command line: `serve`, `lint`, `export`, `migrate`, `demo-data`, `impact`, `company`,
//! `user`. Every flag can also come from the environment (named in `--help`) or, for `serve`,
//! from a TOML configuration file.

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
    /// Serve the site: public pages, feeds and JSON API, the company portal and the staff
    /// console, with a redelivery dispatcher beside them. The public pages keep serving while the
    /// database is down.
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
    /// Users who log in to the portal (a company's) or the staff console (staff).
    #[command(subcommand)]
    User(UserCommand),
    /// Send queued redeliveries (SMTP to a relay, or .eml files into an outbox) until stopped.
    /// `serve` runs a dispatcher too unless `--no-dispatch`; more may run against PostgreSQL.
    Dispatch(DispatchArgs),
}

#[derive(Debug, Args)]
pub struct DispatchArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    #[command(flatten)]
    pub mail: MailArgs,

    /// Stop once nothing is due (instead of waiting for more work)
    #[arg(long)]
    pub until_idle: bool,

    /// The content folder, to name incidents in the emails sent when their redelivery is done
    /// [default: content]
    #[arg(long, env = "STATUSDESK_CONTENT")]
    pub content: Option<PathBuf>,

    /// The TOML file `serve` reads: its database_url and mail keys (smtp_url, outbox,
    /// smtp_connections, in_flight, lease, mail_from, public_url) apply here too. Flags and the
    /// environment take precedence over it.
    #[arg(long, env = "STATUSDESK_CONFIG")]
    pub config: Option<PathBuf>,
}

/// Where redelivered mail goes, and how the dispatcher holds its work.
#[derive(Clone, Debug, Args)]
pub struct MailArgs {
    /// SMTP relay: smtps://HOST:PORT (TLS), smtp://HOST:PORT?tls=required (STARTTLS),
    /// smtp://HOST:PORT?tls=opportunistic (STARTTLS when offered) or smtp://HOST:PORT (plain, for
    /// a relay on this machine); USER:PASSWORD@ before the host to log in. Without it, messages
    /// are written to the outbox folder
    #[arg(long, env = "STATUSDESK_SMTP_URL")]
    pub smtp_url: Option<String>,

    /// Folder for .eml files when there is no --smtp-url [default: data/outbox]
    #[arg(long, env = "STATUSDESK_OUTBOX")]
    pub outbox: Option<PathBuf>,

    /// SMTP connections kept open to the relay [default: 4]
    #[arg(long, env = "STATUSDESK_SMTP_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub smtp_connections: Option<u32>,

    /// Messages a dispatcher sends at once (over its connections); a dispatcher killed outright
    /// leaves at most this many with an unknown outcome [default: 16]
    #[arg(long, env = "STATUSDESK_IN_FLIGHT", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub in_flight: Option<u16>,

    /// Sender of the site's own emails (completion of a redelivery, incident notices)
    /// [default: statusdesk <noreply@statusdesk.invalid>]
    #[arg(long, env = "STATUSDESK_MAIL_FROM")]
    pub mail_from: Option<String>,

    /// The site's address as companies reach it, for links in emails [default: `serve`'s own
    /// address; http://127.0.0.1:3000 for `dispatch`]
    #[arg(long, env = "STATUSDESK_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// How long a dispatcher holds a claimed item (90s, 5m): an item held longer by a dispatcher
    /// that died is taken back [default: 5m]
    #[arg(long, env = "STATUSDESK_DISPATCH_LEASE", value_parser = parse_duration)]
    pub lease: Option<std::time::Duration>,
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
    /// Create a company.
    Add(CompanyAddArgs),
}

#[derive(Debug, Args)]
pub struct CompanyAddArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Short name in URLs: lower-case letters, digits and hyphens (acme-pr)
    #[arg(long, value_parser = parse_slug)]
    pub slug: String,

    /// The company's name as people know it
    #[arg(long)]
    pub name: String,

    /// The language of its notifications
    #[arg(long, value_parser = ["ja", "en"], default_value = "ja")]
    pub language: String,

    /// Where notifications to the company go
    #[arg(long)]
    pub contact_email: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input (one line).
    Add(UserAddArgs),
    /// Disable a user: it can no longer log in, and its sessions end at once.
    Disable(UserDisableArgs),
    /// List users with their company and whether they are disabled.
    List(UserListArgs),
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("role").required(true).args(["company", "staff"]))]
pub struct UserAddArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// The address the user logs in with
    #[arg(long, value_parser = parse_email)]
    pub email: String,

    /// The user's company (its slug)
    #[arg(long)]
    pub company: Option<String>,

    /// A support staff member: sees every company
    #[arg(long)]
    pub staff: bool,

    /// The user's name
    #[arg(long, default_value = "")]
    pub name: String,

    /// Read the password from standard input (required: passwords never go on the command line)
    #[arg(long, required = true)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct UserDisableArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// The user's address
    #[arg(long)]
    pub email: String,
}

#[derive(Debug, Args)]
pub struct UserListArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Output: a readable table, JSON or CSV
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
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

fn parse_slug(value: &str) -> Result<String, String> {
    let valid = value.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if valid {
        Ok(value.to_string())
    } else {
        Err(format!(
            "`{value}` is not a slug: use lower-case letters, digits and hyphens, not starting with a hyphen"
        ))
    }
}

fn parse_email(value: &str) -> Result<String, String> {
    let value = value.trim();
    match value.split_once('@') {
        Some((local, domain))
            if !local.is_empty() && domain.contains('.') && !value.contains(char::is_whitespace) =>
        {
            Ok(value.to_string())
        }
        _ => Err(format!("`{value}` is not an email address")),
    }
}

/// A duration written as a number and a unit: `90s`, `30m`, `12h`.
pub fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
    let value = value.trim();
    let split = value.find(|c: char| !c.is_ascii_digit()).unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(format!("`{value}` is not a duration such as 90s, 30m or 12h")),
    };
    match number.parse::<u64>() {
        Ok(n) if n > 0 => Ok(std::time::Duration::from_secs(n * seconds)),
        _ => Err(format!("`{value}` is not a duration such as 90s, 30m or 12h")),
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

    /// The site is reached over HTTPS: send Strict-Transport-Security, and mark the session
    /// cookies Secure with the __Host- prefix.
    #[arg(long, env = "STATUSDESK_HSTS")]
    pub hsts: bool,

    /// A portal session unused this long ends: 90s, 30m, 2h [default: 30m]
    #[arg(long, env = "STATUSDESK_SESSION_IDLE", value_parser = parse_duration)]
    pub session_idle: Option<std::time::Duration>,

    /// A portal session ends this long after login, used or not [default: 12h]
    #[arg(long, env = "STATUSDESK_SESSION_LIFETIME", value_parser = parse_duration)]
    pub session_lifetime: Option<std::time::Duration>,

    /// Messages a company may have redelivered per day [default: 10000]
    #[arg(long, env = "STATUSDESK_REDELIVERY_DAILY_CAP", value_parser = clap::value_parser!(i64).range(0..))]
    pub redelivery_daily_cap: Option<i64>,

    /// Do not run the redelivery dispatcher in this process (run `statusdesk dispatch` instead).
    #[arg(long, env = "STATUSDESK_NO_DISPATCH")]
    pub no_dispatch: bool,

    #[command(flatten)]
    pub mail: MailArgs,

    /// A TOML file with any of: addr, content, database_url, demo, hsts, session_idle,
    /// session_lifetime, redelivery_daily_cap, dispatch, and the mail keys smtp_url, outbox,
    /// smtp_connections, in_flight, lease, mail_from, public_url. Flags and the environment take
    /// precedence over it.
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
    /// Folder to write the site into: new, empty, or an earlier export (replaced as a whole once
    /// the export is complete); never the content folder or a folder in it.
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
