//! Article source files (TOML front matter and Markdown) and Markdown alone.
#![no_main]

use broadsheet::domain::{markdown, source};
use libfuzzer_sys::fuzz_target;

#[path = "safe_html.rs"]
mod safe_html;
use safe_html::assert_safe;

fuzz_target!(|text: &str| {
    let _ = source::parse(text);
    let html = markdown::render(text);
    assert_safe(&html);
});
