//! What "safe" means for HTML made from reader or newsroom text: no script
//! element, no event-handler attribute, no link or source that runs script.
//! Text that merely looks like a tag is escaped (`&lt;`), so every `<` in the
//! output opens a real tag.

pub fn assert_safe(html: &str) {
    for tag in html.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or(rest)) {
        let name: String = tag.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '/').collect();
        assert!(!name.eq_ignore_ascii_case("script"), "a script element: {html}");
        for (attribute, value) in attributes(&tag[name.len()..]) {
            assert!(!attribute.starts_with("on"), "an event handler {attribute}: {html}");
            if matches!(attribute.as_str(), "href" | "src" | "action" | "formaction") {
                let value = value.trim_start().to_ascii_lowercase();
                for scheme in ["javascript:", "vbscript:", "data:text/html"] {
                    assert!(!value.starts_with(scheme), "{attribute}={value}: {html}");
                }
            }
        }
    }
}

/// A tag's attributes (lower-case names, raw values), quotes respected.
fn attributes(mut rest: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return found;
        }
        let end = rest.find(|c: char| c.is_whitespace() || c == '=').unwrap_or(rest.len());
        let name = rest[..end].to_ascii_lowercase();
        rest = rest[end..].trim_start();
        let mut value = String::new();
        if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            match after.chars().next() {
                Some(quote @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let close = body.find(quote).unwrap_or(body.len());
                    value = body[..close].to_owned();
                    rest = body.get(close + 1..).unwrap_or("");
                }
                _ => {
                    let close = after.find(char::is_whitespace).unwrap_or(after.len());
                    value = after[..close].to_owned();
                    rest = &after[close..];
                }
            }
        }
        found.push((name, value));
    }
}
