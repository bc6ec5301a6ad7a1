//! Publishing: from a validated draft to a stored article, its image in the
//! media directory and the cache tags it touches logged for every server.
//!
//! The `publish` command, the demo site and (later) the admin all publish
//! through `publish_draft`.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use crate::config::Config;
use crate::domain::article::{ArticleDraft, Kind, Publication};
use crate::domain::markdown;
use crate::media;
use crate::store::{PublishAt, SaveArticle, Saved, SavedImage, Store, StoreError, Target};

/// Why a draft could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Store(#[source] StoreError),
}

impl From<StoreError> for PublishError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Rejected(message) => PublishError::Invalid(message),
            other => PublishError::Store(other),
        }
    }
}

/// An image that has been read but not yet stored.
pub struct ImageBytes<'a> {
    pub name: &'a str,
    pub bytes: &'a [u8],
}

/// Publishes one draft. `image` holds the bytes of a local featured image;
/// without them the draft's image source must be a URL.
pub async fn publish_draft(
    store: &Store,
    config: &Config,
    draft: &ArticleDraft,
    image: Option<ImageBytes<'_>>,
    now: DateTime<Utc>,
) -> Result<Saved, PublishError> {
    save_draft(store, config, draft, image, now, Target::BySlug, None).await
}

/// [`publish_draft`] for the admin: a new article owned by `created_by`, or
/// an edit of a known one (refused if it changed since).
pub async fn save_draft(
    store: &Store,
    config: &Config,
    draft: &ArticleDraft,
    image: Option<ImageBytes<'_>>,
    now: DateTime<Utc>,
    target: Target,
    created_by: Option<i64>,
) -> Result<Saved, PublishError> {
    let saved_image = match (&draft.image, image) {
        (None, _) => None,
        (Some(img), Some(bytes)) => {
            let media = media::MediaStore::open(&config.media_location())
                .map_err(|e| PublishError::Invalid(format!("{e:#}")))?;
            let stored = media::store_image(&media, bytes.name, bytes::Bytes::copy_from_slice(bytes.bytes))
                .await
                .map_err(|e| PublishError::Invalid(e.to_string()))?;
            Some(SavedImage {
                src: stored.url,
                alt: img.alt.clone(),
                caption: img.caption.clone(),
                credit: img.credit.clone(),
                width: stored.width,
                height: stored.height,
            })
        }
        (Some(img), None) if is_url(&img.src) => {
            // An image of the media library brings its size.
            let known = match img.src.starts_with("/media/") {
                true => store.media_by_url(&img.src).await?,
                false => None,
            };
            Some(SavedImage {
                src: img.src.clone(),
                alt: img.alt.clone(),
                caption: img.caption.clone(),
                credit: img.credit.clone(),
                width: known.as_ref().and_then(|m| m.width),
                height: known.as_ref().and_then(|m| m.height),
            })
        }
        (Some(img), None) => return Err(PublishError::Invalid(format!("image {:?} was not supplied", img.src))),
    };
    let publish = match draft.publication {
        Publication::Draft => PublishAt::Draft,
        Publication::At(None) => PublishAt::KeepElseNow,
        Publication::At(Some(date)) => PublishAt::At(
            date.resolve(config.time_zone)
                .ok_or_else(|| PublishError::Invalid("the date does not exist in the site's time zone".into()))?
                .timestamp(),
        ),
    };
    if draft.kind == Kind::Page && !draft.categories.is_empty() {
        return Err(PublishError::Invalid("pages have no categories; remove `categories`".into()));
    }
    let body_html = markdown::render(&draft.body_markdown);
    let input = SaveArticle {
        kind: draft.kind,
        slug: &draft.slug,
        headline: &draft.headline,
        standfirst: &draft.standfirst,
        body_markdown: &draft.body_markdown,
        body_html: &body_html,
        byline: draft.byline.as_deref(),
        agency: draft.agency.as_deref(),
        categories: &draft.categories,
        tags: &draft.tags,
        image: saved_image,
        publish,
        comments_open: draft.comments_open,
        now: now.timestamp(),
        target,
        created_by,
    };
    Ok(store.save_article(&input).await?)
}

/// True for an image source that is already an address rather than a file.
pub fn is_url(src: &str) -> bool {
    src.starts_with("https://") || src.starts_with("http://") || src.starts_with('/')
}

/// The public address of an article published at `at`: `/{yyyy}/{mm}/{dd}/{slug}/`
/// by the date in the site's time zone; a page's is `/{slug}/`.
pub fn permalink(kind: Kind, slug: &str, published_at: Option<i64>, tz: Tz) -> String {
    match (kind, published_at.and_then(|at| DateTime::<Utc>::from_timestamp(at, 0))) {
        (Kind::Article, Some(at)) => {
            let local = at.with_timezone(&tz);
            format!("/{:04}/{:02}/{:02}/{slug}/", local.year(), local.month(), local.day())
        }
        _ => format!("/{slug}/"),
    }
}
