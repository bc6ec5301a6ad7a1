//! The sites that use this server's spam filter through the Akismet API (a
//! WordPress site with Akismet's plugin, say): each key's site and traffic
//! (checks, spam, ham, corrections and the lessons its filter learnt from
//! them), a form to make a key, and a button to revoke one. The same store
//! functions as the `apikey` command.

use askama::Template;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::{Admin, AdminChrome, FormFields, page};
use crate::domain::role::Capability;
use crate::store::{ApiTraffic, StoreError};
use crate::web::AppState;
use crate::web::error::AppError;

struct Row {
    id: i64,
    site_url: String,
    label: String,
    /// The key's first characters: enough to tell keys apart, not to use one.
    shown: String,
    created: String,
    revoked: bool,
    traffic: ApiTraffic,
    lessons: i64,
}

#[derive(Template)]
#[template(path = "admin/api_keys.html")]
struct KeysPage {
    chrome: AdminChrome,
    rows: Vec<Row>,
    message: Option<String>,
    notice: Option<String>,
    /// A new key, shown once: (site, key).
    handover: Option<(String, String)>,
    new_site: String,
    new_label: String,
}

async fn keys_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    message: Option<String>,
    notice: Option<String>,
    handover: Option<(String, String)>,
    kept: (String, String),
) -> Response {
    // This server's counts in hand first, so that the figures are up to the moment.
    if let Err(err) = state.akismet_traffic.flush(&state.store).await {
        tracing::warn!(error = %err, "cannot save the spam API's traffic figures");
    }
    let (keys, totals) = match (state.store.api_keys().await, state.store.api_traffic_totals().await) {
        (Ok(keys), Ok(totals)) => (keys, totals),
        (Err(err), _) | (_, Err(err)) => return AppError::from(err).into_response(),
    };
    let tz = state.config.time_zone;
    let rows = keys
        .into_iter()
        .map(|key| {
            let (traffic, lessons) =
                totals.iter().find(|(site, ..)| *site == key.id).map(|(_, t, n)| (*t, *n)).unwrap_or_default();
            Row {
                id: key.id,
                site_url: key.site_url,
                label: key.label,
                shown: format!("{}…", key.key.chars().take(4).collect::<String>()),
                created: DateTime::<Utc>::from_timestamp(key.created_at, 0)
                    .map(|at| at.with_timezone(&tz).format("%-d %b %Y").to_string())
                    .unwrap_or_default(),
                revoked: key.revoked_at.is_some(),
                traffic,
                lessons,
            }
        })
        .collect();
    let template = KeysPage {
        chrome: AdminChrome::new(state, admin, "Spam API keys", "api-keys").await,
        rows,
        message,
        notice,
        handover,
        new_site: kept.0,
        new_label: kept.1,
    };
    page(status, &template)
}

pub async fn show(State(state): State<AppState>, admin: Admin) -> Response {
    if let Err(refused) = admin.require(Capability::ManageSettings) {
        return refused.page(&state);
    }
    keys_page(&state, &admin, StatusCode::OK, None, None, None, Default::default()).await
}

pub async fn change(State(state): State<AppState>, admin: Admin, headers: HeaderMap, body: Bytes) -> Response {
    let form = FormFields::parse(&body);
    let field = |name: &str| form.get(name);
    if let Err(refused) = admin.check_form(&state, &headers, &field("csrf")) {
        return refused.page(&state);
    }
    if let Err(refused) = admin.require(Capability::ManageSettings) {
        return refused.page(&state);
    }
    let action = field("do");
    let now = Utc::now().timestamp();
    let refuse = |message: String, kept: (String, String)| {
        keys_page(&state, &admin, StatusCode::UNPROCESSABLE_ENTITY, Some(message), None, None, kept)
    };
    if action == "create" {
        let (site, label) = (field("site"), field("label"));
        let valid = (site.starts_with("http://") || site.starts_with("https://"))
            && site.split_once("://").is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'))
            && !site.chars().any(char::is_whitespace)
            && site.len() <= 500;
        if !valid {
            return refuse(
                format!("“{site}” is not a site's address: give it as http://… or https://…, as the site's own settings name it."),
                (site, label),
            )
            .await;
        }
        if label.chars().count() > 100 {
            return refuse("Keep the label to 100 characters.".into(), (site, label)).await;
        }
        let key = crate::auth::generate_api_key();
        return match state.store.create_api_key(&key, &site, &label, now).await {
            Ok(id) => {
                tracing::info!(user.id = admin.user.id, key.id = id, site = %site, "API key created");
                let notice = format!("A key for {site} is ready.");
                keys_page(&state, &admin, StatusCode::OK, None, Some(notice), Some((site, key)), Default::default())
                    .await
            }
            Err(err) => AppError::from(err).into_response(),
        };
    }
    if let Some(id) = action.strip_prefix("revoke:").and_then(|id| id.parse::<i64>().ok()) {
        return match state.store.revoke_api_key(&id.to_string(), now).await {
            Ok(()) => {
                tracing::info!(user.id = admin.user.id, key.id = id, "API key revoked");
                let notice = "The key is revoked: calls with it are refused within seconds.".to_owned();
                keys_page(&state, &admin, StatusCode::OK, None, Some(notice), None, Default::default()).await
            }
            Err(StoreError::NotFound) => refuse("That key is already revoked.".into(), Default::default()).await,
            Err(err) => AppError::from(err).into_response(),
        };
    }
    refuse("Choose what to do: make a key or revoke one.".into(), Default::default()).await
}
