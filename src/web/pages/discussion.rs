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

    pub fn subscribed(&self) -> bool {
        self.values.subscribe.is_some()
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
        walk(root, comments, &children, &numbers, settings.thread_depth, open, tz, &mut items);
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

/// Lays out one top-level comment and its replies, depth first, without
/// recursion. Replies nest up to `max_depth` levels; deeper ones (sent by
/// hand, or kept from when the limit was higher) are shown at the deepest
/// level, right after their parent, as WordPress does.
#[expect(clippy::too_many_arguments, reason = "one thread's layout and everything it shows")]
fn walk(
    root: usize,
    comments: &[PublicComment],
    children: &HashMap<i64, Vec<usize>>,
    numbers: &HashMap<i64, usize>,
    max_depth: u32,
    open: bool,
    tz: Tz,
    items: &mut Vec<CommentView>,
) {
    let max_depth = max_depth.max(1);
    // (comment, nesting level) in the order they are shown.
    let mut order: Vec<(usize, u32)> = Vec::new();
    let mut stack = vec![(root, 1u32)];
    while let Some((index, depth)) = stack.pop() {
        order.push((index, depth));
        let replies = children.get(&comments[index].id).map(Vec::as_slice).unwrap_or_default();
        stack.extend(replies.iter().rev().map(|&reply| (reply, (depth + 1).min(max_depth))));
    }
    for (n, &(index, level)) in order.iter().enumerate() {
        let comment = &comments[index];
        let next_level = order.get(n + 1).map_or(1, |&(_, next)| next);
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
            can_reply: open && !pending && level < max_depth,
            opens_children: next_level > level,
            closes: vec![(); level.saturating_sub(next_level) as usize],
        });
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

    #[test]
    fn replies_deeper_than_the_limit_show_at_the_deepest_level() {
        // 1 ← 2 ← 3 ← 4 ← 5 with a limit of 3, and a second reply 6 to 2.
        let mut comments = vec![comment(1, None)];
        comments.extend((2..=5).map(|id| comment(id, Some(id - 1))));
        comments.push(comment(6, Some(2)));
        let settings = DiscussionSettings { thread_depth: 3, ..DiscussionSettings::default() };
        let (items, _) = thread(&comments, 1, "/a/", &settings, true, chrono_tz::UTC).expect("page 1");
        let shape: Vec<(i64, bool, usize, bool)> =
            items.iter().map(|i| (i.id, i.opens_children, i.closes.len(), i.can_reply)).collect();
        // 3, 4 and 5 are siblings at level 3; 6 closes level 3 and then both lists.
        assert_eq!(
            shape,
            [
                (1, true, 0, true),
                (2, true, 0, true),
                (3, false, 0, false),
                (4, false, 0, false),
                (5, false, 0, false),
                (6, false, 2, false)
            ]
        );
    }

    #[test]
    fn a_very_long_chain_of_replies_is_laid_out_without_recursion() {
        let mut comments = vec![comment(1, None)];
        comments.extend((2..=100_000).map(|id| comment(id, Some(id - 1))));
        let settings = DiscussionSettings::default();
        let (items, _) = thread(&comments, 1, "/a/", &settings, true, chrono_tz::UTC).expect("page 1");
        assert_eq!(items.len(), 100_000);
        let opened = items.iter().filter(|i| i.opens_children).count();
        let closed: usize = items.iter().map(|i| i.closes.len()).sum();
        assert_eq!(opened, closed, "every nested list is closed");
        assert_eq!(opened, 4, "nested no deeper than the limit of 5");
    }
}
