//! The redelivery dispatcher: takes due items from the queue under a lease, records each
//! attempt as in flight, sends it (no transaction is open meanwhile), and records the outcome —
//! 2xx sent; 4xx deferred and retried with exponential backoff up to a cap; 5xx failed; cut off
//! after the message may have gone out, unknown. Several dispatchers may work one PostgreSQL
//! queue at once: claims skip each other's rows. Items whose dispatcher died are taken back
//! (in flight: unknown, never resent automatically; not started: due again).
//!
//! `statusdesk dispatch` runs one alone; `serve` runs one beside the site. On shutdown the
//! message in flight is finished and recorded, then the dispatcher stops.

pub mod mailer;
pub mod notify;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;

use crate::store::redelivery::{AttemptOutcome, ClaimedItem};
use crate::store::{Store, StoreError};
pub use mailer::Mailer;
pub use notify::NoticeSettings;

/// How the dispatcher works the queue.
#[derive(Clone, Copy, Debug)]
pub struct DispatchSettings {
    /// Items claimed at a time.
    pub batch: i64,
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
            batch: 20,
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
    /// Items found abandoned by a dead dispatcher: in flight (now unknown), and not started.
    pub taken_back_unknown: u64,
    pub requeued: u64,
}

pub struct Dispatcher {
    store: Arc<dyn Store>,
    mailer: Mailer,
    settings: DispatchSettings,
    /// Tell companies when their request is done; `None`: do not.
    notices: Option<NoticeSettings>,
}

impl Dispatcher {
    pub fn new(store: Arc<dyn Store>, mailer: Mailer, settings: DispatchSettings) -> Dispatcher {
        Dispatcher { store, mailer, settings, notices: None }
    }

    /// Also emails each company when its request is done.
    pub fn with_notices(self, notices: NoticeSettings) -> Dispatcher {
        Dispatcher { notices: Some(notices), ..self }
    }

    /// Works the queue until `stop` turns true (finishing the item in flight), or, with
    /// `until_idle`, until nothing is due.
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
        loop {
            if *stop.borrow() {
                return Ok(report);
            }
            let worked = self.pass(&stop, &mut report).await?;
            if worked == 0 {
                if until_idle {
                    return Ok(report);
                }
                tokio::select! {
                    _ = tokio::time::sleep(self.settings.idle_poll) => {}
                    _ = stop.changed() => {}
                }
            }
        }
    }

    /// One round: take back abandoned items, claim a batch, send it. Returns the items handled.
    async fn pass(
        &self,
        stop: &watch::Receiver<bool>,
        report: &mut DispatchReport,
    ) -> Result<usize, StoreError> {
        let (unknown, requeued) = self.store.take_back_abandoned(Utc::now()).await?;
        if unknown + requeued > 0 {
            tracing::warn!(unknown, requeued, "took back items of a dispatcher that stopped");
        }
        report.taken_back_unknown += unknown;
        report.requeued += requeued;
        let now = Utc::now();
        let lease_until =
            now + chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::MAX);
        let items = self.store.claim_redeliveries(now, lease_until, self.settings.batch).await?;
        let mut handled = 0;
        for item in &items {
            if *stop.borrow() {
                break;
            }
            self.deliver(item, report).await?;
            handled += 1;
        }
        // Stopping: the rest of the batch was never started; it is due again at once.
        self.store.release_claims(&items[handled..]).await?;
        for request in self.store.complete_requests(Utc::now()).await? {
            tracing::info!(request, "redelivery request done");
        }
        self.notify().await?;
        Ok(handled.max(usize::from(unknown + requeued > 0)))
    }

    /// Emails the companies whose requests are done. A failure is retried on a later pass (the
    /// company may then get the email twice; it never goes without it).
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
        Ok(())
    }

    async fn deliver(&self, item: &ClaimedItem, report: &mut DispatchReport) -> Result<(), StoreError> {
        if !self.store.begin_attempt(item, Utc::now()).await? {
            tracing::warn!(item = item.item_id, "lost the lease before sending; not sent");
            return Ok(());
        }
        let retry_at = Utc::now()
            + chrono::Duration::from_std(self.settings.retry_delay(item.attempt))
                .unwrap_or(chrono::Duration::MAX);
        let result = self.mailer.send(item, item.attempt >= self.settings.max_attempts, retry_at).await;
        match result.outcome {
            AttemptOutcome::Sent => report.sent += 1,
            AttemptOutcome::Deferred { .. } => report.deferred += 1,
            AttemptOutcome::Failed => report.failed += 1,
            AttemptOutcome::Unknown => report.unknown += 1,
        }
        if !self.store.finish_redelivery(item, &result, Utc::now()).await? {
            tracing::warn!(
                item = item.item_id,
                "the lease ran out during the attempt; its outcome stays unknown"
            );
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
