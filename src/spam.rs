//! The spam engine in the application: the shipped model, one learning copy
//! per site (site 0 is this Broadsheet site; API keys are the others), and
//! every lesson kept in the database and replayed at start, so that no
//! moderator's decision is lost on restart.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use spamfilter::{Comment, Context, Decision, Filter, Label, Model, Scratch, Verdict};

use crate::store::{LogCursor, Store, StoreResult};

/// The model `broadsheet spam train` writes, built into the binary.
pub const SHIPPED_MODEL: &[u8] = include_bytes!("../models/spam-model.bin");
/// Where `spam train` writes the model in the source tree.
pub const SHIPPED_MODEL_PATH: &str = "models/spam-model.bin";

/// This Broadsheet site's own comments.
pub const LOCAL_SITE: i64 = 0;

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::new());
}

/// A comment as the filter reads it, owned so that it can be stored as a
/// lesson. It keeps the email's domain only, never the address or an IP.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpamInput {
    pub text: String,
    pub links: Option<u32>,
    pub author_url: Option<String>,
    pub author_name: Option<String>,
    pub email_domain: Option<String>,
    pub user_agent_missing: bool,
    pub seconds_to_submit: Option<f32>,
    pub honeypot_filled: bool,
    pub author_approved: Option<u32>,
    pub author_spam: Option<u32>,
    pub ip_recent_spam: Option<u32>,
}

impl SpamInput {
    /// What the filter reads of a comment from its text and its author's
    /// fields: the links in the text, the name, the website and the email's
    /// domain. Context (timing, history, browser) is the caller's to add.
    pub fn of_comment(text: &str, author_name: Option<&str>, email: Option<&str>, author_url: Option<&str>) -> Self {
        SpamInput {
            text: text.to_owned(),
            links: u32::try_from(crate::domain::comment::count_links(text)).ok(),
            author_url: author_url.map(str::to_owned),
            author_name: author_name.map(str::to_owned),
            email_domain: email.and_then(SpamInput::domain_of),
            ..SpamInput::default()
        }
    }

    /// Keeps only the domain of an email address.
    pub fn domain_of(email: &str) -> Option<String> {
        email.rsplit_once('@').map(|(_, domain)| domain.to_ascii_lowercase()).filter(|d| !d.is_empty())
    }

    fn with_comment<T>(&self, use_it: impl FnOnce(&Comment<'_>) -> T) -> T {
        let email = self.email_domain.as_ref().map(|d| format!("someone@{d}"));
        let context = Context {
            links: self.links,
            author_url: self.author_url.as_deref(),
            author_name: self.author_name.as_deref(),
            email: email.as_deref(),
            user_agent_missing: self.user_agent_missing,
            seconds_to_submit: self.seconds_to_submit,
            honeypot_filled: self.honeypot_filled,
            author_approved: self.author_approved,
            author_spam: self.author_spam,
            ip_recent_spam: self.ip_recent_spam,
        };
        use_it(&Comment::with_context(&self.text, context))
    }
}

/// The shared model and each site's learning copy.
///
/// The database's lesson log is the truth: `teach` appends a lesson and
/// `catch_up` applies lessons in order, in every process, so lessons given
/// through the command line reach a running server too.
pub struct SpamEngine {
    base: Arc<Model>,
    sites: RwLock<HashMap<i64, Arc<RwLock<Filter>>>>,
    /// How far the lessons have been read; made at the first catch-up.
    lessons: std::sync::Mutex<Option<LogCursor>>,
    catching_up: tokio::sync::Mutex<()>,
}

impl SpamEngine {
    /// Loads the model from `path`, or the shipped one; a damaged model is an
    /// error, never a silently untrained filter.
    pub fn load(path: Option<&Path>) -> anyhow::Result<SpamEngine> {
        let model = match path {
            Some(path) => {
                let bytes =
                    std::fs::read(path).with_context(|| format!("cannot read the spam model {}", path.display()))?;
                Model::read_from(&mut &bytes[..])
                    .map_err(|err| anyhow::anyhow!("the spam model {} is unusable: {err}", path.display()))?
            }
            None => Model::read_from(&mut &SHIPPED_MODEL[..])
                .map_err(|err| anyhow::anyhow!("the built-in spam model is unusable: {err}"))?,
        };
        Ok(SpamEngine::new(Arc::new(model)))
    }

    /// An engine on `model`, with no lessons learnt yet.
    pub fn new(model: Arc<Model>) -> SpamEngine {
        SpamEngine {
            base: model,
            sites: RwLock::new(HashMap::new()),
            lessons: std::sync::Mutex::new(None),
            catching_up: tokio::sync::Mutex::new(()),
        }
    }

    /// Applies the lessons recorded since the last call; returns how many.
    /// Each lesson is learnt once, even on PostgreSQL, where a lesson can
    /// commit after one with a larger number was read (see `LogCursor`).
    pub async fn catch_up(&self, store: &Store) -> StoreResult<usize> {
        let _one_at_a_time = self.catching_up.lock().await;
        let after = {
            let mut cursor = self.lessons.lock().unwrap_or_else(|p| p.into_inner());
            let cursor = cursor.get_or_insert_with(|| LogCursor::new(0, store.log_window()));
            cursor.read_after()
        };
        // The numbers first (cheap); the lessons only from the first new one.
        let ids = store.lesson_ids_after(after).await?;
        let new: Vec<i64> = {
            let mut cursor = self.lessons.lock().unwrap_or_else(|p| p.into_inner());
            ids.into_iter().filter(|&id| cursor.as_mut().is_some_and(|c| c.take(id))).collect()
        };
        let Some(&first) = new.first() else { return Ok(0) };
        let lessons = store.lessons_after(first - 1).await?;
        let mut learnt = 0;
        for lesson in lessons.iter().filter(|lesson| new.binary_search(&lesson.id).is_ok()) {
            match serde_json::from_str::<SpamInput>(&lesson.comment) {
                Ok(input) => self.learn(lesson.site, &input, lesson.is_spam != 0),
                Err(err) => tracing::warn!(lesson.id = lesson.id, error = %err, "skipping an unreadable spam lesson"),
            }
            learnt += 1;
        }
        Ok(learnt)
    }

    fn site(&self, site: i64) -> Arc<RwLock<Filter>> {
        if let Some(filter) = self.sites.read().unwrap_or_else(|p| p.into_inner()).get(&site) {
            return Arc::clone(filter);
        }
        let mut sites = self.sites.write().unwrap_or_else(|p| p.into_inner());
        Arc::clone(sites.entry(site).or_insert_with(|| Arc::new(RwLock::new(Filter::new(Arc::clone(&self.base))))))
    }

    /// The verdict of `site`'s copy on a comment.
    pub fn check(&self, site: i64, input: &SpamInput) -> Verdict {
        self.read(site, input, Filter::classify)
    }

    /// The decision alone for `site`, without reasons (the Akismet API answers only "spam or not").
    pub fn decide(&self, site: i64, input: &SpamInput) -> Decision {
        self.read(site, input, Filter::decide)
    }

    /// Runs `f` on `site`'s copy, read-locked, with this thread's scratch space.
    fn read<T>(&self, site: i64, input: &SpamInput, f: impl FnOnce(&Filter, &mut Scratch, &Comment<'_>) -> T) -> T {
        let filter = self.site(site);
        let filter = filter.read().unwrap_or_else(|p| p.into_inner());
        SCRATCH.with_borrow_mut(|scratch| input.with_comment(|comment| f(&filter, scratch, comment)))
    }

    /// Records a moderator's lesson (committed before this returns), then
    /// teaches it, with any other new lessons, to the sites' copies.
    /// `comment_id` names the comment of this site it came from, if any.
    pub async fn teach(
        &self,
        store: &Store,
        site: i64,
        input: &SpamInput,
        is_spam: bool,
        comment_id: Option<i64>,
        now: i64,
    ) -> StoreResult<()> {
        let json = serde_json::to_string(input).unwrap_or_default();
        store.add_lesson(site, is_spam, &json, comment_id, now).await?;
        self.catch_up(store).await?;
        Ok(())
    }

    fn learn(&self, site: i64, input: &SpamInput, is_spam: bool) {
        let label = if is_spam { Label::Spam } else { Label::Ham };
        let filter = self.site(site);
        let mut filter = filter.write().unwrap_or_else(|p| p.into_inner());
        SCRATCH.with_borrow_mut(|scratch| input.with_comment(|comment| filter.learn(scratch, comment, label)));
    }
}

/// The reasons of a verdict, as one line for the moderator.
pub fn explain(verdict: &Verdict) -> String {
    verdict.reasons.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lessons_move_a_site_verdict() {
        let engine = SpamEngine::load(None).expect("shipped model");
        let input = SpamInput {
            text: "The harbour board meeting minutes are online now, page two has the ferry vote.".into(),
            author_name: Some("Sam".into()),
            ..SpamInput::default()
        };
        let before = engine.check(1, &input).probability;
        for _ in 0..10 {
            engine.learn(1, &input, true);
        }
        let after = engine.check(1, &input);
        eprintln!("before {before} after {} {:?}", after.probability, after.decision);
        assert!(after.probability > before);
        assert!(after.decision.is_spam(), "ten lessons flip an identical comment");
        assert!(!engine.check(2, &input).decision.is_spam(), "another site is unaffected");
    }
}
