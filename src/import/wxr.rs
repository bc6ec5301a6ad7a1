//! WordPress eXtended RSS (WXR), read as a stream: one author, term or item
//! (post, page, attachment… with its metadata and comments) at a time, never
//! the whole file in memory. Anything malformed stops the reading with the
//! line and element at fault.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

/// Deepest nesting a WXR file has any use for (it needs five levels).
const MAX_DEPTH: usize = 32;
/// Longest text of one element (a post's content included).
const MAX_TEXT: usize = 64 * 1024 * 1024;

/// What the file says about the site it came from (before its first item).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WxrSite {
    pub title: String,
    pub link: String,
    pub description: String,
    pub language: String,
    pub wxr_version: String,
    pub base_site_url: String,
    pub base_blog_url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WxrAuthor {
    pub id: Option<i64>,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub first_name: String,
    pub last_name: String,
}

/// Which kind of term.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TermKind {
    #[default]
    Category,
    Tag,
    /// `<wp:term>`: any other taxonomy (menus, post formats…), named in `taxonomy`.
    Other,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WxrTerm {
    pub kind: TermKind,
    pub id: Option<i64>,
    pub taxonomy: String,
    pub slug: String,
    /// The parent's slug (categories and other hierarchical terms).
    pub parent: String,
    pub name: String,
    pub description: String,
}

/// A post, page, attachment or any other post type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WxrPost {
    pub id: i64,
    pub post_type: String,
    pub title: String,
    pub link: String,
    pub guid: String,
    /// The author's login.
    pub creator: String,
    pub content: String,
    pub excerpt: String,
    /// Local time of the site, `YYYY-MM-DD HH:MM:SS`.
    pub date: String,
    /// UTC, same form; `0000-00-00 00:00:00` for drafts never published.
    pub date_gmt: String,
    pub comment_status: String,
    pub slug: String,
    /// publish, draft, future, pending, private, inherit, trash…
    pub status: String,
    pub parent: i64,
    pub menu_order: i64,
    pub password: String,
    pub sticky: bool,
    pub attachment_url: String,
    /// Its categories, tags and other terms.
    pub terms: Vec<WxrTermRef>,
    pub meta: Vec<(String, String)>,
    pub comments: Vec<WxrComment>,
}

/// A term as an item names it: `<category domain="post_tag" nicename="x">X</category>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WxrTermRef {
    /// `category`, `post_tag` or another taxonomy.
    pub domain: String,
    pub slug: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WxrComment {
    pub id: i64,
    pub author: String,
    pub author_email: String,
    pub author_url: String,
    pub author_ip: String,
    pub date: String,
    pub date_gmt: String,
    pub content: String,
    /// `1` approved, `0` pending, `spam`, `trash`.
    pub approved: String,
    /// Empty for a comment; `pingback` or `trackback` otherwise.
    pub comment_type: String,
    pub parent: i64,
    /// The site user who wrote it, 0 for a reader.
    pub user_id: i64,
    pub meta: Vec<(String, String)>,
}

/// One thing read from the file, in the file's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WxrItem {
    /// First, before anything else.
    Site(WxrSite),
    Author(WxrAuthor),
    Term(WxrTerm),
    Post(Box<WxrPost>),
}

/// Why reading stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WxrError {
    pub line: u64,
    /// The innermost element open where it went wrong.
    pub element: String,
    pub message: String,
}

impl std::fmt::Display for WxrError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.element.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(f, "line {}, in <{}>: {}", self.line, self.element, self.message)
        }
    }
}

impl std::error::Error for WxrError {}

/// Counts the lines the parser has consumed, for error messages.
struct LineCounter<R> {
    inner: R,
    lines: u64,
}

impl<R: BufRead> std::io::Read for LineCounter<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            self.lines += buf[..amount.min(buf.len())].iter().filter(|b| **b == b'\n').count() as u64;
        }
        self.inner.consume(amount);
    }
}

/// What is being read at the moment.
enum Open {
    Nothing,
    Author(WxrAuthor),
    Term(WxrTerm),
    Post(Box<WxrPost>),
}

/// Reads a WXR file item by item.
pub struct WxrReader<R: BufRead> {
    xml: Reader<LineCounter<R>>,
    buf: Vec<u8>,
    /// Open elements, outermost first.
    stack: Vec<String>,
    text: String,
    site: WxrSite,
    site_sent: bool,
    open: Open,
    comment: Option<WxrComment>,
    meta: (String, String),
    term_ref: WxrTermRef,
    /// Queued when an item ends before the site was announced.
    pending: Option<WxrItem>,
    done: bool,
}

impl<R: BufRead> WxrReader<R> {
    pub fn new(input: R) -> WxrReader<R> {
        let mut xml = Reader::from_reader(LineCounter { inner: input, lines: 0 });
        xml.config_mut().check_end_names = true;
        WxrReader {
            xml,
            buf: Vec::with_capacity(64 * 1024),
            stack: Vec::new(),
            text: String::new(),
            site: WxrSite::default(),
            site_sent: false,
            open: Open::Nothing,
            comment: None,
            meta: Default::default(),
            term_ref: WxrTermRef::default(),
            pending: None,
            done: false,
        }
    }

    fn error(&self, message: impl Into<String>) -> WxrError {
        WxrError {
            line: self.xml.get_ref().lines + 1,
            element: self.stack.last().cloned().unwrap_or_default(),
            message: message.into(),
        }
    }

    /// The next author, term or item; `None` at the end of the file.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<WxrItem>, WxrError> {
        if let Some(item) = self.pending.take() {
            return Ok(Some(item));
        }
        while !self.done {
            self.buf.clear();
            let event = match self.xml.read_event_into(&mut self.buf) {
                Ok(event) => event.into_owned(),
                Err(err) => return Err(self.error(format!("not well-formed XML: {err}"))),
            };
            let finished = match event {
                Event::Start(start) => {
                    self.start(&start)?;
                    None
                }
                Event::Empty(start) => {
                    self.start(&start)?;
                    self.end()?
                }
                Event::End(_) => self.end()?,
                Event::Text(text) => {
                    self.push_text(&text.xml10_content())?;
                    None
                }
                Event::CData(data) => {
                    self.push_text(&data.xml10_content())?;
                    None
                }
                Event::GeneralRef(reference) => {
                    let resolved = match reference.resolve_char_ref() {
                        Ok(Some(c)) => c.to_string(),
                        _ => match resolve_predefined_entity(&reference.xml10_content()) {
                            Some(text) => text.to_owned(),
                            None => {
                                return Err(self.error(format!("unknown entity &{};", reference.xml10_content())));
                            }
                        },
                    };
                    self.push_text(&resolved)?;
                    None
                }
                Event::Eof => {
                    if let Some(open) = self.stack.last() {
                        return Err(self.error(format!("the file ends inside <{open}>: it is cut short")));
                    }
                    if self.site.wxr_version.is_empty() {
                        return Err(self.error("not a WordPress export: it has no <wp:wxr_version>"));
                    }
                    self.done = true;
                    None
                }
                Event::DocType(_) => return Err(self.error("a WordPress export has no DOCTYPE")),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => None,
            };
            if let Some(item) = finished {
                if !self.site_sent {
                    self.site_sent = true;
                    self.pending = Some(item);
                    return Ok(Some(WxrItem::Site(self.site.clone())));
                }
                return Ok(Some(item));
            }
        }
        Ok(None)
    }

    fn push_text(&mut self, text: &str) -> Result<(), WxrError> {
        if self.text.len() + text.len() > MAX_TEXT {
            return Err(self.error("the text of one element is over 64 MiB"));
        }
        self.text.push_str(text);
        Ok(())
    }

    fn start(&mut self, start: &BytesStart) -> Result<(), WxrError> {
        let name = start.name().as_ref().to_owned();
        if self.stack.is_empty() && name != "rss" {
            return Err(self.error(format!("not a WordPress export: it starts with <{name}>, not <rss>")));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(format!("elements nested more than {MAX_DEPTH} deep")));
        }
        let in_channel = self.stack.len() == 2 && self.stack[1] == "channel";
        self.stack.push(name);
        self.text.clear();
        let name = self.stack.last().map(String::as_str).unwrap_or_default();
        match name {
            "wp:author" if in_channel => self.open = Open::Author(WxrAuthor::default()),
            "wp:category" if in_channel => self.open = Open::Term(WxrTerm::default()),
            "wp:tag" if in_channel => self.open = Open::Term(WxrTerm { kind: TermKind::Tag, ..WxrTerm::default() }),
            "wp:term" if in_channel => self.open = Open::Term(WxrTerm { kind: TermKind::Other, ..WxrTerm::default() }),
            "item" if in_channel => self.open = Open::Post(Box::default()),
            "wp:comment" if matches!(self.open, Open::Post(_)) => self.comment = Some(WxrComment::default()),
            "wp:postmeta" | "wp:commentmeta" => self.meta = Default::default(),
            "category" if matches!(self.open, Open::Post(_)) => {
                let mut term = WxrTermRef::default();
                for attribute in start.attributes().flatten() {
                    let value =
                        attribute.normalized_value(XmlVersion::Implicit1_0).map(|v| v.into_owned()).unwrap_or_default();
                    match attribute.key.as_ref() {
                        "domain" => term.domain = value,
                        "nicename" => term.slug = value,
                        _ => {}
                    }
                }
                self.term_ref = term;
            }
            _ => {}
        }
        Ok(())
    }

    /// Closes the innermost element; returns an item when one is complete.
    fn end(&mut self) -> Result<Option<WxrItem>, WxrError> {
        let text = std::mem::take(&mut self.text);
        let Some(name) = self.stack.last().cloned() else {
            return Err(self.error("an end tag with nothing open"));
        };
        let at = self.error("");
        let number = |what: &str, text: &str| -> Result<i64, WxrError> {
            let text = text.trim();
            if text.is_empty() {
                return Ok(0);
            }
            text.parse().map_err(|_| WxrError { message: format!("<{what}> is {text:?}, not a number"), ..at.clone() })
        };
        let depth = self.stack.len();
        let in_comment = self.comment.is_some() && self.stack.iter().any(|n| n == "wp:comment");
        let mut finished = None;
        if depth == 3 && self.stack[1] == "channel" {
            match name.as_str() {
                "title" => self.site.title = text,
                "link" => self.site.link = text,
                "description" => self.site.description = text,
                "language" => self.site.language = text,
                "wp:wxr_version" => self.site.wxr_version = text,
                "wp:base_site_url" => self.site.base_site_url = text,
                "wp:base_blog_url" => self.site.base_blog_url = text,
                "wp:author" | "wp:category" | "wp:tag" | "wp:term" | "item" => {
                    if self.site.wxr_version.is_empty() {
                        return Err(self.error("not a WordPress export: it has no <wp:wxr_version>"));
                    }
                    finished = match std::mem::replace(&mut self.open, Open::Nothing) {
                        Open::Author(author) => Some(WxrItem::Author(author)),
                        Open::Term(term) => Some(WxrItem::Term(term)),
                        Open::Post(post) => Some(WxrItem::Post(post)),
                        Open::Nothing => None,
                    };
                }
                _ => {}
            }
        } else if in_comment {
            if name == "wp:comment" {
                if let (Some(done), Open::Post(post)) = (self.comment.take(), &mut self.open) {
                    post.comments.push(done);
                }
                self.stack.pop();
                return Ok(None);
            }
            let Some(comment) = self.comment.as_mut() else { return Ok(None) };
            match name.as_str() {
                "wp:comment_id" => comment.id = number(&name, &text)?,
                "wp:comment_author" => comment.author = text,
                "wp:comment_author_email" => comment.author_email = text,
                "wp:comment_author_url" => comment.author_url = text,
                "wp:comment_author_IP" => comment.author_ip = text,
                "wp:comment_date" => comment.date = text,
                "wp:comment_date_gmt" => comment.date_gmt = text,
                "wp:comment_content" => comment.content = text,
                "wp:comment_approved" => comment.approved = text.trim().to_owned(),
                "wp:comment_type" => comment.comment_type = text.trim().to_owned(),
                "wp:comment_parent" => comment.parent = number(&name, &text)?,
                "wp:comment_user_id" => comment.user_id = number(&name, &text)?,
                "wp:meta_key" => self.meta.0 = text,
                "wp:meta_value" => self.meta.1 = text,
                "wp:commentmeta" => comment.meta.push(std::mem::take(&mut self.meta)),
                _ => {}
            }
        } else {
            match &mut self.open {
                Open::Author(author) => match name.as_str() {
                    "wp:author_id" => author.id = Some(number(&name, &text)?),
                    "wp:author_login" => author.login = text.trim().to_owned(),
                    "wp:author_email" => author.email = text.trim().to_owned(),
                    "wp:author_display_name" => author.display_name = text,
                    "wp:author_first_name" => author.first_name = text,
                    "wp:author_last_name" => author.last_name = text,
                    _ => {}
                },
                Open::Term(term) => match name.as_str() {
                    "wp:term_id" => term.id = Some(number(&name, &text)?),
                    "wp:term_taxonomy" => term.taxonomy = text.trim().to_owned(),
                    "wp:category_nicename" | "wp:tag_slug" | "wp:term_slug" => term.slug = text.trim().to_owned(),
                    "wp:category_parent" | "wp:term_parent" => term.parent = text.trim().to_owned(),
                    "wp:cat_name" | "wp:tag_name" | "wp:term_name" => term.name = text,
                    "wp:category_description" | "wp:tag_description" | "wp:term_description" => {
                        term.description = text;
                    }
                    _ => {}
                },
                Open::Post(post) if depth == 4 => match name.as_str() {
                    "title" => post.title = text,
                    "link" => post.link = text.trim().to_owned(),
                    "guid" => post.guid = text.trim().to_owned(),
                    "dc:creator" => post.creator = text.trim().to_owned(),
                    "content:encoded" => post.content = text,
                    "excerpt:encoded" => post.excerpt = text,
                    "wp:post_id" => post.id = number(&name, &text)?,
                    "wp:post_date" => post.date = text.trim().to_owned(),
                    "wp:post_date_gmt" => post.date_gmt = text.trim().to_owned(),
                    "wp:comment_status" => post.comment_status = text.trim().to_owned(),
                    "wp:post_name" => post.slug = text.trim().to_owned(),
                    "wp:status" => post.status = text.trim().to_owned(),
                    "wp:post_parent" => post.parent = number(&name, &text)?,
                    "wp:menu_order" => post.menu_order = number(&name, &text)?,
                    "wp:post_type" => post.post_type = text.trim().to_owned(),
                    "wp:post_password" => post.password = text,
                    "wp:is_sticky" => post.sticky = number(&name, &text)? != 0,
                    "wp:attachment_url" => post.attachment_url = text.trim().to_owned(),
                    "category" => {
                        let mut term = std::mem::take(&mut self.term_ref);
                        term.name = text;
                        post.terms.push(term);
                    }
                    "wp:postmeta" => post.meta.push(std::mem::take(&mut self.meta)),
                    _ => {}
                },
                Open::Post(_) => match name.as_str() {
                    "wp:meta_key" => self.meta.0 = text,
                    "wp:meta_value" => self.meta.1 = text,
                    _ => {}
                },
                Open::Nothing => {}
            }
        }
        self.stack.pop();
        Ok(finished)
    }
}

/// How many of each thing a file holds, read through once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WxrCounts {
    pub authors: usize,
    pub categories: usize,
    pub tags: usize,
    pub other_terms: usize,
    /// Items by post type (post, page, attachment, nav_menu_item…).
    pub posts: std::collections::BTreeMap<String, usize>,
    /// Comments by `wp:comment_approved` (1, 0, spam, trash).
    pub comments: std::collections::BTreeMap<String, usize>,
}

/// Reads a whole file and counts what it holds.
pub fn count<R: BufRead>(input: R) -> Result<(WxrSite, WxrCounts), WxrError> {
    let mut reader = WxrReader::new(input);
    let mut site = WxrSite::default();
    let mut counts = WxrCounts::default();
    while let Some(item) = reader.next()? {
        match item {
            WxrItem::Site(s) => site = s,
            WxrItem::Author(_) => counts.authors += 1,
            WxrItem::Term(term) => match term.kind {
                TermKind::Category => counts.categories += 1,
                TermKind::Tag => counts.tags += 1,
                TermKind::Other => counts.other_terms += 1,
            },
            WxrItem::Post(post) => {
                *counts.posts.entry(post.post_type.clone()).or_default() += 1;
                for comment in &post.comments {
                    *counts.comments.entry(comment.approved.clone()).or_default() += 1;
                }
            }
        }
    }
    Ok((site, counts))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>Harbour &amp; Town</title>
<wp:wxr_version>1.2</wp:wxr_version>
"#;

    fn read_all(text: &str) -> Result<Vec<WxrItem>, WxrError> {
        let mut reader = WxrReader::new(text.as_bytes());
        let mut items = Vec::new();
        while let Some(item) = reader.next()? {
            items.push(item);
        }
        Ok(items)
    }

    #[test]
    fn items_come_with_their_terms_meta_and_comments() {
        let file = format!(
            "{HEAD}<wp:category><wp:term_id>3</wp:term_id><wp:category_nicename>local</wp:category_nicename>
<wp:category_parent>news</wp:category_parent><wp:cat_name><![CDATA[Local]]></wp:cat_name></wp:category>
<item><title>Ferry &#8220;trial&#8221;</title><wp:post_id>7</wp:post_id><wp:post_type>post</wp:post_type>
<content:encoded><![CDATA[<p>Late <b>sailings</b>.</p>]]></content:encoded>
<category domain=\"post_tag\" nicename=\"sea\"><![CDATA[Sea]]></category>
<wp:postmeta><wp:meta_key>_thumbnail_id</wp:meta_key><wp:meta_value><![CDATA[9]]></wp:meta_value></wp:postmeta>
<wp:comment><wp:comment_id>2</wp:comment_id><wp:comment_parent>1</wp:comment_parent>
<wp:comment_approved>spam</wp:comment_approved><wp:comment_content>Buy</wp:comment_content>
<wp:commentmeta><wp:meta_key>akismet_result</wp:meta_key><wp:meta_value>true</wp:meta_value></wp:commentmeta>
</wp:comment></item>
</channel></rss>"
        );
        let items = read_all(&file).expect("valid");
        let WxrItem::Site(site) = &items[0] else { panic!("site first: {items:?}") };
        assert_eq!((site.title.as_str(), site.wxr_version.as_str()), ("Harbour & Town", "1.2"));
        let WxrItem::Term(term) = &items[1] else { panic!("{items:?}") };
        assert_eq!((term.slug.as_str(), term.parent.as_str(), term.name.as_str()), ("local", "news", "Local"));
        let WxrItem::Post(post) = &items[2] else { panic!("{items:?}") };
        assert_eq!(post.title, "Ferry “trial”");
        assert_eq!(post.content, "<p>Late <b>sailings</b>.</p>");
        assert_eq!(post.terms, [WxrTermRef { domain: "post_tag".into(), slug: "sea".into(), name: "Sea".into() }]);
        assert_eq!(post.meta, [("_thumbnail_id".to_owned(), "9".to_owned())]);
        let comment = &post.comments[0];
        assert_eq!((comment.id, comment.parent, comment.approved.as_str()), (2, 1, "spam"));
        assert_eq!(comment.meta, [("akismet_result".to_owned(), "true".to_owned())]);
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn bad_files_stop_with_the_line_and_element() {
        let cut = format!("{HEAD}<item><title>Ferry</title>\n<wp:post_id>7");
        let err = read_all(&cut).expect_err("truncated");
        assert!(err.message.contains("cut short") && err.element == "wp:post_id", "{err}");
        assert_eq!(err.line, 7, "{err}");

        let not_wxr = read_all("<?xml version=\"1.0\"?>\n<html><body/></html>").expect_err("html");
        assert!(err_has(&not_wxr, "not a WordPress export"), "{not_wxr}");
        let plain_rss = read_all("<rss><channel><title>x</title><item><title>y</title></item></channel></rss>");
        assert!(err_has(&plain_rss.expect_err("rss"), "no <wp:wxr_version>"));

        let nested = format!("{HEAD}{}", "<div>".repeat(10_000));
        assert!(err_has(&read_all(&nested).expect_err("deep"), "nested more than 32 deep"));

        let bad_number = format!("{HEAD}<item><wp:post_id>seven</wp:post_id></item></channel></rss>");
        let err = read_all(&bad_number).expect_err("number");
        assert!(err.message.contains("not a number") && err.element == "wp:post_id", "{err}");

        let latin1 = [HEAD.as_bytes(), b"<item><title>Caf\xe9</title></item></channel></rss>"].concat();
        let mut reader = WxrReader::new(&latin1[..]);
        let err = loop {
            match reader.next() {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("invalid UTF-8 accepted"),
                Err(err) => break err,
            }
        };
        assert!(err.message.contains("not well-formed") || err.message.contains("UTF-8"), "{err}");

        let mismatched = format!("{HEAD}<item><title>x</wp:title></item></channel></rss>");
        assert!(err_has(&read_all(&mismatched).expect_err("mismatch"), "not well-formed"));
    }

    fn err_has(err: &WxrError, needle: &str) -> bool {
        err.to_string().contains(needle)
    }
}
