//! Settings of `serve` and `dispatch`, resolved once: flags, then the environment (both through
//! clap), then the configuration file, then the defaults. A bad value from the file is reported
//! at its line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lettre::message::Mailbox;
use serde::Deserialize;
use toml::Spanned;

use crate::cli::{DispatchArgs, MailArgs, ServeArgs, parse_duration};
use crate::http::session::SessionSettings;

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_CONTENT: &str = "content";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/statusdesk.db";
pub const DEMO_DATABASE_URL: &str = "sqlite://data/demo.db";
/// Where redelivered messages are written without an SMTP relay.
pub const DEFAULT_OUTBOX: &str = "data/outbox";
const DEFAULT_SMTP_CONNECTIONS: u32 = 4;
const DEFAULT_MAIL_FROM: &str = "statusdesk <noreply@statusdesk.invalid>";
/// Where `dispatch` links to in its emails when not told: the site served with its defaults.
const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:3000";

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration file: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Invalid { path: PathBuf, line: usize, message: String },
    /// A flag's (or its environment variable's) value that clap cannot check alone.
    #[error("--{flag} `{value}`: {message}")]
    BadFlag { flag: &'static str, value: String, message: String },
}

/// Everything `serve` needs to start.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub content: PathBuf,
    pub database_url: String,
    pub demo: bool,
    pub hsts: bool,
    /// Session timeouts (`secure` is set from `hsts` when the router is built).
    pub sessions: SessionSettings,
    /// Run the redelivery dispatcher beside the site.
    pub dispatch: bool,
    pub redelivery_daily_cap: i64,
    pub mail: MailSettings,
}

/// Everything `dispatch` needs to start.
#[derive(Clone, Debug)]
pub struct DispatchConfig {
    /// `None`: the default database.
    pub database_url: Option<String>,
    pub mail: MailSettings,
}

/// Where mail goes and how a dispatcher works.
#[derive(Clone, Debug)]
pub struct MailSettings {
    /// The relay; `None`: `.eml` files into `outbox`.
    pub smtp_url: Option<String>,
    pub outbox: PathBuf,
    pub smtp_connections: u32,
    pub in_flight: u16,
    pub lease: Duration,
    /// Sender of the site's own emails.
    pub mail_from: Mailbox,
    /// The site's address as companies reach it, for links in emails.
    pub public_url: String,
}

/// The configuration file: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<SocketAddr>,
    content: Option<PathBuf>,
    database_url: Option<String>,
    #[serde(default)]
    demo: bool,
    #[serde(default)]
    hsts: bool,
    session_idle: Option<Spanned<String>>,
    session_lifetime: Option<Spanned<String>>,
    redelivery_daily_cap: Option<Spanned<i64>>,
    /// `false`: as `--no-dispatch`.
    dispatch: Option<bool>,
    smtp_url: Option<String>,
    outbox: Option<PathBuf>,
    smtp_connections: Option<Spanned<i64>>,
    in_flight: Option<Spanned<i64>>,
    lease: Option<Spanned<String>>,
    mail_from: Option<Spanned<String>>,
    public_url: Option<String>,
}

/// A configuration file as read: its settings and where each came from.
struct File {
    path: PathBuf,
    source: String,
    config: FileConfig,
}

impl File {
    /// `path`'s settings; no file, no settings.
    fn read(path: Option<&Path>) -> Result<File, ConfigError> {
        let Some(path) = path else {
            return Ok(File { path: PathBuf::new(), source: String::new(), config: FileConfig::default() });
        };
        let source = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Unreadable { path: path.to_path_buf(), source })?;
        let config = toml::from_str(&source).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            line: e.span().map_or(1, |s| crate::content::finding::line_of(&source, s.start)),
            message: e.message().trim().to_string(),
        })?;
        Ok(File { path: path.to_path_buf(), source, config })
    }

    /// A value of the file checked by `check`, refused at its line.
    fn checked<T, U>(
        &self,
        value: &Option<Spanned<T>>,
        check: impl FnOnce(&T) -> Result<U, String>,
    ) -> Result<Option<U>, ConfigError> {
        let Some(value) = value else { return Ok(None) };
        check(value.get_ref()).map(Some).map_err(|message| ConfigError::Invalid {
            path: self.path.clone(),
            line: crate::content::finding::line_of(&self.source, value.span().start),
            message,
        })
    }

    /// The mail settings: `args` where given, else the file's, else the defaults (links in
    /// emails to `public_url`).
    fn mail(&self, args: MailArgs, public_url: String) -> Result<MailSettings, ConfigError> {
        let file = &self.config;
        let dispatcher = crate::dispatch::DispatchSettings::default();
        let within = |key: &'static str, range: std::ops::RangeInclusive<i64>| {
            move |n: &i64| match range.contains(n) {
                true => Ok(*n),
                false => Err(format!("{key} = {n}: between {} and {}", range.start(), range.end())),
            }
        };
        let mail_from = match args.mail_from {
            Some(value) => Some(mailbox(&value).map_err(|message| ConfigError::BadFlag {
                flag: "mail-from",
                value,
                message,
            })?),
            None => self.checked(&file.mail_from, |value| {
                mailbox(value).map_err(|message| format!("mail_from = \"{value}\": {message}"))
            })?,
        };
        Ok(MailSettings {
            smtp_url: args.smtp_url.or_else(|| file.smtp_url.clone()),
            outbox: args.outbox.or_else(|| file.outbox.clone()).unwrap_or_else(|| DEFAULT_OUTBOX.into()),
            smtp_connections: match args.smtp_connections {
                Some(n) => n,
                None => self
                    .checked(&file.smtp_connections, within("smtp_connections", 1..=64))?
                    .map_or(DEFAULT_SMTP_CONNECTIONS, |n| n as u32),
            },
            in_flight: match args.in_flight {
                Some(n) => n,
                None => self
                    .checked(&file.in_flight, within("in_flight", 1..=256))?
                    .map_or(dispatcher.in_flight as u16, |n| n as u16),
            },
            lease: match args.lease {
                Some(lease) => lease,
                None => self.checked(&file.lease, |value| parse_duration(value))?.unwrap_or(dispatcher.lease),
            },
            mail_from: match mail_from {
                Some(mailbox) => mailbox,
                None => DEFAULT_MAIL_FROM.parse().expect("a valid default sender"),
            },
            public_url: args.public_url.or_else(|| file.public_url.clone()).unwrap_or(public_url),
        })
    }
}

/// `value` as an email sender: `Name <address>` or a bare address.
fn mailbox(value: &str) -> Result<Mailbox, String> {
    value.parse().map_err(|e| format!("not a sender such as `Name <noreply@example.com>` ({e})"))
}

impl ServeConfig {
    pub fn resolve(args: ServeArgs) -> Result<ServeConfig, ConfigError> {
        let file = File::read(args.config.as_deref())?;
        let duration = |value: &Option<Spanned<String>>| file.checked(value, |value| parse_duration(value));
        let defaults = SessionSettings::default();
        let sessions = SessionSettings {
            idle: args.session_idle.or(duration(&file.config.session_idle)?).unwrap_or(defaults.idle),
            lifetime: args
                .session_lifetime
                .or(duration(&file.config.session_lifetime)?)
                .unwrap_or(defaults.lifetime),
            secure: false,
        };
        let demo = args.demo || file.config.demo;
        let database_url = args
            .database_url
            .or(file.config.database_url.clone())
            .unwrap_or_else(|| if demo { DEMO_DATABASE_URL } else { DEFAULT_DATABASE_URL }.to_string());
        let redelivery_daily_cap = match args.redelivery_daily_cap {
            Some(cap) => cap,
            None => file
                .checked(&file.config.redelivery_daily_cap, |cap| match *cap >= 0 {
                    true => Ok(*cap),
                    false => Err(format!("redelivery_daily_cap = {cap}: a number of messages, 0 or more")),
                })?
                .unwrap_or(crate::http::DEFAULT_REDELIVERY_DAILY_CAP),
        };
        let addr: SocketAddr =
            args.addr.or(file.config.addr).unwrap_or_else(|| DEFAULT_ADDR.parse().expect("valid default"));
        // Unless told otherwise, emails link to the address served (on this machine when it
        // listens on every interface).
        let served = match addr.ip().is_unspecified() {
            true => SocketAddr::from(([127, 0, 0, 1], addr.port())),
            false => addr,
        };
        Ok(ServeConfig {
            addr,
            content: args.content.or(file.config.content.clone()).unwrap_or_else(|| DEFAULT_CONTENT.into()),
            database_url,
            demo,
            hsts: args.hsts || file.config.hsts,
            sessions,
            dispatch: !args.no_dispatch && file.config.dispatch.unwrap_or(true),
            redelivery_daily_cap,
            mail: file.mail(args.mail, format!("http://{served}"))?,
        })
    }
}

impl DispatchConfig {
    pub fn resolve(args: DispatchArgs) -> Result<DispatchConfig, ConfigError> {
        let file = File::read(args.config.as_deref())?;
        Ok(DispatchConfig {
            database_url: args.database.database_url.or(file.config.database_url.clone()),
            mail: file.mail(args.mail, DEFAULT_PUBLIC_URL.into())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(config: Option<PathBuf>) -> ServeArgs {
        ServeArgs {
            addr: None,
            content: None,
            database_url: None,
            demo: false,
            hsts: false,
            session_idle: None,
            session_lifetime: None,
            no_dispatch: false,
            redelivery_daily_cap: None,
            mail: no_mail_flags(),
            config,
        }
    }

    fn no_mail_flags() -> MailArgs {
        MailArgs {
            smtp_url: None,
            outbox: None,
            smtp_connections: None,
            in_flight: None,
            mail_from: None,
            public_url: None,
            lease: None,
        }
    }

    fn file_with(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("statusdesk.toml");
        std::fs::write(&file, text).unwrap();
        (dir, file)
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("statusdesk.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:8080\"\ncontent = \"/srv/content\"\nhsts = true\n").unwrap();
        let from_file = ServeConfig::resolve(args(Some(file.clone()))).unwrap();
        assert_eq!(from_file.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(from_file.mail.public_url, "http://127.0.0.1:8080", "emails link to the port served");
        assert_eq!(from_file.content, PathBuf::from("/srv/content"));
        assert!(from_file.hsts);
        assert_eq!(from_file.database_url, DEFAULT_DATABASE_URL);

        let mut flags = args(Some(file));
        flags.addr = Some("127.0.0.1:9000".parse().unwrap());
        flags.demo = true;
        let resolved = ServeConfig::resolve(flags).unwrap();
        assert_eq!(resolved.addr.to_string(), "127.0.0.1:9000");
        assert_eq!(resolved.mail.public_url, "http://127.0.0.1:9000");
        assert_eq!(resolved.database_url, DEMO_DATABASE_URL);
    }

    #[test]
    fn unknown_keys_are_reported_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("statusdesk.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:1\"\nport = 3\n").unwrap();
        let error = ServeConfig::resolve(args(Some(file))).unwrap_err().to_string();
        assert!(error.ends_with("statusdesk.toml:2: unknown field `port`, expected one of `addr`, `content`, `database_url`, `demo`, `hsts`, `session_idle`, `session_lifetime`, `redelivery_daily_cap`, `dispatch`, `smtp_url`, `outbox`, `smtp_connections`, `in_flight`, `lease`, `mail_from`, `public_url`"), "{error}");
    }

    #[test]
    fn mail_settings_come_from_flags_then_the_file_then_defaults() {
        let defaults = ServeConfig::resolve(args(None)).unwrap();
        assert_eq!(defaults.mail.smtp_url, None);
        assert_eq!(defaults.mail.outbox, PathBuf::from(DEFAULT_OUTBOX));
        assert_eq!((defaults.mail.smtp_connections, defaults.mail.in_flight), (4, 16));
        assert_eq!(defaults.mail.lease, Duration::from_secs(300));
        assert_eq!(defaults.mail.mail_from.email.to_string(), "noreply@statusdesk.invalid");
        assert!(defaults.dispatch);
        assert_eq!(defaults.redelivery_daily_cap, crate::http::DEFAULT_REDELIVERY_DAILY_CAP);

        let (_dir, file) = file_with(
            "smtp_url = \"smtp://relay.example:587?tls=required\"\nsmtp_connections = 8\nin_flight = 32\n\
             lease = \"90s\"\nmail_from = \"Support <support@example.com>\"\npublic_url = \"https://status.example.com\"\n\
             redelivery_daily_cap = 500\ndispatch = false\n",
        );
        let from_file = ServeConfig::resolve(args(Some(file.clone()))).unwrap();
        assert_eq!(from_file.mail.smtp_url.as_deref(), Some("smtp://relay.example:587?tls=required"));
        assert_eq!((from_file.mail.smtp_connections, from_file.mail.in_flight), (8, 32));
        assert_eq!(from_file.mail.lease, Duration::from_secs(90));
        assert_eq!(from_file.mail.mail_from.to_string(), "Support <support@example.com>");
        assert_eq!(from_file.mail.public_url, "https://status.example.com");
        assert_eq!(from_file.redelivery_daily_cap, 500);
        assert!(!from_file.dispatch);

        let mut flags = args(Some(file.clone()));
        flags.mail.in_flight = Some(4);
        flags.mail.mail_from = Some("noreply@example.org".into());
        flags.redelivery_daily_cap = Some(7);
        let resolved = ServeConfig::resolve(flags).unwrap();
        assert_eq!((resolved.mail.smtp_connections, resolved.mail.in_flight), (8, 4));
        assert_eq!(resolved.mail.mail_from.email.to_string(), "noreply@example.org");
        assert_eq!(resolved.redelivery_daily_cap, 7);

        // `dispatch` reads the same file.
        let dispatch = DispatchConfig::resolve(DispatchArgs {
            database: crate::cli::DatabaseArgs { database_url: None },
            mail: no_mail_flags(),
            until_idle: false,
            content: None,
            config: Some(file),
        })
        .unwrap();
        assert_eq!(dispatch.mail.in_flight, 32);
        assert_eq!(dispatch.database_url, None);
    }

    #[test]
    fn bad_mail_settings_are_reported_at_their_line_or_flag() {
        for (text, expected) in [
            ("in_flight = 0\n", "statusdesk.toml:1: in_flight = 0: between 1 and 256"),
            (
                "hsts = true\nsmtp_connections = 500\n",
                "statusdesk.toml:2: smtp_connections = 500: between 1 and 64",
            ),
            (
                "\nlease = \"a while\"\n",
                "statusdesk.toml:2: `a while` is not a duration such as 90s, 30m or 12h",
            ),
            (
                "redelivery_daily_cap = -1\n",
                "statusdesk.toml:1: redelivery_daily_cap = -1: a number of messages, 0 or more",
            ),
        ] {
            let (_dir, file) = file_with(text);
            let error = ServeConfig::resolve(args(Some(file))).unwrap_err().to_string();
            assert!(error.ends_with(expected), "{text:?}: {error}");
        }
        let (_dir, file) = file_with("demo = true\n\nmail_from = \"support at example\"\n");
        let error = ServeConfig::resolve(args(Some(file))).unwrap_err().to_string();
        assert!(
            error.contains("statusdesk.toml:3: mail_from = \"support at example\": not a sender such as"),
            "{error}"
        );

        let mut flags = args(None);
        flags.mail.mail_from = Some("nobody".into());
        let error = ServeConfig::resolve(flags).unwrap_err().to_string();
        assert!(error.starts_with("--mail-from `nobody`: not a sender such as"), "{error}");
    }

    #[test]
    fn session_timeouts_come_from_flags_or_the_file_and_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("statusdesk.toml");
        std::fs::write(&file, "session_idle = \"10m\"\nsession_lifetime = \"8h\"\n").unwrap();
        let resolved = ServeConfig::resolve(args(Some(file.clone()))).unwrap();
        assert_eq!(resolved.sessions.idle, std::time::Duration::from_secs(600));
        assert_eq!(resolved.sessions.lifetime, std::time::Duration::from_secs(8 * 3600));
        let mut flags = args(Some(file.clone()));
        flags.session_idle = Some(std::time::Duration::from_secs(5));
        assert_eq!(ServeConfig::resolve(flags).unwrap().sessions.idle, std::time::Duration::from_secs(5));

        std::fs::write(&file, "hsts = true\nsession_idle = \"soon\"\n").unwrap();
        let error = ServeConfig::resolve(args(Some(file))).unwrap_err().to_string();
        assert!(
            error.ends_with("statusdesk.toml:2: `soon` is not a duration such as 90s, 30m or 12h"),
            "{error}"
        );
    }
}
