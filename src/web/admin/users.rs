//! Newsroom accounts (administrators): add one, change a role, give a new
//! one-time password. The same store functions as the `user` command.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::{Admin, AdminChrome, FormFields, page};
use crate::auth;
use crate::domain::role::{Capability, Role};
use crate::store::{StoreError, User};
use crate::web::AppState;
use crate::web::error::AppError;

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: AdminChrome,
    users: Vec<User>,
    roles: [Role; 4],
    me: i64,
    message: Option<String>,
    notice: Option<String>,
    /// A one-time password to hand over, shown once: (email, password).
    handover: Option<(String, String)>,
    new_email: String,
    new_name: String,
}

async fn users_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    message: Option<String>,
    notice: Option<String>,
    handover: Option<(String, String)>,
    kept: (String, String),
) -> Response {
    let users = match state.store.users().await {
        Ok(users) => users,
        Err(err) => return AppError::from(err).into_response(),
    };
    let template = UsersPage {
        chrome: AdminChrome::new(state, admin, "Users", "users").await,
        users,
        roles: Role::ALL,
        me: admin.user.id,
        message,
        notice,
        handover,
        new_email: kept.0,
        new_name: kept.1,
    };
    page(status, &template)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct UsersQuery {
    done: String,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<UsersQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = admin.require(Capability::ManageUsers) {
        return refused.page(&state);
    }
    let notice = (query.map(|Query(q)| q.done).unwrap_or_default() == "role").then(|| "Role changed.".to_owned());
    users_page(&state, &admin, StatusCode::OK, None, notice, None, Default::default()).await
}

/// A password of this shape, hashed on a blocking thread.
async fn new_password() -> Result<(String, String), Response> {
    let password = auth::generate_password();
    let plain = password.clone();
    match tokio::task::spawn_blocking(move || auth::hash_password(&plain)).await {
        Ok(Ok(hash)) => Ok((password, hash)),
        Ok(Err(err)) => Err(AppError::Internal(err).into_response()),
        Err(err) => Err(AppError::Internal(err.into()).into_response()),
    }
}

pub async fn change(State(state): State<AppState>, admin: Admin, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormFields::parse(&body);
    let field = |name: &str| form.get(name);
    if let Err(refused) = admin.check_form(&state, &headers, &field("csrf")) {
        return refused.page(&state);
    }
    if let Err(refused) = admin.require(Capability::ManageUsers) {
        return refused.page(&state);
    }
    let action = field("do");
    let refuse = |message: String, kept: (String, String)| {
        users_page(&state, &admin, StatusCode::UNPROCESSABLE_ENTITY, Some(message), None, None, kept)
    };
    if action == "add" {
        let (email, name) = (field("email"), field("name"));
        let valid = email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !email.chars().any(char::is_whitespace)
        });
        let Some(role) = Role::parse(&field("role")) else {
            return refuse("Choose a role.".into(), (email, name)).await;
        };
        if !valid {
            return refuse(format!("“{email}” is not an email address."), (email, name)).await;
        }
        if name.is_empty() || name.chars().count() > 100 {
            return refuse("Give the person's name (at most 100 characters).".into(), (email, name)).await;
        }
        let (password, hash) = match new_password().await {
            Ok(made) => made,
            Err(response) => return response,
        };
        return match state.store.create_user(&email, &name, role.as_str(), &hash, true, Utc::now().timestamp()).await {
            Ok(id) => {
                tracing::info!(user.id = admin.user.id, added = id, role = %role, "user added");
                let notice = format!("{name} can now sign in as {role}.");
                let handover = Some((email, password));
                users_page(&state, &admin, StatusCode::OK, None, Some(notice), handover, Default::default()).await
            }
            Err(StoreError::Rejected(message)) => {
                refuse(format!("{}{}.", message[..1].to_uppercase(), &message[1..]), (email, name)).await
            }
            Err(err) => AppError::from(err).into_response(),
        };
    }
    if let Some(id) = action.strip_prefix("role:").and_then(|id| id.parse::<i64>().ok()) {
        let Some(role) = Role::parse(&field(&format!("role-{id}"))) else {
            return refuse("Choose a role.".into(), Default::default()).await;
        };
        return match state.store.set_role(&id.to_string(), role).await {
            Ok(user) => {
                tracing::info!(user.id = admin.user.id, changed = user.id, role = %role, "role changed");
                Redirect::to("/admin/users?done=role").into_response()
            }
            Err(StoreError::Rejected(message)) => {
                refuse(format!("{}{}.", message[..1].to_uppercase(), &message[1..]), Default::default()).await
            }
            Err(StoreError::NotFound) => refuse("That account no longer exists.".into(), Default::default()).await,
            Err(err) => AppError::from(err).into_response(),
        };
    }
    if let Some(id) = action.strip_prefix("reset:").and_then(|id| id.parse::<i64>().ok()) {
        if id == admin.user.id {
            return refuse("Change your own password on the password page.".into(), Default::default()).await;
        }
        let user = match state.store.find_user(&id.to_string()).await {
            Ok(user) => user,
            Err(StoreError::NotFound) => {
                return refuse("That account no longer exists.".into(), Default::default()).await;
            }
            Err(err) => return AppError::from(err).into_response(),
        };
        let (password, hash) = match new_password().await {
            Ok(made) => made,
            Err(response) => return response,
        };
        if let Err(err) = state.store.set_password(user.id, &hash, true, None).await {
            return AppError::from(err).into_response();
        }
        tracing::info!(user.id = admin.user.id, reset = user.id, "one-time password issued");
        let notice = format!("{} has a new one-time password; their sessions were ended.", user.display_name);
        let handover = Some((user.email, password));
        return users_page(&state, &admin, StatusCode::OK, None, Some(notice), handover, Default::default()).await;
    }
    refuse("Choose what to do: add, change a role or reset a password.".into(), Default::default()).await
}
