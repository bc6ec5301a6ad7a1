//! Markdown to safe HTML: pulldown-cmark renders, ammonia sanitizes.

use pulldown_cmark::{Options, Parser, html};

/// Renders newsroom Markdown to sanitized HTML. Raw HTML in the source is
/// cleaned like any other: scripts, event handlers and `javascript:` links go.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_SMART_PUNCTUATION;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default().link_rel(Some("noopener")).clean(&unsafe_html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

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
