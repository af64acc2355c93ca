//! Settings of `serve`, resolved once: flags, then the environment (both through clap), then
//! the configuration file, then the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::cli::ServeArgs;

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
}

impl ServeConfig {
    pub fn resolve(args: ServeArgs) -> Result<ServeConfig, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
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
        })
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let source = std::fs::read_to_string(path)
        .map_err(|source| ConfigError::Unreadable { path: path.to_path_buf(), source })?;
    toml::from_str(&source).map_err(|e| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: e.span().map_or(1, |s| crate::content::finding::line_of(&source, s.start)),
        message: e.message().trim().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(config: Option<PathBuf>) -> ServeArgs {
        ServeArgs { addr: None, content: None, database_url: None, demo: false, hsts: false, config }
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
        assert!(error.ends_with("statusdesk.toml:2: unknown field `port`, expected one of `addr`, `content`, `database_url`, `demo`, `hsts`"), "{error}");
    }
}
