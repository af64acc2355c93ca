//! How a redelivered message leaves: over SMTP to a relay (lettre, pooled connections,
//! STARTTLS or TLS as the URL says), or into an `.eml` file outbox for a site without a relay.
//! Each message carries a `Message-ID` derived from the message and its generation, so a copy
//! that arrives twice is recognisable as the same message.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::{self, ContentType};
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::Semaphore;

use crate::store::redelivery::{AttemptOutcome, AttemptResult, ClaimedItem, ReleaseContent};

/// Why the mailer cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum MailerError {
    #[error(
        "--smtp-url `{url}`: {reason}; write smtps://HOST:PORT, smtp://HOST:PORT?tls=required, smtp://HOST:PORT?tls=opportunistic or smtp://HOST:PORT"
    )]
    BadUrl { url: String, reason: String },
    #[error("{path}: cannot create the outbox folder: {source}")]
    Outbox { path: PathBuf, source: std::io::Error },
}

/// Where messages go.
pub enum Mailer {
    /// A relay over pooled connections. lettre's pool opens an extra connection whenever all are
    /// busy (and closes it afterwards), so `connections` keeps the sends within the pool.
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        connections: Semaphore,
    },
    Outbox(PathBuf),
}

/// The stable `Message-ID` of a message's redelivery generation.
fn message_id(item: &ClaimedItem, sender_address: &str) -> String {
    let domain = sender_address.rsplit_once('@').map_or("statusdesk.invalid", |(_, d)| d);
    format!("<redelivery.{}.{}@{domain}>", item.message_id, item.generation)
}

impl Mailer {
    /// An SMTP mailer for `url` with `connections` pooled connections; every SMTP conversation
    /// gives up after `timeout`.
    pub fn smtp(url: &str, connections: u32, timeout: Duration) -> Result<Mailer, MailerError> {
        let builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailerError::BadUrl { url: crate::store::redact(url), reason: e.to_string() })?;
        Ok(Mailer::Smtp {
            transport: builder
                .timeout(Some(timeout))
                .pool_config(PoolConfig::new().max_size(connections))
                .build(),
            connections: Semaphore::new(connections.max(1) as usize),
        })
    }

    /// A mailer that writes each message to `dir/<message>-g<generation>.eml`.
    pub fn outbox(dir: PathBuf) -> Result<Mailer, MailerError> {
        std::fs::create_dir_all(&dir).map_err(|source| MailerError::Outbox { path: dir.clone(), source })?;
        Ok(Mailer::Outbox(dir))
    }

    /// Opens a connection to the relay ahead of the first message (the outbox needs none).
    pub async fn connect(&self) -> Result<(), lettre::transport::smtp::Error> {
        match self {
            Mailer::Smtp { transport, .. } => transport.test_connection().await.map(drop),
            Mailer::Outbox(_) => Ok(()),
        }
    }

    /// Sends a message of the site's own (a notice to a company); `name` is its outbox file.
    pub async fn send_notice(&self, message: Message, name: &str) -> Result<(), String> {
        match self {
            Mailer::Smtp { transport, connections } => {
                send_within(transport, connections, message).await.map(drop).map_err(|e| e.to_string())
            }
            Mailer::Outbox(dir) => write_outbox(dir, name, &message).await.map_err(|e| e.to_string()),
        }
    }

    /// Sends one claimed item with its release's content and says how it went. `final_attempt`:
    /// a temporary failure now counts as failed. `retry_at` is when a deferred item is tried
    /// again.
    pub async fn send(
        &self,
        item: &ClaimedItem,
        content: &ReleaseContent,
        final_attempt: bool,
        retry_at: chrono::DateTime<chrono::Utc>,
    ) -> AttemptResult {
        let (Some(subject), Some(body)) = (&content.subject, &content.body_text) else {
            return AttemptResult {
                outcome: AttemptOutcome::Failed,
                smtp_code: None,
                enhanced_code: None,
                reply: Some("not sent: the release's content is no longer kept".into()),
                error_class: None,
            };
        };
        let message = match build(item, &content.sender_address, subject, body) {
            Ok(message) => message,
            Err(reason) => {
                return AttemptResult {
                    outcome: AttemptOutcome::Failed,
                    smtp_code: None,
                    enhanced_code: None,
                    reply: Some(reason),
                    error_class: Some("mailbox_unknown"),
                };
            }
        };
        match self {
            Mailer::Outbox(dir) => {
                let name = format!("{}-g{}.eml", item.message_id, item.generation);
                match write_outbox(dir, &name, &message).await {
                    Ok(()) => AttemptResult {
                        outcome: AttemptOutcome::Sent,
                        smtp_code: None,
                        enhanced_code: None,
                        reply: Some(format!("written to the outbox as {name}")),
                        error_class: None,
                    },
                    // Nothing left the machine: try again later.
                    Err(e) => AttemptResult {
                        outcome: AttemptOutcome::Deferred { retry_at },
                        smtp_code: None,
                        enhanced_code: None,
                        reply: Some(format!("cannot write to the outbox: {e}")),
                        error_class: None,
                    },
                }
            }
            Mailer::Smtp { transport, connections } => match send_within(transport, connections, message)
                .await
            {
                Ok(response) => AttemptResult {
                    outcome: AttemptOutcome::Sent,
                    smtp_code: Some(i32::from(u16::from(response.code()))),
                    enhanced_code: response.first_word().filter(|w| is_enhanced_code(w)).map(str::to_string),
                    reply: Some(format!(
                        "{} {}",
                        response.code(),
                        response.message().collect::<Vec<_>>().join(" ")
                    )),
                    error_class: None,
                },
                Err(e) => classify(&e, final_attempt, retry_at),
            },
        }
    }
}

/// Sends `message` once one of the pool's connections is free.
async fn send_within(
    transport: &AsyncSmtpTransport<Tokio1Executor>,
    connections: &Semaphore,
    message: Message,
) -> Result<lettre::transport::smtp::response::Response, lettre::transport::smtp::Error> {
    let _connection = connections.acquire().await.expect("the semaphore is never closed");
    let sent = transport.send(message).await;
    // lettre hands the connection back to its pool in a task of its own: let that run before
    // the next send may start, or it would find the pool empty and open another connection.
    tokio::task::yield_now().await;
    sent
}

fn build(item: &ClaimedItem, sender: &str, subject: &str, body: &str) -> Result<Message, String> {
    let from: Mailbox = sender.parse().map_err(|e| format!("sender {sender}: {e}"))?;
    let to: Mailbox = item.recipient.parse().map_err(|e| format!("recipient {}: {e}", item.recipient))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(subject)
        .message_id(Some(message_id(item, sender)))
        // A base64 body needs `MIME-Version` for readers to decode it (RFC 2045).
        .header(header::MIME_VERSION_1_0)
        .header(ContentType::TEXT_PLAIN)
        .body(body.to_string())
        .map_err(|e| e.to_string())
}

/// Writes `message` to `dir/name` whole: a temporary file first, renamed once complete.
async fn write_outbox(dir: &std::path::Path, name: &str, message: &Message) -> std::io::Result<()> {
    let (target, temporary) = (dir.join(name), dir.join(format!(".{name}.tmp")));
    tokio::fs::write(&temporary, message.formatted()).await?;
    tokio::fs::rename(&temporary, &target).await
}

/// `5.1.1`-style enhanced status codes (RFC 3463).
fn is_enhanced_code(word: &str) -> bool {
    let parts: Vec<&str> = word.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| !p.is_empty() && p.len() <= 3 && p.chars().all(|c| c.is_ascii_digit()))
}

/// A rejection's enhanced code, as the database classifies failures.
fn error_class(enhanced: Option<&str>) -> &'static str {
    match enhanced {
        Some(code) if code.ends_with(".1.1") => "mailbox_unknown",
        Some(code) if code.ends_with(".1.2") || code.ends_with(".4.4") => "domain_not_found",
        Some(code) if code.ends_with(".2.2") => "mailbox_full",
        _ => "rejected_as_spam",
    }
}

/// What an SMTP error means for the item: 4xx deferred (failed on the last attempt), 5xx failed,
/// no connection at all deferred, anything else — the conversation broke off, perhaps after the
/// message went out — unknown.
fn classify(
    error: &lettre::transport::smtp::Error,
    final_attempt: bool,
    retry_at: chrono::DateTime<chrono::Utc>,
) -> AttemptResult {
    let text = error.to_string();
    let enhanced = text.split_whitespace().find(|w| is_enhanced_code(w)).map(str::to_string);
    let smtp_code = error.status().map(|c| i32::from(u16::from(c)));
    let (outcome, error_class) = if error.is_permanent() {
        (AttemptOutcome::Failed, Some(error_class(enhanced.as_deref())))
    } else if error.is_transient() || text.starts_with("Connection error") {
        if final_attempt {
            (AttemptOutcome::Failed, Some("timeout"))
        } else {
            (AttemptOutcome::Deferred { retry_at }, None)
        }
    } else {
        (AttemptOutcome::Unknown, Some("connection_lost"))
    };
    AttemptResult { outcome, smtp_code, enhanced_code: enhanced, reply: Some(text), error_class }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enhanced_codes_are_recognised_and_classed() {
        assert!(is_enhanced_code("5.1.1") && is_enhanced_code("4.7.10"));
        assert!(!is_enhanced_code("550") && !is_enhanced_code("5.1") && !is_enhanced_code("a.b.c"));
        assert_eq!(error_class(Some("5.1.1")), "mailbox_unknown");
        assert_eq!(error_class(Some("5.2.2")), "mailbox_full");
        assert_eq!(error_class(Some("5.7.1")), "rejected_as_spam");
    }
}
