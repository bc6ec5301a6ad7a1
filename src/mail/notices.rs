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
use crate::store::{ArticleNotice, ModerationNotice, OutgoingMail, Store, StoreResult};

/// Queues the messages that comments and subscriptions call for.
#[derive(Clone)]
pub struct Notifier {
    store: Store,
    base_url: String,
    site_name: String,
    time_zone: Tz,
    wake: Wake,
    /// The runtime notices are composed on: the server's, also when a
    /// comment is stored from the write thread (`web::writes`).
    runtime: Option<tokio::runtime::Handle>,
}

/// What a moderation notice says.
struct Moderation<'a> {
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
#[template(path = "mail/moderation.txt")]
struct ModerationText<'a> {
    m: &'a Moderation<'a>,
}

#[derive(Template)]
#[template(path = "mail/moderation.html")]
struct ModerationHtml<'a> {
    subject: &'a str,
    m: &'a Moderation<'a>,
}

/// A message's plain text and HTML.
fn both(text: &impl Template, html: &impl Template) -> StoreResult<(String, String)> {
    Ok((text.render().map_err(render_error)?, html.render().map_err(render_error)?))
}

impl Notifier {
    pub fn new(store: Store, config: &Config, wake: Wake) -> Notifier {
        Notifier {
            store,
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            site_name: config.site_name.clone(),
            time_zone: config.time_zone,
            wake,
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// Runs `work` (composing notices) in the background on the runtime the
    /// notifier was made on.
    pub fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        match &self.runtime {
            Some(runtime) => drop(runtime.spawn(work)),
            None => drop(tokio::spawn(work)),
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
        let article_url = self.article_url(&article);
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
        let m = Moderation {
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
        };
        let (text, html) = both(&ModerationText { m: &m }, &ModerationHtml { subject: &subject, m: &m })?;
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

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    n: &'a Notice<'a>,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    n: &'a Notice<'a>,
}

/// A message of the common shape: a lead sentence ending in a link, perhaps a
/// quoted comment, one action, a footer saying why it was sent.
struct Notice<'a> {
    recipient: &'a str,
    kind: &'static str,
    subject: String,
    lead: &'a str,
    link_text: &'a str,
    link_url: &'a str,
    quote: Option<(&'a str, &'a str)>,
    action_text: &'a str,
    action_url: &'a str,
    footer: &'a str,
    unsubscribe_url: Option<String>,
}

impl Notice<'_> {
    fn render(self) -> StoreResult<OutgoingMail> {
        let (text, html) = both(&NoticeText { n: &self }, &NoticeHtml { n: &self })?;
        Ok(OutgoingMail {
            recipient: self.recipient.to_owned(),
            kind: self.kind,
            subject: self.subject,
            text_body: text,
            html_body: html,
            unsubscribe_url: self.unsubscribe_url,
        })
    }
}

/// Most confirmation requests one address gets in a day: the form must not
/// become a way to mail someone over and over.
const MAX_CONFIRMATIONS_PER_DAY: i64 = 3;

/// A random token for the subscription links.
fn new_token() -> String {
    let mut bytes = [0u8; 24];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn same_address(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

impl Notifier {
    /// The site-relative address of the article a message is about.
    pub fn article_path(&self, article: &ArticleNotice) -> String {
        let kind = if article.kind == Kind::Page.as_str() { Kind::Page } else { Kind::Article };
        permalink(kind, &article.slug, article.published_at, self.time_zone)
    }

    fn article_url(&self, article: &ArticleNotice) -> String {
        self.url(&self.article_path(article))
    }

    /// A comment was published (on arrival, by a moderator or as a staff
    /// reply): the article's author hears of it if they asked to, and so do
    /// readers who confirmed they want to hear of replies to the comment it
    /// answers. Nobody is told of their own comment. A failure is logged.
    pub async fn comment_approved(&self, comment_id: i64, now: i64) {
        match self.queue_approval_notices(comment_id, now).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::debug!(comment.id = comment_id, messages = n, "approved comment notified");
                self.wake.ring();
            }
            Err(err) => tracing::warn!(comment.id = comment_id, error = %err, "cannot queue the comment's notices"),
        }
    }

    async fn queue_approval_notices(&self, comment_id: i64, now: i64) -> StoreResult<usize> {
        let comment = self.store.comment(comment_id).await?;
        if Status::parse(&comment.status) != Some(Status::Approved) {
            return Ok(0);
        }
        let article = self.store.article_notice(comment.article_id).await?;
        let author = article.author_email.as_deref().filter(|author| {
            article.author_notify_comments.unwrap_or(0) != 0 && !same_address(author, &comment.author_email)
        });
        let subscribers = match comment.parent_id {
            Some(parent) => self.store.reply_subscribers(parent).await?,
            None => Vec::new(),
        };
        let subscribers: Vec<_> =
            subscribers.into_iter().filter(|s| !same_address(&s.email, &comment.author_email)).collect();
        // Most comments have nobody to tell: no more reading for them.
        if author.is_none() && subscribers.is_empty() {
            return Ok(0);
        }
        let site_name = self.site_name().await?;
        let comment_url = format!("{}#comment-{comment_id}", self.article_url(&article));
        let mut queued = 0;
        if let Some(author) = author {
            let footer = format!(
                "{site_name}. You receive this because you wrote this article; choose what you are told at {}",
                self.url("/admin/notifications")
            );
            let mail = Notice {
                recipient: author,
                kind: "new comment",
                subject: format!("[{site_name}] Comment: \"{}\"", article.headline),
                lead: "A new comment was published on your article",
                link_text: &article.headline,
                link_url: &comment_url,
                quote: Some((&comment.author_name, &comment.body)),
                action_text: "Moderate the article's comments",
                action_url: &self.url("/admin/comments?status=approved"),
                footer: &footer,
                unsubscribe_url: None,
            }
            .render()?;
            self.store.enqueue_mail(&mail, now).await?;
            queued += 1;
        }
        if !subscribers.is_empty() {
            let footer = format!("{site_name}. You receive this because you asked to hear of replies to your comment.");
            for subscription in &subscribers {
                let mail = Notice {
                    recipient: &subscription.email,
                    kind: "reply",
                    subject: format!("[{site_name}] New reply to your comment on \"{}\"", article.headline),
                    lead: "There is a new reply to your comment on",
                    link_text: &article.headline,
                    link_url: &comment_url,
                    quote: Some((&comment.author_name, &comment.body)),
                    action_text: "Read the discussion",
                    action_url: &comment_url,
                    footer: &footer,
                    unsubscribe_url: Some(self.url(&format!("/subscriptions/{}/unsubscribe", subscription.token))),
                }
                .render()?;
                self.store.enqueue_mail(&mail, now).await?;
                queued += 1;
            }
        }
        Ok(queued)
    }

    /// A reader ticked "notify me of replies": the request is recorded and a
    /// confirmation link mailed to the address. Nothing else is sent to it
    /// until that link is followed. The message does not quote the comment:
    /// whoever typed the address may not be its owner.
    pub async fn replies_requested(&self, comment_id: i64, email: &str, now: i64) {
        match self.queue_confirmation(comment_id, email, now).await {
            Ok(true) => self.wake.ring(),
            Ok(false) => {}
            Err(err) => tracing::warn!(comment.id = comment_id, error = %err, "cannot ask to confirm a subscription"),
        }
    }

    async fn queue_confirmation(&self, comment_id: i64, email: &str, now: i64) -> StoreResult<bool> {
        if self.store.unconfirmed_subscriptions(email, now - 86_400).await? >= MAX_CONFIRMATIONS_PER_DAY {
            tracing::info!(comment.id = comment_id, "subscription not recorded: too many unconfirmed for the address");
            return Ok(false);
        }
        let comment = self.store.comment(comment_id).await?;
        let article = self.store.article_notice(comment.article_id).await?;
        let token = new_token();
        self.store.add_reply_subscription(comment_id, email, &token, now).await?;
        let site_name = self.site_name().await?;
        let footer =
            format!("{site_name}. If you did not ask for this, ignore this message: nothing more will be sent to you.");
        let mail = Notice {
            recipient: email,
            kind: "confirm subscription",
            subject: format!("[{site_name}] Confirm: replies to your comment on \"{}\"", article.headline),
            lead: "Someone, we hope you, asked to be told by email of replies to a comment on",
            link_text: &article.headline,
            link_url: &self.article_url(&article),
            quote: None,
            action_text: "Confirm that you want these messages",
            action_url: &self.url(&format!("/subscriptions/{token}/confirm")),
            footer: &footer,
            unsubscribe_url: None,
        }
        .render()?;
        self.store.enqueue_mail(&mail, now).await?;
        Ok(true)
    }
}

/// One comment in a digest.
struct DigestItem {
    state: &'static str,
    headline: String,
    article_url: String,
    author_name: String,
    excerpt: String,
    reason: String,
}

/// What a daily digest says.
struct Digest<'a> {
    held: usize,
    caught: usize,
    items: &'a [DigestItem],
    pending_url: &'a str,
    spam_url: &'a str,
    settings_url: &'a str,
    site_name: &'a str,
}

#[derive(Template)]
#[template(path = "mail/digest.txt")]
struct DigestText<'a> {
    d: &'a Digest<'a>,
}

#[derive(Template)]
#[template(path = "mail/digest.html")]
struct DigestHtml<'a> {
    subject: &'a str,
    d: &'a Digest<'a>,
}

/// Comments a digest lists one by one; it counts them all.
const DIGEST_ITEMS: usize = 50;
/// Characters of each comment a digest quotes.
const DIGEST_EXCERPT: usize = 200;

impl Notifier {
    /// Sends the daily digest to each moderator who chose it and whose last
    /// one is a day old, listing the comments held or caught since; a day with
    /// none sends nothing. Run by the hourly job; returns how many were queued.
    pub async fn moderation_digests(&self, now: i64) -> StoreResult<usize> {
        let mut queued = 0;
        for moderator in self.store.moderators_to_notify(ModerationNotice::Digest).await? {
            let Some(since) = self.store.claim_digest(moderator.id, now - 86_400, now).await? else {
                continue;
            };
            let comments = self.store.comments_for_digest(since, now).await?;
            if comments.is_empty() {
                continue;
            }
            let mut items = Vec::new();
            for (id, _) in comments.iter().take(DIGEST_ITEMS) {
                let comment = self.store.comment(*id).await?;
                let article = self.store.article_notice(comment.article_id).await?;
                let mut excerpt: String = comment.body.chars().take(DIGEST_EXCERPT).collect();
                if comment.body.chars().count() > DIGEST_EXCERPT {
                    excerpt.push('…');
                }
                items.push(DigestItem {
                    state: if comment.status == Status::Spam.as_str() { "Caught as spam" } else { "Held" },
                    article_url: self.article_url(&article),
                    headline: article.headline,
                    author_name: comment.author_name,
                    excerpt,
                    reason: comment.reason.unwrap_or_default(),
                });
            }
            let caught = comments.iter().filter(|(_, status)| status == Status::Spam.as_str()).count();
            let held = comments.len() - caught;
            let site_name = self.site_name().await?;
            let subject = format!("[{site_name}] Daily digest: {held} held, {caught} caught as spam");
            let pending_url = self.url("/admin/comments?status=pending");
            let spam_url = self.url("/admin/comments?status=spam");
            let settings_url = self.url("/admin/notifications");
            let d = Digest {
                held,
                caught,
                items: &items,
                pending_url: &pending_url,
                spam_url: &spam_url,
                settings_url: &settings_url,
                site_name: &site_name,
            };
            let (text, html) = both(&DigestText { d: &d }, &DigestHtml { subject: &subject, d: &d })?;
            let mail = OutgoingMail {
                recipient: moderator.email,
                kind: "moderation digest",
                subject,
                text_body: text,
                html_body: html,
                unsubscribe_url: None,
            };
            // Due at once, whatever period it covers.
            self.store.enqueue_mail(&mail, now.min(chrono::Utc::now().timestamp())).await?;
            queued += 1;
        }
        if queued > 0 {
            self.wake.ring();
        }
        Ok(queued)
    }
}

fn render_error(err: askama::Error) -> crate::store::StoreError {
    crate::store::StoreError::Rejected(format!("a message could not be rendered: {err}"))
}
