//! The ceiling for the redelivery benchmark: the dispatcher's own sending path — the same
//! messages, built and sent by [`Mailer`] over the same number of pooled connections with as many
//! messages going at once — with no database at all. Prints messages, seconds, messages per
//! second.
//!
//!   cargo run --release --example send_loop -- smtp://127.0.0.1:2525 100000 4 16
//!   (relay URL, messages, connections, messages going at once)

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use statusdesk::dispatch::Mailer;
use statusdesk::store::redelivery::{AttemptOutcome, ClaimedItem, ReleaseContent};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "smtp://127.0.0.1:2525".into());
    let mut number = |default: i64| args.next().and_then(|n| n.parse().ok()).unwrap_or(default);
    let (messages, connections, in_flight) = (number(100_000), number(1), number(16));
    let mailer =
        Arc::new(Mailer::smtp(&url, connections as u32, Duration::from_secs(60)).expect("a relay URL"));
    let content = Arc::new(ReleaseContent {
        release_id: 1,
        sender_address: "press@acme.bench".into(),
        subject: Some("Spring launch".into()),
        body_text: Some("Spring launch\n\nThis release was sent by press@acme.bench.".into()),
    });
    let next = Arc::new(AtomicI64::new(1));
    let started = Instant::now();
    let mut senders = Vec::new();
    for _ in 0..in_flight {
        let (mailer, next, content) = (mailer.clone(), next.clone(), content.clone());
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n > messages {
                    break;
                }
                let result = mailer.send(&item(n), &content, false, chrono::Utc::now()).await;
                assert_eq!(result.outcome, AttemptOutcome::Sent, "the sink accepts: {result:?}");
            }
        }));
    }
    for sender in senders {
        sender.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{messages} {seconds:.3} {:.0}", messages as f64 / seconds);
}

/// Message `n` of the benchmark's release, as the dispatcher claims it.
fn item(n: i64) -> ClaimedItem {
    ClaimedItem {
        item_id: n,
        message_id: n,
        generation: 1,
        attempt: 1,
        lease_until: chrono::Utc::now(),
        recipient: format!("reader{n}@media.bench"),
        route: "cloud".into(),
        release_id: 1,
    }
}
