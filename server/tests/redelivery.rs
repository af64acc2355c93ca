//! Redelivery against real servers: the database's rules (on SQLite and PostgreSQL), idempotent
//! requests under concurrency, the dispatcher's outcomes over a real SMTP conversation with a
//! server on loopback, four dispatchers on one queue, and dispatchers killed with SIGKILL at
//! random points while they work.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use common::smtp::{Answer, SmtpServer};
use statusdesk::dispatch::{DispatchSettings, Dispatcher, Mailer, NoticeSettings};
use statusdesk::store::redelivery::{AttemptOutcome, AttemptResult, NewRequest, RequestOutcome, SkipReason};
use statusdesk::store::rows::{Batch, CompanyRow, MessageRow, ReleaseRow};
use statusdesk::store::{self, Store};

/// A fresh, migrated store of each backend (PostgreSQL when `TEST_DATABASE_URL` is set).
async fn backends(dir: &std::path::Path) -> Vec<(String, Arc<dyn Store>)> {
    let mut stores = Vec::new();
    for url in common::portal::database_urls(dir).await {
        let store = store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        stores.push((url, store));
    }
    stores
}

/// One company with one release of `n` unsent messages (ids 1..=n, to `reader{i}@media.test`)
/// and a few others: message n+1 delivered, n+2 with an unknown outcome, n+3 queued.
fn batch(n: i64) -> Batch {
    let t = Utc.with_ymd_and_hms(2021, 3, 1, 1, 0, 0).unwrap();
    let message = |id: i64, status: &'static str| MessageRow {
        id,
        company_id: 1,
        release_id: 1,
        recipient: format!("reader{id}@media.test"),
        route: "cloud",
        status,
        error_class: match status {
            "not_sent" => Some("sender_domain_unverified"),
            "unknown" => Some("connection_lost"),
            _ => None,
        },
        smtp_code: None,
        enhanced_code: None,
        smtp_reply: None,
        attempts: 1,
        queued_at: t,
        last_attempt_at: t,
    };
    let mut messages: Vec<MessageRow> = (1..=n).map(|id| message(id, "not_sent")).collect();
    messages.extend([message(n + 1, "sent"), message(n + 2, "unknown"), message(n + 3, "queued")]);
    Batch {
        companies: vec![CompanyRow {
            id: 1,
            slug: "acme".into(),
            name: "Acme".into(),
            language: "ja",
            contact_email: "pr@acme.test".into(),
            created_at: t,
        }],
        releases: vec![ReleaseRow {
            id: 1,
            company_id: 1,
            title: "Spring launch".into(),
            sender_address: "press@acme.test".into(),
            sender_is_default: false,
            recipient_source: "import_list",
            created_at: t,
            sent_at: t,
        }],
        messages,
        attempts: vec![],
    }
}

async fn load(store: &dyn Store, n: i64) {
    let (sender, receiver) = tokio::sync::mpsc::channel(1);
    sender.send(batch(n)).await.unwrap();
    drop(sender);
    store.bulk_load(receiver, &|_| {}).await.unwrap();
    store.fill_missing_release_contents().await.unwrap();
}

fn request(key: &str, messages: Vec<i64>) -> NewRequest {
    NewRequest {
        company_id: 1,
        release_id: Some(1),
        requested_by: None,
        on_behalf_reason: None,
        idempotency_key: key.into(),
        daily_cap: 100_000,
        day_started_at: Utc::now() - chrono::Duration::hours(1),
        messages,
        incident: None,
    }
}

/// Runs one SQL statement on the database at `url`.
async fn execute(url: &str, sql: &str) -> Result<u64, sqlx::Error> {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await?;
        Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        Ok(sqlx::query(sql).execute(&mut conn).await?.rows_affected())
    }
}

/// One value from the database at `url`.
async fn scalar(url: &str, sql: &str) -> i64 {
    use sqlx::Connection;
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    }
}

#[tokio::test]
async fn the_database_refuses_items_that_must_never_be_sent() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 3).await;
        execute(&url, "INSERT INTO redelivery_requests (id, company_id, idempotency_key, status, created_at) VALUES (1, 1, 'k', 'pending', '2021-03-02T00:00:00+00:00')").await.unwrap();
        execute(&url, "INSERT INTO suppressions (company_id, address, reason, created_at) VALUES (1, 'READER3@media.test', 'hard_bounce', '2021-03-02T00:00:00+00:00')").await.unwrap();
        let item = |message: i64, generation: i64| {
            format!(
                "INSERT INTO redelivery_items (request_id, message_id, generation, status, next_attempt_at, updated_at) \
                 VALUES (1, {message}, {generation}, 'queued', '2021-03-02T00:00:00+00:00', '2021-03-02T00:00:00+00:00')"
            )
        };
        assert!(execute(&url, &item(4, 1)).await.is_err(), "{url}: a delivered message");
        assert!(execute(&url, &item(6, 1)).await.is_err(), "{url}: a queued message");
        assert!(execute(&url, &item(1, 2)).await.is_err(), "{url}: not the next generation");
        assert!(execute(&url, &item(3, 1)).await.is_err(), "{url}: a suppressed address (any case)");
        for class in ["mailbox_unknown", "domain_not_found"] {
            execute(
                &url,
                &format!("UPDATE messages SET status = 'bounced', error_class = '{class}' WHERE id = 2"),
            )
            .await
            .unwrap();
            assert!(
                execute(&url, &item(2, 1)).await.is_err(),
                "{url}: an address that does not exist ({class})"
            );
        }
        execute(&url, "UPDATE messages SET error_class = 'mailbox_full' WHERE id = 2").await.unwrap();
        assert_eq!(
            execute(&url, &item(2, 1)).await.unwrap(),
            1,
            "{url}: a bounce the address is not to blame for"
        );
        assert_eq!(execute(&url, &item(1, 1)).await.unwrap(), 1, "{url}");
        assert!(execute(&url, &item(1, 1)).await.is_err(), "{url}: once per generation");
    }
}

#[tokio::test]
async fn a_plan_says_why_each_message_is_skipped() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 4).await;
        execute(&url, "INSERT INTO suppressions (company_id, address, reason, created_at) VALUES (NULL, 'reader4@media.test', 'complaint', '2021-03-02T00:00:00+00:00')").await.unwrap();
        execute(
            &url,
            "UPDATE messages SET status = 'bounced', error_class = 'domain_not_found' WHERE id = 3",
        )
        .await
        .unwrap();
        let first = store.request_redelivery(&request("first", vec![1]), Utc::now()).await.unwrap();
        assert!(matches!(first, RequestOutcome::Created { items: 1, .. }), "{url}: {first:?}");
        let plan = store.plan_redelivery(1, Some(1), &[1, 2, 3, 4, 5, 6, 7, 999]).await.unwrap();
        assert_eq!(plan.messages, vec![2], "{url}");
        let skipped: Vec<(SkipReason, i64)> = plan.skipped.into_iter().collect();
        assert_eq!(
            skipped,
            [
                (SkipReason::Delivered, 1),
                (SkipReason::Queued, 1),
                (SkipReason::BeingRedelivered, 1),
                (SkipReason::Suppressed, 1),
                (SkipReason::AddressNotFound, 1),
                (SkipReason::OutcomeUnknown, 1),
            ],
            "{url}"
        );
        assert!(
            matches!(
                store.request_redelivery(&request("direct", vec![3]), Utc::now()).await.unwrap(),
                RequestOutcome::Empty
            ),
            "{url}: asked for without a plan, still not taken"
        );
        execute(&url, "DELETE FROM release_contents").await.unwrap();
        let gone = store.plan_redelivery(1, None, &[2, 3]).await.unwrap();
        assert_eq!(gone.skipped.get(&SkipReason::ContentUnavailable), Some(&1), "{url}");
        assert!(matches!(
            store.request_redelivery(&request("late", vec![2, 3]), Utc::now()).await.unwrap(),
            RequestOutcome::Empty
        ));
    }
}

#[tokio::test]
async fn fifty_identical_confirmations_at_once_make_one_request() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 200).await;
        let ids: Vec<i64> = (1..=200).collect();
        let attempts = (0..50).map(|_| {
            let (store, ids) = (store.clone(), ids.clone());
            tokio::spawn(async move {
                store.request_redelivery(&request("confirm-1", ids), Utc::now()).await.unwrap()
            })
        });
        let outcomes: Vec<RequestOutcome> = futures_join(attempts).await;
        let created: Vec<&RequestOutcome> =
            outcomes.iter().filter(|o| matches!(o, RequestOutcome::Created { .. })).collect();
        assert_eq!(created.len(), 1, "{url}: {outcomes:?}");
        let RequestOutcome::Created { id, items } = created[0] else { unreachable!() };
        assert_eq!(*items, 200);
        assert!(outcomes.iter().all(
            |o| matches!(o, RequestOutcome::Created { .. }) || *o == RequestOutcome::Existing { id: *id }
        ));
        assert_eq!(scalar(&url, "SELECT COUNT(*) FROM redelivery_requests").await, 1, "{url}");
        assert_eq!(scalar(&url, "SELECT COUNT(*) FROM redelivery_items").await, 200, "{url}");
        // Another key for the same messages finds them taken.
        assert_eq!(
            store.request_redelivery(&request("confirm-2", ids), Utc::now()).await.unwrap(),
            RequestOutcome::Empty
        );
    }
}

async fn futures_join<T: Send + 'static>(tasks: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for task in tasks.collect::<Vec<_>>() {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn the_daily_cap_refuses_a_request_beyond_it() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 10).await;
        let capped = |key: &str, ids: Vec<i64>| NewRequest { daily_cap: 6, ..request(key, ids) };
        assert!(matches!(
            store.request_redelivery(&capped("a", vec![1, 2, 3, 4]), Utc::now()).await.unwrap(),
            RequestOutcome::Created { items: 4, .. }
        ));
        let refused = store.request_redelivery(&capped("b", vec![5, 6, 7]), Utc::now()).await.unwrap();
        assert_eq!(refused, RequestOutcome::OverQuota { used: 4, cap: 6 }, "{url}");
        assert_eq!(
            scalar(&url, "SELECT COUNT(*) FROM redelivery_requests").await,
            1,
            "{url}: nothing half-made"
        );
        // Once a new day has begun, what was asked the day before no longer counts.
        let next_day = NewRequest { day_started_at: Utc::now(), ..capped("b", vec![5, 6, 7]) };
        let created = store.request_redelivery(&next_day, Utc::now()).await.unwrap();
        assert!(matches!(created, RequestOutcome::Created { items: 3, .. }), "{url}: {created:?}");
    }
}

fn quick() -> DispatchSettings {
    DispatchSettings {
        in_flight: 4,
        lease: Duration::from_secs(30),
        max_attempts: 3,
        first_retry: Duration::from_secs(3600),
        max_retry: Duration::from_secs(3600),
        idle_poll: Duration::from_millis(50),
    }
}

fn smtp(server: &SmtpServer) -> Mailer {
    Mailer::smtp(&server.url(), 2, Duration::from_secs(10)).unwrap()
}

#[tokio::test]
async fn the_dispatcher_records_each_smtp_answer_as_the_rules_say() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 4).await;
        let server = SmtpServer::start().await;
        server.answer("reader2@media.test", Answer::Defer);
        server.answer("reader3@media.test", Answer::Reject);
        server.answer("reader4@media.test", Answer::CutAfterData);
        let RequestOutcome::Created { id, .. } =
            store.request_redelivery(&request("k", vec![1, 2, 3, 4]), Utc::now()).await.unwrap()
        else {
            panic!("created")
        };
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let report = Dispatcher::new(store.clone(), smtp(&server), quick()).run(stopped, true).await.unwrap();
        assert_eq!((report.sent, report.deferred, report.failed, report.unknown), (1, 1, 1, 1), "{url}");

        let received = server.received();
        let first = received.iter().find(|r| r.recipient == "reader1@media.test").expect("reader1 got it");
        assert_eq!(first.message_id, "<redelivery.1.1@acme.test>", "a stable Message-ID");
        assert!(first.data.contains("Subject: Spring launch"));
        let status = |id: i64| format!("SELECT COUNT(*) FROM messages WHERE id = {id} AND ");
        assert_eq!(
            scalar(
                &url,
                &(status(1)
                    + "status = 'sent' AND generation = 1 AND error_class IS NULL AND smtp_code = 250")
            )
            .await,
            1,
            "{url}"
        );
        assert_eq!(
            scalar(&url, &(status(2) + "status = 'not_sent' AND generation = 0")).await,
            1,
            "{url}: deferred: unchanged for now"
        );
        assert_eq!(
            scalar(
                &url,
                &(status(3) + "status = 'failed' AND error_class = 'mailbox_unknown' AND smtp_code = 550")
            )
            .await,
            1,
            "{url}"
        );
        assert_eq!(scalar(&url, &(status(4) + "status = 'unknown' AND generation = 1")).await, 1, "{url}");
        assert_eq!(
            scalar(&url, "SELECT COUNT(*) FROM delivery_attempts WHERE outcome = 'in_flight'").await,
            0
        );
        assert_eq!(scalar(&url, "SELECT COUNT(*) FROM redelivery_items WHERE message_id = 2 AND status = 'deferred' AND attempts = 1").await, 1);
        let progress = store.request_progress(id).await.unwrap();
        assert_eq!(progress.status, "pending", "{url}: the deferred item keeps it open");
        assert_eq!(progress.by_status.get("sent"), Some(&1));
        // The release's totals follow: one redelivered.
        assert_eq!(store.release(1, 1).await.unwrap().unwrap().totals.redelivered, 1);

        // The deferred one is due again; the server now accepts it; the request completes.
        execute(
            &url,
            "UPDATE redelivery_items SET next_attempt_at = '2000-01-01T00:00:00+00:00' WHERE message_id = 2",
        )
        .await
        .unwrap();
        server.answer("reader2@media.test", Answer::Accept);
        let notices = NoticeSettings {
            from: "statusdesk <noreply@status.test>".parse().unwrap(),
            portal_url: "https://status.test".into(),
            site: None,
        };
        for _ in 0..2 {
            let (_stop, stopped) = tokio::sync::watch::channel(false);
            let dispatcher =
                Dispatcher::new(store.clone(), smtp(&server), quick()).with_notices(notices.clone());
            dispatcher.run(stopped, true).await.unwrap();
        }
        assert_eq!(store.request_progress(id).await.unwrap().status, "done", "{url}");
        // The company is told, once, in its language, with a link to the release.
        let told: Vec<_> = server.received().into_iter().filter(|r| r.recipient == "pr@acme.test").collect();
        assert_eq!(told.len(), 1, "{url}: one completion email");
        assert_eq!(told[0].message_id, format!("<redelivery-done.{id}@status.test>"));
        assert!(
            told[0].data.contains("multipart/alternative") && told[0].data.contains("text/html"),
            "{}",
            told[0].data
        );
        assert_eq!(
            scalar(&url, "SELECT COUNT(*) FROM delivery_attempts WHERE message_id = 2 AND generation = 1")
                .await,
            2
        );
    }
}

#[tokio::test]
async fn without_a_relay_messages_go_to_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let (url, store) = backends(dir.path()).await.remove(0);
    load(store.as_ref(), 2).await;
    store.request_redelivery(&request("k", vec![1, 2]), Utc::now()).await.unwrap();
    let outbox = dir.path().join("outbox");
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    let report = Dispatcher::new(store.clone(), Mailer::outbox(outbox.clone()).unwrap(), quick())
        .run(stopped, true)
        .await
        .unwrap();
    assert_eq!(report.sent, 2, "{url}");
    let eml = std::fs::read_to_string(outbox.join("1-g1.eml")).unwrap();
    assert!(
        eml.contains("Message-ID: <redelivery.1.1@acme.test>")
            && eml.contains("To: reader1@media.test")
            && eml.contains("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8"),
        "{eml}"
    );
    assert_eq!(std::fs::read_dir(&outbox).unwrap().count(), 2, "no temporary files left");
}

#[tokio::test]
async fn an_attempt_that_outlived_its_lease_changes_nothing_once_taken_back() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 2).await;
        store.request_redelivery(&request("k", vec![1, 2]), Utc::now()).await.unwrap();
        let now = Utc::now();
        // Message 1 is claimed under a lease that runs out at once, message 2 under a long one.
        let short =
            store.record_attempts(&[], 1, now, now + chrono::Duration::milliseconds(1)).await.unwrap();
        let long = store.record_attempts(&[], 1, now, now + chrono::Duration::hours(1)).await.unwrap();
        assert_eq!((short.started.len(), long.started.len()), (1, 1), "{url}");
        let later = now + chrono::Duration::seconds(1);
        assert_eq!(store.take_back_abandoned(later).await.unwrap(), 1, "{url}: the first is taken back");

        let sent = AttemptResult {
            outcome: AttemptOutcome::Sent,
            smtp_code: Some(250),
            enhanced_code: None,
            reply: Some("250 ok".into()),
            error_class: None,
        };
        let ended: Vec<_> =
            short.started.iter().chain(&long.started).map(|item| (item.clone(), sent.clone())).collect();
        let recorded = store.record_attempts(&ended, 0, later, later).await.unwrap();
        assert_eq!(recorded.lapsed, vec![short.started[0].item_id], "{url}");
        assert!(recorded.started.is_empty(), "{url}");
        let message = |id: i64, status: &str| {
            format!("SELECT COUNT(*) FROM messages m JOIN delivery_attempts a ON a.message_id = m.id AND a.generation = 1
                     WHERE m.id = {id} AND m.status = '{status}' AND a.outcome = '{status}'")
        };
        assert_eq!(scalar(&url, &message(1, "unknown")).await, 1, "{url}: the late outcome is not recorded");
        assert_eq!(scalar(&url, &message(2, "sent")).await, 1, "{url}: the one still held is");
    }
}

#[tokio::test]
async fn a_commit_of_three_outcomes_changes_each_message_once() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 3).await;
        store.request_redelivery(&request("k", vec![1, 2, 3]), Utc::now()).await.unwrap();
        let now = Utc::now();
        let claimed = store.record_attempts(&[], 3, now, now + chrono::Duration::hours(1)).await.unwrap();
        assert_eq!(claimed.started.len(), 3, "{url}");
        let result = |outcome, smtp_code| AttemptResult {
            outcome,
            smtp_code,
            enhanced_code: None,
            reply: Some(format!("{smtp_code:?}")),
            error_class: None,
        };
        // Three rows: the lists go to the database padded to four, the last row twice.
        let outcomes = [
            result(AttemptOutcome::Sent, Some(250)),
            result(AttemptOutcome::Failed, Some(550)),
            result(AttemptOutcome::Unknown, None),
        ];
        let mut started = claimed.started;
        started.sort_by_key(|item| item.message_id);
        let ended: Vec<_> = started.into_iter().zip(outcomes).collect();
        let recorded = store.record_attempts(&ended, 0, now, now).await.unwrap();
        assert!(recorded.lapsed.is_empty() && recorded.started.is_empty(), "{url}: {recorded:?}");
        assert_eq!(
            scalar(
                &url,
                "SELECT COUNT(*) FROM messages WHERE attempts = 2 AND generation = 1
                 AND status = CASE id WHEN 1 THEN 'sent' WHEN 2 THEN 'failed' ELSE 'unknown' END"
            )
            .await,
            3,
            "{url}: each message counted one attempt more, with its own outcome"
        );
        assert_eq!(
            scalar(
                &url,
                "SELECT COUNT(*) FROM delivery_attempts WHERE generation = 1 AND outcome <> 'in_flight'"
            )
            .await,
            3,
            "{url}"
        );
        let totals = store.release(1, 1).await.unwrap().unwrap().totals;
        // Besides the three: one message delivered, one unknown, one queued from the start.
        assert_eq!(
            (totals.redelivered, totals.failed, totals.unknown, totals.not_sent, totals.messages()),
            (1, 1, 2, 0, 6),
            "{url}: the release's totals count each message once: {totals:?}"
        );
    }
}

#[tokio::test]
async fn an_item_whose_content_is_gone_fails_unsent_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 2).await;
        store.request_redelivery(&request("k", vec![1, 2]), Utc::now()).await.unwrap();
        // The mail sender stops keeping the release's content after the request was made.
        execute(&url, "DELETE FROM release_contents").await.unwrap();
        let server = SmtpServer::start().await;
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let report = Dispatcher::new(store.clone(), smtp(&server), quick()).run(stopped, true).await.unwrap();
        assert_eq!((report.sent, report.failed), (0, 2), "{url}");
        assert!(server.received().is_empty(), "{url}: nothing went out");
        assert_eq!(
            scalar(
                &url,
                "SELECT COUNT(*) FROM delivery_attempts WHERE generation = 1 AND outcome = 'failed'
                 AND reply = 'not sent: the release''s content is no longer kept'"
            )
            .await,
            2,
            "{url}: the attempts say why"
        );
        assert_eq!(
            scalar(
                &url,
                "SELECT COUNT(*) FROM messages WHERE status = 'failed' AND error_class = 'sender_domain_unverified'"
            )
            .await,
            2,
            "{url}: the messages keep their error class"
        );
        assert_eq!(
            scalar(&url, "SELECT COUNT(*) FROM redelivery_requests WHERE status = 'done'").await,
            1,
            "{url}: the request is done"
        );
    }
}

/// How many times each redelivered message (by its Message-ID) arrived; the site's own emails
/// (the completion email, `<redelivery-done.…>`) are not counted.
fn arrivals(server: &SmtpServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for r in server.received().into_iter().filter(|r| r.message_id.starts_with("<redelivery.")) {
        *counts.entry(r.message_id).or_default() += 1;
    }
    counts
}

#[tokio::test]
async fn four_dispatchers_on_one_queue_never_send_an_item_twice() {
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        const N: i64 = 1_000;
        load(store.as_ref(), N).await;
        store.request_redelivery(&request("k", (1..=N).collect()), Utc::now()).await.unwrap();
        let server = Arc::new(SmtpServer::start().await);
        let mut dispatchers = Vec::new();
        for _ in 0..4 {
            // Each with its own connections, as separate processes would be.
            let own = store::connect(&url).await.unwrap();
            let mailer = smtp(&server);
            dispatchers.push(tokio::spawn(async move {
                let (_stop, stopped) = tokio::sync::watch::channel(false);
                Dispatcher::new(own, mailer, quick()).run(stopped, true).await.unwrap()
            }));
        }
        let mut sent = Vec::new();
        for d in dispatchers {
            sent.push(d.await.unwrap().sent);
        }
        assert_eq!(sent.iter().sum::<u64>(), N as u64, "{url}: {sent:?}");
        let counts = arrivals(&server);
        assert_eq!(counts.len(), N as usize, "{url}: every message arrived");
        assert!(counts.values().all(|&c| c == 1), "{url}: none twice");
        if url.starts_with("postgres") {
            assert!(sent.iter().filter(|&&s| s > 0).count() > 1, "the dispatchers shared the work: {sent:?}");
        }
    }
}

/// A small deterministic generator for the kill times.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

// Several threads: the SMTP server keeps answering while the test waits for a dispatcher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dispatchers_killed_at_random_lose_nothing_and_send_nothing_twice() {
    let Some(url) = common::postgres_database().await else { return };
    let store = store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let messages: i64 =
        std::env::var("STATUSDESK_CRASH_MESSAGES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000);
    let kills: usize =
        std::env::var("STATUSDESK_CRASH_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    load(store.as_ref(), messages).await;
    let RequestOutcome::Created { id, .. } =
        store.request_redelivery(&request("crash", (1..=messages).collect()), Utc::now()).await.unwrap()
    else {
        panic!("created")
    };
    let server = SmtpServer::start().await;
    // Some recipients defer, some reject, so that every kind of outcome is written while killed.
    for n in (5..=messages).step_by(97) {
        server.answer(&format!("reader{n}@media.test"), Answer::Reject);
    }
    let dispatch = |until_idle: bool| {
        let mut command = common::statusdesk();
        command.args(["dispatch", "--database-url", &url, "--smtp-url", &server.url(), "--lease", "1s"]);
        command.args(["--in-flight", &IN_FLIGHT.to_string()]);
        if until_idle {
            command.arg("--until-idle");
        }
        command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
        command
    };
    // A dispatcher keeps this many messages going at once: a kill may leave each unknown.
    const IN_FLIGHT: usize = 3;
    let mut random = SplitMix(20_210_301);
    for _ in 0..kills {
        let mut child = dispatch(false).spawn().unwrap();
        tokio::time::sleep(Duration::from_millis(30 + random.next() % 150)).await;
        child.kill().unwrap(); // SIGKILL: no chance to finish anything.
        child.wait().unwrap();
    }
    // Whatever the last one held is free once its lease runs out; then the queue drains.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let status = dispatch(true).status().unwrap();
    assert!(status.success());

    let count = |sql: &'static str| scalar(&url, sql);
    assert_eq!(count("SELECT COUNT(*) FROM redelivery_items").await, messages, "none lost");
    assert_eq!(
        count("SELECT COUNT(*) FROM redelivery_items WHERE status NOT IN ('sent', 'failed', 'unknown')")
            .await,
        0,
        "every item reached an end"
    );
    let unknown = count("SELECT COUNT(*) FROM redelivery_items WHERE status = 'unknown'").await;
    assert!(
        unknown as usize <= kills * IN_FLIGHT,
        "at most those in flight at each kill: {unknown} unknown after {kills} kills"
    );
    assert_eq!(count("SELECT COUNT(*) FROM delivery_attempts WHERE outcome = 'in_flight'").await, 0);
    let counts = arrivals(&server);
    let twice: Vec<_> = counts.iter().filter(|(_, c)| **c > 1).collect();
    assert!(twice.is_empty(), "duplicates at the SMTP server: {twice:?}");
    let sent = count("SELECT COUNT(*) FROM redelivery_items WHERE status = 'sent'").await;
    let rejected = count("SELECT COUNT(*) FROM redelivery_items WHERE status = 'failed'").await;
    assert_eq!(
        counts.len() as i64,
        sent + unknown_arrived(&counts, &url).await,
        "every sent item arrived once"
    );
    assert!(rejected > 0 && sent > messages / 2, "sent {sent}, failed {rejected}, unknown {unknown}");
    assert_eq!(store.request_progress(id).await.unwrap().status, "done");
    let told =
        server.received().into_iter().filter(|r| r.message_id.starts_with("<redelivery-done.")).count();
    assert_eq!(told, 1, "the company is told once that its request is done");
    eprintln!(
        "crash test: {kills} kills over {messages} messages: {sent} sent, {rejected} failed, {unknown} unknown, 0 duplicates"
    );
}

/// PostgreSQL cutting a dispatcher's connections in the middle of its statements (as a restart
/// or a failover does) does not stop it: it tries again and finishes the queue, each message
/// sent once and recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_rides_out_lost_database_connections() {
    let Some(url) = common::postgres_database().await else { return };
    let store = store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    // Enough messages that the cuts find statements under way on a busy machine too.
    const N: i64 = 1_000;
    load(store.as_ref(), N).await;
    store.request_redelivery(&request("cut", (1..=N).collect()), Utc::now()).await.unwrap();
    let server = SmtpServer::start().await;
    let dispatcher = tokio::spawn({
        let (store, mailer) = (Arc::clone(&store), smtp(&server));
        async move {
            let (_stop, stopped) = tokio::sync::watch::channel(false);
            Dispatcher::new(store, mailer, quick()).run(stopped, true).await
        }
    });
    // Only the dispatcher's connections ("statusdesk"), only while they run a statement.
    let cut_active = "SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                      WHERE datname = current_database() AND application_name = 'statusdesk'
                        AND state = 'active' AND pid <> pg_backend_pid()";
    let sent_so_far = || scalar(&url, "SELECT COUNT(*) FROM redelivery_items WHERE status = 'sent'");
    let (mut cuts, deadline) = (0, std::time::Instant::now() + Duration::from_secs(30));
    let working = |dispatcher: &tokio::task::JoinHandle<_>| {
        !dispatcher.is_finished() && std::time::Instant::now() < deadline
    };
    while cuts < 10 && working(&dispatcher) {
        let before = sent_so_far().await;
        let cut = scalar(&url, cut_active).await;
        cuts += cut;
        // The next cut once the dispatcher has recorded more: each is an outage of its own.
        while cut > 0 && sent_so_far().await == before && working(&dispatcher) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        if cut > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let report = dispatcher.await.unwrap().expect("the dispatcher carried on");
    assert!(cuts >= 3, "connections were cut while the dispatcher worked: {cuts}");

    let counts = arrivals(&server);
    assert!(counts.values().all(|&c| c == 1), "none twice: {counts:?}");
    let count = |sql: &'static str| scalar(&url, sql);
    let sent = count("SELECT COUNT(*) FROM redelivery_items WHERE status = 'sent'").await;
    assert_eq!(counts.len() as i64, sent, "every message that arrived is recorded as sent");
    assert_eq!(report.sent as i64, sent);
    // A cut that fell after a commit but before its answer leaves that commit's claims in flight
    // under their leases, never sent: they are taken back as unknown when the leases run out.
    let leased = count("SELECT COUNT(*) FROM redelivery_items WHERE status = 'sending'").await;
    assert_eq!(sent + leased, N, "each item sent or still under its lease: {sent} sent, {leased} leased");
    assert!(leased <= cuts * quick().in_flight as i64, "{leased} left under lease after {cuts} cuts");
    eprintln!("{cuts} connections cut: {sent} sent, {leased} left under lease, 0 duplicates");
}

/// How many of the items left unknown did arrive (the kill came after the server had them).
async fn unknown_arrived(counts: &HashMap<String, usize>, url: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let unknown: Vec<(i64, i32)> =
        sqlx::query_as("SELECT message_id, generation FROM redelivery_items WHERE status = 'unknown'")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    unknown.iter().filter(|(m, g)| counts.contains_key(&format!("<redelivery.{m}.{g}@acme.test>"))).count()
        as i64
}

/// A SQLite database in `dir` with five messages queued for redelivery in one request; its URL.
async fn five_queued_on_sqlite(dir: &std::path::Path) -> String {
    let url = format!("sqlite://{}/queue.db", dir.display());
    let store = store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    load(store.as_ref(), 5).await;
    store.request_redelivery(&request("k", (1..=5).collect()), Utc::now()).await.unwrap();
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sigterm_the_dispatcher_finishes_the_messages_in_flight_and_stops() {
    let dir = tempfile::tempdir().unwrap();
    let url = five_queued_on_sqlite(dir.path()).await;
    let server = SmtpServer::start().await;
    server.answer_everyone(Answer::SlowAccept);
    let mut child = common::statusdesk()
        .args(["dispatch", "--database-url", &url, "--smtp-url", &server.url()])
        .args(["--smtp-connections", "3", "--in-flight", "3"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until three messages' data is at the server, still unanswered: in flight.
    for _ in 0..100 {
        if server.started() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!((server.started(), server.received().len()), (3, 0), "three messages in flight");
    let status =
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
    assert!(exit.success(), "{exit:?}");
    assert_eq!(server.received().len(), 3, "the messages in flight were finished");
    assert_eq!(
        scalar(&url, "SELECT COUNT(*) FROM redelivery_items WHERE status = 'sent'").await,
        3,
        "and recorded"
    );
    assert_eq!(
        scalar(&url, "SELECT COUNT(*) FROM redelivery_items WHERE status = 'queued' AND lease_until IS NULL")
            .await,
        2,
        "the rest were never claimed"
    );
    assert_eq!(scalar(&url, "SELECT COUNT(*) FROM delivery_attempts WHERE outcome = 'in_flight'").await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_takes_its_database_and_mail_settings_from_the_configuration_file() {
    let dir = tempfile::tempdir().unwrap();
    let url = five_queued_on_sqlite(dir.path()).await;
    let server = SmtpServer::start().await;
    let config = dir.path().join("statusdesk.toml");
    std::fs::write(
        &config,
        format!(
            "database_url = \"{url}\"\nsmtp_url = \"{}\"\nsmtp_connections = 2\nin_flight = 2\n\
             mail_from = \"Acme Status <status@statusdesk.test>\"\npublic_url = \"https://status.example.test\"\n",
            server.url()
        ),
    )
    .unwrap();
    let output = common::statusdesk()
        .args(["dispatch", "--until-idle", "--config", config.to_str().unwrap()])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}");
    assert!(err.contains("dispatch: 5 sent"), "{err}");
    let received = server.received();
    let redelivered = received.iter().filter(|m| m.recipient.starts_with("reader")).count();
    assert_eq!(redelivered, 5, "through the relay the file names");
    let notice = received.iter().find(|m| m.recipient == "pr@acme.test").expect("the completion email");
    assert!(notice.data.contains("From: \"Acme Status\" <status@statusdesk.test>"), "{}", notice.data);
    assert!(notice.data.contains("https://status.example.test/portal"), "{}", notice.data);

    // A bad value in the file stops it before any work, naming the line.
    std::fs::write(&config, format!("database_url = \"{url}\"\nin_flight = 1000\n")).unwrap();
    let output = common::statusdesk()
        .args(["dispatch", "--until-idle", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(err.contains("statusdesk.toml:2: in_flight = 1000: between 1 and 256"), "{err}");
}

/// The dispatcher's commits run on connections of their own, opened at the first commit: a
/// database that refuses them then is named in a connection error, not a query error.
#[tokio::test]
async fn a_commit_that_cannot_connect_says_so() {
    let Some(url) = common::postgres_database().await else { return };
    let store = store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    // From the server's own database: one cannot bar connections to the database one is in.
    let (server, database) = (std::env::var("TEST_DATABASE_URL").unwrap(), url.rsplit('/').next().unwrap());
    execute(&server, &format!("ALTER DATABASE {database} ALLOW_CONNECTIONS false")).await.unwrap();
    let now = Utc::now();
    let refused = store.record_attempts(&[], 1, now, now).await;
    execute(&server, &format!("ALTER DATABASE {database} ALLOW_CONNECTIONS true")).await.unwrap();
    match refused {
        Err(e @ store::StoreError::Connect { .. }) => {
            assert!(e.to_string().starts_with(&format!("cannot connect to {}", store::redact(&url))), "{e}")
        }
        other => panic!("expected a connection error, got {other:?}"),
    }
}

/// An incident's figures count what it left undelivered: a message redelivered since still
/// counts, under the error class it first failed with, while the messages still undelivered (what
/// may be redelivered now) are only those left.
#[tokio::test]
async fn redelivered_messages_stay_in_the_incidents_figures() {
    use statusdesk::delivery::impact::{Buckets, ErrorClass, Scope};
    let dir = tempfile::tempdir().unwrap();
    for (url, store) in backends(dir.path()).await {
        load(store.as_ref(), 5).await;
        let t = Utc.with_ymd_and_hms(2021, 3, 1, 0, 0, 0).unwrap();
        let scope = Scope {
            error_class: Some(ErrorClass::SenderDomainUnverified),
            ..Scope::window(t, t + chrono::Duration::hours(2))
        };
        let figures = async || store.impact(&scope, &Buckets::default()).await.unwrap().messages;
        assert_eq!(figures().await, 5, "{url}");
        store.request_redelivery(&request("k", vec![1, 2, 3]), Utc::now()).await.unwrap();
        let outbox = dir.path().join(format!("outbox-{}", store.backend()));
        let (_stop, stopped) = tokio::sync::watch::channel(false);
        let report = Dispatcher::new(store.clone(), Mailer::outbox(outbox).unwrap(), quick())
            .run(stopped, true)
            .await
            .unwrap();
        assert_eq!(report.sent, 3, "{url}");
        assert_eq!(figures().await, 5, "{url}: the three sent since still count");
        let left: i64 = store.undelivered_by_release(&scope).await.unwrap().iter().map(|r| r.messages).sum();
        assert_eq!(left, 2, "{url}: two are left to redeliver");
        let other = Scope { error_class: Some(ErrorClass::MailboxUnknown), ..scope.clone() };
        assert_eq!(store.impact(&other, &Buckets::default()).await.unwrap().messages, 0, "{url}");
    }
}
