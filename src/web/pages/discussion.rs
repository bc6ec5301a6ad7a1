//! The discussion under an article: the thread of comments, paged by
//! top-level comment, and the comment form with whatever the reader typed.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::comment::{CommentForm, FieldErrors};
use crate::domain::dates;
use crate::domain::moderation::DiscussionSettings;
use crate::store::PublicComment;

/// One comment as the thread shows it, with the list markup around it.
pub struct CommentView {
    pub id: i64,
    /// Its place among the article's approved comments, oldest first.
    pub number: Option<usize>,
    pub author_name: String,
    pub author_url: Option<String>,
    pub date_iso: String,
    pub date_text: String,
    pub body_html: String,
    pub is_staff: bool,
    /// The reader's own comment, held for moderation.
    pub pending: bool,
    pub can_reply: bool,
    /// Replies follow inside a nested list.
    pub opens_children: bool,
    /// How many nested lists close after this comment.
    pub closes: Vec<()>,
}

/// Links between comment pages.
pub struct CommentPager {
    pub newer: Option<String>,
    pub older: Option<String>,
    pub page: u32,
    pub pages: u32,
}

/// The comment form's state.
pub struct FormView {
    pub values: CommentForm,
    pub errors: FieldErrors,
    /// A message above the form (expired form, duplicate, flood).
    pub notice: Option<String>,
    pub token: String,
    pub reply_to: Option<(i64, String)>,
}

impl FormView {
    pub fn error(&self, field: &str) -> Option<&String> {
        self.errors.get(field)
    }

    pub fn remembered(&self) -> bool {
        self.values.remember.is_some()
    }
}

/// Everything below the article.
pub struct Discussion {
    pub count: usize,
    pub open: bool,
    pub items: Vec<CommentView>,
    pub pager: Option<CommentPager>,
    pub form: FormView,
}

/// Builds the thread for one comment page; `None` when the page is past the last.
pub fn thread(
    comments: &[PublicComment],
    page: u32,
    article_path: &str,
    settings: &DiscussionSettings,
    open: bool,
    tz: Tz,
) -> Option<(Vec<CommentView>, Option<CommentPager>)> {
    let ids: HashMap<i64, usize> = comments.iter().enumerate().map(|(i, c)| (c.id, i)).collect();
    let mut children: HashMap<i64, Vec<usize>> = HashMap::new();
    let mut roots = Vec::new();
    for (i, comment) in comments.iter().enumerate() {
        match comment.parent_id.filter(|p| ids.contains_key(p)) {
            Some(parent) => children.entry(parent).or_default().push(i),
            None => roots.push(i),
        }
    }
    let numbers: HashMap<i64, usize> =
        comments.iter().filter(|c| c.status == "approved").enumerate().map(|(n, c)| (c.id, n + 1)).collect();
    let per_page = settings.per_page.max(1) as usize;
    let pages = roots.len().div_ceil(per_page).max(1) as u32;
    if page > pages {
        return None;
    }
    let mut items = Vec::new();
    for &root in roots.iter().skip((page as usize - 1) * per_page).take(per_page) {
        walk(root, 1, comments, &children, &numbers, settings.thread_depth, open, tz, &mut items);
    }
    let page_path = |n: u32| if n <= 1 { article_path.to_owned() } else { format!("{article_path}comment-page-{n}/") };
    let pager = (pages > 1).then(|| CommentPager {
        newer: (page < pages).then(|| format!("{}#comments", page_path(page + 1))),
        older: (page > 1).then(|| format!("{}#comments", page_path(page - 1))),
        page,
        pages,
    });
    Some((items, pager))
}

#[expect(clippy::too_many_arguments, reason = "a recursive walk carrying its context")]
fn walk(
    index: usize,
    depth: u32,
    comments: &[PublicComment],
    children: &HashMap<i64, Vec<usize>>,
    numbers: &HashMap<i64, usize>,
    max_depth: u32,
    open: bool,
    tz: Tz,
    items: &mut Vec<CommentView>,
) {
    let comment = &comments[index];
    let replies = children.get(&comment.id).map(Vec::as_slice).unwrap_or_default();
    let at = DateTime::<Utc>::from_timestamp(comment.created_at, 0).unwrap_or_default();
    let pending = comment.status == "pending";
    items.push(CommentView {
        id: comment.id,
        number: numbers.get(&comment.id).copied(),
        author_name: comment.author_name.clone(),
        author_url: comment.author_url.clone(),
        date_iso: dates::machine(at, tz),
        date_text: dates::dateline(at, tz),
        body_html: comment.body_html.clone(),
        is_staff: comment.is_staff != 0,
        pending,
        can_reply: open && !pending && depth < max_depth,
        opens_children: !replies.is_empty(),
        closes: Vec::new(),
    });
    for &reply in replies {
        walk(reply, depth + 1, comments, children, numbers, max_depth, open, tz, items);
    }
    if !replies.is_empty()
        && let Some(last) = items.last_mut()
    {
        last.closes.push(());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(id: i64, parent: Option<i64>) -> PublicComment {
        PublicComment {
            id,
            parent_id: parent,
            author_name: format!("Reader {id}"),
            author_url: None,
            body_html: "<p>hi</p>".into(),
            status: "approved".into(),
            is_staff: 0,
            created_at: 1_700_000_000 + id,
        }
    }

    #[test]
    fn threads_nest_and_close() {
        let comments = vec![comment(1, None), comment(2, Some(1)), comment(3, Some(2)), comment(4, None)];
        let settings = DiscussionSettings::default();
        let (items, pager) = thread(&comments, 1, "/a/", &settings, true, chrono_tz::UTC).expect("page 1");
        let shape: Vec<(i64, bool, usize)> = items.iter().map(|i| (i.id, i.opens_children, i.closes.len())).collect();
        assert_eq!(shape, [(1, true, 0), (2, true, 0), (3, false, 2), (4, false, 0)]);
        assert!(pager.is_none());
        assert_eq!(items[2].number, Some(3));
    }

    #[test]
    fn replies_stop_at_the_depth_limit_and_pages_split_top_level() {
        let comments = vec![comment(1, None), comment(2, Some(1)), comment(3, None), comment(4, None)];
        let settings = DiscussionSettings { thread_depth: 2, per_page: 2, ..DiscussionSettings::default() };
        let (items, pager) = thread(&comments, 1, "/a/", &settings, true, chrono_tz::UTC).expect("page 1");
        assert!(items[0].can_reply && !items[1].can_reply, "depth 2 is the last");
        assert_eq!(items.iter().map(|i| i.id).collect::<Vec<_>>(), [1, 2, 3]);
        let pager = pager.expect("two pages");
        assert_eq!(pager.newer.as_deref(), Some("/a/comment-page-2/#comments"));
        let (items, _) = thread(&comments, 2, "/a/", &settings, true, chrono_tz::UTC).expect("page 2");
        assert_eq!(items.iter().map(|i| i.id).collect::<Vec<_>>(), [4]);
        assert!(thread(&comments, 3, "/a/", &settings, true, chrono_tz::UTC).is_none());
    }
}
