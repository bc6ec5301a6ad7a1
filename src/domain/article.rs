//! Articles and static pages as the newsroom writes them.

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::slug::Slug;

/// An article appears in listings and has a dated address; a page lives at `/{slug}/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Article,
    Page,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Article => "article",
            Kind::Page => "page",
        }
    }
}

/// When the piece goes public.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Publication {
    /// Never public until published.
    Draft,
    /// Public from this moment (a future moment means scheduled); `None` is "now".
    At(Option<PublishDate>),
}

/// A publication time as written: with an offset, or local to the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublishDate {
    Fixed(DateTime<FixedOffset>),
    Local(NaiveDateTime),
}

impl PublishDate {
    /// The instant this date names, reading local dates in the site's zone.
    pub fn resolve(self, tz: Tz) -> Option<DateTime<Utc>> {
        match self {
            PublishDate::Fixed(at) => Some(at.with_timezone(&Utc)),
            PublishDate::Local(at) => tz.from_local_datetime(&at).earliest().map(|at| at.with_timezone(&Utc)),
        }
    }
}

/// A featured image as the source names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// A path relative to the source file, or an absolute `http(s)://` or `/media/` URL.
    pub src: String,
    pub alt: String,
    pub caption: String,
    pub credit: String,
}

/// A category as a path from the top: `["News", "Local"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryPath(pub Vec<String>);

/// Everything needed to create or update one article or page; validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleDraft {
    pub kind: Kind,
    pub slug: Slug,
    pub headline: String,
    pub standfirst: String,
    pub body_markdown: String,
    pub byline: Option<String>,
    pub agency: Option<String>,
    pub categories: Vec<CategoryPath>,
    pub tags: Vec<String>,
    pub image: Option<ImageRef>,
    pub publication: Publication,
    pub comments_open: bool,
}

/// Length limits, checked once when a draft is made.
pub const MAX_HEADLINE: usize = 300;
pub const MAX_STANDFIRST: usize = 1_000;
pub const MAX_NAME: usize = 100;
pub const MAX_BODY: usize = 1_000_000;
