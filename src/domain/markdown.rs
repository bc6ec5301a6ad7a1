//! Markdown to safe HTML: pulldown-cmark renders, ammonia sanitizes.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd, html};

const OPTIONS: Options = Options::ENABLE_TABLES
    .union(Options::ENABLE_FOOTNOTES)
    .union(Options::ENABLE_STRIKETHROUGH)
    .union(Options::ENABLE_SMART_PUNCTUATION);

/// The link schemes the sanitizer keeps in articles (ammonia's defaults).
static SCHEMES: std::sync::LazyLock<Vec<&'static str>> =
    std::sync::LazyLock::new(|| ammonia::Builder::default().clone_url_schemes().into_iter().collect());

/// Renders newsroom Markdown to sanitized HTML. Raw HTML in the source is
/// cleaned like any other: scripts, event handlers and `javascript:` links go.
pub fn render(markdown: &str) -> String {
    let options = OPTIONS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, drop_unsafe_links(Parser::new_ext(markdown, options), &SCHEMES));
    ammonia::Builder::default().link_rel(Some("noopener")).clean(&unsafe_html).to_string()
}

/// Shows a link whose address the sanitizer would remove (`javascript:`, a
/// typo such as `hhttps:`) as its text, instead of leaving an `<a>` with no
/// `href` behind. `schemes` are the ones kept; relative addresses always are.
pub fn drop_unsafe_links<'a>(
    events: impl Iterator<Item = Event<'a>>,
    schemes: &[&str],
) -> impl Iterator<Item = Event<'a>> {
    let mut kept: Vec<bool> = Vec::new();
    let schemes: Vec<String> = schemes.iter().map(|s| s.to_ascii_lowercase()).collect();
    events.filter_map(move |event| match event {
        Event::Start(Tag::Link { ref dest_url, .. }) => {
            let keep = is_allowed_link(dest_url, &schemes);
            kept.push(keep);
            keep.then_some(event)
        }
        Event::End(TagEnd::Link) => kept.pop().unwrap_or(true).then_some(event),
        other => Some(other),
    })
}

fn is_allowed_link(url: &str, schemes: &[String]) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    let path_start = lower.find(['/', '?', '#']).unwrap_or(lower.len());
    match lower.find(':') {
        Some(end) if end < path_start => schemes.iter().any(|s| *s == lower[..end]),
        _ => true,
    }
}

/// The words a reader sees, without markup: what search indexes and quotes.
/// Blocks (paragraphs, headings, items) end with a line break; link targets
/// and raw HTML tags are left out.
pub fn plain_text(markdown: &str) -> String {
    let mut text = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, OPTIONS) {
        match event {
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            Event::End(
                TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::TableCell | TagEnd::CodeBlock,
            ) => text.push('\n'),
            _ => {}
        }
    }
    text.truncate(text.trim_end().len());
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_what_readers_read() {
        let text = plain_text(
            "## Why now\n\nThe [harbour board](https://example.org/board) said \"yes\"\nand *more*.\n\n- one\n- <b>two</b>",
        );
        assert_eq!(text, "Why now\nThe harbour board said “yes” and more.\none\ntwo");
    }

    #[test]
    fn renders_and_sanitizes() {
        let html =
            render("Hello *world*\n\n<script>alert(1)</script><a href=\"javascript:alert(1)\" onclick=\"x()\">x</a>");
        assert!(html.contains("<em>world</em>"));
        assert!(!html.contains("<script"));
        assert!(!html.contains("javascript:"));
        assert!(!html.contains("onclick"));
    }
}
