//! Settings of `serve`, resolved once: flags, then the environment (both through clap), then
//! the configuration file, then the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::{MailArgs, ServeArgs, parse_duration};
use crate::http::session::SessionSettings;

pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
pub const DEFAULT_CONTENT: &str = "content";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/statusdesk.db";
pub const DEMO_DATABASE_URL: &str = "sqlite://data/demo.db";

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read the configuration file: {source}")]
    Unreadable { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Invalid { path: PathBuf, line: usize, message: String },
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
    pub mail: MailArgs,
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
    session_idle: Option<toml::Spanned<String>>,
    session_lifetime: Option<toml::Spanned<String>>,
}

impl ServeConfig {
    pub fn resolve(args: ServeArgs) -> Result<ServeConfig, ConfigError> {
        let (file, source) = match &args.config {
            Some(path) => read_file(path)?,
            None => (FileConfig::default(), String::new()),
        };
        // A duration from the file, reported at its line when malformed.
        let duration =
            |value: &Option<toml::Spanned<String>>| -> Result<Option<std::time::Duration>, ConfigError> {
                let Some(value) = value else { return Ok(None) };
                parse_duration(value.get_ref()).map(Some).map_err(|message| ConfigError::Invalid {
                    path: args.config.clone().unwrap_or_default(),
                    line: crate::content::finding::line_of(&source, value.span().start),
                    message,
                })
            };
        let defaults = SessionSettings::default();
        let sessions = SessionSettings {
            idle: args.session_idle.or(duration(&file.session_idle)?).unwrap_or(defaults.idle),
            lifetime: args
                .session_lifetime
                .or(duration(&file.session_lifetime)?)
                .unwrap_or(defaults.lifetime),
            secure: false,
        };
        let demo = args.demo || file.demo;
        let database_url = args
            .database_url
            .or(file.database_url)
            .unwrap_or_else(|| if demo { DEMO_DATABASE_URL } else { DEFAULT_DATABASE_URL }.to_string());
        Ok(ServeConfig {
            addr: args.addr.or(file.addr).unwrap_or_else(|| DEFAULT_ADDR.parse().expect("valid default")),
            content: args.content.or(file.content).unwrap_or_else(|| DEFAULT_CONTENT.into()),
            database_url,
            demo,
            hsts: args.hsts || file.hsts,
            sessions,
            dispatch: !args.no_dispatch,
            redelivery_daily_cap: args
                .redelivery_daily_cap
                .unwrap_or(crate::http::DEFAULT_REDELIVERY_DAILY_CAP),
            mail: args.mail,
        })
    }
}

/// The file's settings, and its text (for the lines of later messages).
fn read_file(path: &Path) -> Result<(FileConfig, String), ConfigError> {
    let source = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Unreadable { path: path.to_path_buf(), source })?;
    let file = toml::from_str(&source).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: e.span().map_or(1, |s| crate::content::finding::line_of(&source, s.start)),
        message: e.message().trim().to_string(),
    })?;
    Ok((file, source))
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
            mail: crate::cli::MailArgs {
                smtp_url: None,
                outbox: None,
                smtp_connections: 4,
                in_flight: 16,
                mail_from: "statusdesk <noreply@statusdesk.invalid>".into(),
                public_url: "http://127.0.0.1:3000".into(),
                lease: std::time::Duration::from_secs(300),
            },
            config,
        }
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("statusdesk.toml");
        std::fs::write(&file, "addr = \"0.0.0.0:8080\"\ncontent = \"/srv/content\"\nhsts = true\n").unwrap();
        let from_file = ServeConfig::resolve(args(Some(file.clone()))).unwrap();
        assert_eq!(from_file.addr.to_string(), "0.0.0.0:8080");
        assert_eq!(from_file.content, PathBuf::from("/srv/content"));
        assert!(from_file.hsts);
        assert_eq!(from_file.database_url, DEFAULT_DATABASE_URL);

        let mut flags = args(Some(file));
        flags.addr = Some("127.0.0.1:9000".parse().unwrap());
        flags.demo = true;
        let resolved = ServeConfig::resolve(flags).unwrap();
        assert_eq!(resolved.addr.to_string(), "127.0.0.1:9000");
        assert_eq!(resolved.database_url, DEMO_DATABASE_URL);
    }

    #[test]
    fn unknown_keys_are_reported_with_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("statusdesk.toml");
        std::fs::write(&file, "addr = \"127.0.0.1:1\"\nport = 3\n").unwrap();
        let error = ServeConfig::resolve(args(Some(file))).unwrap_err().to_string();
        assert!(error.ends_with("statusdesk.toml:2: unknown field `port`, expected one of `addr`, `content`, `database_url`, `demo`, `hsts`, `session_idle`, `session_lifetime`"), "{error}");
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
