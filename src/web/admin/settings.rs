//! Site settings: the site's name and tagline and the discussion policies
//! (in effect at once), and its time zone and base URL (at the next start:
//! they are part of every address, so every process must agree on them),
//! unless the configuration fixes those.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};

use super::{Admin, AdminChrome, page};
use crate::domain::comment::FieldErrors;
use crate::domain::moderation::DiscussionSettings;
use crate::domain::role::Capability;
use crate::store::SiteSettings;
use crate::web::AppState;
use crate::web::error::AppError;

/// One discussion setting as the form shows it.
struct Field {
    name: &'static str,
    label: &'static str,
    help: &'static str,
    kind: &'static str,
    value: String,
    min: i64,
    max: i64,
}

#[derive(Template)]
#[template(path = "admin/settings.html")]
struct SettingsPage {
    chrome: AdminChrome,
    fields: Vec<Field>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    site: SiteForm,
    /// In force now (the server's configuration, or what was saved at its start).
    time_zone_now: String,
    base_url_now: String,
    /// Fixed by the configuration: not changed here.
    pinned_time_zone: bool,
    pinned_base_url: bool,
}

/// The site's own settings as the form shows them.
#[derive(Debug, Clone, Default)]
struct SiteForm {
    name: String,
    tagline: String,
    time_zone: String,
    base_url: String,
    /// Feeds carry summaries only.
    feed_summary: bool,
}

impl SettingsPage {
    fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }
}

const CHECKBOXES: [&str; 3] = ["manual_approval", "hold_first_time", "discard_blatant_spam"];

/// The form's fields, filled from `value`.
fn fields(value: &dyn Fn(&'static str) -> String) -> Vec<Field> {
    let field = |name, label, help, kind| {
        let (min, max) = crate::store::discussion_setting_bounds(name).unwrap_or_default();
        Field { name, label, help, kind, value: value(name), min, max }
    };
    vec![
        field("manual_approval", "Hold every comment for a moderator", "", "checkbox"),
        field(
            "hold_first_time",
            "Hold comments from first-time commenters",
            "An approved comment under the same name and email address lets the next ones through.",
            "checkbox",
        ),
        field("max_links", "Hold comments with more links than", "", "number"),
        field(
            "hold_words",
            "Hold comments containing",
            "One word or phrase a line; matched in the text, name, email, website, IP address and browser.",
            "textarea",
        ),
        field("block_words", "Send to spam comments containing", "One word or phrase a line.", "textarea"),
        field("close_after_days", "Close comments on articles older than (days)", "0 keeps them open.", "number"),
        field("thread_depth", "Reply nesting, levels", "1 to 10.", "number"),
        field("per_page", "Top-level comments per comment page", "5 to 500.", "number"),
        field("flood_seconds", "One comment per address every (seconds)", "0 turns the flood limit off.", "number"),
        field(
            "min_seconds_to_submit",
            "Hold forms sent back faster than (seconds)",
            "Readers take a while to write; robots do not.",
            "number",
        ),
        field("ip_retention_days", "Keep IP addresses and browsers for (days)", "Then they are erased.", "number"),
        field("discard_blatant_spam", "Discard blatant spam instead of keeping it in the spam folder", "", "checkbox"),
    ]
}

async fn settings_page(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    fields: Vec<Field>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    sent: Option<SiteForm>,
) -> Response {
    let config = &state.config;
    let site = match sent {
        Some(sent) => sent,
        None => {
            let (site, saved) =
                match tokio::try_join!(crate::web::pages::SiteData::load(state, chrono::Utc::now()), async {
                    state.store.site_settings().await.map_err(AppError::from)
                }) {
                    Ok(found) => found,
                    Err(err) => return err.into_response(),
                };
            SiteForm {
                name: site.site_name.clone(),
                tagline: site.tagline.clone(),
                time_zone: saved.time_zone.unwrap_or_else(|| config.time_zone.to_string()),
                base_url: saved.base_url.unwrap_or_else(|| config.base_url.clone()),
                feed_summary: site.feed_summary,
            }
        }
    };
    let template = SettingsPage {
        chrome: AdminChrome::new(state, admin, "Settings", "settings").await,
        fields,
        errors,
        notice,
        site,
        time_zone_now: config.time_zone.to_string(),
        base_url_now: config.base_url.clone(),
        pinned_time_zone: config.pinned.time_zone,
        pinned_base_url: config.pinned.base_url,
    };
    page(status, &template)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct SettingsQuery {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<SettingsQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = admin.require(Capability::ManageSettings) {
        return refused.page(&state);
    }
    let saved = query.ok().and_then(|Query(q)| q.saved);
    let settings = match state.store.discussion_settings().await {
        Ok(settings) => settings,
        Err(err) => return AppError::from(err).into_response(),
    };
    let fields = fields(&|name| crate::store::discussion_setting_value(&settings, name));
    let notice = match saved.as_deref() {
        Some("restart") => Some(
            "Settings saved. The new time zone or address takes effect when the server restarts; the rest applies now.",
        ),
        Some(_) => Some("Settings saved. They apply now."),
        None => None,
    };
    settings_page(&state, &admin, StatusCode::OK, fields, FieldErrors::new(), notice, None).await
}

pub async fn save(State(state): State<AppState>, admin: Admin, headers: HeaderMap, body: Bytes) -> Response {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let sent = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    if let Err(refused) = admin.check_form(&state, &headers, &sent("csrf").unwrap_or_default()) {
        return refused.page(&state);
    }
    if let Err(refused) = admin.require(Capability::ManageSettings) {
        return refused.page(&state);
    }
    let value_of = |name: &'static str| {
        if CHECKBOXES.contains(&name) {
            sent(name).is_some().to_string()
        } else {
            sent(name).unwrap_or_default().trim().to_owned()
        }
    };
    let form = fields(&value_of);
    let text = |name: &str| sent(name).unwrap_or_default().trim().to_owned();
    let site = SiteForm {
        name: text("site_name"),
        tagline: text("tagline"),
        time_zone: text("time_zone"),
        base_url: text("base_url"),
        feed_summary: sent("feed_summary").is_some(),
    };
    // Check everything first: nothing is saved unless everything is right.
    let mut errors = FieldErrors::new();
    if site.name.is_empty() || site.name.chars().count() > 100 {
        errors.insert("site_name", "The site's name is 1 to 100 characters.".into());
    }
    if site.tagline.chars().count() > 200 {
        errors.insert("tagline", "The tagline is at most 200 characters.".into());
    }
    let config = &state.config;
    let time_zone = match config.pinned.time_zone {
        true => None,
        false => match crate::config::parse_time_zone(&site.time_zone) {
            Ok(tz) => Some(tz.to_string()),
            Err(message) => {
                errors.insert("time_zone", format!("{}{}.", message[..1].to_uppercase(), &message[1..]));
                None
            }
        },
    };
    let base_url = match config.pinned.base_url {
        true => None,
        false => match crate::config::check_base_url(&site.base_url) {
            Ok(url) => Some(url),
            Err(message) => {
                errors.insert("base_url", format!("{}{}.", message[..1].to_uppercase(), &message[1..]));
                None
            }
        },
    };
    let mut scratch = DiscussionSettings::default();
    for field in &form {
        if let Err(message) = crate::store::check_discussion_setting(&mut scratch, field.name, &field.value) {
            // A number out of its bounds is told in the form's words, beside the field.
            let message = match field.kind {
                "number" => format!("A whole number from {} to {}.", field.min, field.max),
                _ => message,
            };
            errors.insert(field.name, message);
        }
    }
    if !errors.is_empty() {
        return settings_page(&state, &admin, StatusCode::UNPROCESSABLE_ENTITY, form, errors, None, Some(site)).await;
    }
    let restart = time_zone.as_deref().is_some_and(|tz| tz != config.time_zone.to_string())
        || base_url.as_deref().is_some_and(|url| url != config.base_url);
    let saved = SiteSettings {
        name: Some(site.name),
        tagline: Some(site.tagline),
        time_zone,
        base_url,
        feed_summary: Some(site.feed_summary.to_string()),
    };
    if let Err(err) = state.store.set_site_settings(&saved, chrono::Utc::now().timestamp()).await {
        return AppError::from(err).into_response();
    }
    for field in &form {
        if let Err(message) = state.store.set_discussion_setting(field.name, &field.value).await {
            return AppError::Internal(anyhow::anyhow!(message)).into_response();
        }
    }
    super::refresh(&state).await;
    tracing::info!(user.id = admin.user.id, "settings saved");
    Redirect::to(if restart { "/admin/settings?saved=restart" } else { "/admin/settings?saved=1" }).into_response()
}
