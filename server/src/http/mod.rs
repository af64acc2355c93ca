//! The HTTP interface: one router per audience, merged here. Today that is the public site
//! (pre-rendered pages, feeds, JSON API) and the health endpoints; the portal and staff routers
//! join with their own session layers, which never wrap the public routes.

mod health;
mod public;
mod security;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

use crate::public_site::live::LiveSite;
use crate::store::DatabaseMonitor;

/// What every handler may use.
#[derive(Clone)]
pub struct AppState {
    pub site: Arc<LiveSite>,
    pub database: Arc<DatabaseMonitor>,
}

/// Settings of the HTTP layer itself.
#[derive(Clone, Debug, Default)]
pub struct HttpOptions {
    /// Send `Strict-Transport-Security`: set when the site is served over TLS.
    pub hsts: bool,
}

/// The whole application.
pub fn router(state: AppState, options: &HttpOptions) -> Router {
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .fallback(public::serve)
        .with_state(state)
        .layer(axum::middleware::map_response_with_state(
            security::Headers::new(options.hsts),
            security::add_headers,
        ))
        .layer(TraceLayer::new_for_http())
}

/// Serves `router` on `addr` until Ctrl-C or SIGTERM, then finishes the requests in flight.
pub async fn serve(listener: tokio::net::TcpListener, router: Router) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await
}

async fn shutdown_signal() {
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
