//! `/healthz` (the process answers) and `/readyz` (content loaded; whether the database is
//! reachable, as a field: the public site is ready without it).

use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::Serialize;

use super::AppState;

pub async fn healthz() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], "ok\n")
}

#[derive(Serialize)]
struct Readiness {
    ready: bool,
    content: ContentReadiness,
    database: DatabaseReadiness,
}

#[derive(Serialize)]
struct ContentReadiness {
    loaded: bool,
    notices: usize,
    errors: usize,
}

#[derive(Serialize)]
struct DatabaseReadiness {
    url: String,
    reachable: bool,
    error: Option<String>,
    checked_at: Option<String>,
}

pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let published = state.site.site();
    let db = state.database.state();
    let body = Readiness {
        ready: true,
        content: ContentReadiness {
            loaded: true,
            notices: published.site.notices,
            errors: published.site.errors,
        },
        database: DatabaseReadiness {
            url: state.database.url(),
            reachable: db.reachable,
            error: db.error,
            checked_at: db.checked_at.map(|t| t.to_rfc3339()),
        },
    };
    ([(header::CACHE_CONTROL, "no-store")], Json(body))
}
