//! The demo site: original, clearly-marked demo articles and pages about a
//! fictional city, built into the binary as ordinary source files (`demo/`)
//! and published through the same path as `broadsheet publish`; then a
//! discussion under the lead story (`demo/discussion.toml`), whose readers'
//! comments meet the moderation policy and the spam filter as any would.

use anyhow::Context;
use chrono::{DateTime, Duration, Utc};
use include_dir::{Dir, include_dir};

use crate::config::Config;
use crate::discussion::{self, Submission};
use crate::domain::article::{Kind, Publication};
use crate::domain::comment::{Status, ValidComment};
use crate::domain::moderation::DiscussionSettings;
use crate::domain::source;
use crate::publishing::{self, ImageBytes};
use crate::setup;
use crate::spam::SpamEngine;
use crate::store::{History, Listing, NewComment, Store};

static DEMO: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo");

/// Hours between demo articles, newest first, so the front page looks current.
const SPACING_HOURS: i64 = 9;

/// Publishes the demo site when this is the first start of an empty database.
pub async fn install_if_fresh(
    store: &Store,
    config: &Config,
    spam: &SpamEngine,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    if setup::is_initialized(store).await? || store.count_articles(Listing::Front, i64::MAX).await? > 0 {
        return Ok(());
    }
    let mut sources: Vec<_> = ["articles", "pages"]
        .iter()
        .filter_map(|dir| DEMO.get_dir(dir))
        .flat_map(|dir| dir.files())
        .filter(|file| file.path().extension().is_some_and(|ext| ext == "md"))
        .collect();
    sources.sort_by_key(|file| file.path());
    let mut articles = 0;
    for file in sources {
        let name = file.path().display().to_string();
        let text = file.contents_utf8().ok_or_else(|| anyhow::anyhow!("demo/{name} is not UTF-8"))?;
        let mut draft = source::parse(text).map_err(|err| anyhow::anyhow!("demo/{name}: {err}"))?;
        // Articles are dated back from now, one every few hours, first file newest.
        let published = now - Duration::hours(1 + articles * SPACING_HOURS);
        if draft.kind == crate::domain::article::Kind::Article {
            articles += 1;
        }
        draft.publication = Publication::At(Some(crate::domain::article::PublishDate::Fixed(published.fixed_offset())));
        let image = match &draft.image {
            Some(image) => {
                let file_name = image.src.rsplit('/').next().unwrap_or(&image.src);
                let bytes = DEMO
                    .get_file(format!("images/{file_name}"))
                    .ok_or_else(|| anyhow::anyhow!("demo/{name}: image {} is missing", image.src))?
                    .contents();
                Some(ImageBytes { name: file_name, bytes })
            }
            None => None,
        };
        publishing::publish_draft(store, config, &draft, image, now)
            .await
            .map_err(|err| anyhow::anyhow!("demo/{name}: {err}"))?;
    }
    let comments = install_discussion(store, spam, now).await?;
    tracing::info!(articles, comments, "installed the demo site");
    Ok(())
}

/// `demo/discussion.toml`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Discussion {
    article: String,
    comment: Vec<DemoComment>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DemoComment {
    key: String,
    parent: Option<String>,
    name: String,
    email: String,
    url: Option<String>,
    minutes_ago: i64,
    /// `approved` and `staff` are stored as they are; `reader` goes through
    /// the moderation policy and the spam filter as a first-time commenter.
    status: String,
    text: String,
}

/// Stores the demo discussion; returns how many comments it has.
async fn install_discussion(store: &Store, spam: &SpamEngine, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let text = DEMO.get_file("discussion.toml").and_then(|f| f.contents_utf8()).unwrap_or_default();
    let discussion: Discussion = toml::from_str(text).context("demo/discussion.toml")?;
    let article =
        store.article_row(Kind::Article, &discussion.article).await.context("the demo discussion's article")?;
    let settings = DiscussionSettings::default();
    let mut ids: Vec<(String, i64)> = Vec::new();
    for (n, c) in discussion.comment.iter().enumerate() {
        let at = (now - Duration::minutes(c.minutes_ago)).timestamp();
        let parent_id = match &c.parent {
            Some(key) => Some(
                ids.iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, id)| *id)
                    .ok_or_else(|| anyhow::anyhow!("demo/discussion.toml: no earlier comment {key:?}"))?,
            ),
            None => None,
        };
        let comment = ValidComment {
            author_name: c.name.clone(),
            author_email: c.email.clone(),
            author_url: c.url.clone(),
            body: c.text.clone(),
            parent_id,
        };
        // Documentation addresses (RFC 5737), one per commenter.
        let ip = format!("192.0.2.{}", n + 10);
        let (status, reason, spam_score, is_staff) = match c.status.as_str() {
            "approved" => (Status::Approved, "demo comment".to_owned(), None, false),
            "staff" => (Status::Approved, "staff reply (demo)".to_owned(), None, true),
            "reader" => {
                let submission = Submission {
                    article_id: article.id,
                    comment: comment.clone(),
                    ip: ip.clone(),
                    user_agent: Some(DEMO_BROWSER.to_owned()),
                    seconds_since_render: 90,
                    honeypot_filled: false,
                    subscribe_to_replies: false,
                    now: at,
                };
                let (verdict, opinion) = discussion::judge(spam, &settings, &submission, History::default());
                let (status, reason) = discussion::placement(&verdict, &opinion)
                    .ok_or_else(|| anyhow::anyhow!("demo comment {:?} would be discarded", c.key))?;
                (status, reason, Some(opinion.score), false)
            }
            other => anyhow::bail!("demo/discussion.toml: comment {:?} has status {other:?}", c.key),
        };
        let new = NewComment {
            article_id: article.id,
            parent_id,
            author_name: comment.author_name,
            author_email: comment.author_email,
            author_url: comment.author_url,
            body_html: crate::domain::comment::render_body(&comment.body),
            body: comment.body,
            status,
            reason: Some(reason),
            spam_score,
            is_staff,
            ip: (!is_staff).then_some(ip),
            user_agent: (!is_staff).then(|| DEMO_BROWSER.to_owned()),
            now: at,
        };
        let inserted = store.insert_comments(std::slice::from_ref(&new)).await.0.pop();
        let id = inserted.ok_or_else(|| anyhow::anyhow!("the demo comment was not stored"))??.id;
        ids.push((c.key.clone(), id));
    }
    Ok(ids.len())
}

/// What the demo's readers browse with.
const DEMO_BROWSER: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";
