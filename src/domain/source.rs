//! Article source files: Markdown with TOML front matter between `+++` lines.
//!
//! ```text
//! +++
//! headline = "Harbour board approves a night-time ferry trial"
//! categories = ["News > Local", "Transport"]
//! tags = ["ferries"]
//! date = 2026-11-20T09:30:00+01:00
//! [image]
//! src = "images/ferry.jpg"
//! caption = "The night ferry leaves the quay."
//! credit = "Photo: A. Reporter via Broadsheet"
//! +++
//! Body in Markdown.
//! ```
//!
//! Errors carry the line they are about, counted from the top of the file.

use std::fmt;

use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;

use super::article::{
    ArticleDraft, CategoryPath, ImageRef, Kind, MAX_BODY, MAX_HEADLINE, MAX_NAME, MAX_STANDFIRST, Publication,
    PublishDate,
};
use super::slug::Slug;

/// A problem in a source file, at a line (1-based) when one can be named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceError {
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for SourceError {}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    headline: String,
    slug: Option<String>,
    #[serde(default)]
    standfirst: String,
    byline: Option<String>,
    agency: Option<String>,
    #[serde(default)]
    categories: Vec<String>,
    #[serde(default)]
    tags: Vec<String>,
    date: Option<toml::value::Datetime>,
    status: Option<String>,
    kind: Option<String>,
    comments: Option<bool>,
    image: Option<FrontImage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FrontImage {
    src: String,
    #[serde(default)]
    alt: String,
    #[serde(default)]
    caption: String,
    #[serde(default)]
    credit: String,
}

/// Parses one source file into a validated draft.
pub fn parse(text: &str) -> Result<ArticleDraft, SourceError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or_default();
    if first.trim_end() != "+++" {
        return Err(at(1, "the file must start with a `+++` line opening the TOML front matter"));
    }
    let front_start = first.len();
    let mut offset = front_start;
    let mut front_end = None;
    for line in lines {
        if line.trim_end() == "+++" {
            front_end = Some((offset, offset + line.len()));
            break;
        }
        offset += line.len();
    }
    let Some((front_end, body_start)) = front_end else {
        return Err(at(1, "the front matter opened here is never closed by a `+++` line"));
    };
    let front = &text[front_start..front_end];
    let line_of = |byte: usize| text[..byte].matches('\n').count() + 1;

    let fm: FrontMatter = toml::from_str(front).map_err(|err| SourceError {
        line: err.span().map(|span| line_of(front_start + span.start)),
        message: err.message().trim_end().to_owned(),
    })?;
    // Find the line of a key for messages about its value.
    let key_line = |key: &str| {
        front
            .lines()
            .position(|l| l.trim_start().starts_with(key) && l.trim_start()[key.len()..].trim_start().starts_with('='))
            .map(|n| line_of(front_start) + n)
    };
    let fail = |key: &str, message: String| SourceError { line: key_line(key), message };

    let headline = fm.headline.trim().to_owned();
    if headline.is_empty() || headline.chars().count() > MAX_HEADLINE {
        return Err(fail("headline", format!("headline must be 1 to {MAX_HEADLINE} characters")));
    }
    let standfirst = fm.standfirst.trim().to_owned();
    if standfirst.chars().count() > MAX_STANDFIRST {
        return Err(fail("standfirst", format!("standfirst must be at most {MAX_STANDFIRST} characters")));
    }
    let slug = match &fm.slug {
        Some(slug) => Slug::parse(slug.trim()).map_err(|msg| fail("slug", msg))?,
        None => Slug::from_title(&headline).map_err(|msg| fail("headline", msg))?,
    };
    let kind = match fm.kind.as_deref() {
        None | Some("article") => Kind::Article,
        Some("page") => Kind::Page,
        Some(other) => return Err(fail("kind", format!("kind {other:?} is not \"article\" or \"page\""))),
    };
    if kind == Kind::Page && !slug.is_free_for_page() {
        return Err(fail("slug", format!("slug {slug:?} is reserved for the site's own addresses; choose another")));
    }
    let date = fm.date.map(|d| parse_date(&d).map_err(|msg| fail("date", msg))).transpose()?;
    let publication = match fm.status.as_deref() {
        None | Some("published") | Some("scheduled") => Publication::At(date),
        Some("draft") => Publication::Draft,
        Some(other) => {
            return Err(fail("status", format!("status {other:?} is not \"published\", \"scheduled\" or \"draft\"")));
        }
    };
    if fm.status.as_deref() == Some("scheduled") && date.is_none() {
        return Err(fail("status", "a scheduled article needs a `date` to publish at".to_owned()));
    }
    let byline = optional_name(fm.byline).map_err(|msg| fail("byline", msg))?;
    let agency = optional_name(fm.agency).map_err(|msg| fail("agency", msg))?;
    let categories = fm
        .categories
        .iter()
        .map(|c| parse_category(c).map_err(|msg| fail("categories", msg)))
        .collect::<Result<Vec<_>, _>>()?;
    let tags = fm
        .tags
        .iter()
        .map(|t| {
            let t = t.trim();
            if t.is_empty() || t.chars().count() > MAX_NAME {
                return Err(fail("tags", format!("each tag must be 1 to {MAX_NAME} characters")));
            }
            Slug::from_title(t).map_err(|msg| fail("tags", msg))?;
            Ok(t.to_owned())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let image = fm.image.map(|img| ImageRef {
        src: img.src.trim().to_owned(),
        alt: img.alt.trim().to_owned(),
        caption: img.caption.trim().to_owned(),
        credit: img.credit.trim().to_owned(),
    });
    if image.as_ref().is_some_and(|img| img.src.is_empty()) {
        return Err(fail("src", "image src is empty".to_owned()));
    }
    let body_markdown = text[body_start..].trim().to_owned();
    if body_markdown.is_empty() {
        return Err(at(line_of(body_start.min(text.len())), "the body after the front matter is empty"));
    }
    if body_markdown.len() > MAX_BODY {
        return Err(at(line_of(body_start), "the body is longer than 1 MB"));
    }
    Ok(ArticleDraft {
        kind,
        slug,
        headline,
        standfirst,
        body_markdown,
        byline,
        agency,
        categories,
        tags,
        image,
        publication,
        comments_open: fm.comments.unwrap_or(kind == Kind::Article),
    })
}

fn at(line: usize, message: &str) -> SourceError {
    SourceError { line: Some(line), message: message.to_owned() }
}

fn optional_name(value: Option<String>) -> Result<Option<String>, String> {
    match value.map(|v| v.trim().to_owned()) {
        Some(v) if v.chars().count() > MAX_NAME => Err(format!("names must be at most {MAX_NAME} characters")),
        Some(v) if v.is_empty() => Ok(None),
        other => Ok(other),
    }
}

fn parse_category(text: &str) -> Result<CategoryPath, String> {
    let parts: Vec<String> = text.split('>').map(|p| p.trim().to_owned()).collect();
    if parts.iter().any(|p| p.is_empty() || p.chars().count() > MAX_NAME) {
        return Err(format!("category {text:?} must be names of 1 to {MAX_NAME} characters joined by \" > \""));
    }
    for part in &parts {
        Slug::from_title(part)?;
    }
    Ok(CategoryPath(parts))
}

fn parse_date(date: &toml::value::Datetime) -> Result<PublishDate, String> {
    let text = date.to_string();
    if date.date.is_none() || date.time.is_none() {
        return Err(format!("date {text} needs a day and a time, e.g. 2026-11-20T09:30:00+01:00"));
    }
    if date.offset.is_some() {
        DateTime::parse_from_rfc3339(&text).map(PublishDate::Fixed).map_err(|e| format!("date {text}: {e}"))
    } else {
        NaiveDateTime::parse_from_str(&text, "%Y-%m-%dT%H:%M:%S%.f")
            .map(PublishDate::Local)
            .map_err(|e| format!("date {text}: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nheadline = \"Ferry trial starts\"\ncategories = [\"News > Local\"]\ntags = [\"ferries\"]\ndate = 2026-11-20T09:30:00+01:00\n[image]\nsrc = \"img/ferry.svg\"\ncaption = \"The ferry\"\ncredit = \"Photo: A\"\n+++\nBody *here*.\n";

    #[test]
    fn parses_a_full_file() {
        let draft = parse(GOOD).expect("valid");
        assert_eq!(draft.slug.as_str(), "ferry-trial-starts");
        assert_eq!(draft.categories, vec![CategoryPath(vec!["News".into(), "Local".into()])]);
        assert_eq!(draft.body_markdown, "Body *here*.");
        assert!(matches!(draft.publication, Publication::At(Some(PublishDate::Fixed(_)))));
        assert_eq!(draft.image.expect("image").src, "img/ferry.svg");
    }

    #[test]
    fn errors_name_the_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("headline = \"x\"\n+++\nbody", 1, "start with"),
            ("+++\nheadline = \"x\"\nbody", 1, "never closed"),
            ("+++\nheadline = \"x\"\ntags = [\"a\"\n+++\nbody", 3, ""),
            ("+++\nheadline = \"x\"\nsurprise = 1\n+++\nbody", 3, "surprise"),
            ("+++\nheadline = \"x\"\nslug = \"Bad Slug\"\n+++\nbody", 3, "slug"),
            ("+++\nheadline = \"x\"\n\nstatus = \"maybe\"\n+++\nbody", 4, "status"),
            ("+++\nheadline = \"x\"\ndate = 2026-11-20\n+++\nbody", 3, "time"),
            ("+++\nheadline = \"x\"\n+++\n\n", 4, "empty"),
            ("+++\nheadline = \"\"\n+++\nbody", 2, "headline"),
            ("+++\nheadline = \"x\"\nkind = \"page\"\nslug = \"category\"\n+++\nbody", 4, "reserved"),
        ];
        for (text, line, needle) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.line, Some(*line), "{text:?}: {err}");
            assert!(err.message.contains(needle), "{text:?}: {err}");
        }
    }
}
