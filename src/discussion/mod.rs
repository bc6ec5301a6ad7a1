//! What happens to comments: a reader's new comment ([`submit`]), moderators'
//! decisions and privacy requests (the functions behind the article form, the
//! `comments` and `privacy` commands and the admin's moderation queue).

mod submit;

pub use submit::{CommentWriter, Outcome, Submission, judge, placement, submit};

use crate::domain::comment::Status;
use crate::mail::Notifier;
use crate::spam::{LOCAL_SITE, SpamEngine, SpamInput};
use crate::store::{Store, StoreResult, StoredComment};

/// What a moderator can do to a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Approve,
    Spam,
    Trash,
    /// Back to the queue.
    Unapprove,
    Delete,
}

/// Applies a moderator's decision; the pages that show the comment are
/// invalidated by the store. Marking a comment spam, or approving one from
/// the spam folder, teaches the spam filter.
pub async fn moderate(
    store: &Store,
    spam: &SpamEngine,
    notifier: &Notifier,
    id: i64,
    action: Action,
    now: i64,
) -> StoreResult<()> {
    let comment = store.comment(id).await?;
    let was_spam = comment.status == Status::Spam.as_str();
    let was_approved = comment.status == Status::Approved.as_str();
    let lesson = match action {
        Action::Spam if !was_spam => Some(true),
        Action::Approve if was_spam => Some(false),
        _ => None,
    };
    if let Some(is_spam) = lesson {
        spam.teach(store, LOCAL_SITE, &spam_input(&comment), is_spam, Some(id), now).await?;
    }
    let status = match action {
        Action::Approve => Status::Approved,
        Action::Spam => Status::Spam,
        Action::Trash => Status::Trash,
        Action::Unapprove => Status::Pending,
        Action::Delete => return store.delete_comment(id, now).await,
    };
    store.set_comment_status(id, status, Some("moderator's decision"), now).await?;
    tracing::info!(comment.id = id, status = status.as_str(), "comment moderated");
    if status == Status::Approved && !was_approved {
        notifier.comment_approved(id, now).await;
    }
    Ok(())
}

/// A stored comment as the spam filter reads it.
pub fn spam_input(comment: &StoredComment) -> SpamInput {
    SpamInput::of_comment(
        &comment.body,
        Some(&comment.author_name),
        Some(&comment.author_email),
        comment.author_url.as_deref(),
    )
}

/// Everything stored about a commenter, as JSON for a privacy request.
pub async fn export(store: &Store, email: &str) -> StoreResult<serde_json::Value> {
    let comments: Vec<StoredComment> = store.comments_by_email(email).await?;
    let lessons: Vec<serde_json::Value> = store
        .lessons_of_commenter(email)
        .await?
        .into_iter()
        .map(|(id, kept)| {
            let kept = serde_json::from_str(&kept).unwrap_or(serde_json::Value::String(kept));
            serde_json::json!({ "lesson": id, "kept": kept })
        })
        .collect();
    let subscriptions: Vec<serde_json::Value> = store
        .subscriptions_of(email)
        .await?
        .into_iter()
        .map(|s| {
            serde_json::json!({
                "replies_to_comment": s.comment_id,
                "requested_at": s.created_at,
                "confirmed_at": s.confirmed_at,
                "unsubscribed_at": s.unsubscribed_at,
            })
        })
        .collect();
    Ok(serde_json::json!({
        "email": email,
        "what_is_stored": "For each comment: the text, the name, email address and website given, the IP address \
            and browser (user agent) it was sent from (kept for a limited period), the time, its moderation state and \
            the reason for it. When a moderator marked a comment as spam, or approved it from the spam folder, the \
            spam filter keeps a copy of what it reads (the text, the name, the website and the domain of the email \
            address) to learn from: those are the spam_filter_lessons. When the commenter asked to be told of replies by email: the request, \
            when it was confirmed and when it was stopped (the reply_subscriptions); messages sent are kept 30 days.",
        "comments": comments,
        "spam_filter_lessons": lessons,
        "reply_subscriptions": subscriptions,
    }))
}

/// Erases a commenter: anonymised comments by default, deleted with `delete`;
/// their subscriptions to replies and the messages to them are forgotten.
/// The spam filter's copies of their comments go the same way: anonymised
/// like the comments, or forgotten.
pub async fn erase(store: &Store, email: &str, delete: bool, now: i64) -> StoreResult<u64> {
    // Lessons are found through the comments, so they go first: a request
    // stopped half-way is finished by running it again.
    for (lesson, kept) in store.lessons_of_commenter(email).await? {
        let rewritten = if delete {
            None
        } else {
            let mut input: SpamInput = serde_json::from_str(&kept).unwrap_or_default();
            input.author_name = Some("Anonymous".into());
            input.author_url = None;
            input.email_domain = None;
            Some(serde_json::to_string(&input).unwrap_or_default())
        };
        store.rewrite_lesson(lesson, rewritten.as_deref()).await?;
    }
    // Subscriptions and messages go whichever way the comments go: an
    // anonymised comment has no address to write to.
    store.erase_subscriptions(email).await?;
    store.erase_commenter(email, delete, now).await
}
