//! The moderation queue: comments by state, with the spam filter's reasons,
//! one at a time or in bulk. The decisions go through
//! `discussion::moderate`, as the `comments` command's do: the pages that
//! show a comment are invalidated, and the spam filter learns.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};

use super::{Admin, AdminChrome, page};
use crate::discussion::{self, Action};
use crate::domain::article::Kind;
use crate::domain::comment::{self, Status};
use crate::domain::dates;
use crate::domain::role::Capability;
use crate::publishing::permalink;
use crate::store::{NewComment, QueuedComment, StoreError};
use crate::web::AppState;
use crate::web::error::AppError;

const PER_PAGE: u32 = 50;

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct QueueQuery {
    status: String,
    page: u32,
    done: Option<u32>,
    action: String,
    replied: Option<i64>,
}

struct Tab {
    status: &'static str,
    label: &'static str,
    count: i64,
    current: bool,
}

/// A button a row offers: the action and its label.
struct RowAction {
    value: &'static str,
    label: &'static str,
}

struct Row {
    comment: QueuedComment,
    article_path: String,
    date_iso: String,
    date_text: String,
    score: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/comments.html")]
struct QueuePage {
    chrome: AdminChrome,
    tabs: Vec<Tab>,
    status: &'static str,
    rows: Vec<Row>,
    actions: Vec<RowAction>,
    notice: Option<String>,
    newer: Option<String>,
    older: Option<String>,
}

fn actions_for(status: Status) -> Vec<RowAction> {
    let action = |value, label| RowAction { value, label };
    match status {
        Status::Pending => vec![action("approve", "Approve"), action("spam", "Spam"), action("trash", "Trash")],
        Status::Approved => vec![action("unapprove", "Unapprove"), action("spam", "Spam"), action("trash", "Trash")],
        Status::Spam => vec![action("approve", "Not spam: approve"), action("delete", "Delete for good")],
        Status::Trash => vec![action("unapprove", "Restore to pending"), action("delete", "Delete for good")],
    }
}

fn parse_action(value: &str) -> Option<Action> {
    match value {
        "approve" => Some(Action::Approve),
        "unapprove" => Some(Action::Unapprove),
        "spam" => Some(Action::Spam),
        "trash" => Some(Action::Trash),
        "delete" => Some(Action::Delete),
        _ => None,
    }
}

fn done_notice(n: u32, action: &str) -> String {
    let what = match action {
        "approve" => "approved",
        "unapprove" => "moved to pending",
        "spam" => "marked as spam",
        "trash" => "moved to the trash",
        "delete" => "deleted for good",
        _ => "changed",
    };
    format!("{n} {} {what}.", if n == 1 { "comment" } else { "comments" })
}

pub async fn queue(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<Query<QueueQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = admin.require(Capability::ModerateComments) {
        return refused.page(&state);
    }
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let status = Status::parse(&query.status).unwrap_or(Status::Pending);
    let page_number = query.page.max(1);
    let (counts, comments) = match tokio::try_join!(
        state.store.comment_counts(),
        state.store.moderation_queue(status, PER_PAGE + 1, (page_number - 1) * PER_PAGE)
    ) {
        Ok(found) => found,
        Err(err) => return AppError::from(err).into_response(),
    };
    let tz = state.config.time_zone;
    let more = comments.len() > PER_PAGE as usize;
    let rows = comments
        .into_iter()
        .take(PER_PAGE as usize)
        .map(|comment| {
            let kind = if comment.article_kind == "page" { Kind::Page } else { Kind::Article };
            let at = DateTime::<Utc>::from_timestamp(comment.created_at, 0).unwrap_or_default();
            Row {
                article_path: permalink(kind, &comment.article_slug, comment.article_published_at, tz),
                date_iso: dates::machine(at, tz),
                date_text: dates::dateline(at, tz),
                score: comment.spam_score.map(|p| format!("{:.0} %", p * 100.0)),
                comment,
            }
        })
        .collect();
    let labels = [
        (Status::Pending, "Pending"),
        (Status::Approved, "Approved"),
        (Status::Spam, "Spam"),
        (Status::Trash, "Trash"),
    ];
    let tabs = labels
        .iter()
        .zip(counts)
        .map(|(&(tab, label), count)| Tab { status: tab.as_str(), label, count, current: tab == status })
        .collect();
    let link = |n: u32| format!("/admin/comments?status={}&page={n}", status.as_str());
    let template = QueuePage {
        chrome: AdminChrome::new(&state, &admin, "Comments", "comments").await,
        tabs,
        status: status.as_str(),
        rows,
        actions: actions_for(status),
        notice: query
            .done
            .map(|n| done_notice(n, &query.action))
            .or_else(|| query.replied.map(|_| "Your reply is published.".to_owned())),
        newer: (page_number > 1).then(|| link(page_number - 1)),
        older: more.then(|| link(page_number + 1)),
    };
    page(StatusCode::OK, &template)
}

/// Applies one row's button (`one=ACTION:ID`) or the bulk action to the
/// ticked comments (`ids`), then goes back to the queue.
pub async fn moderate(State(state): State<AppState>, admin: Admin, headers: HeaderMap, body: Bytes) -> Response {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    let field = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("");
    if let Err(refused) = admin.check_form(&state, &headers, field("csrf")) {
        return refused.page(&state);
    }
    if let Err(refused) = admin.require(Capability::ModerateComments) {
        return refused.page(&state);
    }
    let back = Status::parse(field("status")).unwrap_or(Status::Pending);
    if let Some(parent) = field("one").strip_prefix("reply:").and_then(|id| id.parse::<i64>().ok()) {
        let text = fields.iter().find(|(k, _)| *k == format!("reply-{parent}")).map_or("", |(_, v)| v.as_str());
        return reply(&state, &admin, parent, text, back).await;
    }
    let (action_name, ids): (String, Vec<i64>) = match field("one").split_once(':') {
        Some((action, id)) => (action.to_owned(), id.parse().into_iter().collect()),
        None => (
            field("action").to_owned(),
            fields.iter().filter(|(k, _)| k == "ids").filter_map(|(_, v)| v.parse().ok()).collect(),
        ),
    };
    let Some(action) = parse_action(&action_name) else {
        return super::message(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Choose an action",
            "Choose what to do with the ticked comments (approve, spam, trash…), then send again.",
        );
    };
    if ids.is_empty() {
        return super::message(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "No comment chosen",
            "Tick the comments to change, or use the buttons beside a comment.",
        );
    }
    let now = Utc::now().timestamp();
    let mut done = 0u32;
    for id in ids {
        match discussion::moderate(&state.store, &state.spam, &state.notifier, id, action, now).await {
            Ok(()) => done += 1,
            // Already deleted by another moderator: nothing to do.
            Err(StoreError::NotFound) => {}
            Err(err) => return AppError::from(err).into_response(),
        }
    }
    super::refresh(&state).await;
    tracing::info!(user.id = admin.user.id, action = action_name, comments = done, "comments moderated");
    let to = format!("/admin/comments?status={}&done={done}&action={action_name}", back.as_str());
    Redirect::to(&to).into_response()
}

/// A staff reply to comment `parent`, published at once; replying to a held
/// comment approves it, as it would be odd to answer what readers cannot see.
async fn reply(state: &AppState, admin: &Admin, parent: i64, text: &str, back: Status) -> Response {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > comment::MAX_BODY {
        return super::message(
            state,
            StatusCode::UNPROCESSABLE_ENTITY,
            "Write the reply",
            "The reply is empty or too long. Go back: your text is still in the form.",
        );
    }
    let original = match state.store.comment(parent).await {
        Ok(original) => original,
        Err(StoreError::NotFound) => return AppError::NotFound.into_response(),
        Err(err) => return AppError::from(err).into_response(),
    };
    let now = Utc::now().timestamp();
    if original.status != Status::Approved.as_str()
        && let Err(err) =
            discussion::moderate(&state.store, &state.spam, &state.notifier, parent, Action::Approve, now).await
    {
        return AppError::from(err).into_response();
    }
    let new = NewComment {
        article_id: original.article_id,
        parent_id: Some(parent),
        author_name: admin.user.display_name.clone(),
        author_email: admin.user.email.clone(),
        author_url: None,
        body: text.to_owned(),
        body_html: comment::render_body(text),
        status: Status::Approved,
        reason: Some(format!("staff reply by {}", admin.user.display_name)),
        spam_score: None,
        is_staff: true,
        ip: None,
        user_agent: None,
        now,
    };
    let stored = state.writes.run(|store| {
        let state = state.clone();
        async move { state.comment_queue.store(&state, &store, new).await }
    });
    match stored.await {
        Ok(stored) => {
            tracing::info!(user.id = admin.user.id, comment.id = stored.id, parent, "staff reply published");
            state.notifier.comment_approved(stored.id, now).await;
            Redirect::to(&format!("/admin/comments?status={}&replied={parent}", back.as_str())).into_response()
        }
        Err(err) => AppError::from(err).into_response(),
    }
}
