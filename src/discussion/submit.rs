//! A reader's new comment, from validated fields to a stored comment with its
//! moderation state: the one definition of what happens to a comment, shared
//! by the article form and anything else that takes comments in.
//!
//! The order is WordPress's, which editors know (`../shared/PRODUCT.md`): the
//! parent exists and is approved; duplicate; flood; the moderation policy and
//! the spam filter's verdict; store (committed before the outcome is returned);
//! the moderators' notices for a held or caught comment.
//! What comes before (finding the article, whether it is open, the form's
//! token and validation) and after (cookies, the redirect) is the caller's:
//! those are about the page the comment was sent from.

use std::future::Future;

use crate::domain::comment::{self, Status, ValidComment};
use crate::domain::moderation::{self, DiscussionSettings, Facts, SpamOpinion, Verdict};
use crate::mail::Notifier;
use crate::spam::{self, LOCAL_SITE, SpamEngine, SpamInput};
use crate::store::{History, Inserted, NewComment, Probe, Store, StoreError, StoreResult};
use spamfilter::Decision;

/// Where new comments are written: the web server's group commit, or the store itself.
pub trait CommentWriter {
    /// Stores `comment`, committed before the future resolves.
    fn write(&self, comment: NewComment) -> impl Future<Output = StoreResult<Inserted>> + Send;
}

impl CommentWriter for Store {
    async fn write(&self, comment: NewComment) -> StoreResult<Inserted> {
        // This server's cache learns of them at its next read of the log.
        self.insert_comments(std::slice::from_ref(&comment))
            .await
            .0
            .pop()
            .unwrap_or_else(|| Err(StoreError::Rejected("the comment was not stored".into())))
    }
}

/// A reader's comment and what is known of how it was sent.
#[derive(Debug, Clone)]
pub struct Submission {
    pub article_id: i64,
    pub comment: ValidComment,
    /// The commenter's address.
    pub ip: String,
    /// The browser's `User-Agent`, if it sent one.
    pub user_agent: Option<String>,
    /// Seconds between showing the form and receiving it (from its signed token).
    pub seconds_since_render: i64,
    /// The hidden field only bots fill in.
    pub honeypot_filled: bool,
    /// The reader asked to hear of replies by email.
    pub subscribe_to_replies: bool,
    pub now: i64,
}

/// How long after a comment the same words from the same address count as
/// the same submission sent again, not a repetition.
pub const RESENT_WITHIN_SECONDS: i64 = 120;

/// What became of a submission.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The comment replied to is not there, not approved, or under another article.
    ParentUnavailable,
    /// The same author said the same thing in the same place already.
    Duplicate,
    /// This very comment was stored moments ago: the submission was sent
    /// twice. Answer as for the first.
    AlreadyStored { id: i64, status: Status },
    /// A comment from the same address or email came less than the flood interval ago.
    TooFast { wait_seconds: i64 },
    /// Blatant spam the site chose not to keep.
    Discarded,
    /// Stored, committed.
    Stored {
        id: i64,
        status: Status,
        /// The spam filter's verdict, whatever the policy made of it.
        filter: Decision,
        /// For a top-level comment: approved top-level comments before it.
        top_level_before: Option<i64>,
    },
}

/// The filter's verdict as the moderation policy reads it.
fn opinion(verdict: &spamfilter::Verdict) -> SpamOpinion {
    SpamOpinion {
        is_spam: verdict.decision.is_spam(),
        blatant: verdict.decision == Decision::BlatantSpam,
        doubtful: verdict.decision == Decision::Doubtful,
        score: f64::from(verdict.probability),
        evidence: spamfilter::model::sigmoid(f64::from(verdict.evidence)),
        reasons: spam::explain(verdict),
    }
}

/// The moderation policy's verdict on a submission from a commenter with
/// `history`, and the spam filter's opinion it took into account. Pure: it
/// reads and writes nothing (what `spam eval` runs split D through).
pub fn judge(
    spam: &SpamEngine,
    settings: &DiscussionSettings,
    s: &Submission,
    history: History,
) -> (Verdict, SpamOpinion) {
    let c = &s.comment;
    let spam_input = SpamInput {
        user_agent_missing: s.user_agent.as_deref().is_none_or(str::is_empty),
        seconds_to_submit: Some(s.seconds_since_render as f32),
        honeypot_filled: s.honeypot_filled,
        author_approved: u32::try_from(history.approved).ok(),
        author_spam: u32::try_from(history.spam).ok(),
        ip_recent_spam: u32::try_from(history.ip_spam).ok(),
        ..SpamInput::of_comment(&c.body, Some(&c.author_name), Some(&c.author_email), c.author_url.as_deref())
    };
    let opinion = opinion(&spam.check(LOCAL_SITE, &spam_input));
    let facts = Facts {
        is_staff: false,
        honeypot_filled: s.honeypot_filled,
        previously_approved: history.approved > 0,
        seconds_since_render: Some(s.seconds_since_render),
        ip: Some(s.ip.clone()),
        user_agent: s.user_agent.clone(),
        spam: Some(opinion.clone()),
    };
    (moderation::decide(c, &facts, settings), opinion)
}

/// Where the policy's verdict puts a comment, and the note a moderator sees
/// with it: the policy's reason and the filter's opinion. `None`: discarded.
pub fn placement(verdict: &Verdict, opinion: &SpamOpinion) -> Option<(Status, String)> {
    let filter_note = format!("spam filter: p={:.2}; {}", opinion.score, opinion.reasons);
    let with_note =
        |why: &str| if why.starts_with("spam filter") { why.to_owned() } else { format!("{why} — {filter_note}") };
    match verdict {
        Verdict::Approve => Some((Status::Approved, filter_note.clone())),
        Verdict::Hold(why) => Some((Status::Pending, with_note(why))),
        Verdict::Spam(why) => Some((Status::Spam, with_note(why))),
        Verdict::Discard(_) => None,
    }
}

/// Runs a submission through the pipeline and, unless it is refused, stores it.
pub async fn submit(
    store: &Store,
    spam: &SpamEngine,
    writer: &impl CommentWriter,
    notifier: &Notifier,
    settings: &DiscussionSettings,
    s: Submission,
) -> StoreResult<Outcome> {
    let c = &s.comment;
    if let Some(parent) = c.parent_id {
        match store.comment_status(parent).await {
            Ok((article_id, Status::Approved)) if article_id == s.article_id => {}
            Ok(_) | Err(StoreError::NotFound) => return Ok(Outcome::ParentUnavailable),
            Err(err) => return Err(err),
        }
    }
    let probe = Probe {
        article_id: s.article_id,
        parent_id: c.parent_id,
        name: &c.author_name,
        email: &c.author_email,
        body: &c.body,
        ip: &s.ip,
        flood_since: s.now - settings.flood_seconds,
        history_since: s.now - 7 * 86_400,
    };
    let checks = store.posting_checks(&probe).await?;
    if let Some(earlier) = &checks.duplicate {
        // The same form sent again moments later from the same address (a
        // double click, a browser or proxy retrying after a lost answer) is
        // answered as the first was; anything else is a repetition.
        return Ok(if earlier.ip == s.ip && (s.now - earlier.created_at) <= RESENT_WITHIN_SECONDS {
            Outcome::AlreadyStored { id: earlier.id, status: earlier.status }
        } else {
            Outcome::Duplicate
        });
    }
    if settings.flood_seconds > 0
        && let Some(last) = checks.last_post
    {
        return Ok(Outcome::TooFast { wait_seconds: (last + settings.flood_seconds - s.now).max(1) });
    }
    let (verdict, opinion) = judge(spam, settings, &s, checks.history);
    // The log says why in the policy's words only: the filter's reasons quote
    // the comment (its words, its email domain), which logs must not keep.
    let log_reason = |why: &str| if why.starts_with("spam filter") { "spam filter".to_owned() } else { why.to_owned() };
    let spam_p = opinion.score;
    let filter = if opinion.blatant {
        Decision::BlatantSpam
    } else if opinion.is_spam {
        Decision::Spam
    } else if opinion.doubtful {
        Decision::Doubtful
    } else {
        Decision::Ham
    };
    let Some((status, reason)) = placement(&verdict, &opinion) else {
        let why = match &verdict {
            Verdict::Discard(why) => log_reason(why),
            _ => String::new(),
        };
        tracing::info!(article.id = s.article_id, reason = %why, spam.p = spam_p, "blatant spam discarded");
        return Ok(Outcome::Discarded);
    };
    let logged = match &verdict {
        Verdict::Hold(why) | Verdict::Spam(why) => log_reason(why),
        _ => String::new(),
    };
    let Submission { article_id, comment: c, ip, user_agent, now, subscribe_to_replies, .. } = s;
    let email = c.author_email.clone();
    let new = NewComment {
        article_id,
        parent_id: c.parent_id,
        author_name: c.author_name,
        author_email: c.author_email,
        author_url: c.author_url,
        body_html: comment::render_body(&c.body),
        body: c.body,
        status,
        reason: Some(reason),
        spam_score: Some(spam_p),
        is_staff: false,
        ip: Some(ip),
        user_agent,
        now,
    };
    let Inserted { id, top_level_before } = writer.write(new).await?;
    match status {
        Status::Pending => {
            tracing::info!(comment.id = id, article.id = article_id, reason = %logged, spam.p = spam_p, "comment awaiting moderation")
        }
        Status::Spam => {
            tracing::info!(comment.id = id, article.id = article_id, reason = %logged, spam.p = spam_p, "comment marked as spam")
        }
        _ => tracing::info!(comment.id = id, article.id = article_id, "comment published"),
    }
    // The comment is committed; the notices it causes are composed and queued
    // after the reader has their answer, which need not wait for mail.
    let notices = notifier.clone();
    notifier.spawn(async move {
        match status {
            Status::Approved => notices.comment_approved(id, now).await,
            Status::Pending | Status::Spam => notices.comment_needs_moderation(id, now).await,
            Status::Trash => {}
        }
        // Not for what the filter caught: its confirmation would be mail on a spammer's behalf.
        if subscribe_to_replies && status != Status::Spam {
            notices.replies_requested(id, &email, now).await;
        }
    });
    Ok(Outcome::Stored { id, status, filter, top_level_before })
}
