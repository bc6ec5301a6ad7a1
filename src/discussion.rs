//! Moderation and privacy requests: the functions behind the `comments` and
//! `privacy` commands (and, later, the admin's moderation queue).

use crate::domain::comment::Status;
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
/// invalidated by the store. Returns the comment's article.
pub async fn moderate(store: &Store, id: i64, action: Action, now: i64) -> StoreResult<()> {
    let status = match action {
        Action::Approve => Status::Approved,
        Action::Spam => Status::Spam,
        Action::Trash => Status::Trash,
        Action::Unapprove => Status::Pending,
        Action::Delete => return store.delete_comment(id, now).await,
    };
    store.set_comment_status(id, status, Some("moderator's decision"), now).await?;
    tracing::info!(comment.id = id, status = status.as_str(), "comment moderated");
    Ok(())
}

/// Everything stored about a commenter, as JSON for a privacy request.
pub async fn export(store: &Store, email: &str) -> StoreResult<serde_json::Value> {
    let comments: Vec<StoredComment> = store.comments_by_email(email).await?;
    Ok(serde_json::json!({
        "email": email,
        "what_is_stored": "For each comment: the text, the name, email address and website given, the IP address \
            and browser (user agent) it was sent from (kept for a limited period), the time, its moderation state and \
            the reason for it.",
        "comments": comments,
    }))
}

/// Erases a commenter: anonymised comments by default, deleted with `delete`.
pub async fn erase(store: &Store, email: &str, delete: bool, now: i64) -> StoreResult<u64> {
    store.erase_commenter(email, delete, now).await
}
