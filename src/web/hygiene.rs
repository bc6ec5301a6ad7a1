//! Input hygiene at the door: no text field of any form or API may carry a
//! control character (NUL and the other C0 characters but tab, line feed and
//! carriage return, and DEL). Such text is never what a person typed; stored,
//! it breaks logs, exports and other software that reads it. The request is
//! refused with `422`, naming the field, before any handler sees it.
//!
//! Form bodies (`application/x-www-form-urlencoded`) and query strings are
//! checked here; the text fields of the media upload form, the one multipart
//! form, are checked where it reads them ([`first_control`]).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// Largest form body read: the size limit of every form and API.
pub const MAX_FORM: usize = 2 * 1024 * 1024;

/// Middleware: refuses a query string or form body with a control character.
pub async fn refuse_control_characters(request: Request, next: Next) -> Response {
    if let Some(field) = request.uri().query().and_then(|q| field_with_control(q.as_bytes())) {
        return refuse(&field);
    }
    if !is_form(request.headers()) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let bytes = match Limited::new(body, MAX_FORM).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(err) if err.is::<LengthLimitError>() => return too_large(),
        // Cut off or timed out: the body-deadline middleware answers for a timeout.
        Err(_) => {
            return (StatusCode::BAD_REQUEST, "The form arrived incomplete. Please send it again.\n").into_response();
        }
    };
    if let Some(field) = field_with_control(&bytes) {
        return refuse(&field);
    }
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/x-www-form-urlencoded"))
}

/// The name of the first field (of `a=1&b=2` form encoding) whose name or
/// value holds a control character.
pub fn field_with_control(encoded: &[u8]) -> Option<String> {
    form_urlencoded::parse(encoded)
        .find(|(name, value)| first_control(name).is_some() || first_control(value).is_some())
        .map(|(name, _)| name.chars().filter(|c| !is_forbidden(*c)).take(60).collect())
}

/// The first control character in `text` that no form field may hold.
pub fn first_control(text: &str) -> Option<char> {
    text.chars().find(|c| is_forbidden(*c))
}

fn is_forbidden(c: char) -> bool {
    (c.is_ascii_control() && !matches!(c, '\t' | '\n' | '\r')) || c == '\u{7f}'
}

/// `422` naming the field.
pub fn refuse(field: &str) -> Response {
    let message = format!(
        "The field \u{201c}{field}\u{201d} contains a control character (such as NUL), which no field may hold. \
         Remove it and send the form again.\n"
    );
    tracing::info!(field, "refused a control character in a form field");
    (StatusCode::UNPROCESSABLE_ENTITY, [(header::CACHE_CONTROL, "no-store")], message).into_response()
}

/// `413` for a form body past [`MAX_FORM`].
pub fn too_large() -> Response {
    let message = format!("The form is too large: at most {} MB.\n", MAX_FORM / 1024 / 1024);
    (StatusCode::PAYLOAD_TOO_LARGE, [(header::CONNECTION, "close")], message).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_by_field() {
        assert_eq!(field_with_control(b"author=Bob%00Evil&comment=hi").as_deref(), Some("author"));
        assert_eq!(field_with_control(b"a=1&note=bell%07").as_deref(), Some("note"));
        assert_eq!(field_with_control(b"a=del%7F").as_deref(), Some("a"));
        assert_eq!(field_with_control(b"na%00me=x").as_deref(), Some("name"));
    }

    #[test]
    fn tabs_and_line_breaks_are_text() {
        assert_eq!(field_with_control(b"comment=line%0D%0Anext%09tab&x=caf%C3%A9"), None);
        assert_eq!(field_with_control(b"comment=%E2%80%94+%F0%9F%98%80"), None);
        assert_eq!(first_control("ok\r\n\t"), None);
        assert_eq!(first_control("a\u{1b}[31m"), Some('\u{1b}'));
    }
}
