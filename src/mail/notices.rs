//! The messages the discussion sends, rendered from templates
//! (`templates/mail/*.txt` and `*.html`) and queued.
//!
//! A commenter's email address is never quoted in a message to anyone else:
//! a moderator sees the name, the website and the text.

use askama::Template;
use chrono_tz::Tz;

use super::Wake;
use crate::config::Config;
use crate::domain::article::Kind;
use crate::domain::comment::Status;
use crate::publishing::permalink;
use crate::store::{ModerationNotice, OutgoingMail, Store, StoreResult};

/// Queues the messages that comments and subscriptions call for.
#[derive(Clone)]
pub struct Notifier {
    store: Store,
    base_url: String,
    site_name: String,
    time_zone: Tz,
    wake: Wake,
}

#[derive(Template)]
#[template(path = "mail/moderation.txt")]
struct ModerationText<'a> {
    caught: bool,
    headline: &'a str,
    article_url: &'a str,
    author_name: &'a str,
    author_url: Option<&'a str>,
    body: &'a str,
    reason: &'a str,
    queue_url: &'a str,
    settings_url: &'a str,
    site_name: &'a str,
}

#[derive(Template)]
#[template(path = "mail/moderation.html")]
struct ModerationHtml<'a> {
    subject: &'a str,
    caught: bool,
    headline: &'a str,
    article_url: &'a str,
    author_name: &'a str,
    author_url: Option<&'a str>,
    body: &'a str,
    reason: &'a str,
    queue_url: &'a str,
    settings_url: &'a str,
    site_name: &'a str,
}

impl Notifier {
    pub fn new(store: Store, config: &Config, wake: Wake) -> Notifier {
        Notifier {
            store,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            site_name: config.site_name.clone(),
            time_zone: config.time_zone,
            wake,
        }
    }

    /// The site's name as readers see it (the admin's setting, else the configuration's).
    async fn site_name(&self) -> StoreResult<String> {
        Ok(self.store.site_settings().await?.name.filter(|n| !n.trim().is_empty()).unwrap_or(self.site_name.clone()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// A comment was held for moderation or caught as spam: every moderator
    /// who asked to hear of each one is told. A failure is logged, not
    /// returned: the comment is stored whatever becomes of its notice.
    pub async fn comment_needs_moderation(&self, comment_id: i64, now: i64) {
        match self.queue_moderation_notices(comment_id, now).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::debug!(comment.id = comment_id, messages = n, "moderators notified");
                self.wake.ring();
            }
            Err(err) => tracing::warn!(comment.id = comment_id, error = %err, "cannot queue the moderation notices"),
        }
    }

    async fn queue_moderation_notices(&self, comment_id: i64, now: i64) -> StoreResult<usize> {
        let comment = self.store.comment(comment_id).await?;
        let caught = match Status::parse(&comment.status) {
            Some(Status::Pending) => false,
            Some(Status::Spam) => true,
            _ => return Ok(0),
        };
        let moderators = self.store.moderators_to_notify(ModerationNotice::Each).await?;
        if moderators.is_empty() {
            return Ok(0);
        }
        let article = self.store.article_notice(comment.article_id).await?;
        let kind = if article.kind == Kind::Page.as_str() { Kind::Page } else { Kind::Article };
        let article_url = self.url(&permalink(kind, &article.slug, article.published_at, self.time_zone));
        let queue_url = self.url(&format!("/admin/comments?status={}", comment.status));
        let settings_url = self.url("/admin/notifications");
        let site_name = self.site_name().await?;
        let subject = if caught {
            format!("[{site_name}] Caught as spam: \"{}\"", article.headline)
        } else {
            format!("[{site_name}] Please moderate: \"{}\"", article.headline)
        };
        let reason = comment.reason.as_deref().unwrap_or("the site's moderation settings");
        let author_url = comment.author_url.as_deref().filter(|u| !u.is_empty());
        let text = ModerationText {
            caught,
            headline: &article.headline,
            article_url: &article_url,
            author_name: &comment.author_name,
            author_url,
            body: &comment.body,
            reason,
            queue_url: &queue_url,
            settings_url: &settings_url,
            site_name: &site_name,
        }
        .render()
        .map_err(render_error)?;
        let html = ModerationHtml {
            subject: &subject,
            caught,
            headline: &article.headline,
            article_url: &article_url,
            author_name: &comment.author_name,
            author_url,
            body: &comment.body,
            reason,
            queue_url: &queue_url,
            settings_url: &settings_url,
            site_name: &site_name,
        }
        .render()
        .map_err(render_error)?;
        for moderator in &moderators {
            let mail = OutgoingMail {
                recipient: moderator.email.clone(),
                kind: "moderation",
                subject: subject.clone(),
                text_body: text.clone(),
                html_body: html.clone(),
                unsubscribe_url: None,
            };
            self.store.enqueue_mail(&mail, now).await?;
        }
        Ok(moderators.len())
    }
}

fn render_error(err: askama::Error) -> crate::store::StoreError {
    crate::store::StoreError::Rejected(format!("a message could not be rendered: {err}"))
}
