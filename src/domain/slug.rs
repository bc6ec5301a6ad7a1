//! URL slugs: the readable last part of an article, page or archive address.

use std::fmt;

/// A validated slug: 1–200 characters of `a-z`, `0-9` and single hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Slug(String);

/// Paths the router owns; a static page cannot take one of these slugs.
pub const RESERVED: &[&str] = &[
    "admin",
    "author",
    "category",
    "comments",
    "feed",
    "healthz",
    "media",
    "metrics",
    "page",
    "robots.txt",
    "search",
    "sitemap.xml",
    "static",
    "tag",
    "wp-admin",
    "wp-content",
    "wp-json",
    "1.1",
];

impl Slug {
    pub const MAX_LEN: usize = 200;

    /// Accepts an already-formed slug, refusing anything else.
    pub fn parse(input: &str) -> Result<Slug, String> {
        if input.is_empty() || input.len() > Self::MAX_LEN {
            return Err(format!("slug must be 1 to {} characters", Self::MAX_LEN));
        }
        let valid_chars = input.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_chars || input.starts_with('-') || input.ends_with('-') || input.contains("--") {
            return Err(format!(
                "slug {input:?} may hold only lowercase letters, digits and single hyphens between them"
            ));
        }
        Ok(Slug(input.to_owned()))
    }

    /// Derives a slug from a headline or name ("Café Society" → "cafe-society").
    pub fn from_title(title: &str) -> Result<Slug, String> {
        let mut slug = slug::slugify(title);
        if slug.len() > Self::MAX_LEN {
            slug.truncate(Self::MAX_LEN);
            slug = slug.trim_end_matches('-').to_owned();
        }
        Slug::parse(&slug).map_err(|_| format!("cannot make a URL slug from {title:?}: it has no letters or digits"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when a static page may use this slug without shadowing a route.
    pub fn is_free_for_page(&self) -> bool {
        !RESERVED.contains(&self.0.as_str()) && !self.0.bytes().all(|b| b.is_ascii_digit())
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_from_titles() {
        assert_eq!(
            Slug::from_title("Café Society: the Night Ferry!").expect("slug").as_str(),
            "cafe-society-the-night-ferry"
        );
        assert!(Slug::from_title("!!!").is_err());
    }

    #[test]
    fn rejects_malformed() {
        for bad in ["", "Upper", "with space", "-lead", "trail-", "double--hyphen", "ümlaut"] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Slug::parse("ok-slug-2").is_ok());
    }

    #[test]
    fn reserved_words_and_years_are_not_free_for_pages() {
        assert!(!Slug::parse("category").expect("slug").is_free_for_page());
        assert!(!Slug::parse("2025").expect("slug").is_free_for_page());
        assert!(Slug::parse("privacy").expect("slug").is_free_for_page());
    }
}
