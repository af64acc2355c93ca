//! Keeps the database connected in the background for `serve`. The server starts and serves
//! the public site whether or not the database answers; the monitor keeps trying, migrates once
//! connected, and records whether the database is reachable for `/readyz`.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Store, StoreError, connect, redact};

/// The first retry comes after this long; each failure doubles it up to [`MAX_RETRY`].
const FIRST_RETRY: Duration = Duration::from_millis(500);
const MAX_RETRY: Duration = Duration::from_secs(30);
/// How often a connected database is checked.
const PING_EVERY: Duration = Duration::from_secs(10);

/// What is known about the database right now.
#[derive(Clone, Debug, Default)]
pub struct DatabaseState {
    pub reachable: bool,
    /// The last error, while the database is not reachable.
    pub error: Option<String>,
    pub checked_at: Option<DateTime<Utc>>,
}

/// The store once connected, and the database's reachability.
pub struct DatabaseMonitor {
    url: String,
    store: RwLock<Option<Arc<dyn Store>>>,
    state: RwLock<DatabaseState>,
}

impl DatabaseMonitor {
    pub fn new(url: &str) -> Arc<Self> {
        Arc::new(DatabaseMonitor { url: url.to_string(), store: RwLock::new(None), state: RwLock::default() })
    }

    /// The database URL, without its password.
    pub fn url(&self) -> String {
        redact(&self.url)
    }

    pub fn state(&self) -> DatabaseState {
        self.state.read().expect("state lock").clone()
    }

    /// The store, once it has connected and migrated.
    pub fn store(&self) -> Option<Arc<dyn Store>> {
        self.store.read().expect("store lock").clone()
    }

    fn record(&self, result: &Result<(), StoreError>) {
        let mut state = self.state.write().expect("state lock");
        state.reachable = result.is_ok();
        state.error = result.as_ref().err().map(ToString::to_string);
        state.checked_at = Some(Utc::now());
    }

    /// Connects (retrying with backoff), migrates, then checks the connection periodically.
    /// Runs until the process ends. A database with a newer schema is reported and left alone.
    pub async fn run(self: Arc<Self>) {
        let mut delay = FIRST_RETRY;
        let store = loop {
            let attempt = async {
                let store = connect(&self.url).await?;
                let applied = store.migrate().await?;
                if applied > 0 {
                    tracing::info!(applied, "database migrated");
                }
                Ok::<_, StoreError>(store)
            }
            .await;
            match attempt {
                Ok(store) => break store,
                Err(e) => {
                    tracing::warn!(database = %self.url(), error = %e, retry_in = ?delay, "database not available; the public site keeps serving");
                    self.record(&Err(e));
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(MAX_RETRY);
                }
            }
        };
        tracing::info!(database = %self.url(), backend = store.backend(), "database connected");
        *self.store.write().expect("store lock") = Some(store.clone());
        loop {
            let result = store.ping().await;
            if let Err(e) = &result {
                tracing::warn!(error = %e, "database stopped answering");
            }
            self.record(&result);
            tokio::time::sleep(PING_EVERY).await;
        }
    }
}
