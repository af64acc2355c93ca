//! The test harness: a [`TestApp`] drives the whole router in-process, over a copy of a content
//! folder, with its own database.
#![allow(dead_code)] // Each test binary uses its own part of the harness.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use statusdesk::http::{AppState, HttpOptions, router};
use statusdesk::public_site::live::LiveSite;
use statusdesk::store::DatabaseMonitor;
use tower::ServiceExt;

/// The fixture content folder shared by the public-site tests.
pub fn fixture_site() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/site")
}

/// Copies a folder tree, so that a test may change its copy.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A database URL nothing listens on: port 9 on loopback refuses at once.
pub const UNREACHABLE_DATABASE: &str = "postgres://statusdesk@127.0.0.1:9/statusdesk";

pub struct TestApp {
    pub router: Router,
    pub site: Arc<LiveSite>,
    pub database: Arc<DatabaseMonitor>,
    pub content: PathBuf,
    _dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }
}

impl TestApp {
    /// The app over a private copy of the fixture content, with a database URL that never
    /// answers (the public site must not care).
    pub fn new() -> TestApp {
        TestApp::with_options(&HttpOptions::default())
    }

    pub fn with_options(options: &HttpOptions) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        copy_dir(&fixture_site(), &content);
        let site = LiveSite::load(&content).expect("fixture content loads");
        let database = DatabaseMonitor::new(UNREACHABLE_DATABASE);
        let router = router(AppState::new(site.clone(), database.clone(), options), options);
        TestApp { router, site, database, content, _dir: dir }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(path, &[]).await
    }

    pub async fn request(&self, path: &str, headers: &[(&str, &str)]) -> TestResponse {
        let mut builder = Request::get(path);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        self.send(builder.body(Body::empty()).unwrap()).await
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        TestResponse { status, headers, body }
    }
}

/// A port on loopback that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The `statusdesk` binary under test.
pub fn statusdesk() -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_statusdesk"));
    command.env_remove("DATABASE_URL").env_remove("STATUSDESK_CONTENT").env("RUST_LOG", "warn");
    command
}

/// A `statusdesk serve` process, killed when dropped.
pub struct Server {
    pub child: std::process::Child,
    pub addr: String,
}

impl Server {
    /// Starts `serve` on a free port and waits (at most 30 s) until `/healthz` answers.
    pub fn start(content: &Path, database_url: &str) -> Server {
        Server::start_with(content, database_url, &["--no-dispatch"])
    }

    /// `serve --demo` over `database_url`: the demo data and logins are created first; its
    /// dispatcher writes redelivered messages into `outbox`.
    pub fn start_demo(content: &Path, database_url: &str, outbox: &Path) -> Server {
        let server =
            Server::start_with(content, database_url, &["--demo", "--outbox", outbox.to_str().unwrap()]);
        // The site answers before its database is connected; the portal needs the database.
        for _ in 0..300 {
            if server.get("/readyz").is_ok_and(|(_, body)| body.contains("\"reachable\":true")) {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the demo database did not connect");
    }

    /// Starts `serve` with `flags` and waits (at most 30 s) until `/healthz` answers.
    pub fn start_with(content: &Path, database_url: &str, flags: &[&str]) -> Server {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let child = statusdesk()
            .args(["serve", "--addr", &addr, "--content"])
            .arg(content)
            .args(["--database-url", database_url])
            .args(flags)
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("statusdesk starts");
        let server = Server { child, addr };
        for _ in 0..300 {
            if server.get("/healthz").is_ok_and(|(status, _)| status == 200) {
                return server;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("statusdesk serve did not answer on {}", server.addr);
    }

    /// A plain HTTP/1.1 GET: the status code and the body.
    pub fn get(&self, path: &str) -> std::io::Result<(u16, String)> {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.addr)?;
        write!(stream, "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr)?;
        let mut response = String::new();
        stream.read_to_string(&mut response)?;
        let status = response.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
        let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Ok((status, body))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database for one test, from `TEST_DATABASE_URL` (a server URL whose
/// user may create databases). `None` when it is not set, unless every test must run (then its
/// absence fails the test).
pub async fn postgres_database() -> Option<String> {
    use sqlx::Connection;
    let Ok(server) = std::env::var("TEST_DATABASE_URL") else {
        assert!(!must_run_everything(), "TEST_DATABASE_URL must be set where every test must run");
        eprintln!("TEST_DATABASE_URL is not set: the PostgreSQL half of this test did not run");
        return None;
    };
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let name = format!(
        "statusdesk_test_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos()
    );
    let mut conn = sqlx::PgConnection::connect(&server).await.expect("TEST_DATABASE_URL answers");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
    let base = server.rsplit_once('/').map_or(server.as_str(), |(base, _)| base);
    Some(format!("{base}/{name}"))
}

/// Whether every test must run (CI, `scripts/test`): then a missing browser or database fails
/// the test instead of skipping part of it.
pub fn must_run_everything() -> bool {
    std::env::var_os("CI").is_some() || std::env::var_os("STATUSDESK_FULL_TESTS").is_some()
}

pub mod portal;
pub mod smtp;
