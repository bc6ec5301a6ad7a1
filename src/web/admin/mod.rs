//! The newsroom admin at `/admin/`: sign-in, sessions, roles and the pages
//! editors work in. Every handler takes an [`Admin`] (signed in, or
//! redirected to the sign-in page), checks the role's capability on the
//! server, and checks the CSRF token of every form it accepts.

mod api_keys;
mod articles;
mod comments;
mod dashboard;
mod media;
mod notifications;
mod redirects;
pub mod session;
mod settings;
mod sign_in;
mod taxonomy;
pub mod throttle;
mod users;

use askama::Template;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use super::AppState;
use super::error::AppError;
pub use session::Admin;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| async { axum::response::Redirect::permanent("/admin/") }))
        .route("/admin/", get(dashboard::show))
        .route("/admin/articles", get(articles::list))
        .route("/admin/articles/new", get(articles::new_form).post(articles::create))
        .route("/admin/articles/{id}", get(articles::edit_form).post(articles::update))
        .route("/admin/articles/{id}/revisions", get(articles::revisions))
        .route("/admin/preview", post(articles::preview))
        .route("/admin/categories", get(taxonomy::show).post(taxonomy::change))
        .route("/admin/comments", get(comments::queue).post(comments::moderate))
        .route(
            "/admin/media",
            get(media::show).post(media::upload).layer(axum::extract::DefaultBodyLimit::max(media::MAX_UPLOAD)),
        )
        .route("/admin/media/{id}/delete", post(media::delete))
        .route("/admin/api-keys", get(api_keys::show).post(api_keys::change))
        .route("/admin/redirects", get(redirects::show))
        .route("/admin/settings", get(settings::show).post(settings::save))
        .route("/admin/sign-in", get(sign_in::form).post(sign_in::sign_in))
        .route("/admin/users", get(users::show).post(users::change))
        .route("/admin/sign-out", post(sign_in::sign_out))
        .route("/admin/password", get(sign_in::password_form).post(sign_in::change_password))
        .route("/admin/notifications", get(notifications::show).post(notifications::save))
        .route("/admin/{*rest}", axum::routing::any(not_found))
}

async fn not_found(_admin: Admin) -> Response {
    AppError::NotFound.into_response()
}

/// What every admin page shows around its content.
pub struct AdminChrome {
    pub site_name: String,
    pub title: String,
    pub stylesheet: String,
    pub favicon: String,
    pub script: String,
    pub user_name: String,
    pub role: String,
    pub csrf: String,
    pub pending: i64,
    /// Which navigation item is this page.
    pub current: &'static str,
    /// Whether to offer the moderation queue.
    pub moderates: bool,
    /// Whether the user may edit others' articles, and pages.
    pub edits_others: bool,
    /// Whether the user may change the site's settings.
    pub manages: bool,
    /// Whether an import left old addresses to list.
    pub has_redirects: bool,
}

impl AdminChrome {
    pub async fn new(state: &AppState, admin: &Admin, title: &str, current: &'static str) -> AdminChrome {
        let pending = state.store.pending_comments().await.unwrap_or_else(|err| {
            tracing::warn!(error = %err, "cannot count pending comments");
            0
        });
        let site_name = match crate::web::pages::SiteData::load(state, chrono::Utc::now()).await {
            Ok(site) => site.site_name.clone(),
            Err(_) => state.config.site_name.clone(),
        };
        AdminChrome {
            site_name,
            title: title.to_owned(),
            stylesheet: state.assets.path_of("style").to_owned(),
            favicon: state.assets.path_of("favicon").to_owned(),
            script: state.assets.path_of("admin").to_owned(),
            user_name: admin.user.display_name.clone(),
            role: admin.user.role.to_string(),
            csrf: admin.csrf_token.clone(),
            pending,
            current,
            moderates: admin.user.role.can(crate::domain::role::Capability::ModerateComments),
            edits_others: admin.user.role.can(crate::domain::role::Capability::EditOthers),
            manages: admin.user.role.can(crate::domain::role::Capability::ManageSettings),
            has_redirects: state.store.has_redirects().await.unwrap_or(false),
        }
    }
}

/// Applies this server's own change to its page cache at once. (Another
/// process's changes arrive by the write-ahead log's `stat` on SQLite, and by
/// the change feed's poll on PostgreSQL.)
pub async fn refresh(state: &AppState) {
    if let Err(err) = state.changes.pull(&state.cache, chrono::Utc::now().timestamp()).await {
        tracing::warn!(error = %err, "cannot apply the cache invalidation of an admin change");
    }
}

/// An admin form's fields as sent (form-encoded), read by name.
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// The fields of `body`; a body that does not read has none.
    pub fn parse(body: &[u8]) -> FormFields {
        FormFields(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value of `name`, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str()).trim().to_owned()
    }
}

/// Admin pages are for one user: never stored by a cache.
pub fn page(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "private, no-store")],
            html,
        )
            .into_response(),
        Err(err) => AppError::from(err).into_response(),
    }
}

#[derive(Template)]
#[template(path = "admin/message.html")]
struct MessagePage<'a> {
    title: &'a str,
    message: &'a str,
    stylesheet: &'a str,
}

/// A short page with a message, such as a refusal.
pub fn message(state: &AppState, status: StatusCode, title: &str, text: &str) -> Response {
    page(status, &MessagePage { title, message: text, stylesheet: state.assets.path_of("style") })
}
