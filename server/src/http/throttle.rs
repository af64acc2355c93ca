//! Login throttling: repeated failures for one address typed in the form, or from one client
//! address, make further attempts wait (429 with `Retry-After`). Each wait is bounded and grows
//! with the failures (doubling up to a cap), and the count is forgotten once the window passes
//! without a failure: a guesser is slowed to a crawl, the real user is never locked out for good.
//!
//! Kept in memory: one process serves the portal. The account key is the address as typed, so
//! an unknown address is throttled exactly like a real one.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// When one key (an account or a client address) starts waiting.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Failures allowed within `window` before waiting starts.
    pub failures: u32,
    /// Failures older than this (counted from the first) are forgotten.
    pub window: Duration,
    /// The first wait; each further failure doubles it, up to `max_wait`.
    pub wait: Duration,
    pub max_wait: Duration,
}

/// The throttle's limits.
#[derive(Clone, Copy, Debug)]
pub struct ThrottleSettings {
    pub per_account: Limit,
    pub per_client: Limit,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        let window = Duration::from_secs(15 * 60);
        ThrottleSettings {
            per_account: Limit { failures: 5, window, wait: Duration::from_secs(60), max_wait: window },
            per_client: Limit { failures: 50, window, wait: Duration::from_secs(60), max_wait: window },
        }
    }
}

/// Entries kept before the expired ones are swept out.
const SWEEP_ABOVE: usize = 10_000;

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    first: Instant,
    blocked_until: Option<Instant>,
}

/// Failed logins per account and per client address.
pub struct LoginThrottle {
    settings: ThrottleSettings,
    entries: Mutex<HashMap<Key, Failures>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Key {
    Account(String),
    Client(IpAddr),
}

impl LoginThrottle {
    pub fn new(settings: ThrottleSettings) -> LoginThrottle {
        LoginThrottle { settings, entries: Mutex::new(HashMap::new()) }
    }

    fn keys(account: &str, client: Option<IpAddr>) -> impl Iterator<Item = Key> {
        [Some(Key::Account(account.trim().to_lowercase())), client.map(Key::Client)].into_iter().flatten()
    }

    fn limit(&self, key: &Key) -> Limit {
        match key {
            Key::Account(_) => self.settings.per_account,
            Key::Client(_) => self.settings.per_client,
        }
    }

    /// `Err(wait)` while the account or the client must wait before trying again.
    pub fn check(&self, account: &str, client: Option<IpAddr>) -> Result<(), Duration> {
        let now = Instant::now();
        let entries = self.entries.lock().expect("throttle lock");
        let wait = Self::keys(account, client)
            .filter_map(|key| entries.get(&key)?.blocked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        wait.map_or(Ok(()), Err)
    }

    /// Records a failed attempt.
    pub fn failed(&self, account: &str, client: Option<IpAddr>) {
        let now = Instant::now();
        let mut entries = self.entries.lock().expect("throttle lock");
        if entries.len() > SWEEP_ABOVE {
            let longest = self.settings.per_account.window.max(self.settings.per_client.window);
            entries.retain(|_, f| {
                now.duration_since(f.first) < longest || f.blocked_until.is_some_and(|u| u > now)
            });
        }
        for key in Self::keys(account, client) {
            let limit = self.limit(&key);
            let entry = entries.entry(key).or_insert(Failures { count: 0, first: now, blocked_until: None });
            let waiting = entry.blocked_until.is_some_and(|u| u > now);
            if !waiting && now.duration_since(entry.first) >= limit.window {
                *entry = Failures { count: 0, first: now, blocked_until: None };
            }
            entry.count += 1;
            if entry.count >= limit.failures {
                let doublings = (entry.count - limit.failures).min(16);
                let wait = limit.wait.saturating_mul(1 << doublings).min(limit.max_wait);
                entry.blocked_until = Some(now + wait);
                // The window restarts with the wait, so the count is forgotten only after a
                // quiet window.
                entry.first = now;
            }
        }
    }

    /// Forgets the account's failures after a successful login (the client's stay counted).
    pub fn succeeded(&self, account: &str) {
        self.entries.lock().expect("throttle lock").remove(&Key::Account(account.trim().to_lowercase()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttle(failures: u32) -> LoginThrottle {
        let limit = Limit {
            failures,
            window: Duration::from_secs(60),
            wait: Duration::from_secs(10),
            max_wait: Duration::from_secs(25),
        };
        LoginThrottle::new(ThrottleSettings {
            per_account: limit,
            per_client: Limit { failures: 100, ..limit },
        })
    }

    #[test]
    fn waits_start_after_the_allowed_failures_and_grow_to_a_cap() {
        let throttle = throttle(3);
        let client = Some("192.0.2.1".parse().unwrap());
        for _ in 0..2 {
            throttle.failed("A@example.com", client);
            assert!(throttle.check("a@example.com", client).is_ok());
        }
        throttle.failed("a@example.com", client);
        let wait = throttle.check("a@example.com ", client).unwrap_err();
        assert!(wait > Duration::from_secs(9) && wait <= Duration::from_secs(10), "{wait:?}");
        throttle.failed("a@example.com", client);
        assert!(throttle.check("a@example.com", client).unwrap_err() > Duration::from_secs(19));
        throttle.failed("a@example.com", client);
        assert!(throttle.check("a@example.com", client).unwrap_err() <= Duration::from_secs(25), "capped");
        assert!(
            throttle.check("b@example.com", Some("192.0.2.2".parse().unwrap())).is_ok(),
            "others unaffected"
        );
        throttle.succeeded("a@example.com");
        assert!(throttle.check("a@example.com", client).is_ok());
    }

    #[test]
    fn one_client_trying_many_accounts_is_throttled_too() {
        let limit = Limit {
            failures: 100,
            window: Duration::from_secs(60),
            wait: Duration::from_secs(10),
            max_wait: Duration::from_secs(10),
        };
        let throttle = LoginThrottle::new(ThrottleSettings {
            per_account: limit,
            per_client: Limit { failures: 4, ..limit },
        });
        let client = Some("192.0.2.9".parse().unwrap());
        for n in 0..4 {
            throttle.failed(&format!("user{n}@example.com"), client);
        }
        assert!(throttle.check("someone-new@example.com", client).is_err());
        assert!(throttle.check("someone-new@example.com", None).is_ok());
    }
}
