//! The article's comment form: any form body, as the server reads it.
#![no_main]

use broadsheet::domain::comment::{self, CommentForm};
use broadsheet::web::hygiene;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let refused = hygiene::field_with_control(body);
    if let Ok(form) = serde_urlencoded::from_bytes::<CommentForm>(body)
        && let Ok(valid) = form.validate()
    {
        let html = comment::render_body(&valid.body);
        assert!(!html.contains("<script"), "{html}");
        if refused.is_none() {
            assert!(!valid.author_name.contains('\0'));
        }
    }
});
