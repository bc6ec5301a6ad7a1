//! The links in a reader's mail: confirming a subscription to replies
//! (double opt-in) and unsubscribing, one click each.
//!
//! A link opens a page with one button, so that a mail scanner that follows
//! links confirms nothing; the button POSTs back to the same address. The
//! unsubscribe address also takes the one-click POST of RFC 8058
//! (`List-Unsubscribe=One-Click`), which mail providers send without a page.
//! The token in the address is the only credential, as in the message.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::AppState;
use super::error::AppError;
use super::pages::{self, Chrome, HTML, Rendered, SiteData};
use crate::store::{ReplySubscription, StoreError};

/// Which link.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Confirm,
    Unsubscribe,
}

#[derive(Template)]
#[template(path = "pages/subscription.html")]
struct SubscriptionPage<'a> {
    chrome: &'a Chrome,
    confirm: bool,
    /// The change was made (or had been made before).
    done: bool,
    unsubscribed: bool,
    headline: &'a str,
    article_url: &'a str,
    action: &'a str,
    unsubscribe_url: &'a str,
}

pub async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    show(&state, &token, Step::Confirm, false).await
}

pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    change(&state, &token, Step::Confirm).await
}

pub async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    show(&state, &token, Step::Unsubscribe, false).await
}

pub async fn unsubscribe(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    change(&state, &token, Step::Unsubscribe).await
}

async fn change(state: &AppState, token: &str, step: Step) -> Response {
    let now = Utc::now().timestamp();
    let result = match step {
        Step::Confirm => state.store.confirm_reply_subscription(token, now).await,
        Step::Unsubscribe => state.store.unsubscribe_replies(token, now).await,
    };
    if let Err(err) = result {
        return AppError::from(err).into_response();
    }
    show(state, token, step, true).await
}

async fn show(state: &AppState, token: &str, step: Step, changed: bool) -> Response {
    let now = Utc::now();
    let subscription = match lookup(state, token).await {
        Ok(Some(subscription)) => subscription,
        Ok(None) => return pages::not_found_page(state, now).await,
        Err(err) => return AppError::from(err).into_response(),
    };
    if changed {
        let what = if step == Step::Confirm { "confirmed" } else { "unsubscribed" };
        tracing::info!(subscription.id = subscription.id, "reply subscription {what}");
    }
    let rendered = async {
        let site = SiteData::load(state, now).await?;
        let article = state.store.article_notice(subscription.article_id).await?;
        let article_url = state.notifier.article_path(&article);
        let path = match step {
            Step::Confirm => format!("/subscriptions/{token}/confirm"),
            Step::Unsubscribe => format!("/subscriptions/{token}/unsubscribe"),
        };
        let title = if step == Step::Confirm { "Confirm your subscription" } else { "Unsubscribe" };
        let mut chrome = Chrome::new(state, &site, now, None, &path, title.to_owned(), String::new());
        chrome.noindex = true;
        let done = match step {
            Step::Confirm => changed || subscription.confirmed_at.is_some(),
            Step::Unsubscribe => changed || subscription.unsubscribed_at.is_some(),
        };
        let html = SubscriptionPage {
            chrome: &chrome,
            confirm: step == Step::Confirm,
            done,
            unsubscribed: subscription.unsubscribed_at.is_some() || (changed && step == Step::Unsubscribe),
            headline: &article.headline,
            article_url: &article_url,
            action: &path,
            unsubscribe_url: &format!("/subscriptions/{token}/unsubscribe"),
        }
        .render()?;
        Ok::<_, AppError>(Rendered {
            status: StatusCode::OK,
            content_type: HTML,
            html,
            tags: vec![],
            last_modified: now.timestamp(),
            expires_at: None,
        })
    };
    match rendered.await {
        Ok(page) => pages::private_response(page),
        Err(err) => err.into_response(),
    }
}

/// The subscription a token names; `None` for a token that names none (or is not one of ours).
async fn lookup(state: &AppState, token: &str) -> Result<Option<ReplySubscription>, StoreError> {
    if token.len() != 48 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    match state.store.reply_subscription(token).await {
        Ok(subscription) => Ok(Some(subscription)),
        Err(StoreError::NotFound) => Ok(None),
        Err(err) => Err(err),
    }
}
