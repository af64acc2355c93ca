//! A real SMTP server on loopback for the tests: it speaks enough of RFC 5321 for lettre
//! (EHLO/HELO, MAIL, RCPT, DATA with dot-stuffing, RSET, NOOP, QUIT), records every message it
//! accepts, and answers each recipient as the test says: accept (250), defer (451), reject (550),
//! accept slowly, or cut the connection once the message's data has arrived, before answering.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// How the server answers a recipient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    Accept,
    Defer,
    Reject,
    /// Read the whole message, then close the connection without a reply.
    CutAfterData,
    /// Accept, but only a second after the message's data arrived.
    SlowAccept,
}

/// A message the server accepted.
#[derive(Clone, Debug)]
pub struct Received {
    pub recipient: String,
    pub message_id: String,
    pub data: String,
}

#[derive(Default)]
struct Rules {
    default: Option<Answer>,
    by_recipient: HashMap<String, Answer>,
}

pub struct SmtpServer {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    rules: Arc<Mutex<Rules>>,
    /// Messages whose data has fully arrived, answered or not yet.
    started: Arc<Mutex<usize>>,
}

impl SmtpServer {
    /// Starts listening on a free loopback port; every recipient is accepted unless told otherwise.
    pub async fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let rules = Arc::new(Mutex::new(Rules::default()));
        let started = Arc::new(Mutex::new(0));
        let (r, q, s) = (received.clone(), rules.clone(), started.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (r, q, s) = (r.clone(), q.clone(), s.clone());
                tokio::spawn(async move {
                    let _ = converse(stream, r, q, s).await;
                });
            }
        });
        SmtpServer { addr, received, rules, started }
    }

    /// The `--smtp-url` of this server.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn answer(&self, recipient: &str, answer: Answer) {
        self.rules.lock().unwrap().by_recipient.insert(recipient.to_lowercase(), answer);
    }

    pub fn answer_everyone(&self, answer: Answer) {
        self.rules.lock().unwrap().default = Some(answer);
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// How many messages' data has arrived so far (answered or not).
    pub fn started(&self) -> usize {
        *self.started.lock().unwrap()
    }
}

async fn converse(
    stream: tokio::net::TcpStream,
    received: Arc<Mutex<Vec<Received>>>,
    rules: Arc<Mutex<Rules>>,
    started: Arc<Mutex<usize>>,
) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    write.write_all(b"220 smtp.test ESMTP ready\r\n").await?;
    let mut recipients: Vec<(String, Answer)> = Vec::new();
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command.split_whitespace().next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => write.write_all(b"250-smtp.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n").await?,
            "HELO" => write.write_all(b"250 smtp.test\r\n").await?,
            "MAIL" => {
                recipients.clear();
                write.write_all(b"250 2.1.0 Ok\r\n").await?
            }
            "RCPT" => {
                let address = command
                    .split_once('<')
                    .and_then(|(_, rest)| rest.split_once('>'))
                    .map(|(a, _)| a.to_lowercase())
                    .unwrap_or_default();
                let answer = {
                    let rules = rules.lock().unwrap();
                    rules.by_recipient.get(&address).copied().or(rules.default).unwrap_or(Answer::Accept)
                };
                match answer {
                    Answer::Defer => write.write_all(b"451 4.3.0 Try again later\r\n").await?,
                    Answer::Reject => write.write_all(b"550 5.1.1 No such user here\r\n").await?,
                    Answer::Accept | Answer::CutAfterData | Answer::SlowAccept => {
                        recipients.push((address, answer));
                        write.write_all(b"250 2.1.5 Ok\r\n").await?
                    }
                }
            }
            "DATA" => {
                if recipients.is_empty() {
                    write.write_all(b"554 5.5.1 No valid recipients\r\n").await?;
                    continue;
                }
                write.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut line = String::new();
                    if lines.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                *started.lock().unwrap() += 1;
                let message_id = data
                    .lines()
                    .find_map(|l| l.strip_prefix("Message-ID:").or_else(|| l.strip_prefix("Message-Id:")))
                    .map(|v| v.trim().to_string())
                    .unwrap_or_default();
                if recipients.iter().any(|(_, a)| *a == Answer::CutAfterData) {
                    // Record what arrived, then hang up without a word.
                    for (recipient, _) in &recipients {
                        let copy = Received {
                            recipient: recipient.clone(),
                            message_id: message_id.clone(),
                            data: data.clone(),
                        };
                        received.lock().unwrap().push(copy);
                    }
                    return Ok(());
                }
                if recipients.iter().any(|(_, a)| *a == Answer::SlowAccept) {
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                for (recipient, _) in recipients.drain(..) {
                    let copy = Received { recipient, message_id: message_id.clone(), data: data.clone() };
                    received.lock().unwrap().push(copy);
                }
                write.write_all(b"250 2.0.0 Ok: queued\r\n").await?
            }
            "RSET" => {
                recipients.clear();
                write.write_all(b"250 2.0.0 Ok\r\n").await?
            }
            "NOOP" => write.write_all(b"250 2.0.0 Ok\r\n").await?,
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => write.write_all(b"502 5.5.2 Command not recognised\r\n").await?,
        }
    }
}
