//! Cache tags: the names under which cached pages are filed, so that a change
//! invalidates exactly the pages that show what changed.

use super::article::Kind;

/// Every cached page carries this tag; invalidating it empties the cache
/// (a change to the navigation, the footer or the site settings).
pub const SITE: &str = "site";
/// The front page and its numbered pages.
pub const FRONT: &str = "front";
/// The sitemaps and search results: every save of an article or page.
pub const SITEMAPS: &str = "sitemaps";
/// The site-wide comments feed: every change to a discussion, and every
/// save of an article or page (its headline and address are in the feed).
pub const COMMENTS: &str = "comments";

pub fn article(id: i64) -> String {
    format!("article:{id}")
}
pub fn category(id: i64) -> String {
    format!("category:{id}")
}
pub fn tag(id: i64) -> String {
    format!("tag:{id}")
}
pub fn author(id: i64) -> String {
    format!("author:{id}")
}
/// A month archive, `yyyy-mm` in the site's time zone.
pub fn month(year: i32, month: u32) -> String {
    format!("month:{year:04}-{month:02}")
}

/// Where one article shows up on public pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub id: i64,
    pub kind: Kind,
    /// The month tag of its publication date, when it has one.
    pub month: Option<String>,
    pub author_id: Option<i64>,
    /// Its categories and all their ancestors (a parent's archive lists its children's articles).
    pub category_ids: Vec<i64>,
    pub tag_ids: Vec<i64>,
}

impl Placement {
    /// The tags of every page that shows this article.
    pub fn tags(&self) -> Vec<String> {
        let mut tags = vec![article(self.id)];
        if self.kind == Kind::Page {
            return tags;
        }
        tags.push(FRONT.to_owned());
        tags.extend(self.month.iter().cloned());
        tags.extend(self.author_id.map(author));
        tags.extend(self.category_ids.iter().map(|&id| category(id)));
        tags.extend(self.tag_ids.iter().map(|&id| tag(id)));
        tags
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_touches_its_page_front_and_archives_only() {
        let placement = Placement {
            id: 7,
            kind: Kind::Article,
            month: Some(month(2026, 11)),
            author_id: Some(3),
            category_ids: vec![1, 2],
            tag_ids: vec![9],
        };
        assert_eq!(
            placement.tags(),
            ["article:7", "front", "month:2026-11", "author:3", "category:1", "category:2", "tag:9"]
        );
    }

    #[test]
    fn a_page_touches_itself() {
        let placement =
            Placement { id: 2, kind: Kind::Page, month: None, author_id: None, category_ids: vec![], tag_ids: vec![] };
        assert_eq!(placement.tags(), ["article:2"]);
    }
}
