//! The Akismet-compatible spam API (version 1.1): `verify-key`,
//! `comment-check`, `submit-spam`, `submit-ham`, form-encoded POSTs with
//! Akismet's parameters, bodies and headers, so that existing Akismet client
//! libraries work unchanged against Broadsheet. Each API key is a site with
//! its own learning copy of the model.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use spamfilter::Decision;

use super::AppState;
use crate::domain::comment::count_links;
use crate::spam::SpamInput;
use crate::store::StoreError;

/// The largest request body accepted.
pub const MAX_BODY: usize = 256 * 1024;
/// Akismet's thanks for feedback.
const THANKS: &str = "Thanks for making the web a better place.";
/// Author names and emails Akismet documents for testing.
const GUARANTEED_SPAM: &str = "akismet-guaranteed-spam";

/// Known keys, looked up in the database at most every few seconds each.
#[derive(Default)]
pub struct KeyCache {
    keys: Mutex<HashMap<String, (Option<i64>, Instant)>>,
}

/// How long a key's state is trusted before it is read again.
const KEY_TTL: Duration = Duration::from_secs(5);

impl KeyCache {
    /// The site number of an active key, `None` for an unknown or revoked one.
    async fn site(&self, state: &AppState, key: &str) -> Result<Option<i64>, StoreError> {
        if let Some((site, at)) = self.keys.lock().unwrap_or_else(|p| p.into_inner()).get(key)
            && at.elapsed() < KEY_TTL
        {
            return Ok(*site);
        }
        let site = match state.store.active_api_key(key).await {
            Ok(found) => Some(found.id),
            Err(StoreError::NotFound) => None,
            Err(err) => return Err(err),
        };
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() > 10_000 {
            keys.clear();
        }
        keys.insert(key.to_owned(), (site, Instant::now()));
        Ok(site)
    }
}

/// A plain-text answer with Akismet's headers.
fn answer(status: StatusCode, body: &'static str, extra: &[(&'static str, String)]) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

/// An error Akismet's way: `invalid` and a line of help in `X-akismet-debug-help`.
fn invalid(status: StatusCode, help: &str) -> Response {
    answer(status, "invalid", &[("x-akismet-debug-help", help.to_owned())])
}

/// `POST /1.1/{method}`.
pub async fn handle(
    State(state): State<AppState>,
    Path(method): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
        return invalid(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Send the parameters form-encoded, with Content-Type: application/x-www-form-urlencoded.",
        );
    }
    if std::str::from_utf8(&body).is_err() {
        return invalid(StatusCode::BAD_REQUEST, "The request body is not valid UTF-8.");
    }
    let params: HashMap<String, String> = match serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) {
        // Later values win, as in PHP; parameters we do not know are ignored.
        Ok(pairs) => pairs.into_iter().collect(),
        Err(_) => return invalid(StatusCode::BAD_REQUEST, "The request body is not valid form encoding."),
    };
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    // Keys come as a parameter or, from older clients, as the first label of the host name.
    let host_key = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|host| host.split('.').next().filter(|_| host.matches('.').count() >= 2))
        .filter(|label| label.len() >= 8 && label.bytes().all(|b| b.is_ascii_alphanumeric()));
    let key = match method.as_str() {
        "verify-key" => get("key").or(get("api_key")).or(host_key),
        _ => get("api_key").or(get("key")).or(host_key),
    };
    let Some(key) = key else {
        return invalid(StatusCode::OK, "Empty \"api_key\" value");
    };
    let site = match state.akismet_keys.site(&state, key).await {
        Ok(site) => site,
        Err(err) => {
            tracing::error!(error = %err, "cannot look up an API key");
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "invalid",
                &[("x-akismet-debug-help", "Try again shortly.".into())],
            );
        }
    };
    if method == "verify-key" {
        return match site {
            Some(_) => answer(StatusCode::OK, "valid", &[]),
            None => invalid(StatusCode::OK, "We were unable to verify your API key."),
        };
    }
    let Some(site) = site else {
        return invalid(
            StatusCode::OK,
            "Your API key is not valid. Check it, or create one with `broadsheet apikey create`.",
        );
    };
    if get("blog").is_none() {
        return invalid(StatusCode::OK, "Empty \"blog\" value");
    }
    if method == "comment-check" && get("user_ip").is_none() {
        return answer(
            StatusCode::OK,
            "Missing required field: user_ip.",
            &[("x-akismet-debug-help", "Send the commenter's IP address as user_ip.".into())],
        );
    }
    let input = spam_input(&params);
    match method.as_str() {
        "comment-check" => comment_check(&state, site, &params, &input),
        "submit-spam" | "submit-ham" => {
            let is_spam = method == "submit-spam";
            // Akismet's test traffic teaches nothing.
            if get("is_test").is_none_or(|v| v == "0" || v == "false")
                && let Err(err) =
                    state.spam.teach(&state.store, site, &input, is_spam, None, Utc::now().timestamp()).await
            {
                tracing::error!(error = %err, "cannot record a spam lesson");
                return answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "invalid",
                    &[("x-akismet-debug-help", "Try again shortly.".into())],
                );
            }
            answer(StatusCode::OK, THANKS, &[])
        }
        _ => answer(
            StatusCode::NOT_FOUND,
            "invalid",
            &[(
                "x-akismet-debug-help",
                "Unknown method: use verify-key, comment-check, submit-spam or submit-ham.".into(),
            )],
        ),
    }
}

fn comment_check(state: &AppState, site: i64, params: &HashMap<String, String>, input: &SpamInput) -> Response {
    let get = |name: &str| params.get(name).map(|v| v.trim()).unwrap_or("");
    let guid = format!("{:032x}", rand::random::<u128>());
    let mut extra = vec![("x-akismet-guid", guid)];
    // Akismet's documented test values.
    if get("comment_author").eq_ignore_ascii_case(GUARANTEED_SPAM)
        || get("comment_author_email").eq_ignore_ascii_case(&format!("{GUARANTEED_SPAM}@example.com"))
    {
        return answer(StatusCode::OK, "true", &extra);
    }
    if get("user_role").eq_ignore_ascii_case("administrator") {
        return answer(StatusCode::OK, "false", &extra);
    }
    let verdict = state.spam.check(site, input);
    match verdict.decision {
        Decision::Ham => answer(StatusCode::OK, "false", &extra),
        Decision::Spam => answer(StatusCode::OK, "true", &extra),
        Decision::BlatantSpam => {
            extra.push(("x-akismet-pro-tip", "discard".to_owned()));
            answer(StatusCode::OK, "true", &extra)
        }
    }
}

/// What the filter reads from Akismet's parameters.
fn spam_input(params: &HashMap<String, String>) -> SpamInput {
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let text = get("comment_content").unwrap_or("").to_owned();
    let honeypot_filled = get("honeypot_field_name").and_then(&get).is_some();
    SpamInput {
        links: u32::try_from(count_links(&text)).ok(),
        author_url: get("comment_author_url").map(str::to_owned),
        author_name: get("comment_author").map(str::to_owned),
        email_domain: get("comment_author_email").and_then(SpamInput::domain_of),
        user_agent_missing: get("user_agent").is_none(),
        honeypot_filled,
        text,
        ..SpamInput::default()
    }
}
