//! The redelivery dispatcher: takes due items from the queue under a lease, records each
//! attempt as in flight before it is sent (no transaction is open during an SMTP conversation),
//! and records the outcome — 2xx sent; 4xx deferred and retried with exponential backoff up to a
//! cap; 5xx failed; cut off after the message may have gone out, unknown. Several dispatchers
//! may work one PostgreSQL queue at once: claims skip each other's rows. Items whose dispatcher
//! died are taken back as unknown (their attempts were in flight: never resent automatically).
//!
//! A dispatcher keeps up to `in_flight` messages going at once over its pooled connections.
//! Its database writes are grouped: each commit records every attempt that ended since the
//! last one and claims as many new items as there is room for, their attempts in flight, so the
//! cost of a commit is shared by the messages in it. The price is that a dispatcher killed
//! outright leaves up to `in_flight` items unknown (never any sent twice).
//!
//! A database that stops answering does not stop a dispatcher: it tries again, waiting longer
//! each time (100 ms up to 30 s), while the messages under way finish; the commit it could not
//! make is made once the database answers. Told to stop while the database is away, it stops at
//! once; its items in flight are then taken back as unknown when their leases run out.
//!
//! `statusdesk dispatch` runs one alone; `serve` runs one beside the site. On shutdown the
//! messages in flight are finished and recorded, then the dispatcher stops.

pub mod mailer;
pub mod notify;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::store::redelivery::{AttemptOutcome, AttemptResult, ClaimedItem, ReleaseContent};
use crate::store::{Store, StoreError};
pub use mailer::Mailer;
pub use notify::NoticeSettings;

/// How the dispatcher works the queue.
#[derive(Clone, Copy, Debug)]
pub struct DispatchSettings {
    /// Messages sending (or waiting for a connection) at once.
    pub in_flight: usize,
    /// How long a claim holds; must outlast an SMTP conversation.
    pub lease: Duration,
    /// Attempts before a temporary failure counts as failed.
    pub max_attempts: i32,
    /// The wait after the first temporary failure; it doubles with each, up to `max_retry`.
    pub first_retry: Duration,
    pub max_retry: Duration,
    /// How often to look for due items when there were none.
    pub idle_poll: Duration,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            in_flight: 16,
            lease: Duration::from_secs(300),
            max_attempts: 8,
            first_retry: Duration::from_secs(60),
            max_retry: Duration::from_secs(3600),
            idle_poll: Duration::from_secs(2),
        }
    }
}

impl DispatchSettings {
    /// When to try again after `attempt` temporary failures.
    fn retry_delay(&self, attempt: i32) -> Duration {
        let doublings = attempt.saturating_sub(1).clamp(0, 20) as u32;
        self.first_retry.saturating_mul(1 << doublings).min(self.max_retry)
    }
}

/// What a dispatcher did, counted by outcome.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub sent: u64,
    pub deferred: u64,
    pub failed: u64,
    pub unknown: u64,
    /// Items found abandoned by a dispatcher that died with them in flight: now unknown.
    pub taken_back_unknown: u64,
}

impl DispatchReport {
    fn count(&mut self, outcome: AttemptOutcome) {
        match outcome {
            AttemptOutcome::Sent => self.sent += 1,
            AttemptOutcome::Deferred { .. } => self.deferred += 1,
            AttemptOutcome::Failed => self.failed += 1,
            AttemptOutcome::Unknown => self.unknown += 1,
        }
    }
}

pub struct Dispatcher {
    store: Arc<dyn Store>,
    mailer: Arc<Mailer>,
    settings: DispatchSettings,
    /// Tell companies when their request is done; `None`: do not.
    notices: Option<NoticeSettings>,
}

/// A dispatcher's work in hand: attempts under way, attempts that ended but are not yet
/// recorded, and the contents of the releases it is sending (read once each while busy).
#[derive(Default)]
struct Work {
    sending: JoinSet<(ClaimedItem, AttemptResult)>,
    ended: Vec<(ClaimedItem, AttemptResult)>,
    contents: HashMap<i64, Arc<ReleaseContent>>,
    /// The last claim found nothing due: claim again only once idle.
    queue_drained: bool,
    /// Attempts ended since requests were last closed.
    untidy: bool,
    /// When abandoned items were last taken back and finished requests closed.
    tidied_at: Option<Instant>,
}

/// Consecutive failures to reach the database. A dispatcher waits them out rather than stopping:
/// the sends under way go on, and their outcomes are recorded once the database answers again.
#[derive(Default)]
struct Outage {
    failures: u32,
}

impl Outage {
    /// Waits before the next try — 100 ms after the first failure, doubling up to 30 s — or
    /// until told to stop. A dispatcher already `stopping` does not wait: the error is its end.
    async fn wait(
        &mut self,
        error: StoreError,
        stopping: bool,
        stop: &mut watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        if stopping {
            return Err(error);
        }
        let wait = (Duration::from_millis(100) * (1 << self.failures.min(9))).min(Duration::from_secs(30));
        self.failures += 1;
        tracing::warn!(
            error = %error,
            failures = self.failures,
            retry_in_ms = wait.as_millis() as u64,
            "the dispatcher cannot reach the database; the messages under way go on, their outcomes wait to be recorded"
        );
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
        Ok(())
    }
}

/// How often a busy dispatcher takes back abandoned items and closes finished requests (an idle
/// one does it each time it finds the queue empty).
const TIDY_EVERY: Duration = Duration::from_secs(1);

impl Dispatcher {
    pub fn new(store: Arc<dyn Store>, mailer: Mailer, settings: DispatchSettings) -> Dispatcher {
        Dispatcher { store, mailer: Arc::new(mailer), settings, notices: None }
    }

    /// Also emails each company when its request is done.
    pub fn with_notices(self, notices: NoticeSettings) -> Dispatcher {
        Dispatcher { notices: Some(notices), ..self }
    }

    /// Works the queue until `stop` turns true (finishing the messages in flight), or, with
    /// `until_idle`, until nothing is due. Fails only when told to stop while the database
    /// cannot be reached.
    pub async fn run(
        &self,
        mut stop: watch::Receiver<bool>,
        until_idle: bool,
    ) -> Result<DispatchReport, StoreError> {
        // Connected before the first claim, so that an attempt in flight is only the SMTP
        // transaction itself, not the connection's setup.
        if let Err(e) = self.mailer.connect().await {
            tracing::warn!(error = %e, "the mail relay does not answer yet");
        }
        let mut report = DispatchReport::default();
        let mut work = Work::default();
        let mut outage = Outage::default();
        loop {
            let stopping = *stop.borrow();
            let room = if stopping || work.queue_drained {
                0
            } else {
                self.settings.in_flight.saturating_sub(work.sending.len())
            };
            let committed = async {
                if room > 0 && work.tidied_at.is_none_or(|at| at.elapsed() >= TIDY_EVERY) {
                    self.tidy(&mut report).await?;
                    (work.untidy, work.tidied_at) = (false, Some(Instant::now()));
                }
                if !work.ended.is_empty() || room > 0 {
                    self.record(&mut work, room, &mut report).await?;
                }
                Ok(())
            }
            .await;
            if let Err(e) = committed {
                outage.wait(e, stopping, &mut stop).await?;
                continue;
            }
            outage.failures = 0;
            if let Some(ended) = work.sending.join_next().await {
                work.ended.push(ended.expect("a send does not panic"));
                // Whatever else ended meanwhile goes into the same commit.
                while let Some(ended) = work.sending.try_join_next() {
                    work.ended.push(ended.expect("a send does not panic"));
                }
                continue;
            }
            // Nothing under way, and nothing was due.
            if work.untidy {
                // Close the requests whose last items just ended.
                if let Err(e) = self.tidy(&mut report).await {
                    outage.wait(e, stopping, &mut stop).await?;
                    continue;
                }
                (work.untidy, work.tidied_at) = (false, Some(Instant::now()));
            }
            if stopping || until_idle {
                return Ok(report);
            }
            work.contents.clear();
            tokio::select! {
                _ = tokio::time::sleep(self.settings.idle_poll) => {}
                _ = stop.changed() => {}
            }
            work.queue_drained = false;
        }
    }

    /// One commit: the outcomes of the attempts that ended, and up to `room` new claims, which
    /// are then sent.
    async fn record(
        &self,
        work: &mut Work,
        room: usize,
        report: &mut DispatchReport,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        let lease_until =
            now + chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::MAX);
        let recorded = self.store.record_attempts(&work.ended, room, now, lease_until).await?;
        work.untidy |= !work.ended.is_empty();
        // Fewer than asked may be a race with another dispatcher; none means nothing is due.
        work.queue_drained = room > 0 && recorded.started.is_empty();
        for (item, result) in work.ended.drain(..) {
            report.count(result.outcome);
            if recorded.lapsed.contains(&item.item_id) {
                tracing::warn!(
                    item = item.item_id,
                    "the lease ran out during the attempt; its outcome stays unknown"
                );
            }
        }
        if let Err(e) = self.read_contents(work, &recorded.started).await {
            // Nothing was sent: the next commit records the attempts as deferred.
            tracing::warn!(error = %e, "cannot read the releases' contents; the items are tried again later");
            for item in recorded.started {
                let result = AttemptResult {
                    outcome: AttemptOutcome::Deferred { retry_at: self.retry_at(&item) },
                    smtp_code: None,
                    enhanced_code: None,
                    reply: Some(format!("not sent: cannot read the release's content: {e}")),
                    error_class: None,
                };
                work.ended.push((item, result));
            }
            return Ok(());
        }
        for item in recorded.started {
            let (mailer, settings) = (Arc::clone(&self.mailer), self.settings);
            let content = Arc::clone(&work.contents[&item.release_id]);
            let retry_at = self.retry_at(&item);
            work.sending.spawn(async move {
                let result =
                    mailer.send(&item, &content, item.attempt >= settings.max_attempts, retry_at).await;
                (item, result)
            });
        }
        Ok(())
    }

    /// When `item` is tried again if this attempt is deferred.
    fn retry_at(&self, item: &ClaimedItem) -> chrono::DateTime<Utc> {
        Utc::now()
            + chrono::Duration::from_std(self.settings.retry_delay(item.attempt))
                .unwrap_or(chrono::Duration::MAX)
    }

    /// Reads the content of each release of `items` not read yet. A release the database no
    /// longer has content for gets none: its items fail unsent.
    async fn read_contents(&self, work: &mut Work, items: &[ClaimedItem]) -> Result<(), StoreError> {
        let mut missing: Vec<i64> =
            items.iter().map(|item| item.release_id).filter(|id| !work.contents.contains_key(id)).collect();
        missing.sort_unstable();
        missing.dedup();
        for content in self.store.release_contents(&missing).await? {
            work.contents.insert(content.release_id, Arc::new(content));
        }
        for release_id in missing {
            work.contents.entry(release_id).or_insert_with(|| {
                Arc::new(ReleaseContent {
                    release_id,
                    sender_address: String::new(),
                    subject: None,
                    body_text: None,
                })
            });
        }
        Ok(())
    }

    /// Takes back items of dispatchers that died, closes requests whose items all ended, and
    /// tells their companies.
    async fn tidy(&self, report: &mut DispatchReport) -> Result<(), StoreError> {
        let unknown = self.store.take_back_abandoned(Utc::now()).await?;
        if unknown > 0 {
            tracing::warn!(unknown, "took back the items of a dispatcher that stopped with them in flight");
        }
        report.taken_back_unknown += unknown;
        for request in self.store.complete_requests(Utc::now()).await? {
            tracing::info!(request, "redelivery request done");
        }
        self.notify().await
    }

    /// Emails the companies whose requests are done, and those staff asked to tell of an
    /// incident. A failure is retried on a later pass (the company may then get the email twice;
    /// it never goes without it).
    async fn notify(&self) -> Result<(), StoreError> {
        let Some(notices) = &self.notices else { return Ok(()) };
        for request in self.store.requests_to_notify(20).await? {
            match notify::completion_email(&request, notices) {
                Some(email) => {
                    if let Err(e) =
                        self.mailer.send_notice(email, &format!("notice-{}.eml", request.id)).await
                    {
                        tracing::warn!(request = request.id, error = %e, "cannot send the completion email yet");
                        continue;
                    }
                }
                None => {
                    tracing::warn!(request = request.id, contact = %request.contact_email, "the company's contact address is not an address; no completion email")
                }
            }
            self.store.mark_notified(request.id, Utc::now()).await?;
        }
        // Incident emails come in hundreds at once: all that are queued, a batch at a time,
        // until a batch sends nothing (the relay is away; a later pass tries again).
        const BATCH: i64 = 50;
        loop {
            let queued = self.store.pending_incident_notifications(BATCH).await?;
            let mut done = 0;
            for notification in &queued {
                match notify::incident_message(notification, notices) {
                    Some(email) => {
                        let n = notification;
                        let name = format!("incident-{}-v{}-{}.eml", n.notice_slug, n.revision, n.company_id);
                        if let Err(e) = self.mailer.send_notice(email, &name).await {
                            tracing::warn!(company = n.company_id, error = %e, "cannot send the incident email yet");
                            continue;
                        }
                    }
                    None => {
                        tracing::warn!(company = notification.company_id, to = %notification.to_address, "not an address; no incident email")
                    }
                }
                self.store.mark_incident_notification_sent(notification, Utc::now()).await?;
                done += 1;
            }
            if (queued.len() as i64) < BATCH || done == 0 {
                break;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_cap() {
        let settings = DispatchSettings::default();
        let delays: Vec<u64> = (1..=9).map(|a| settings.retry_delay(a).as_secs()).collect();
        assert_eq!(delays, [60, 120, 240, 480, 960, 1920, 3600, 3600, 3600]);
    }
}
