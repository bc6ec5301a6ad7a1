//! `/admin/notifications`: what each member of staff is told by mail.
//! Moderators choose whether they hear of each held or caught comment, of
//! them all in a daily digest, or not at all;
//! everyone whether they hear of comments published on their articles.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::Admin;
use super::{AdminChrome, page};
use crate::domain::role::Capability;
use crate::store::ModerationNotice;
use crate::web::AppState;
use crate::web::error::AppError;

#[derive(Template)]
#[template(path = "admin/notifications.html")]
struct NotificationsPage {
    chrome: AdminChrome,
    email: String,
    moderates: bool,
    each: bool,
    digest: bool,
    comments: bool,
    saved: bool,
}

async fn show_page(state: &AppState, admin: &Admin, status: StatusCode, saved: bool) -> Response {
    let (moderation, comments) = match state.store.notification_choices(admin.user.id).await {
        Ok(choices) => choices,
        Err(err) => return AppError::from(err).into_response(),
    };
    let chrome = AdminChrome::new(state, admin, "Notifications", "notifications").await;
    page(
        status,
        &NotificationsPage {
            chrome,
            email: admin.user.email.clone(),
            moderates: admin.user.role.can(Capability::ModerateComments),
            each: moderation == ModerationNotice::Each,
            digest: moderation == ModerationNotice::Digest,
            comments,
            saved,
        },
    )
}

pub async fn show(State(state): State<AppState>, admin: Admin) -> Response {
    show_page(&state, &admin, StatusCode::OK, false).await
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct ChoicesForm {
    csrf: String,
    /// Absent for staff who do not moderate: their choice stays as it is.
    moderation: Option<String>,
    /// "1" when ticked.
    comments: Option<String>,
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    form: Result<Form<ChoicesForm>, axum::extract::rejection::FormRejection>,
) -> Response {
    let Ok(Form(form)) = form else {
        return AppError::BadRequest("the form could not be read; please send it again").into_response();
    };
    if let Err(refused) = admin.check_form(&state, &headers, &form.csrf) {
        return refused.page(&state);
    }
    let (current, _) = match state.store.notification_choices(admin.user.id).await {
        Ok(choices) => choices,
        Err(err) => return AppError::from(err).into_response(),
    };
    let moderation = match form.moderation.as_deref() {
        None => current,
        Some("each") => ModerationNotice::Each,
        Some("digest") => ModerationNotice::Digest,
        Some("none") => ModerationNotice::None,
        Some(_) => {
            return AppError::BadRequest("choose whether to hear of each comment that waits for moderation")
                .into_response();
        }
    };
    let comments = form.comments.is_some();
    if let Err(err) =
        state.store.set_notification_choices(admin.user.id, moderation, comments, chrono::Utc::now().timestamp()).await
    {
        return AppError::from(err).into_response();
    }
    tracing::info!(user.id = admin.user.id, moderation = moderation.as_str(), comments, "notification choices saved");
    show_page(&state, &admin, StatusCode::OK, true).await
}
