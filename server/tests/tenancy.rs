//! Tenancy as a property: for random companies, releases and users, every user sees exactly
//! their own company's releases — listed on `/portal`, opened, exported — and every other
//! release id, existing or not, is the same 404. Runs on SQLite, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set.

mod common;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use common::portal::{PortalApp, database_urls};
use proptest::prelude::*;
use statusdesk::http::HttpOptions;
use statusdesk::store::rows::{Batch, CompanyRow, MessageRow, ReleaseRow};

/// A world: how many companies, which company owns each release, how many users each has.
#[derive(Clone, Debug)]
struct World {
    companies: usize,
    owners: Vec<usize>,
    users_per_company: Vec<usize>,
}

fn world() -> impl Strategy<Value = World> {
    (2usize..=4).prop_flat_map(|companies| {
        (prop::collection::vec(0..companies, 1..10), prop::collection::vec(1usize..=2, companies))
            .prop_map(move |(owners, users_per_company)| World { companies, owners, users_per_company })
    })
}

fn batch(world: &World) -> Batch {
    let t = Utc.with_ymd_and_hms(2022, 1, 10, 0, 0, 0).unwrap();
    let mut batch = Batch::default();
    for c in 0..world.companies {
        batch.companies.push(CompanyRow {
            id: c as i64 + 1,
            slug: format!("company-{c}"),
            name: format!("Company {c}"),
            language: "en",
            contact_email: format!("pr@company-{c}.example"),
            created_at: t,
        });
    }
    for (r, &owner) in world.owners.iter().enumerate() {
        let id = r as i64 + 1;
        batch.releases.push(ReleaseRow {
            id,
            company_id: owner as i64 + 1,
            title: format!("Release {id} of company {owner}"),
            sender_address: "info@mail.example".into(),
            sender_is_default: true,
            recipient_source: "media_list",
            created_at: t,
            sent_at: t + chrono::Duration::hours(id),
        });
        batch.messages.push(MessageRow {
            id,
            company_id: owner as i64 + 1,
            release_id: id,
            recipient: format!("desk{id}@media.example"),
            route: "legacy",
            status: "sent",
            error_class: None,
            smtp_code: Some(250),
            enhanced_code: Some("2.0.0"),
            smtp_reply: Some("250 ok".into()),
            attempts: 1,
            queued_at: t,
            last_attempt_at: t,
        });
    }
    batch
}

async fn check(world: World, url: String) {
    let users: Vec<(String, Option<String>)> = world
        .users_per_company
        .iter()
        .enumerate()
        .flat_map(|(c, &n)| {
            (0..n).map(move |u| (format!("user{u}@company-{c}.example"), Some(format!("company-{c}"))))
        })
        .collect();
    let app = PortalApp::start_with(&url, HttpOptions::default(), batch(&world), &users).await;
    let missing = world.owners.len() as i64 + 1;
    for (email, company) in &users {
        let own: usize = company.as_deref().unwrap().trim_start_matches("company-").parse().unwrap();
        let mut browser = app.session_for(email).await;
        let home = browser.get("/portal").await.text();
        for (r, &owner) in world.owners.iter().enumerate() {
            let id = r + 1;
            let title = format!("Release {id} of company {owner}");
            assert_eq!(home.contains(&title), owner == own, "{url}: {email} and {title} on /portal");
            let expected = if owner == own { StatusCode::OK } else { StatusCode::NOT_FOUND };
            for path in [format!("/portal/releases/{id}"), format!("/portal/releases/{id}/recipients.csv")] {
                let response = browser.get(&path).await;
                assert_eq!(response.status, expected, "{url}: {email} GET {path}");
                assert_eq!(response.text().contains(&format!("desk{id}@")), owner == own, "{email} {path}");
            }
        }
        assert_eq!(browser.get(&format!("/portal/releases/{missing}")).await.status, StatusCode::NOT_FOUND);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn every_user_sees_exactly_their_companys_releases(world in world()) {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            for url in database_urls(dir.path()).await {
                check(world.clone(), url).await;
            }
        });
    }
}
