//! Reader comments: validation of what a reader typed, the safe rendering of
//! comment text, and moderation states.

use std::collections::BTreeMap;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

use super::markdown;

/// WordPress's limits, which editors know.
pub const MAX_NAME: usize = 245;
pub const MAX_EMAIL: usize = 100;
pub const MAX_URL: usize = 200;
pub const MAX_BODY: usize = 65_525;

/// Where a comment stands. `Pending → Approved | Spam | Trash`, and any
/// state may move to any other by a moderator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Approved,
    Spam,
    Trash,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Spam => "spam",
            Status::Trash => "trash",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        match text {
            "pending" => Some(Status::Pending),
            "approved" => Some(Status::Approved),
            "spam" => Some(Status::Spam),
            "trash" => Some(Status::Trash),
            _ => None,
        }
    }
}

/// The comment form as the reader filled it in, untrusted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct CommentForm {
    pub comment: String,
    pub author: String,
    pub email: String,
    pub url: String,
    /// "1" when the reader asks to be remembered in this browser.
    pub remember: Option<String>,
    /// "1" when the reader asks to be told by email of replies.
    pub subscribe: Option<String>,
    /// The comment this one replies to.
    pub parent: Option<String>,
    /// Signed form token: which article, and when the form was rendered.
    pub token: String,
    /// The honeypot: hidden from people, filled by naive bots.
    pub website2: String,
}

/// A comment that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidComment {
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub parent_id: Option<i64>,
}

/// Messages per form field, shown next to it.
pub type FieldErrors = BTreeMap<&'static str, String>;

impl CommentForm {
    /// Checks every field, returning all the problems at once.
    pub fn validate(&self) -> Result<ValidComment, FieldErrors> {
        let mut errors = FieldErrors::new();
        let body = self.comment.trim();
        if body.is_empty() {
            errors.insert("comment", "Please type your comment.".into());
        } else if body.chars().count() > MAX_BODY {
            errors.insert("comment", format!("Your comment is too long: at most {MAX_BODY} characters, please."));
        }
        let name = collapse_spaces(&self.author);
        if name.is_empty() {
            errors.insert("author", "Please give your name.".into());
        } else if name.chars().count() > MAX_NAME {
            errors.insert("author", format!("Your name is too long: at most {MAX_NAME} characters."));
        }
        let email = self.email.trim();
        if email.is_empty() {
            errors.insert("email", "Please give your email address. It will not be published.".into());
        } else if email.chars().count() > MAX_EMAIL {
            errors.insert("email", format!("Your email address is too long: at most {MAX_EMAIL} characters."));
        } else if !is_email(email) {
            errors.insert("email", "Please give a valid email address, like name@example.org.".into());
        }
        let url = self.url.trim();
        let author_url = if url.is_empty() {
            None
        } else if url.chars().count() > MAX_URL {
            errors.insert("url", format!("Your website address is too long: at most {MAX_URL} characters."));
            None
        } else {
            match normalize_url(url) {
                Some(url) => Some(url),
                None => {
                    errors.insert("url", "Please give a web address starting with http:// or https://.".into());
                    None
                }
            }
        };
        let parent_id = match self.parent.as_deref().map(str::trim).filter(|p| !p.is_empty() && *p != "0") {
            None => None,
            Some(p) => match p.parse::<i64>() {
                Ok(id) if id > 0 => Some(id),
                _ => {
                    errors.insert("comment", "The comment you are replying to does not exist.".into());
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ValidComment {
            author_name: name,
            author_email: email.to_owned(),
            author_url,
            body: body.to_owned(),
            parent_id,
        })
    }
}

fn collapse_spaces(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A pragmatic address check: one `@`, a dotted domain, no spaces or controls.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    !local.is_empty()
        && local.len() <= 64
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | ',' | ';'))
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'))
}

/// An `http(s)` address, with `https://` added when the reader left it out.
pub fn normalize_url(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    // The scheme in lower case (`HTTPS://` is `https://`), the rest as typed.
    let full = if lower.starts_with("http://") || lower.starts_with("https://") {
        let scheme_end = lower.find("://").unwrap_or(0);
        format!("{}{}", &lower[..scheme_end], &url[scheme_end..])
    } else if lower.contains("://") || lower.starts_with("javascript:") || lower.starts_with("data:") {
        return None;
    } else {
        format!("https://{url}")
    };
    let rest = full.split_once("://").map(|(_, rest)| rest)?;
    let host = rest.split(['/', '?', '#']).next()?;
    let valid = !host.is_empty()
        && host.contains('.')
        && !full.chars().any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '\'' | '`'));
    valid.then_some(full)
}

/// Renders comment text: Markdown's paragraphs, line breaks, emphasis, code,
/// quotes and links; raw HTML is shown as text, never interpreted; links get
/// `rel="nofollow ugc"`. The result is cleaned by ammonia with a small
/// allow-list, so nothing executable can survive.
pub fn render_body(text: &str) -> String {
    let events = markdown::drop_unsafe_links(Parser::new_ext(text, Options::ENABLE_STRIKETHROUGH), COMMENT_SCHEMES);
    let events = events.map(|event| match event {
        // Any HTML the reader typed is shown as the text they typed.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        // Headings, images, tables and the like become plain paragraphs or text.
        Event::Start(Tag::Heading { .. }) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::Heading(_)) => Event::End(TagEnd::Paragraph),
        Event::SoftBreak => Event::HardBreak,
        other => other,
    });
    let mut unsafe_html = String::with_capacity(text.len() * 2);
    html::push_html(&mut unsafe_html, events);
    ammonia::Builder::empty()
        .add_tags(["p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "del"])
        .add_tag_attributes("a", ["href"])
        .url_schemes(COMMENT_SCHEMES.iter().copied().collect())
        .link_rel(Some("nofollow ugc noopener"))
        .clean(&unsafe_html)
        .to_string()
}

/// The link schemes comments may carry (and addresses relative to the site).
const COMMENT_SCHEMES: &[&str] = &["http", "https", "mailto"];

/// Counts the links in comment text, as WordPress's "more than N links" rule does.
pub fn count_links(text: &str) -> usize {
    let lower = text.to_ascii_lowercase();
    lower.matches("http://").count() + lower.matches("https://").count() + lower.matches("<a ").count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(comment: &str, author: &str, email: &str, url: &str) -> CommentForm {
        CommentForm {
            comment: comment.into(),
            author: author.into(),
            email: email.into(),
            url: url.into(),
            ..CommentForm::default()
        }
    }

    #[test]
    fn validation_reports_every_field() {
        let errors = form("  ", "", "not-an-email", "javascript:alert(1)").validate().expect_err("invalid");
        assert_eq!(errors.len(), 4, "{errors:?}");
        let too_long = form(&"x".repeat(MAX_BODY + 1), &"n".repeat(MAX_NAME + 1), "a@b.co", "").validate();
        let errors = too_long.expect_err("too long");
        assert!(errors["comment"].contains("too long") && errors["author"].contains("too long"));
        let ok = form(" Hello ", "  Ana   Ruiz ", "ana@example.org", "example.org/blog").validate().expect("valid");
        assert_eq!(ok.author_name, "Ana Ruiz");
        assert_eq!(ok.author_url.as_deref(), Some("https://example.org/blog"));
        assert_eq!(ok.body, "Hello");
    }

    #[test]
    fn websites_are_http_addresses_with_a_lower_case_scheme() {
        assert_eq!(normalize_url("example.org/a").as_deref(), Some("https://example.org/a"));
        assert_eq!(normalize_url("httpS://Example.org/A_(b").as_deref(), Some("https://Example.org/A_(b"));
        assert_eq!(normalize_url("HTTP://example.org").as_deref(), Some("http://example.org"));
        assert_eq!(normalize_url("javascript:alert(1)"), None);
        assert_eq!(normalize_url("ftp://example.org"), None);
        assert_eq!(normalize_url("https://localhost/"), None);
    }

    #[test]
    fn emails() {
        for good in ["a@b.co", "first.last+tag@sub.example.org"] {
            assert!(is_email(good), "{good}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a@b..co", "a b@c.co", "a@b.co>", "a@-b.co"] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn bodies_are_safe() {
        let html = render_body(
            "Hi <script>alert(1)</script> *there*\nnext line\n\n> quoted\n\n[x](javascript:alert(1)) [y](https://example.org)",
        );
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "shown as text: {html}");
        assert!(html.contains("<em>there</em>") && html.contains("<br>") && html.contains("<blockquote>"));
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org" rel="nofollow ugc noopener">y</a>"#), "{html}");
        // A link the sanitizer would strip of its address is shown as text, not as an `<a>` without `href`.
        let html =
            render_body("[x](javascript:alert(1)) [typo](hhttps://example.org) [here](/2024/01/) [m](mailto:a@b.co)");
        assert!(!html.contains("<a>") && !html.contains("<a rel"), "{html}");
        assert!(html.starts_with("<p>x typo <a href=\"/2024/01/\""), "{html}");
        assert!(html.contains("href=\"mailto:a@b.co\""), "{html}");
    }

    #[test]
    fn links_are_counted() {
        assert_eq!(count_links("see http://a.co and https://b.co and <a href=x>"), 3);
    }
}
