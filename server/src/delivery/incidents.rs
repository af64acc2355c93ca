//! Which companies each published incident affected: for every incident notice with an
//! `[impact]` scope, its undelivered messages per release, computed from the delivery database
//! and kept (refreshed in the background every few minutes), so that only the companies an
//! incident affected pay a query (their own messages) for the portal's banner.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::content::Content;
use crate::content::notice::Notice;
use crate::delivery::impact::Scope;
use crate::store::rows::ReleaseImpactRow;
use crate::store::{Store, StoreError};

/// How long computed figures are used before they are computed again.
const FRESH_FOR: Duration = Duration::from_secs(300);

/// An incident and the releases of one company it left with undelivered messages.
#[derive(Clone, Debug)]
pub struct CompanyIncident<'c> {
    pub notice: &'c Notice,
    /// (release id, undelivered messages), by release id.
    pub releases: Vec<(i64, i64)>,
}

#[derive(Clone)]
struct Computed {
    scope: Scope,
    at: Instant,
    rows: Arc<Vec<ReleaseImpactRow>>,
    /// A newer computation is under way.
    refreshing: bool,
}

/// The releases of the company `slug` with messages the incident of `scope` left undelivered,
/// read now: (release id, undelivered messages), by release id.
pub async fn company_releases(
    store: &dyn Store,
    scope: &Scope,
    slug: &str,
) -> Result<Vec<(i64, i64)>, StoreError> {
    let own = Scope { company: Some(slug.to_string()), ..scope.clone() };
    Ok(store.undelivered_by_release(&own).await?.iter().map(|r| (r.release_id, r.messages)).collect())
}

/// The figures of every incident with a scope, by notice slug.
#[derive(Default)]
pub struct IncidentImpacts {
    computed: Mutex<HashMap<String, Computed>>,
}

impl IncidentImpacts {
    /// The undelivered messages per release of the incident `notice`. Computed on first use (or
    /// when the scope changed); once older than [`FRESH_FOR`], the last figures are still
    /// answered while one background task computes new ones, so no reader waits for them.
    async fn rows(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        notice: &Notice,
        scope: &Scope,
    ) -> Result<Arc<Vec<ReleaseImpactRow>>, StoreError> {
        {
            let mut computed = self.computed.lock().expect("cache lock");
            if let Some(hit) = computed.get_mut(&notice.slug)
                && hit.scope == *scope
            {
                if hit.at.elapsed() >= FRESH_FOR && !hit.refreshing {
                    hit.refreshing = true;
                    let (this, store, slug, scope) =
                        (self.clone(), store.clone(), notice.slug.clone(), scope.clone());
                    tokio::spawn(async move {
                        let result = this.compute(store.as_ref(), &slug, &scope).await;
                        if let Err(e) = result {
                            tracing::warn!(error = %e, notice = %slug, "cannot refresh the incident's figures");
                            if let Some(entry) = this.computed.lock().expect("cache lock").get_mut(&slug) {
                                entry.refreshing = false;
                            }
                        }
                    });
                }
                return Ok(hit.rows.clone());
            }
        }
        self.compute(store.as_ref(), &notice.slug, scope).await
    }

    async fn compute(
        &self,
        store: &dyn Store,
        slug: &str,
        scope: &Scope,
    ) -> Result<Arc<Vec<ReleaseImpactRow>>, StoreError> {
        let rows = Arc::new(store.undelivered_by_release(scope).await?);
        self.computed.lock().expect("cache lock").insert(
            slug.to_string(),
            Computed { scope: scope.clone(), at: Instant::now(), rows: rows.clone(), refreshing: false },
        );
        Ok(rows)
    }

    /// Every incident of `content` that left the company `slug` undelivered messages, newest
    /// first. Which companies an incident affected comes from the figures kept; the company's
    /// own messages are read now, so that what it had redelivered since is not shown as still
    /// undelivered.
    pub async fn for_company<'c>(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        content: &'c Content,
        slug: &str,
    ) -> Result<Vec<CompanyIncident<'c>>, StoreError> {
        let mut found = Vec::new();
        for notice in &content.notices {
            let Some(scope) = &notice.impact else { continue };
            if !self.rows(store, notice, scope).await?.iter().any(|r| r.company_slug == slug) {
                continue;
            }
            let releases = company_releases(store.as_ref(), scope, slug).await?;
            if !releases.is_empty() {
                found.push(CompanyIncident { notice, releases });
            }
        }
        Ok(found)
    }

    /// The companies the incidents of `content` left with undelivered messages: (slug, name,
    /// undelivered messages), most first. Computed now (staff act on them, and seldom ask),
    /// which also refreshes the figures kept.
    pub async fn affected_companies(
        self: &Arc<Self>,
        store: &Arc<dyn Store>,
        content: &Content,
    ) -> Result<Vec<(String, String, i64)>, StoreError> {
        let mut totals: HashMap<(String, String), i64> = HashMap::new();
        for notice in &content.notices {
            let Some(scope) = &notice.impact else { continue };
            for row in self.compute(store.as_ref(), &notice.slug, scope).await?.iter() {
                *totals.entry((row.company_slug.clone(), row.company_name.clone())).or_default() +=
                    row.messages;
            }
        }
        let mut companies: Vec<(String, String, i64)> =
            totals.into_iter().map(|((slug, name), messages)| (slug, name, messages)).collect();
        companies.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        Ok(companies)
    }
}
