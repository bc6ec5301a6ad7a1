//! WordPress post content to Broadsheet's Markdown.
//!
//! WordPress stores a post as HTML: "classic" posts with paragraphs left as
//! blank lines (its `wpautop` adds the `<p>` when showing them), block-editor
//! posts with `<!-- wp:… -->` comments around each block, and either kind with
//! shortcodes such as `[caption]` and `[gallery]`. This turns all of them into
//! the Markdown newsrooms edit here (raw HTML only for figures), so that the
//! admin's editor, search and the renderer's sanitizer treat an imported article
//! like any other:
//!
//! - block comments go; a block that had no content of its own (a dynamic
//!   block such as "latest posts") is listed, not silently lost;
//! - `[caption]` becomes a figure with its caption, `[gallery]` a figure per
//!   image, `[embed]`, `[audio]`, `[video]` and a URL alone on its line (an
//!   oEmbed) a link to what they showed;
//! - any other shortcode stays as text and is listed;
//! - links and images pointing at the old site's uploads are pointed at the
//!   media library's copies.

use std::collections::BTreeMap;
use std::rc::Rc;

use htmd::element_handler::Handlers;
use htmd::options::{BrStyle, BulletListMarker, HrStyle, LinkStyle, Options};
use htmd::{Element, HtmlToMarkdown};
use markup5ever_rcdom::{Node, NodeData};

/// An image of the old site, as the importer knows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Picture {
    /// Where readers find it now: the media library's copy, or the old address.
    pub src: String,
    pub alt: String,
    pub caption: String,
}

/// What the converter needs to know about the site's attachments.
pub trait Attachments {
    /// An attachment by its WordPress id.
    fn by_id(&self, id: i64) -> Option<&Picture>;
    /// The attachments uploaded to a post, in upload order (a bare `[gallery]`).
    fn of_post(&self, post_id: i64) -> Vec<&Picture>;
    /// The address an old upload URL (or one of its resized copies) has now.
    fn rewrite(&self, url: &str) -> Option<String>;
}

/// A post's content, converted, with what could not be carried over exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Converted {
    pub markdown: String,
    /// Shortcodes kept as text, by name, with how often they appeared.
    pub unknown_shortcodes: BTreeMap<String, usize>,
    /// Blocks without content of their own (rendered by WordPress's code), by name.
    pub dynamic_blocks: BTreeMap<String, usize>,
}

/// Converts one post's content. `post_id` finds a bare `[gallery]`'s images.
pub fn convert(content: &str, post_id: i64, media: &dyn Attachments) -> Converted {
    let mut out = Converted::default();
    let blocks = content.contains("<!-- wp:");
    let html = strip_comments(content, &mut out.dynamic_blocks);
    let html = expand_shortcodes(&html, post_id, media, &mut out.unknown_shortcodes);
    let html = if blocks { html } else { autop(&html) };
    let html = rewrite_urls(&html, media);
    out.markdown = to_markdown(&html);
    out
}

/// A reader comment as WordPress stores it (text with paragraphs as blank
/// lines and a little HTML) to the Markdown comments are kept in here.
pub fn comment_markdown(text: &str) -> String {
    to_markdown(&autop(&strip_comments(text, &mut BTreeMap::new())))
}

/// Removes block comments (recording self-closing dynamic blocks) and the
/// `<!--more-->` / `<!--nextpage-->` markers; other comments stay for the sanitizer.
fn strip_comments(content: &str, dynamic: &mut BTreeMap<String, usize>) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 4..];
        let Some(end) = after.find("-->") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = after[..end].trim();
        let marker = inner.starts_with("more") || inner.starts_with("nextpage") || inner.starts_with("noteaser");
        if let Some(block) = inner.strip_prefix("wp:") {
            if inner.ends_with('/') {
                let name: String = block.chars().take_while(|c| !c.is_whitespace() && *c != '/').collect();
                *dynamic.entry(name).or_default() += 1;
            }
            out.push('\n');
        } else if inner.starts_with("/wp:") || marker {
            out.push('\n');
        } else {
            out.push_str(&rest[start..start + 4 + end + 3]);
        }
        rest = &after[end + 3..];
    }
    out.push_str(rest);
    out
}

/// A shortcode's opening tag: `[name attr="v" attr2=v2 positional]`.
struct Shortcode<'a> {
    name: &'a str,
    attrs: Vec<(String, String)>,
    /// Byte length of the tag in the source.
    len: usize,
}

impl Shortcode<'_> {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Reads the shortcode tag at the start of `s` (which begins with `[`).
fn parse_tag(s: &str) -> Option<Shortcode<'_>> {
    let body = &s[1..];
    let name_len = body.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')).unwrap_or(body.len());
    if name_len == 0 {
        return None;
    }
    let name = &body[..name_len];
    let mut attrs = Vec::new();
    let mut rest = &body[name_len..];
    let mut consumed = 1 + name_len;
    loop {
        let trimmed = rest.trim_start();
        consumed += rest.len() - trimmed.len();
        rest = trimmed;
        if let Some(after) = rest.strip_prefix(']') {
            let _ = after;
            return Some(Shortcode { name, attrs, len: consumed + 1 });
        }
        if let Some(after) = rest.strip_prefix("/]") {
            let _ = after;
            return Some(Shortcode { name, attrs, len: consumed + 2 });
        }
        if rest.is_empty() || rest.starts_with('[') || rest.starts_with('\n') && rest.len() > 4096 {
            return None;
        }
        let key_len = rest.find(|c: char| c == '=' || c.is_whitespace() || c == ']').unwrap_or(rest.len());
        let key = rest[..key_len].to_ascii_lowercase();
        rest = &rest[key_len..];
        consumed += key_len;
        if let Some(after_eq) = rest.strip_prefix('=') {
            consumed += 1;
            rest = after_eq;
            let (value, used) = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let close = rest[1..].find(q)?;
                    (rest[1..1 + close].to_owned(), close + 2)
                }
                _ => {
                    let end = rest.find(|c: char| c.is_whitespace() || c == ']').unwrap_or(rest.len());
                    (rest[..end].to_owned(), end)
                }
            };
            attrs.push((key, value));
            rest = &rest[used..];
            consumed += used;
        } else if !key.is_empty() {
            attrs.push((key, String::new()));
        } else {
            return None;
        }
    }
}

/// Expands the shortcodes WordPress ships with; keeps any other as text.
fn expand_shortcodes(
    html: &str,
    post_id: i64,
    media: &dyn Attachments,
    unknown: &mut BTreeMap<String, usize>,
) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('[') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        // `[[name]]` is WordPress's way of writing a shortcode as text.
        if rest.starts_with("[[") {
            if let Some(end) = rest.find("]]") {
                out.push_str(&rest[1..end + 1]);
                rest = &rest[end + 2..];
                continue;
            }
        }
        let Some(tag) = parse_tag(rest) else {
            out.push('[');
            rest = &rest[1..];
            continue;
        };
        let after = &rest[tag.len..];
        let close = format!("[/{}]", tag.name);
        let (inner, tail) = after.find(&close).map_or(("", after), |end| (&after[..end], &after[end + close.len()..]));
        let name = tag.name.to_ascii_lowercase();
        let expanded = match name.as_str() {
            "caption" | "wp_caption" => Some((caption(&tag, inner), tail)),
            "gallery" => Some((gallery(&tag, post_id, media), after)),
            "embed" | "audio" | "video" | "playlist" => {
                let candidates = [inner.trim(), tag.attr("src").unwrap_or(""), tag.attr("mp3").unwrap_or("")];
                candidates
                    .into_iter()
                    .chain([tag.attr("mp4").unwrap_or("")])
                    .find(|u| is_web_url(u))
                    .map(|url| (format!("\n\n<p><a href=\"{0}\">{0}</a></p>\n\n", escape(url)), tail))
            }
            _ => None,
        };
        match expanded {
            Some((html, tail)) => {
                out.push_str(&html);
                rest = tail;
            }
            None => {
                // Not one WordPress ships (or one without what it needs): kept
                // as text for the newsroom to see.
                if looks_like_shortcode(tag.name) {
                    *unknown.entry(name).or_default() += 1;
                }
                out.push('[');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Brackets in prose ("[sic]", "[1]", "[Updated]") are not shortcodes.
fn looks_like_shortcode(name: &str) -> bool {
    name.len() >= 2
        && name.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '-' || c.is_ascii_digit())
        && name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name != "sic"
}

/// `[caption id="attachment_6" width="300"]<img …/> The caption[/caption]`
/// (or the caption in a `caption` attribute, the oldest form).
fn caption(tag: &Shortcode<'_>, inner: &str) -> String {
    let inner = inner.trim();
    // The image (possibly inside a link) comes first; the caption follows it.
    let split = inner.rfind('>').map_or(0, |i| i + 1);
    let (image, text) = inner.split_at(split);
    let text = match tag.attr("caption") {
        Some(c) if text.trim().is_empty() => c.to_owned(),
        _ => text.trim().to_owned(),
    };
    format!("\n\n<figure>{image}<figcaption>{text}</figcaption></figure>\n\n")
}

/// `[gallery ids="1,2,3"]`, or a bare `[gallery]` for the post's own uploads.
fn gallery(tag: &Shortcode<'_>, post_id: i64, media: &dyn Attachments) -> String {
    let pictures: Vec<&Picture> = match tag.attr("ids").or_else(|| tag.attr("include")) {
        Some(ids) => ids.split(',').filter_map(|id| id.trim().parse().ok()).filter_map(|id| media.by_id(id)).collect(),
        None => media.of_post(post_id),
    };
    let mut html = String::from("\n\n");
    for p in pictures {
        html.push_str(&format!(
            "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n\n",
            escape(&p.src),
            escape(&p.alt),
            escape(&p.caption)
        ));
    }
    html
}

fn is_web_url(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && !s.contains(char::is_whitespace) && s.len() > 10
}

const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "details",
    "div",
    "dl",
    "dd",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "math",
    "menu",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
    "style",
    "script",
    "iframe",
    "object",
    "audio",
    "video",
];

fn starts_with_block(chunk: &str) -> bool {
    let Some(rest) = chunk.strip_prefix('<') else { return false };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    BLOCK_TAGS.contains(&name.as_str())
}

/// WordPress's `wpautop`, the part that matters: blank lines separate
/// paragraphs, a single line break inside one is a `<br>`, and a URL alone on
/// its line (an oEmbed) becomes a link. Blocks of HTML are left as they are,
/// and so is everything inside `<pre>`.
fn autop(html: &str) -> String {
    let html = html.replace("\r\n", "\n");
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    let mut in_pre = false;
    for chunk in html.split("\n\n") {
        let opens = chunk.matches("<pre").count();
        let closes = chunk.matches("</pre>").count();
        let trimmed = chunk.trim();
        if in_pre || trimmed.is_empty() || starts_with_block(trimmed) {
            out.push_str(chunk);
        } else if is_web_url(trimmed) {
            out.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", escape(trimmed)));
        } else {
            out.push_str("<p>");
            out.push_str(&trimmed.replace('\n', "<br>"));
            out.push_str("</p>");
        }
        out.push_str("\n\n");
        in_pre = (in_pre || opens > closes) && !(closes > opens || (in_pre && closes > 0 && opens == 0));
    }
    out
}

/// Points links and images at the old site's uploads to their copies here.
fn rewrite_urls(html: &str, media: &dyn Attachments) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(at) = rest.find("http") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest
            .find(|c: char| c == '"' || c == '\'' || c == '<' || c == ')' || c.is_whitespace())
            .unwrap_or(rest.len());
        let url = &rest[..end];
        match media.rewrite(url) {
            Some(local) => out.push_str(&local),
            None => out.push_str(url),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// HTML to Markdown; a figure stays a figure (one line of HTML).
fn to_markdown(html: &str) -> String {
    thread_local! {
        static CONVERTER: HtmlToMarkdown = HtmlToMarkdown::builder()
            .options(Options {
                bullet_list_marker: BulletListMarker::Dash,
                ul_bullet_spacing: 1,
                ol_number_spacing: 1,
                hr_style: HrStyle::Dashes,
                br_style: BrStyle::Backslash,
                link_style: LinkStyle::InlinedPreferAutolinks,
                ..Options::default()
            })
            .skip_tags(vec!["script", "style", "noscript", "head", "template"])
            .add_handler(vec!["figure"], |_: &dyn Handlers, element: Element| figure(element.node))
            .add_handler(vec!["pre"], |_: &dyn Handlers, element: Element| preformatted(element.node))
            .build();
    }
    let markdown = CONVERTER.with(|c| c.convert(html).unwrap_or_default());
    without_dangling_breaks(&markdown)
}

/// A line break at the very end of a paragraph (WordPress's `<br>` before an
/// image that then became a block of its own) would show as a backslash.
fn without_dangling_breaks(markdown: &str) -> String {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out = String::with_capacity(markdown.len());
    let mut in_fence = false;
    for (i, line) in lines.iter().enumerate() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        if in_fence {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let next_blank = lines.get(i + 1).is_none_or(|next| next.trim().is_empty());
        let line = match line.strip_suffix('\\') {
            Some(rest) if next_blank || rest.trim().is_empty() => rest.trim_end(),
            _ => line,
        };
        if line.is_empty() && lines[i].trim() == "\\" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.truncate(out.trim_end().len());
    out
}

fn figure(node: &Rc<Node>) -> Option<htmd::element_handler::HandlerResult> {
    let mut img: Option<(String, String)> = None;
    let mut caption = String::new();
    find_figure_parts(node, &mut img, &mut caption);
    let caption = caption.split_whitespace().collect::<Vec<_>>().join(" ");
    let html = match img {
        Some((src, alt)) => {
            let cap = if caption.is_empty() {
                String::new()
            } else {
                format!("<figcaption>{}</figcaption>", escape(&caption))
            };
            format!("<figure><img src=\"{}\" alt=\"{}\">{cap}</figure>", escape(&src), escape(&alt))
        }
        // A figure of something else (a quote, a table, an embed): its text.
        None => escape(&caption),
    };
    Some(format!("\n\n{html}\n\n").into())
}

/// Preformatted text (code, verse, tables drawn in characters) as a fenced
/// block, its spacing and blank lines kept.
fn preformatted(node: &Rc<Node>) -> Option<htmd::element_handler::HandlerResult> {
    let mut text = String::new();
    text_of(node, &mut text);
    let text = text.trim_matches('\n');
    let longest_run = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    Some(format!("\n\n{fence}\n{text}\n{fence}\n\n").into())
}

fn find_figure_parts(node: &Rc<Node>, img: &mut Option<(String, String)>, caption: &mut String) {
    for child in node.children.borrow().iter() {
        match &child.data {
            NodeData::Element { name, attrs, .. } if &*name.local == "img" && img.is_none() => {
                let attrs = attrs.borrow();
                let get = |n: &str| attrs.iter().find(|a| &*a.name.local == n).map(|a| a.value.to_string());
                if let Some(src) = get("src") {
                    *img = Some((src, get("alt").unwrap_or_default()));
                }
            }
            NodeData::Element { name, .. } if &*name.local == "figcaption" => {
                text_of(child, caption);
                caption.push(' ');
            }
            NodeData::Element { .. } => find_figure_parts(child, img, caption),
            NodeData::Text { contents } if img.is_none() => {
                let _ = contents;
            }
            NodeData::Text { contents } => {
                caption.push_str(&contents.borrow());
            }
            _ => {}
        }
    }
}

fn text_of(node: &Rc<Node>, out: &mut String) {
    for child in node.children.borrow().iter() {
        match &child.data {
            NodeData::Text { contents } => out.push_str(&contents.borrow()),
            NodeData::Element { .. } => text_of(child, out),
            _ => {}
        }
    }
}

/// Escapes text for an HTML attribute or element.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    struct NoMedia;
    impl Attachments for NoMedia {
        fn by_id(&self, _: i64) -> Option<&Picture> {
            None
        }
        fn of_post(&self, _: i64) -> Vec<&Picture> {
            Vec::new()
        }
        fn rewrite(&self, url: &str) -> Option<String> {
            url.strip_prefix("http://old.example/wp-content/uploads/").map(|rest| format!("/media/{rest}"))
        }
    }

    fn md(content: &str) -> Converted {
        convert(content, 1, &NoMedia)
    }

    #[test]
    fn classic_paragraphs_and_line_breaks() {
        let c = md("First line\nsecond line.\n\nSecond <em>paragraph</em>.\n\n<ul>\n<li>one</li>\n</ul>");
        assert_eq!(c.markdown, "First line\\\nsecond line.\n\nSecond *paragraph*.\n\n- one");
    }

    #[test]
    fn blocks_lose_their_comments_and_dynamic_blocks_are_listed() {
        let c = md("<!-- wp:paragraph -->\n<p>Hello <strong>there</strong></p>\n<!-- /wp:paragraph -->\n\n\
                    <!-- wp:latest-posts {\"postsToShow\":3} /-->\n<!--more-->\n<!-- wp:paragraph --><p>After</p><!-- /wp:paragraph -->");
        assert_eq!(c.markdown, "Hello **there**\n\nAfter");
        assert_eq!(c.dynamic_blocks.get("latest-posts"), Some(&1));
    }

    #[test]
    fn caption_becomes_a_figure_with_local_image() {
        let c = md(
            "[caption id=\"attachment_6\" align=\"alignright\" width=\"300\"]<a href=\"http://old.example/wp-content/uploads/a.jpg\"><img src=\"http://old.example/wp-content/uploads/a.jpg\" alt=\"Boat\" width=\"300\" /></a> The late boat, <em>1998</em>[/caption]\n\nText.",
        );
        assert_eq!(
            c.markdown,
            "<figure><img src=\"/media/a.jpg\" alt=\"Boat\"><figcaption>The late boat, 1998</figcaption></figure>\n\nText."
        );
        assert!(c.unknown_shortcodes.is_empty());
    }

    #[test]
    fn unknown_shortcodes_stay_and_are_listed_but_brackets_in_prose_are_not() {
        let c = md("Before [contact-form-7 id=\"12\"] after [sic] and [1] and [[gallery]].");
        assert_eq!(c.markdown, "Before \\[contact-form-7 id=\"12\"\\] after \\[sic\\] and \\[1\\] and \\[gallery\\].");
        assert_eq!(c.unknown_shortcodes.len(), 1);
        assert_eq!(c.unknown_shortcodes.get("contact-form-7"), Some(&1));
    }

    #[test]
    fn embeds_become_links() {
        let c = md("Watch:\n\nhttps://www.youtube.com/watch?v=abc\n\n[embed]https://vimeo.com/1[/embed]");
        assert_eq!(c.markdown, "Watch:\n\n<https://www.youtube.com/watch?v=abc>\n\n<https://vimeo.com/1>");
    }

    #[test]
    fn preformatted_text_keeps_its_blank_lines() {
        let c = md("Text<br>\n<img src=\"http://x.example/a.jpg\">\n\n<pre>a \\\n\nb</pre>\n\nafter");
        assert!(c.markdown.starts_with("Text\\\n![](http://x.example/a.jpg)\n"), "{}", c.markdown);
        assert!(c.markdown.contains("```\na \\\n\nb\n```"), "{}", c.markdown);
        assert!(c.markdown.ends_with("after"));
    }

    #[test]
    fn an_image_block_keeps_its_caption_and_points_at_the_copy() {
        let c = md(
            "<!-- wp:image -->\n<figure class=\"wp-block-image\"><img src=\"http://old.example/wp-content/uploads/b.jpg\" \
                    alt=\"\"/><figcaption>Cap <a href=\"/x\">here</a></figcaption></figure>\n<!-- /wp:image -->",
        );
        assert_eq!(c.markdown, "<figure><img src=\"/media/b.jpg\" alt=\"\"><figcaption>Cap here</figcaption></figure>");
    }

    #[test]
    fn scripts_never_survive() {
        let c = md("<script>alert(1)</script><p onclick=\"x()\">Hi</p>");
        assert_eq!(c.markdown, "Hi");
    }
}
