//! Computes each published incident's figures from the delivery database for the scope its
//! notice names (`[impact]`) and publishes them with the site ([`crate::content::figures`]):
//! once the database answers, then every few minutes while `serve` runs. When the database
//! cannot answer, the last figures stay up with the time they were computed.

use std::sync::Arc;
use std::time::Duration;

use crate::content::figures::{self, Figures};
use crate::delivery::impact::Buckets;
use crate::public_site::live::LiveSite;
use crate::store::{DatabaseMonitor, Store, StoreError};

/// Why the figures were not refreshed (the last ones stay up).
#[derive(Debug, thiserror::Error)]
pub enum FiguresError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot keep the figures: {0}")]
    Write(#[from] std::io::Error),
}

/// How often the figures are computed again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(300);

/// Computes the figures of every incident with a scope and publishes them. Returns how many.
pub async fn refresh(store: &dyn Store, site: &LiveSite) -> Result<usize, FiguresError> {
    let published = site.current();
    let mut computed = Vec::new();
    for notice in &published.content.notices {
        let Some(scope) = &notice.impact else { continue };
        let impact = store.impact(scope, &Buckets::default()).await?;
        let figures = Figures {
            as_of: impact.as_of,
            companies: impact.companies,
            releases: impact.releases,
            messages: impact.messages,
        };
        computed.push((notice.slug.clone(), figures));
    }
    if computed.is_empty() {
        return Ok(0);
    }
    let count = computed.len();
    site.update(move |dir| {
        for (slug, figures) in &computed {
            figures::save(dir, slug, figures)?;
        }
        Ok(())
    })?;
    Ok(count)
}

/// How soon the figures are tried again while the database is not connected (as at start).
const WAIT_FOR_DATABASE: Duration = Duration::from_secs(1);

/// Refreshes the figures as soon as the database answers and then every [`REFRESH_EVERY`].
pub async fn keep_fresh(database: Arc<DatabaseMonitor>, site: Arc<LiveSite>) {
    loop {
        let Some(store) = database.store() else {
            tokio::time::sleep(WAIT_FOR_DATABASE).await;
            continue;
        };
        match refresh(store.as_ref(), &site).await {
            Ok(count) => tracing::debug!(count, "incident figures computed"),
            Err(e) => {
                tracing::warn!(error = %e, "cannot compute the incident figures; the last ones stay up")
            }
        }
        tokio::time::sleep(REFRESH_EVERY).await;
    }
}
