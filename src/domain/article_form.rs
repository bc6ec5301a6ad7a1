//! The admin's article form: what the editor sent, checked field by field
//! into an [`ArticleDraft`], with a message next to each field at fault.

use chrono::NaiveDateTime;

use super::article::{ArticleDraft, CategoryPath, ImageRef, Kind, MAX_BODY, MAX_HEADLINE, MAX_NAME, MAX_STANDFIRST};
use super::article::{Publication, PublishDate};
use super::comment::FieldErrors;
use super::slug::Slug;

/// What the editor asks for with the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    /// Show the preview; store nothing.
    Preview,
    /// Save as a draft (unpublishing a published article).
    Draft,
    /// Publish now, or at `publish_at` (later: scheduled).
    Publish,
}

/// The form as sent; every field a string, untrusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ArticleForm {
    pub headline: String,
    pub slug: String,
    pub standfirst: String,
    pub body: String,
    pub byline: String,
    pub agency: String,
    /// Category numbers ticked.
    pub categories: Vec<String>,
    /// Comma-separated.
    pub tags: String,
    pub image_src: String,
    pub image_alt: String,
    pub image_caption: String,
    pub image_credit: String,
    /// `YYYY-MM-DDTHH:MM` in the site's time zone (a `datetime-local` input).
    pub publish_at: String,
    pub comments_open: bool,
    /// The version the editor started from (empty for a new article).
    pub version: String,
    pub csrf: String,
    pub intent: String,
}

impl ArticleForm {
    /// Reads the form's fields; repeated `category` fields are the ticked categories.
    pub fn from_pairs(pairs: &[(String, String)]) -> ArticleForm {
        let mut form = ArticleForm::default();
        for (name, value) in pairs {
            let value = value.clone();
            match name.as_str() {
                "headline" => form.headline = value,
                "slug" => form.slug = value,
                "standfirst" => form.standfirst = value,
                "body" => form.body = value,
                "byline" => form.byline = value,
                "agency" => form.agency = value,
                "category" => form.categories.push(value),
                "tags" => form.tags = value,
                "image_src" => form.image_src = value,
                "image_alt" => form.image_alt = value,
                "image_caption" => form.image_caption = value,
                "image_credit" => form.image_credit = value,
                "publish_at" => form.publish_at = value,
                "comments_open" => form.comments_open = true,
                "version" => form.version = value,
                "csrf" => form.csrf = value,
                "intent" => form.intent = value,
                _ => {}
            }
        }
        form
    }

    pub fn intent(&self) -> Option<Intent> {
        match self.intent.as_str() {
            "preview" => Some(Intent::Preview),
            "draft" => Some(Intent::Draft),
            "publish" => Some(Intent::Publish),
            _ => None,
        }
    }

    /// The category numbers ticked, as numbers.
    pub fn category_ids(&self) -> Vec<i64> {
        self.categories.iter().filter_map(|c| c.trim().parse().ok()).collect()
    }

    /// Checks every field. `known` maps category numbers to their paths;
    /// a number it does not know is refused.
    pub fn to_draft(
        &self,
        kind: Kind,
        intent: Intent,
        known: &dyn Fn(i64) -> Option<CategoryPath>,
    ) -> Result<ArticleDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let headline = self.headline.trim().to_owned();
        if headline.is_empty() {
            errors.insert("headline", "Please write a headline.".into());
        } else if headline.chars().count() > MAX_HEADLINE {
            errors.insert("headline", format!("The headline is too long: at most {MAX_HEADLINE} characters."));
        }
        let slug = if self.slug.trim().is_empty() {
            Slug::from_title(&headline).map_err(|_| "Make the headline contain letters or digits, or give a slug.")
        } else {
            Slug::parse(self.slug.trim())
                .map_err(|_| "A slug is lowercase letters, digits and hyphens, such as night-ferry-trial.")
        };
        let slug = match slug {
            Ok(slug) if kind == Kind::Page && !slug.is_free_for_page() => {
                errors
                    .insert("slug", format!("“{}” is one of the site's own addresses; choose another.", slug.as_str()));
                None
            }
            Ok(slug) => Some(slug),
            Err(message) => {
                // A slug made from a faulty headline: the headline's message says it.
                if !self.slug.trim().is_empty() || !errors.contains_key("headline") {
                    errors.insert("slug", message.into());
                }
                None
            }
        };
        let standfirst = self.standfirst.trim().to_owned();
        if standfirst.chars().count() > MAX_STANDFIRST {
            errors.insert("standfirst", format!("The standfirst is too long: at most {MAX_STANDFIRST} characters."));
        }
        let body_markdown = self.body.trim().replace("\r\n", "\n");
        if body_markdown.is_empty() {
            errors.insert("body", "Please write the article's text.".into());
        } else if body_markdown.len() > MAX_BODY {
            errors.insert("body", "The text is longer than 1 MB.".into());
        }
        let mut name = |field: &'static str, value: &str| {
            let value = value.trim();
            if value.chars().count() > MAX_NAME {
                errors.insert(field, format!("At most {MAX_NAME} characters."));
            }
            (!value.is_empty()).then(|| value.to_owned())
        };
        let byline = name("byline", &self.byline);
        let agency = name("agency", &self.agency);
        let mut categories = Vec::new();
        for raw in &self.categories {
            match raw.trim().parse().ok().and_then(known) {
                Some(path) => categories.push(path),
                None => {
                    errors.insert("categories", "One of the chosen categories does not exist (any more).".into());
                }
            }
        }
        if kind == Kind::Page && !categories.is_empty() {
            errors.insert("categories", "Pages have no categories.".into());
        }
        let mut tags = Vec::new();
        for tag in self.tags.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            if tag.chars().count() > MAX_NAME || Slug::from_title(tag).is_err() {
                errors.insert(
                    "tags",
                    format!("The tag “{tag}” must be 1 to {MAX_NAME} characters with letters or digits."),
                );
            } else if !tags.iter().any(|t: &String| t.eq_ignore_ascii_case(tag)) {
                tags.push(tag.to_owned());
            }
        }
        let image_src = self.image_src.trim();
        let image = if image_src.is_empty() {
            None
        } else {
            let allowed = image_src.starts_with("/media/")
                || image_src.starts_with("https://")
                || image_src.starts_with("http://");
            if !allowed {
                errors.insert("image_src", "An image address starts with /media/ or https://.".into());
            }
            if self.image_alt.trim().is_empty() {
                errors.insert("image_alt", "Describe the image for readers who cannot see it.".into());
            }
            Some(ImageRef {
                src: image_src.to_owned(),
                alt: self.image_alt.trim().to_owned(),
                caption: self.image_caption.trim().to_owned(),
                credit: self.image_credit.trim().to_owned(),
            })
        };
        let date = match self.publish_at.trim() {
            "" => None,
            text => match NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
                .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
            {
                Ok(at) => Some(PublishDate::Local(at)),
                Err(_) => {
                    errors.insert("publish_at", "Give a date and time such as 2026-11-24T09:30.".into());
                    None
                }
            },
        };
        let publication = match intent {
            Intent::Draft | Intent::Preview => Publication::Draft,
            Intent::Publish => Publication::At(date),
        };
        match (errors.is_empty(), slug) {
            (true, Some(slug)) => Ok(ArticleDraft {
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
                comments_open: self.comments_open,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> ArticleForm {
        ArticleForm {
            headline: "Night ferry trial starts".into(),
            body: "The first boat left at nine.".into(),
            ..ArticleForm::default()
        }
    }

    fn none(_: i64) -> Option<CategoryPath> {
        None
    }

    #[test]
    fn a_minimal_form_makes_a_draft_with_a_slug_from_the_headline() {
        let draft = form().to_draft(Kind::Article, Intent::Draft, &none).expect("valid");
        assert_eq!(draft.slug.as_str(), "night-ferry-trial-starts");
        assert_eq!(draft.publication, Publication::Draft);
    }

    #[test]
    fn each_field_at_fault_gets_its_message() {
        let bad = ArticleForm {
            headline: String::new(),
            slug: "Not A Slug!".into(),
            body: "  ".into(),
            categories: vec!["999".into()],
            tags: "ok, !!!".into(),
            image_src: "javascript:alert(1)".into(),
            publish_at: "tomorrow".into(),
            ..ArticleForm::default()
        };
        let errors = bad.to_draft(Kind::Article, Intent::Publish, &none).expect_err("invalid");
        for field in ["headline", "slug", "body", "categories", "tags", "image_src", "image_alt", "publish_at"] {
            assert!(errors.contains_key(field), "{field}: {errors:?}");
        }
    }

    #[test]
    fn publishing_at_a_local_time() {
        let timed = ArticleForm { publish_at: "2026-12-01T09:30".into(), ..form() };
        let draft = timed.to_draft(Kind::Article, Intent::Publish, &none).expect("valid");
        assert!(matches!(draft.publication, Publication::At(Some(PublishDate::Local(_)))));
    }
}
