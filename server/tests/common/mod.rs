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
        let router = router(AppState { site: site.clone(), database: database.clone() }, options);
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
