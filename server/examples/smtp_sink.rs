//! A minimal SMTP server for benchmarks: accepts every message on 127.0.0.1:PORT, answers 250,
//! and writes how many messages it accepted and over how many connections to standard output
//! when stopped (SIGTERM or
//! Ctrl-C). Used by `bench/redelivery.sh`; never for anything but loopback.
//!
//! It acknowledges every segment at once (`TCP_QUICKACK`): lettre 0.11 writes a message's
//! final `.` line separately with Nagle's algorithm on, and against a peer that delays its ACKs
//! (Linux: 40 ms) every message would wait that long. The benchmark measures the dispatcher,
//! not that stall; BENCHMARKS.md says what it means for a real relay.
//!
//!   cargo run --release --example smtp_sink -- 2525

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(2525);
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    let accepted = Arc::new(AtomicU64::new(0));
    let connections = Arc::new(AtomicU64::new(0));
    let (counter, opened) = (accepted.clone(), connections.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            opened.fetch_add(1, Ordering::Relaxed);
            let counter = counter.clone();
            tokio::spawn(async move {
                let _ = converse(stream, counter).await;
            });
        }
    });
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    println!("{} {}", accepted.load(Ordering::Relaxed), connections.load(Ordering::Relaxed));
    Ok(())
}

/// Acknowledge received segments at once, from now on (Linux resets it as it sees fit, so it is
/// set again after every read).
fn quick_ack(fd: i32) {
    let on: libc::c_int = 1;
    // SAFETY: a valid socket descriptor and a pointer to an int of the size given.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_QUICKACK,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        );
    }
}

async fn converse(stream: tokio::net::TcpStream, accepted: Arc<AtomicU64>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let fd = stream.as_raw_fd();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 sink ESMTP\r\n").await?;
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        quick_ack(fd);
        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-sink\r\n250 8BITMIME\r\n").await?,
            "DATA" => {
                write.write_all(b"354 go ahead\r\n").await?;
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    quick_ack(fd);
                    if line == ".\r\n" {
                        break;
                    }
                }
                accepted.fetch_add(1, Ordering::Relaxed);
                write.write_all(b"250 2.0.0 Ok: queued\r\n").await?
            }
            "QUIT" => {
                write.write_all(b"221 Bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"250 Ok\r\n").await?,
        }
    }
}
