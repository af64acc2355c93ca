//! `/login` and `/logout`.
//!
//! The login form is protected from cross-site posting before any session exists: `GET /login`
//! sets a random token in a cookie and in the form, and `POST /login` needs both to match and
//! the request to come from this site. A failed login says the same words with the same status
//! for an unknown address, a wrong password and a disabled account, and takes as long (the
//! password is checked against a decoy hash when there is no user). A successful login always
//! starts a new session (a new id), ending the one the browser had.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use chrono::Utc;
use serde::Deserialize;
use statusdesk_app::model::{LoginNotice, LoginPage};
use statusdesk_app::portal;

use super::AppState;
use super::pages::{self, PortalPage};
use super::session::{Viewer, cookie, from_this_site, new_token, same_secret, token_hash};
use crate::accounts;
use crate::store::accounts::NewSession;

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    #[serde(default)]
    next: String,
    /// The session ended (idle or past its lifetime).
    #[serde(default)]
    ended: Option<String>,
    /// Just logged out.
    #[serde(default)]
    out: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Where to go after login: `next` when it is a path on this site, else the portal.
pub fn local_path(next: &str) -> Option<&str> {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    local.then_some(next)
}

/// The login form, with a fresh token in the form and its cookie.
fn form(state: &AppState, page: &PortalPage, status: StatusCode, login: LoginPage) -> Response {
    let settings = state.sessions;
    let title = page.lang.portal().login_title;
    let mut response =
        page.respond(status, portal::login_page(page.chrome(title, None, None), login.clone()));
    response
        .headers_mut()
        .append(header::SET_COOKIE, settings.cookie(settings.login_cookie_name(), &login.csrf));
    response
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
    Query(query): Query<LoginQuery>,
) -> Response {
    let page = PortalPage::new(&state, &headers, &uri);
    let notice = if query.ended.is_some() {
        Some(LoginNotice::SessionEnded)
    } else if query.out.is_some() {
        Some(LoginNotice::LoggedOut)
    } else {
        None
    };
    let next = local_path(&query.next).unwrap_or("").to_string();
    form(&state, &page, StatusCode::OK, LoginPage { notice, email: String::new(), csrf: new_token(), next })
}

pub async fn submit(State(state): State<AppState>, request: Request) -> Response {
    let headers = request.headers().clone();
    let page = PortalPage::new(&state, &headers, request.uri());
    let client = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let Ok(Form(login)) = Form::<LoginForm>::from_request(request, &()).await else {
        return pages::forbidden(&page);
    };
    let settings = state.sessions;
    let next = local_path(&login.next).unwrap_or("").to_string();
    let again = |status, notice| {
        let email = login.email.clone();
        form(
            &state,
            &page,
            status,
            LoginPage { notice: Some(notice), email, csrf: new_token(), next: next.clone() },
        )
    };
    let expected = cookie(&headers, settings.login_cookie_name()).unwrap_or("");
    if !from_this_site(&headers, settings.secure)
        || expected.is_empty()
        || !same_secret(&login.csrf, expected)
    {
        // Nothing is checked or changed; the form comes back with a fresh token to try again.
        tracing::warn!("refused a login form without its token or from another site");
        return again(StatusCode::FORBIDDEN, LoginNotice::FormExpired);
    }
    if login.email.trim().is_empty() || login.password.is_empty() {
        // Not an attempt: nothing is looked up, and the throttle does not count it.
        return again(StatusCode::UNPROCESSABLE_ENTITY, LoginNotice::Incomplete);
    }
    if let Err(wait) = state.throttle.check(&login.email, client) {
        let seconds = wait.as_secs().max(1);
        let mut response =
            again(StatusCode::TOO_MANY_REQUESTS, LoginNotice::Throttled { minutes: seconds.div_ceil(60) });
        response.headers_mut().insert(header::RETRY_AFTER, seconds.into());
        return response;
    }
    let Some(store) = state.database.store() else { return pages::unavailable(&page) };
    let user = match store.user_by_email(login.email.trim()).await {
        Ok(user) => user,
        Err(e) => {
            tracing::warn!(error = %e, "cannot look up a user");
            return pages::unavailable(&page);
        }
    };
    let active = user.filter(|u| u.disabled_at.is_none());
    let verified =
        accounts::verify_password(login.password.clone(), active.as_ref().map(|u| u.password_hash.clone()))
            .await;
    let Some(user) = active.filter(|_| verified) else {
        state.throttle.failed(&login.email, client);
        tracing::info!(client = ?client, "failed login");
        return again(StatusCode::OK, LoginNotice::Invalid);
    };
    state.throttle.succeeded(&login.email);

    // A new session every time: the id the browser had before (if any) is never reused.
    if let Some(old) = cookie(&headers, settings.cookie_name())
        && let Err(e) = store.delete_session(&token_hash(old)).await
    {
        tracing::warn!(error = %e, "cannot end the previous session");
    }
    let now = Utc::now();
    let idle = chrono::Duration::from_std(settings.idle).unwrap_or(chrono::Duration::MAX);
    let lifetime = chrono::Duration::from_std(settings.lifetime).unwrap_or(chrono::Duration::MAX);
    if let Err(e) = store.delete_expired_sessions(now - idle, now - lifetime).await {
        tracing::warn!(error = %e, "cannot delete expired sessions");
    }
    let token = new_token();
    let session =
        NewSession { token_hash: token_hash(&token), user_id: user.id, csrf_token: new_token(), at: now };
    if let Err(e) = store.create_session(&session).await {
        tracing::warn!(error = %e, "cannot create a session");
        return pages::unavailable(&page);
    }
    tracing::info!(user = %user.email, "logged in");
    // Staff start at the console, companies at their releases.
    let target = match (next.is_empty(), user.is_staff()) {
        (false, _) => next,
        (true, true) => "/staff/notices".to_string(),
        (true, false) => "/portal".to_string(),
    };
    let mut response = Redirect::to(&target).into_response();
    let cookies = response.headers_mut();
    cookies.append(header::SET_COOKIE, settings.cookie(settings.cookie_name(), &token));
    cookies.append(header::SET_COOKIE, settings.expired_cookie(settings.login_cookie_name()));
    cookies.insert(header::CACHE_CONTROL, "no-store".parse().expect("valid"));
    response
}

/// `POST /logout` (behind the session layer, so CSRF-checked): ends the session on the server.
pub async fn logout(State(state): State<AppState>, Extension(viewer): Extension<Viewer>) -> Response {
    if let Some(store) = state.database.store()
        && let Err(e) = store.delete_session(&viewer.token_hash).await
    {
        tracing::warn!(error = %e, "cannot delete the session at logout");
    }
    let settings = state.sessions;
    let mut response = Redirect::to("/login?out=1").into_response();
    response.headers_mut().insert(header::SET_COOKIE, settings.expired_cookie(settings.cookie_name()));
    response
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn next_only_accepts_local_paths() {
        assert_eq!(local_path("/portal/releases/3?status=failed"), Some("/portal/releases/3?status=failed"));
        for outside in
            ["https://evil.example/", "//evil.example/", "/\\evil.example", "evil", "", "/a b", "/\n"]
        {
            assert_eq!(local_path(outside), None, "{outside:?}");
        }
    }
}
