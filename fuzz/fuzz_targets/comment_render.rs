//! Reader comment text to HTML, and the author's fields.
#![no_main]

use broadsheet::domain::comment;
use libfuzzer_sys::fuzz_target;

#[path = "safe_html.rs"]
mod safe_html;
use safe_html::assert_safe;

fuzz_target!(|text: &str| {
    let html = comment::render_body(text);
    assert_safe(&html);
    let _ = comment::count_links(text);
    let _ = comment::is_email(text);
    if let Some(url) = comment::normalize_url(text) {
        assert!(url.starts_with("http://") || url.starts_with("https://"), "{url}");
    }
});
