//! The ceiling for the redelivery benchmark: a bare loop that builds the same messages the
//! dispatcher builds and sends them with lettre over the same kind of pooled connections, with
//! no database at all. Prints messages per second.
//!
//!   cargo run --release --example send_loop -- smtp://127.0.0.1:2525 100000 4
//!   (relay URL, messages, concurrent senders; the pool has as many connections)

use std::time::Instant;

use lettre::message::header::ContentType;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| "smtp://127.0.0.1:2525".into());
    let messages: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let senders: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(1);
    let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&url)
        .expect("a relay URL")
        .pool_config(PoolConfig::new().max_size(senders as u32))
        .build();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for sender in 0..senders {
        let transport = transport.clone();
        tasks.push(tokio::spawn(async move {
            let mut n = sender;
            while n < messages {
                let message = Message::builder()
                    .from("Acme PR <press@acme.bench>".parse().unwrap())
                    .to(format!("reader{n}@media.bench").parse().unwrap())
                    .subject("Spring launch")
                    .message_id(Some(format!("<redelivery.{n}.1@acme.bench>")))
                    .header(ContentType::TEXT_PLAIN)
                    .body("Spring launch\n\nThis release was sent by press@acme.bench.".to_string())
                    .unwrap();
                transport.send(message).await.expect("the sink accepts");
                n += senders;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let seconds = started.elapsed().as_secs_f64();
    println!("{messages} {seconds:.3} {:.0}", messages as f64 / seconds);
}
