//! Reader HTML is never executable: every payload of a filter-evasion list,
//! posted as comment text, name and website, renders harmless.

use scraper::{Html, Selector};

use crate::helpers::{TestApp, fields};

const VECTORS: &str = include_str!("data/xss-vectors.txt");

/// Every way a page could run script: script elements (other than a JSON-LD
/// data block), event handlers,
/// script URLs in any attribute, and elements that load or frame content.
fn executable_parts(html: &str) -> Vec<String> {
    let document = Html::parse_document(html);
    let mut found = Vec::new();
    let all = Selector::parse("*").expect("selector");
    for element in document.select(&all) {
        let tag = element.value().name();
        // The page's own JSON-LD is a data block: never run, and counted below.
        let data_block = tag == "script"
            && element.value().attr("type") == Some("application/ld+json")
            && element.value().attr("src").is_none();
        if !data_block
            && matches!(tag, "script" | "iframe" | "frame" | "object" | "embed" | "base" | "applet" | "frameset")
        {
            found.push(format!("<{tag}>"));
        }
        if tag == "meta" && element.value().attr("http-equiv").is_some() {
            found.push("<meta http-equiv>".into());
        }
        for (name, value) in element.value().attrs() {
            let squashed: String =
                value.chars().filter(|c| !c.is_whitespace() && !c.is_control()).collect::<String>().to_lowercase();
            if name.to_lowercase().starts_with("on") {
                found.push(format!("{tag} {name}="));
            }
            // Attributes a browser follows or loads as a URL (a form field's value is only text).
            let is_url = matches!(
                name.to_lowercase().as_str(),
                "href"
                    | "src"
                    | "action"
                    | "formaction"
                    | "data"
                    | "background"
                    | "lowsrc"
                    | "dynsrc"
                    | "poster"
                    | "xlink:href"
                    | "srcset"
                    | "codebase"
                    | "cite"
                    | "longdesc"
                    | "ping"
            );
            let scripted = squashed.starts_with("javascript:")
                || squashed.starts_with("vbscript:")
                || squashed.starts_with("data:text/html");
            if is_url && scripted {
                found.push(format!("{tag} {name}={value}"));
            }
            if name == "style" && (squashed.contains("expression(") || squashed.contains("url(")) {
                found.push(format!("{tag} style={value}"));
            }
        }
    }
    found
}

#[tokio::test]
async fn filter_evasion_payloads_render_harmless() {
    let app = TestApp::spawn_empty().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    app.set("max_links", "100").await;
    let path = app.article_at("xss", "").await;
    // The checker itself catches what it must.
    for bad in ["<script>x</script>", "<img src=x onerror=alert(1)>", "<a href=' JaVa\tScript:alert(1)'>x</a>"] {
        assert!(!executable_parts(bad).is_empty(), "{bad}");
    }
    let clean = app.page(&path).await;
    assert!(executable_parts(&clean).is_empty(), "the page itself is clean: {:?}", executable_parts(&clean));
    let vectors: Vec<&str> = VECTORS.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect();
    assert!(vectors.len() >= 50, "at least 50 distinct vectors");

    let browser = app.browser();
    let mut stored = 0;
    for (n, vector) in vectors.iter().enumerate() {
        let name: String = vector.chars().take(240).collect();
        let email = format!("x{n}@example.org");
        // As comment text and name: stored and shown.
        let response = app.comment(&browser, &path, &fields(vector, &name, &email)).await;
        if response.status() == 303 {
            stored += 1;
        } else {
            let page = response.text().await.expect("body");
            assert!(executable_parts(&page).is_empty(), "re-shown form for {vector:?}: {:?}", executable_parts(&page));
        }
        // As the website: refused, and the re-shown form (which keeps it) is harmless too.
        let mut with_url = fields("Harmless text", "Reader", &email);
        let website = vector.to_string();
        with_url.push(("url", &website));
        let response = app.comment(&browser, &path, &with_url).await;
        if response.status() != 303 {
            let page = response.text().await.expect("body");
            assert!(executable_parts(&page).is_empty(), "website {vector:?}: {:?}", executable_parts(&page));
        }
    }
    assert!(stored >= vectors.len() - 2, "the payloads were stored and shown: {stored}");
    for page in 1..=3 {
        let url = if page == 1 { path.clone() } else { format!("{path}comment-page-{page}/") };
        let response = app.get(&url).await;
        if response.status() == 404 {
            break;
        }
        let html = response.text().await.expect("body");
        let found = executable_parts(&html);
        assert!(found.is_empty(), "page {page}: {found:?}");
        // Only the page's own two blocks (NewsArticle, BreadcrumbList): no reader's.
        assert_eq!(html.matches("<script").count(), 2, "page {page}");
    }
    app.stop().await;
}
