//! Signing in and out, and changing one's password.

use std::net::SocketAddr;
use std::sync::OnceLock;

use askama::Template;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;

use super::session::{self, Admin, SESSION_COOKIE, SESSION_IDLE};
use super::throttle::{self, Verdict};
use super::{AdminChrome, page};
use crate::auth;
use crate::store::StoreError;
use crate::web::AppState;
use crate::web::client_ip::client_ip;
use crate::web::error::AppError;

/// The shortest password the newsroom may choose.
pub const MIN_PASSWORD: usize = 12;

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage<'a> {
    site_name: &'a str,
    stylesheet: &'a str,
    favicon: &'a str,
    token: String,
    next: &'a str,
    email: &'a str,
    message: Option<String>,
    notice: Option<&'a str>,
}

#[derive(serde::Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
    #[serde(default, rename = "signed-out")]
    signed_out: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SignInForm {
    token: String,
    next: String,
    email: String,
    password: String,
}

async fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    message: Option<String>,
) -> Response {
    sign_in_page_with(state, status, next, email, message, None).await
}

async fn sign_in_page_with(
    state: &AppState,
    status: StatusCode,
    next: &str,
    email: &str,
    message: Option<String>,
    notice: Option<&str>,
) -> Response {
    let site_name = match crate::web::pages::SiteData::load(state, Utc::now()).await {
        Ok(site) => site.site_name.clone(),
        Err(_) => state.config.site_name.clone(),
    };
    let template = SignInPage {
        site_name: &site_name,
        stylesheet: state.assets.path_of("style"),
        favicon: state.assets.path_of("favicon"),
        token: state.signer.sign_in_token(Utc::now().timestamp()),
        next: safe_next(next),
        email,
        message,
        notice,
    };
    page(status, &template)
}

/// Where to go after signing in: an admin address, never another site.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with("/admin/") && !next.contains("//") && !next.contains('\\') && !next.contains("..");
    if local { next } else { "/admin/" }
}

pub async fn form(
    State(state): State<AppState>,
    query: Result<Query<SignInQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let notice = query.signed_out.is_some().then_some("You have signed out.");
    sign_in_page_with(&state, StatusCode::OK, &query.next, "", None, notice).await
}

/// A hash to check passwords of unknown accounts against, so that a wrong
/// email address takes as long as a wrong password.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| auth::hash_password(&auth::generate_password()).unwrap_or_default())
}

/// Argon2id on a blocking thread: it is meant to be slow.
async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash)).await.unwrap_or(false)
}

pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<SignInForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return AppError::BadRequest("the sign-in form could not be read; please send it again").into_response();
    };
    let now = Utc::now().timestamp();
    if crate::web::comments::cross_site(&headers, &state.config.base_url).is_some()
        || !state.signer.check_sign_in_token(&form.token, now)
    {
        let message = "This sign-in form has expired or did not come from this site. Please sign in again.";
        return sign_in_page(&state, StatusCode::FORBIDDEN, &form.next, &form.email, Some(message.into())).await;
    }
    let email = form.email.trim();
    if email.is_empty() || form.password.is_empty() {
        let message = "Please give your email address and your password.";
        return sign_in_page(&state, StatusCode::UNPROCESSABLE_ENTITY, &form.next, email, Some(message.into())).await;
    }
    let ip = client_ip(peer.ip(), &headers, &state.config.trusted_proxies).to_string();
    let failures = match state.store.sign_in_failures(email, &ip, now - throttle::WINDOW).await {
        Ok(failures) => failures,
        Err(err) => return AppError::from(err).into_response(),
    };
    match throttle::verdict(&failures, now) {
        Verdict::Wait(wait) => {
            tracing::warn!(
                ip = %ip,
                account_failures = failures.account,
                address_failures = failures.address,
                retry_after = wait,
                "sign-in refused for now: repeated failures from this address"
            );
            let message = if wait < 60 {
                format!("Too many failed sign-ins from your address. Try again in {wait} seconds.")
            } else {
                let minutes = (wait + 59) / 60;
                format!(
                    "Too many failed sign-ins from your address. Try again in {minutes} minute{}.",
                    if minutes == 1 { "" } else { "s" }
                )
            };
            let mut response =
                sign_in_page(&state, StatusCode::TOO_MANY_REQUESTS, &form.next, email, Some(message)).await;
            if let Ok(value) = wait.to_string().parse() {
                response.headers_mut().insert(axum::http::header::RETRY_AFTER, value);
            }
            return response;
        }
        Verdict::Check { slowdown } => {
            if !slowdown.is_zero() {
                tracing::warn!(ip = %ip, account_failures = failures.account, "sign-in slowed: the account is under attack");
                tokio::time::sleep(slowdown).await;
            }
        }
    }
    let found = match state.store.user_for_sign_in(email).await {
        Ok(found) => Some(found),
        Err(StoreError::NotFound) => None,
        Err(err) => return AppError::from(err).into_response(),
    };
    let hash = found.as_ref().map_or_else(|| decoy_hash().to_owned(), |(_, hash)| hash.clone());
    let matches = verify(form.password.clone(), hash).await;
    let user = match found {
        Some((user, _)) if matches => user,
        _ => {
            // Dated when it failed, after the check (which an attack slows down), so
            // that the delay it earns runs from the answer the attacker sees.
            if let Err(err) = state.store.record_sign_in_failure(email, &ip, Utc::now().timestamp()).await {
                return AppError::from(err).into_response();
            }
            tracing::info!(ip = %ip, account_failures = failures.account + 1, "failed sign-in");
            let message = "The email address or password is not right. Please try again.";
            return sign_in_page(&state, StatusCode::OK, &form.next, email, Some(message.into())).await;
        }
    };
    // A new session every time: a token planted before sign-in is never promoted.
    if let Some(old) = jar.get(SESSION_COOKIE)
        && let Err(err) = state.store.delete_session(&session::hash_token(old.value())).await
    {
        tracing::warn!(error = %err, "cannot end the previous session");
    }
    let (token, token_hash) = session::new_token();
    let (csrf, _) = session::new_token();
    if let Err(err) = state.store.create_session(&token_hash, user.id, &csrf, now, now + SESSION_IDLE).await {
        return AppError::from(err).into_response();
    }
    if let Err(err) = state.store.clear_sign_in_failures(email, &ip).await {
        tracing::warn!(error = %err, "cannot clear failed sign-ins");
    }
    tracing::info!(user.id = user.id, role = %user.role, "signed in");
    let secure = state.config.base_url.starts_with("https://");
    let jar = jar.add(session::session_cookie(token, secure));
    let to = if user.must_change_password { "/admin/password" } else { safe_next(&form.next) };
    (jar, Redirect::to(to)).into_response()
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn sign_out(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<CsrfForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let form = form.map(|Form(form)| form).unwrap_or_default();
    if let Err(refused) = admin.check_form(&state, &headers, &form.csrf) {
        return refused.page(&state);
    }
    if let Err(err) = state.store.delete_session(admin.token_hash()).await {
        return AppError::from(err).into_response();
    }
    tracing::info!(user.id = admin.user.id, "signed out");
    (jar.remove(session::removal_cookie()), Redirect::to("/admin/sign-in?signed-out=1")).into_response()
}

#[derive(Template)]
#[template(path = "admin/password.html")]
struct PasswordPage {
    chrome: AdminChrome,
    must_change: bool,
    message: Option<String>,
    done: bool,
}

async fn password_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    message: Option<String>,
    done: bool,
) -> Response {
    let chrome = AdminChrome::new(state, admin, "Change password", "password").await;
    page(status, &PasswordPage { chrome, must_change: admin.user.must_change_password, message, done })
}

pub async fn password_form(State(state): State<AppState>, admin: Admin) -> Response {
    password_page(&state, &admin, StatusCode::OK, None, false).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return AppError::BadRequest("the form could not be read; please send it again").into_response();
    };
    if let Err(refused) = admin.check_form(&state, &headers, &form.csrf) {
        return refused.page(&state);
    }
    let refuse =
        |message: &str| password_page(&state, &admin, StatusCode::UNPROCESSABLE_ENTITY, Some(message.into()), false);
    if form.new.chars().count() < MIN_PASSWORD {
        return refuse(&format!("The new password must have at least {MIN_PASSWORD} characters.")).await;
    }
    if form.new != form.repeat {
        return refuse("The two new passwords are not the same.").await;
    }
    if form.new == form.current {
        return refuse("The new password must differ from the current one.").await;
    }
    let hash = match state.store.password_hash(admin.user.id).await {
        Ok(hash) => hash,
        Err(err) => return AppError::from(err).into_response(),
    };
    if !verify(form.current.clone(), hash).await {
        return refuse("The current password is not right.").await;
    }
    let new_hash = match tokio::task::spawn_blocking(move || auth::hash_password(&form.new)).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(err)) => return AppError::Internal(err).into_response(),
        Err(err) => return AppError::Internal(err.into()).into_response(),
    };
    if let Err(err) = state.store.set_password(admin.user.id, &new_hash, false, Some(admin.token_hash())).await {
        return AppError::from(err).into_response();
    }
    tracing::info!(user.id = admin.user.id, "password changed");
    let mut admin = admin;
    admin.user.must_change_password = false;
    password_page(&state, &admin, StatusCode::OK, None, true).await
}
