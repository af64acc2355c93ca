//! One behavioural suite for both stores: every test runs against SQLite, and against PostgreSQL
//! when `TEST_DATABASE_URL` is set (each test in a database of its own).

mod common;

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use statusdesk::delivery::impact::{Buckets, ErrorClass, RecipientSource, Route, Scope, SenderKind};
use statusdesk::delivery::replay::{self, Replay, ReplayOptions};
use statusdesk::store::rows::{Batch, CompanyRow, MessageRow, ReleaseRow};
use statusdesk::store::{self, Store, StoreError};

/// A fresh, migrated database of each backend, with its URL.
async fn backends() -> Vec<(String, Arc<dyn Store>, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![format!("sqlite://{}/store.db", dir.path().display())];
    urls.extend(common::postgres_database().await);
    let mut stores = Vec::new();
    for url in urls {
        let store = store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        stores.push((url, store, tempfile::tempdir().unwrap()));
    }
    // Keep the SQLite folder alive as long as the first store.
    stores[0].2 = dir;
    stores
}

async fn load(store: &dyn Store, batches: Vec<Batch>) -> Result<u64, StoreError> {
    let (sender, receiver) = tokio::sync::mpsc::channel(batches.len().max(1));
    for batch in batches {
        sender.send(batch).await.unwrap();
    }
    drop(sender);
    store.bulk_load(receiver, &|_| {}).await
}

async fn load_replay(store: &dyn Store, scale: f64, seed: u64) {
    let batches: Vec<Batch> = Replay::new(ReplayOptions { scale, seed }).collect();
    load(store, batches).await.unwrap();
}

/// Runs one SQL statement directly on the database at `url`.
async fn execute(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        sqlx::query("PRAGMA foreign_keys = ON").execute(&mut conn).await?;
        Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
    }
}

fn reference_scope() -> Scope {
    let (from, to) = replay::window();
    Scope { error_class: Some(ErrorClass::SenderDomainUnverified), ..Scope::window(from, to) }
}

#[tokio::test]
async fn the_replay_reproduces_the_reference_incident_on_every_backend() {
    for (url, store, _dir) in backends().await {
        load_replay(store.as_ref(), 0.001, 42).await;
        let impact = store.impact(&reference_scope(), &Buckets::default()).await.unwrap();
        assert_eq!((impact.companies, impact.releases, impact.messages), (117, 228, 2_310), "{url}");
        assert_eq!(impact.total_messages, 14_013, "{url}: 14,012,784 scaled by 0.001");
        assert_eq!((impact.min_per_release, impact.max_per_release), (Some(1), Some(148)), "{url}");
        let histogram: Vec<i64> = impact.histogram.iter().map(|b| b.releases).collect();
        assert_eq!(histogram, [116, 42, 54, 11, 4, 1], "{url}");
        assert_eq!(impact.per_company.iter().map(|c| c.messages).sum::<i64>(), 2_310);

        // The incident's conditions select exactly the same messages, without the error class.
        let (from, to) = replay::window();
        let by_conditions = Scope {
            route: Some(Route::Cloud),
            recipient_source: Some(RecipientSource::ImportList),
            sender: Some(SenderKind::Custom),
            ..Scope::window(from, to)
        };
        let same = store.impact(&by_conditions, &Buckets::default()).await.unwrap();
        assert_eq!((same.companies, same.releases, same.messages), (117, 228, 2_310), "{url}");

        // Media lists and the default sender were never affected.
        for unaffected in [
            Scope { recipient_source: Some(RecipientSource::MediaList), ..reference_scope() },
            Scope { sender: Some(SenderKind::Default), ..reference_scope() },
            Scope { route: Some(Route::Legacy), ..reference_scope() },
        ] {
            assert_eq!(store.impact(&unaffected, &Buckets::default()).await.unwrap().messages, 0, "{url}");
        }

        // Without the error class, the window's ordinary failures come in too.
        let everything = store.impact(&Scope::window(from, to), &Buckets::default()).await.unwrap();
        assert!(everything.messages > 2_310, "{url}");
    }
}

#[tokio::test]
async fn one_company_sees_only_its_own_share() {
    for (url, store, _dir) in backends().await {
        load_replay(store.as_ref(), 0.001, 42).await;
        let all = store.impact(&reference_scope(), &Buckets::default()).await.unwrap();
        let worst = &all.per_company[0];
        let scope = Scope { company: Some(worst.company.clone()), ..reference_scope() };
        let one = store.impact(&scope, &Buckets::default()).await.unwrap();
        assert_eq!((one.companies, one.releases, one.messages), (1, worst.releases, worst.messages), "{url}");
        assert!(one.total_messages < all.total_messages, "{url}: the company's own traffic");
    }
}

/// A small hand-made dataset: one company, two releases, messages across the filters.
fn hand_made() -> Batch {
    let t = |h: i64| Utc.with_ymd_and_hms(2022, 5, 10, 0, 0, 0).unwrap() + Duration::hours(h);
    let company = |id: i64, slug: &str| CompanyRow {
        id,
        slug: slug.into(),
        name: format!("{slug} Inc."),
        language: "en",
        contact_email: format!("pr@{slug}.example"),
        created_at: t(-1000),
    };
    let release = |id: i64, company_id: i64, source: &'static str, default: bool| ReleaseRow {
        id,
        company_id,
        title: format!("Release {id}"),
        sender_address: "x@example.jp".into(),
        sender_is_default: default,
        recipient_source: source,
        created_at: t(0),
        sent_at: t(0),
    };
    let message = |id: i64,
                   company_id: i64,
                   release_id: i64,
                   route: &'static str,
                   status: &'static str,
                   class: Option<&'static str>,
                   hour: i64| MessageRow {
        id,
        company_id,
        release_id,
        recipient: format!("r{id}@example.jp"),
        route,
        status,
        error_class: class,
        smtp_code: class.map(|_| 550),
        enhanced_code: class.map(|_| "5.1.1"),
        smtp_reply: class.map(|c| format!("550 5.1.1 {c}")),
        attempts: 1,
        queued_at: t(hour),
        last_attempt_at: t(hour),
    };
    Batch {
        companies: vec![company(1, "alpha"), company(2, "beta")],
        releases: vec![
            release(1, 1, "media_list", true),
            release(2, 1, "import_list", false),
            release(3, 2, "import_list", true),
        ],
        messages: vec![
            message(1, 1, 1, "legacy", "sent", None, 1),
            message(2, 1, 1, "legacy", "bounced", Some("mailbox_unknown"), 1),
            message(3, 1, 2, "cloud", "not_sent", Some("sender_domain_unverified"), 2),
            message(4, 1, 2, "cloud", "failed", Some("timeout"), 3),
            message(5, 2, 3, "legacy", "deferred", Some("timeout"), 4),
            message(6, 2, 3, "legacy", "unknown", Some("connection_lost"), 5),
            // Outside the window [0h, 5h): excluded by the exclusive end.
            message(7, 2, 3, "legacy", "bounced", Some("mailbox_full"), 5),
            message(8, 2, 3, "legacy", "sent", None, 6),
        ],
        attempts: vec![],
    }
}

#[tokio::test]
async fn every_filter_narrows_the_impact_on_any_data() {
    for (url, store, _dir) in backends().await {
        load(store.as_ref(), vec![hand_made()]).await.unwrap();
        let from = Utc.with_ymd_and_hms(2022, 5, 10, 0, 0, 0).unwrap();
        let window = Scope::window(from, from + Duration::hours(5) + Duration::minutes(30));
        let count = async |scope: Scope| store.impact(&scope, &Buckets::default()).await.unwrap().messages;
        assert_eq!(count(window.clone()).await, 6, "{url}: 2, 3, 4, 5, 6, 7");
        let to_5 = Scope { to: from + Duration::hours(5), ..window.clone() };
        assert_eq!(count(to_5.clone()).await, 4, "{url}: the end is exclusive");
        assert_eq!(count(Scope { route: Some(Route::Cloud), ..to_5.clone() }).await, 2, "{url}");
        assert_eq!(count(Scope { error_class: Some(ErrorClass::Timeout), ..to_5.clone() }).await, 2, "{url}");
        assert_eq!(
            count(Scope { recipient_source: Some(RecipientSource::MediaList), ..to_5.clone() }).await,
            1,
            "{url}"
        );
        assert_eq!(count(Scope { sender: Some(SenderKind::Custom), ..to_5.clone() }).await, 2, "{url}");
        assert_eq!(count(Scope { company: Some("beta".into()), ..to_5.clone() }).await, 1, "{url}");
        assert_eq!(count(Scope { company: Some("nobody".into()), ..to_5.clone() }).await, 0, "{url}");

        let impact = store.impact(&to_5, &"1-1,2-".parse().unwrap()).await.unwrap();
        assert_eq!(impact.total_messages, 5, "{url}: messages 1 to 5 were queued in the window");
        assert_eq!((impact.companies, impact.releases), (2, 3), "{url}");
        let histogram: Vec<i64> = impact.histogram.iter().map(|b| b.releases).collect();
        assert_eq!(histogram, [2, 1], "{url}: releases 1 and 3 have one, release 2 has two");
        let alpha = Scope { company: Some("alpha".into()), ..to_5 };
        assert_eq!(store.impact(&alpha, &Buckets::default()).await.unwrap().total_messages, 4, "{url}");

        let companies = store.company_summaries().await.unwrap();
        let summary: Vec<(&str, i64, i64, i64)> =
            companies.iter().map(|c| (c.slug.as_str(), c.releases, c.messages, c.undelivered)).collect();
        assert_eq!(summary, [("alpha", 2, 4, 3), ("beta", 1, 4, 3)], "{url}");
    }
}

#[tokio::test]
async fn the_database_itself_enforces_the_delivery_rules() {
    for (url, store, _dir) in backends().await {
        load(store.as_ref(), vec![hand_made()]).await.unwrap();
        let now = "'2022-05-11T00:00:00+00:00'";
        let insert_message = |id: i64, company: i64, release: i64, recipient: &str, status: &str| {
            format!(
                "INSERT INTO messages (id, company_id, release_id, recipient, route, status, attempts, generation, queued_at) \
                 VALUES ({id}, {company}, {release}, '{recipient}', 'legacy', '{status}', 0, 0, {now})"
            )
        };
        // One message per release and recipient.
        assert!(execute(&url, &insert_message(100, 1, 1, "r1@example.jp", "queued")).await.is_err(), "{url}");
        // Statuses come from the closed list.
        assert!(execute(&url, &insert_message(101, 1, 1, "new@example.jp", "lost")).await.is_err(), "{url}");
        // A message belongs to its release's company.
        assert!(
            execute(&url, &insert_message(102, 2, 1, "new@example.jp", "queued")).await.is_err(),
            "{url}"
        );
        assert_eq!(
            execute(&url, &insert_message(103, 1, 1, "new@example.jp", "queued")).await.unwrap(),
            1,
            "{url}"
        );
        // A sent message has no error class.
        let sent_with_error = "UPDATE messages SET status = 'sent', error_class = 'timeout' WHERE id = 103";
        assert!(execute(&url, sent_with_error).await.is_err(), "{url}");

        // One redelivery per message generation.
        let request = format!(
            "INSERT INTO redelivery_requests (id, company_id, idempotency_key, status, created_at) VALUES (1, 1, 'k1', 'pending', {now})"
        );
        execute(&url, &request).await.unwrap();
        let item = |id: i64| {
            format!(
                "INSERT INTO redelivery_items (id, request_id, message_id, generation, status, next_attempt_at, updated_at) \
                 VALUES ({id}, 1, 4, 1, 'queued', {now}, {now})"
            )
        };
        execute(&url, &item(1)).await.unwrap();
        assert!(execute(&url, &item(2)).await.is_err(), "{url}: a second redelivery of generation 1");
        // The same confirmation is the same request.
        assert!(
            execute(&url, &request.replace("(1, 1,", "(2, 1,")).await.is_err(),
            "{url}: idempotency key reused"
        );
        // Staff acting for a company must say why.
        let on_behalf = format!(
            "INSERT INTO redelivery_requests (id, company_id, idempotency_key, status, created_at, on_behalf) VALUES (3, 1, 'k3', 'pending', {now}, TRUE)"
        );
        assert!(execute(&url, &on_behalf).await.is_err(), "{url}");
        // Company users belong to a company; staff do not.
        let user = |id: i64, company: &str, role: &str| {
            format!(
                "INSERT INTO users (id, company_id, email, role, password_hash, created_at) VALUES ({id}, {company}, 'u{id}@x.jp', '{role}', 'x', {now})"
            )
        };
        assert!(execute(&url, &user(1, "NULL", "company")).await.is_err(), "{url}");
        assert!(execute(&url, &user(2, "1", "staff")).await.is_err(), "{url}");
        execute(&url, &user(3, "1", "company")).await.unwrap();
        assert!(
            execute(&url, &user(4, "2", "company").replace("u4@x.jp", "U3@X.JP")).await.is_err(),
            "{url}: emails are unique ignoring case"
        );
    }
}

#[tokio::test]
async fn loading_refuses_to_mix_with_existing_data_and_replace_starts_afresh() {
    for (url, store, _dir) in backends().await {
        assert!(!store.has_delivery_data().await.unwrap(), "{url}");
        load_replay(store.as_ref(), 0.0005, 1).await;
        assert!(store.has_delivery_data().await.unwrap(), "{url}");
        let again = statusdesk::commands::load_replay(
            store.as_ref(),
            ReplayOptions { scale: 0.0005, seed: 1 },
            false,
        )
        .await;
        assert!(again.unwrap_err().to_string().contains("already holds delivery data"), "{url}");
        statusdesk::commands::load_replay(store.as_ref(), ReplayOptions { scale: 0.0005, seed: 2 }, true)
            .await
            .unwrap();
        let impact = store.impact(&reference_scope(), &Buckets::default()).await.unwrap();
        assert_eq!((impact.companies, impact.releases, impact.messages), (117, 228, 2_310), "{url}");
        // Identity sequences continue after the loaded ids.
        let next = execute(
            &url,
            "INSERT INTO companies (slug, name, language, created_at) VALUES ('added-later', 'Added', 'ja', '2022-01-01T00:00:00+00:00')",
        )
        .await;
        assert_eq!(next.unwrap(), 1, "{url}");
    }
}

#[test]
fn window_times_are_the_reference_window() {
    let (from, to): (DateTime<Utc>, DateTime<Utc>) = replay::window();
    assert_eq!((to - from).num_minutes(), 4 * 1440 + 20 * 60 + 35);
}

#[tokio::test]
async fn traffic_counts_are_exact_for_any_window() {
    for (url, store, _dir) in backends().await {
        load_replay(store.as_ref(), 0.0005, 5).await;
        let (from, to) = replay::window();
        // Windows aligned to the hour and not, short and long, inside and across the data.
        let windows = [
            (from, to),
            (from - Duration::days(3), to + Duration::days(3)),
            (from + Duration::minutes(7), from + Duration::minutes(52)),
            (from + Duration::seconds(3599), to - Duration::seconds(1)),
            (to - Duration::hours(30), to + Duration::hours(30) + Duration::seconds(17)),
        ];
        for (start, end) in windows {
            let counted = store.messages_in_window(&Scope::window(start, end)).await.unwrap();
            let direct = direct_count(&url, start, end).await;
            assert_eq!(counted, direct, "{url}: {start} to {end}");
        }
        // Deleting messages keeps the counts right.
        execute(&url, "DELETE FROM delivery_attempts WHERE message_id IN (SELECT id FROM messages WHERE release_id = 1)").await.unwrap();
        execute(&url, "DELETE FROM messages WHERE release_id = 1").await.unwrap();
        let counted = store
            .messages_in_window(&Scope::window(from - Duration::days(3), to + Duration::days(3)))
            .await
            .unwrap();
        assert_eq!(
            counted,
            direct_count(&url, from - Duration::days(3), to + Duration::days(3)).await,
            "{url}"
        );
    }
}

/// Counts messages queued in `[from, to)` straight from the table.
async fn direct_count(url: &str, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    use sqlx::Connection;
    let sql = "SELECT COUNT(*) FROM messages WHERE queued_at >= $1 AND queued_at < $2";
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).bind(from).bind(to).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).bind(from).bind(to).fetch_one(&mut conn).await.unwrap()
    }
}

#[tokio::test]
async fn release_totals_follow_every_write_to_messages() {
    for (url, store, _dir) in backends().await {
        load(store.as_ref(), vec![hand_made()]).await.unwrap();
        let totals =
            |store: Arc<dyn Store>| async move { store.release(1, 1).await.unwrap().unwrap().totals };
        // After the bulk load (counted in one pass).
        let loaded = totals(store.clone()).await;
        assert_eq!((loaded.sent, loaded.bounced, loaded.messages()), (1, 1, 2), "{url}");
        // Written by the mail sender, one statement each: an insert, a redelivery, a delete.
        execute(
            &url,
            "INSERT INTO messages (id, company_id, release_id, recipient, route, status, attempts, generation, queued_at) \
             VALUES (100, 1, 1, 'late@example.jp', 'legacy', 'queued', 0, 0, '2022-05-11T00:00:00+00:00')",
        )
        .await
        .unwrap();
        assert_eq!(totals(store.clone()).await.queued, 1, "{url}");
        execute(&url, "UPDATE messages SET status = 'sent', error_class = NULL, generation = 1 WHERE id = 2")
            .await
            .unwrap();
        let redelivered = totals(store.clone()).await;
        assert_eq!(
            (redelivered.bounced, redelivered.redelivered, redelivered.undelivered()),
            (0, 1, 0),
            "{url}"
        );
        execute(&url, "DELETE FROM messages WHERE id = 100").await.unwrap();
        let after = totals(store.clone()).await;
        assert_eq!((after.queued, after.sent, after.redelivered, after.messages()), (0, 1, 1, 2), "{url}");
        // Another company's release is not found, whatever its id.
        assert!(store.release(2, 1).await.unwrap().is_none(), "{url}");
    }
}

/// Staff find a company by part of its slug or name, typed as stored, in any case for ASCII,
/// or with full-width letters where the name has ASCII ones: the same on both backends.
#[tokio::test]
async fn companies_are_found_by_part_of_their_name_on_every_backend() {
    use statusdesk::store::accounts::NewCompany;
    for (url, store, _dir) in backends().await {
        for (slug, name) in [("abc-trading", "株式会社ＡＢＣ商事"), ("acme", "Acme Corporation")] {
            let company = NewCompany {
                slug: slug.into(),
                name: name.into(),
                language: "ja".into(),
                contact_email: None,
            };
            store.add_company(&company).await.unwrap();
        }
        let found = async |text: &str| -> Vec<String> {
            store.companies_matching(text, 10).await.unwrap().into_iter().map(|c| c.slug).collect()
        };
        assert_eq!(found("ＡＢＣ").await, ["abc-trading"], "{url}: as stored");
        assert_eq!(found("ABC-").await, ["abc-trading"], "{url}: the slug, any case");
        assert_eq!(found("ａｃｍｅ　ｃｏｒｐ").await, ["acme"], "{url}: full-width for ASCII");
        assert_eq!(found("ACME CORP").await, ["acme"], "{url}");
        assert_eq!(found("%").await, Vec::<String>::new(), "{url}: wildcards are literal");
        assert_eq!(found("a").await.len(), 2, "{url}");
    }
}
