//! The HTTP interface: one router per audience, merged here. The public site (pre-rendered
//! pages, feeds, JSON API) and the health endpoints need nothing but memory (`/metrics` asks the
//! database for the queue, and leaves it out when the database does not answer); the company
//! portal ([`portal`], with `/login` and `/logout`) has its own session layer, which never wraps
//! the public routes.

mod health;
mod login;
mod metrics;
mod pages;
mod portal;
mod public;
mod recipients_csv;
mod redelivery;
mod security;
pub mod session;
mod staff;
pub mod throttle;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

use crate::delivery::incidents::IncidentImpacts;
use crate::public_site::live::LiveSite;
use crate::store::DatabaseMonitor;
use session::SessionSettings;
use throttle::{LoginThrottle, ThrottleSettings};

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub site: Arc<LiveSite>,
    pub database: Arc<DatabaseMonitor>,
    pub sessions: SessionSettings,
    pub throttle: Arc<LoginThrottle>,
    /// Each published incident's figures, for the portal's banners.
    pub incidents: Arc<IncidentImpacts>,
    /// Messages a company may have redelivered per day.
    pub redelivery_daily_cap: i64,
    /// Held while the staff console changes the content folder: one change at a time.
    pub content_edits: Arc<tokio::sync::Mutex<()>>,
    /// The site's address as companies reach it, for links in the emails staff send.
    pub public_url: String,
    /// Requests counted for `/metrics`.
    pub metrics: Arc<metrics::HttpMetrics>,
}

impl AppState {
    pub fn new(site: Arc<LiveSite>, database: Arc<DatabaseMonitor>, options: &HttpOptions) -> AppState {
        AppState {
            site,
            database,
            sessions: SessionSettings { secure: options.hsts, ..options.sessions },
            throttle: Arc::new(LoginThrottle::new(options.throttle)),
            incidents: Arc::default(),
            redelivery_daily_cap: options.redelivery_daily_cap,
            content_edits: Arc::default(),
            public_url: options.public_url.clone(),
            metrics: Arc::default(),
        }
    }
}

/// Settings of the HTTP layer itself.
#[derive(Clone, Debug)]
pub struct HttpOptions {
    /// The site is reached over HTTPS: send `Strict-Transport-Security`, and mark the session
    /// cookies `Secure` with the `__Host-` prefix.
    pub hsts: bool,
    /// Session timeouts (`secure` follows `hsts`).
    pub sessions: SessionSettings,
    pub throttle: ThrottleSettings,
    /// Messages a company may have redelivered per day (from midnight in the site's zone).
    pub redelivery_daily_cap: i64,
    /// The site's address as companies reach it, for links in emails.
    pub public_url: String,
}

/// The daily redelivery cap unless configured: more than the reference incident's 2,310
/// messages for one company, far less than a runaway loop would send.
pub const DEFAULT_REDELIVERY_DAILY_CAP: i64 = 10_000;

impl Default for HttpOptions {
    fn default() -> Self {
        HttpOptions {
            hsts: false,
            sessions: SessionSettings::default(),
            throttle: ThrottleSettings::default(),
            redelivery_daily_cap: DEFAULT_REDELIVERY_DAILY_CAP,
            public_url: "http://127.0.0.1:3000".into(),
        }
    }
}

/// The whole application.
pub fn router(state: AppState, options: &HttpOptions) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics))
        .route("/login", get(login::show).post(login::submit))
        .merge(portal::router(state.clone()))
        .merge(staff::router(state.clone()))
        .fallback(public::serve)
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::record))
        .with_state(state)
        .layer(axum::middleware::map_response_with_state(
            security::Headers::new(options.hsts),
            security::add_headers,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Serves `router` until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

/// Completes at Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
