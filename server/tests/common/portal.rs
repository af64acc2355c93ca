//! The portal's test harness: a [`PortalApp`] is the whole router over the fixture content and a
//! real database (SQLite, or PostgreSQL from `TEST_DATABASE_URL`) holding two companies'
//! releases, and a [`Browser`] keeps cookies between requests like a real one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Request, StatusCode};
use chrono::{DateTime, TimeZone, Utc};
use http_body_util::BodyExt;
use statusdesk::http::{AppState, HttpOptions, router};
use statusdesk::public_site::live::LiveSite;
use statusdesk::store::rows::{Batch, CompanyRow, MessageRow, NewUser, ReleaseRow};
use statusdesk::store::{self, DatabaseMonitor, Store};
use tower::ServiceExt;

use super::{TestResponse, copy_dir, fixture_site};

pub const PASSWORD: &str = "correct horse battery";
/// Company A ("acme"): 30 releases; release 1 has 250 recipients in every status.
pub const ACME_RELEASES: i64 = 30;
pub const BIG_RELEASE: i64 = 1;
pub const BIG_RELEASE_RECIPIENTS: usize = 250;
/// The release whose title and one address need quoting in CSV.
pub const AWKWARD_RELEASE: i64 = 2;
pub const AWKWARD_TITLE: &str = "Launch, \"Spring\" edition\nsecond line";
pub const AWKWARD_ADDRESS: &str = "\"smith, j\"@example.com";
/// Company B ("bravo"): releases 101 and 102.
pub const BRAVO_RELEASES: [i64; 2] = [101, 102];

/// The URLs of one database of each backend, fresh for one test.
pub async fn database_urls(dir: &std::path::Path) -> Vec<String> {
    let mut urls = vec![format!("sqlite://{}/portal.db", dir.display())];
    urls.extend(super::postgres_database().await);
    urls
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    chrono::FixedOffset::east_opt(9 * 3600)
        .unwrap()
        .with_ymd_and_hms(2021, 3, day, hour, 0, 0)
        .unwrap()
        .to_utc()
}

/// Two companies and their releases: acme's release 1 has 250 recipients of every status
/// (the incident's `not_sent` among them), release 2 needs CSV quoting, releases 3–30 are sent
/// a day apart going back; bravo has two releases of its own.
pub fn fixture_batch() -> Batch {
    let company = |id: i64, slug: &str, name: &str| CompanyRow {
        id,
        slug: slug.into(),
        name: name.into(),
        language: "ja",
        contact_email: format!("pr@{slug}.example"),
        created_at: at(1, 0),
    };
    let release = |id: i64, company_id: i64, title: String, sent_at: DateTime<Utc>| ReleaseRow {
        id,
        company_id,
        title,
        sender_address: "info@mail.example".into(),
        sender_is_default: true,
        recipient_source: "import_list",
        created_at: sent_at,
        sent_at,
    };
    let mut batch = Batch {
        companies: vec![company(1, "acme", "Acme 株式会社"), company(2, "bravo", "Bravo Inc.")],
        ..Batch::default()
    };
    for id in 1..=ACME_RELEASES {
        let title = match id {
            AWKWARD_RELEASE => AWKWARD_TITLE.to_string(),
            _ => format!("Acme release {id:02}"),
        };
        // Release 1 is the newest; each next one a day earlier (wrapping into February).
        let sent = at(1, 12) - chrono::Duration::days(id - 1);
        batch.releases.push(release(id, 1, title, sent));
    }
    for &id in &BRAVO_RELEASES {
        batch.releases.push(release(id, 2, format!("Bravo secret release {id}"), at(1, 11)));
    }
    let mut message_id = 0;
    let mut message = |company_id: i64, release_id: i64, recipient: String, status: &'static str| {
        message_id += 1;
        let (error_class, code, enhanced, reply) = match status {
            "sent" => (None, Some(250), Some("2.0.0"), "250 2.0.0 Ok: queued"),
            "not_sent" => (
                Some("sender_domain_unverified"),
                Some(554),
                Some("5.7.1"),
                "554 5.7.1 Sending domain is not verified",
            ),
            "bounced" => (Some("mailbox_unknown"), Some(550), Some("5.1.1"), "550 5.1.1 User unknown"),
            "deferred" => {
                (Some("mailbox_full"), Some(452), Some("4.2.2"), "=HYPERLINK(\"http://x\") 452 full")
            }
            "failed" => (Some("rejected_as_spam"), Some(554), Some("5.7.1"), "554 5.7.1 Rejected"),
            _ => (None, None, None, ""),
        };
        MessageRow {
            id: message_id,
            company_id,
            release_id,
            recipient,
            route: "cloud",
            status,
            error_class,
            smtp_code: code,
            enhanced_code: enhanced,
            smtp_reply: (!reply.is_empty()).then(|| reply.to_string()),
            attempts: 1,
            queued_at: at(1, 10),
            last_attempt_at: at(1, 10),
        }
    };
    const STATUSES: [&str; 10] =
        ["sent", "sent", "sent", "sent", "sent", "sent", "not_sent", "bounced", "deferred", "failed"];
    for n in 0..BIG_RELEASE_RECIPIENTS {
        let status = STATUSES[n % STATUSES.len()];
        batch.messages.push(message(1, BIG_RELEASE, format!("reader{n:03}@media.example"), status));
    }
    batch.messages.push(message(1, AWKWARD_RELEASE, AWKWARD_ADDRESS.into(), "sent"));
    batch.messages.push(message(1, AWKWARD_RELEASE, "desk@paper.example".into(), "not_sent"));
    for id in 3..=ACME_RELEASES {
        batch.messages.push(message(1, id, format!("desk{id}@paper.example"), "sent"));
    }
    for &id in &BRAVO_RELEASES {
        batch.messages.push(message(2, id, "secret@bravo-media.example".into(), "not_sent"));
    }
    batch
}

/// The users every portal test has.
pub const ACME_USER: &str = "pr@acme.example";
pub const ACME_COLLEAGUE: &str = "ceo@acme.example";
pub const BRAVO_USER: &str = "pr@bravo.example";
pub const STAFF_USER: &str = "support@statusdesk.example";

pub struct PortalApp {
    pub router: Router,
    pub store: Arc<dyn Store>,
    pub url: String,
    /// The site's content folder (a copy of the fixture site), and the site served from it.
    pub content: std::path::PathBuf,
    pub site: Arc<LiveSite>,
    _dir: tempfile::TempDir,
}

/// The router over `site` and the database at `url`, once its monitor has connected.
async fn serving(site: &Arc<LiveSite>, url: &str, options: &HttpOptions) -> Router {
    let database = DatabaseMonitor::new(url);
    tokio::spawn(database.clone().run());
    for _ in 0..100 {
        if database.store().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(database.store().is_some(), "the monitor connects to {url}");
    router(AppState::new(site.clone(), database, options), options)
}

impl PortalApp {
    /// The app over `url` (migrated, filled with [`fixture_batch`] and the four users).
    pub async fn start(url: &str, options: HttpOptions) -> PortalApp {
        let users = [
            (ACME_USER, Some("acme")),
            (ACME_COLLEAGUE, Some("acme")),
            (BRAVO_USER, Some("bravo")),
            (STAFF_USER, None),
        ];
        let users: Vec<(String, Option<String>)> =
            users.iter().map(|(email, company)| (email.to_string(), company.map(Into::into))).collect();
        PortalApp::start_with(url, options, fixture_batch(), &users).await
    }

    /// The app over `url` holding `batch` and `users` (address, company slug), every user with
    /// the password [`PASSWORD`].
    pub async fn start_with(
        url: &str,
        options: HttpOptions,
        batch: Batch,
        users: &[(String, Option<String>)],
    ) -> PortalApp {
        let dir = tempfile::tempdir().unwrap();
        let content = dir.path().join("content");
        copy_dir(&fixture_site(), &content);
        let site = LiveSite::serve(&content).expect("fixture content loads");
        let store = store::connect(url).await.unwrap();
        store.migrate().await.unwrap();
        let (sender, receiver) = tokio::sync::mpsc::channel(1);
        sender.send(batch).await.unwrap();
        drop(sender);
        store.bulk_load(receiver, &|_| {}).await.unwrap();
        store.fill_missing_release_contents().await.unwrap();
        let hash = statusdesk::accounts::hash_password(PASSWORD.into()).await;
        for (email, company) in users {
            let user = NewUser { company: company.clone(), email: email.clone(), name: String::new() };
            store.add_user(&user, &hash).await.unwrap();
        }
        let router = serving(&site, url, &options).await;
        PortalApp { router, store, url: url.to_string(), content, site, _dir: dir }
    }

    /// The same content and database served anew, as after a restart: what the site kept in
    /// memory (an incident's figures among it) is computed again. Browsers made before keep
    /// talking to the old one.
    pub async fn restart(&mut self, options: HttpOptions) {
        self.router = serving(&self.site, &self.url, &options).await;
    }

    pub fn browser(&self) -> Browser {
        Browser::new(self.router.clone(), "192.0.2.10:50000")
    }

    /// A browser with a session for `email` made directly in the database (no password check:
    /// for tests that are about what a logged-in user sees).
    pub async fn session_for(&self, email: &str) -> Browser {
        let user = self.store.user_by_email(email).await.unwrap().expect("the user exists");
        let token = statusdesk::http::session::new_token();
        let session = statusdesk::store::accounts::NewSession {
            token_hash: statusdesk::http::session::token_hash(&token),
            user_id: user.id,
            csrf_token: statusdesk::http::session::new_token(),
            at: Utc::now(),
        };
        self.store.create_session(&session).await.unwrap();
        let mut browser = self.browser();
        browser.cookies.insert("statusdesk-session".into(), token);
        browser
    }

    /// How many lines of the audit log have this action.
    pub async fn audited(&self, action: &str) -> usize {
        self.store
            .audit_log(&statusdesk::store::portal::AuditQuery::newest(10_000))
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == action)
            .count()
    }
}

/// A client with a cookie jar, talking to the router in-process from one client address.
pub struct Browser {
    router: Router,
    pub cookies: HashMap<String, String>,
    pub client: SocketAddr,
    /// Headers every request carries (e.g. `Accept-Language`).
    pub headers: Vec<(String, String)>,
}

impl Browser {
    pub fn new(router: Router, client: &str) -> Browser {
        Browser { router, cookies: HashMap::new(), client: client.parse().unwrap(), headers: Vec::new() }
    }

    fn cookie_header(&self) -> String {
        self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub async fn send(&mut self, mut request: Request<Body>) -> TestResponse {
        let headers = request.headers_mut();
        headers.insert("host", "portal.test".parse().unwrap());
        if !self.cookies.is_empty() && !headers.contains_key("cookie") {
            headers.insert("cookie", self.cookie_header().parse().unwrap());
        }
        for (name, value) in &self.headers {
            headers
                .insert(axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap(), value.parse().unwrap());
        }
        request.extensions_mut().insert(ConnectInfo(self.client));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        let body = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        TestResponse { status, headers, body }
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Request::get(path).body(Body::empty()).unwrap()).await
    }

    /// A POST of `fields` (urlencoded) with extra headers.
    pub async fn post(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(builder.body(Body::from(body)).unwrap()).await
    }

    /// Opens `/login` and submits it; returns the answer to the POST.
    pub async fn log_in_with_next(&mut self, email: &str, password: &str, next: &str) -> TestResponse {
        let form = self.get("/login").await;
        assert_eq!(form.status, StatusCode::OK);
        let csrf = hidden_field(&form.text(), "csrf");
        self.post(
            "/login",
            &[("email", email), ("password", password), ("csrf", &csrf), ("next", next)],
            &[("origin", "http://portal.test"), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    pub async fn log_in(&mut self, email: &str, password: &str) -> TestResponse {
        self.log_in_with_next(email, password, "").await
    }

    /// Logs in and checks that it worked.
    pub async fn logged_in(mut self, email: &str) -> Browser {
        let response = self.log_in(email, PASSWORD).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{email} logs in: {}", response.text());
        self
    }

    /// The session's CSRF token, from the logout form of a portal page.
    pub async fn csrf(&mut self) -> String {
        let page = self.get("/portal").await;
        hidden_field(&page.text(), "csrf")
    }

    pub fn session_cookie(&self) -> Option<&String> {
        self.cookies.get("statusdesk-session")
    }
}

/// The value of the first hidden input named `name`, as a browser would post it (its HTML
/// escapes undone).
pub fn hidden_field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no field {name} in {html}")) + marker.len();
    let escaped = html[start..].split('"').next().unwrap();
    escaped
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A response header, or "".
pub fn header<'r>(headers: &'r HeaderMap, name: &str) -> &'r str {
    headers.get(name).map_or("", |v| v.to_str().unwrap())
}
