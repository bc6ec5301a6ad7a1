//! The page cache: ETags, 304s, compression, and invalidation of exactly the
//! pages a change touches — including changes made by another process.

use crate::helpers::{TestApp, article, headline_of, link_to};

#[tokio::test]
async fn matching_if_none_match_gets_304() {
    let app = TestApp::spawn().await;
    let first = app.get("/").await;
    let etag = first.headers()["etag"].clone();
    let last_modified = first.headers()["last-modified"].clone();
    assert!(etag.to_str().expect("ascii").starts_with('"'), "a strong ETag");
    assert!(first.headers()["cache-control"].to_str().expect("ascii").contains("public"));

    let again = app.client.get(app.url("/")).header("if-none-match", etag.clone()).send().await.expect("request");
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag);
    assert!(again.bytes().await.expect("body").is_empty());

    let other = app.client.get(app.url("/")).header("if-none-match", "\"stale\"").send().await.expect("request");
    assert_eq!(other.status(), 200);

    let since = app.client.get(app.url("/")).header("if-modified-since", last_modified).send().await.expect("request");
    assert_eq!(since.status(), 304);
    app.stop().await;
}

#[tokio::test]
async fn pages_are_served_compressed() {
    let app = TestApp::spawn().await;
    let plain = app.get("/").await.bytes().await.expect("body");
    // The copy a client prefers is made in the background once the page is
    // read again by such a client; each coding is checked against the page.
    for (accept, coding) in [("br, gzip", "br"), ("gzip", "gzip")] {
        let mut found = false;
        for _ in 0..50 {
            let response =
                app.client.get(app.url("/")).header("accept-encoding", accept).send().await.expect("request");
            assert_eq!(response.headers()["vary"], "Accept-Encoding");
            if response.headers().get("content-encoding").is_some_and(|v| v == coding) {
                let body = response.bytes().await.expect("body");
                assert!(!body.starts_with(b"<!DOCTYPE"), "the body is compressed");
                let mut decoded = Vec::new();
                if coding == "br" {
                    brotli::BrotliDecompress(&mut &body[..], &mut decoded).expect("valid brotli");
                } else {
                    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&body[..]), &mut decoded)
                        .expect("valid gzip");
                }
                assert_eq!(decoded, plain);
                found = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(found, "no {coding} copy for Accept-Encoding: {accept}");
    }
    app.stop().await;
}

#[tokio::test]
async fn cli_publish_invalidates_exactly_the_affected_pages() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article(
        "Tide tables revised",
        "slug = \"tides\"\ncategories = [\"News\"]\ntags = [\"sea\"]",
        "First version.",
    ))
    .await;
    app.publish(&article(
        "Library opens late",
        "slug = \"library\"\ncategories = [\"Culture\"]\ntags = [\"books\"]",
        "Unrelated.",
    ))
    .await;
    let front = app.page("/").await;
    let tides = link_to(&front, "tides");
    let library = link_to(&front, "library");

    // Warm the cache and note the ETags.
    let etag = |response: &reqwest::Response| response.headers()["etag"].to_str().expect("ascii").to_owned();
    let tides_etag = etag(&app.get(&tides).await);
    let library_etag = etag(&app.get(&library).await);
    let culture_etag = etag(&app.get("/category/culture/").await);
    let _ = app.page("/category/news/").await;

    // Another process updates the article, as an editor at a terminal would.
    let file = app.write_file(
        "tides.md",
        &article(
            "Tide tables revised again",
            "slug = \"tides\"\ncategories = [\"News\"]\ntags = [\"sea\"]",
            "Second version.",
        ),
    );
    let output = app.cli(&["publish", file.to_str().expect("utf-8 path")]);
    assert!(output.status.success(), "publish failed: {}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stdout).contains("updated article"));

    // At once: the new headline on its page, the front page and its archives.
    let response = app.get(&tides).await;
    assert_ne!(etag(&response), tides_etag);
    assert_eq!(headline_of(&response.text().await.expect("body")), "Tide tables revised again");
    assert!(app.page("/").await.contains("Tide tables revised again"));
    assert!(app.page("/category/news/").await.contains("Tide tables revised again"));
    assert!(app.page("/tag/sea/").await.contains("Tide tables revised again"));
    // Nothing else: the unrelated article and archive keep their ETags.
    assert_eq!(etag(&app.get(&library).await), library_etag);
    assert_eq!(etag(&app.get("/category/culture/").await), culture_etag);
    app.stop().await;
}

#[tokio::test]
async fn an_in_process_edit_invalidates_on_the_next_request() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article("Bridge closed for repairs", "slug = \"bridge\"", "Closed.")).await;
    let front = app.page("/").await;
    let url = link_to(&front, "bridge");
    assert_eq!(headline_of(&app.page(&url).await), "Bridge closed for repairs");
    app.publish(&article("Bridge reopens early", "slug = \"bridge\"", "Open.")).await;
    assert_eq!(headline_of(&app.page(&url).await), "Bridge reopens early");
    app.stop().await;
}

#[tokio::test]
async fn cached_pages_name_their_surrogate_keys_for_a_cdn() {
    let app = TestApp::spawn().await;
    let front = app.page("/").await;
    let path = link_to(&front, "harbour-night-ferry-trial");
    let id = app
        .store
        .article_by_slug(broadsheet::domain::article::Kind::Article, "harbour-night-ferry-trial")
        .await
        .expect("demo article")
        .id;
    for _ in 0..2 {
        // Rendered, then from the cache: the same keys both times.
        let response = app.get(&path).await;
        let keys = response.headers()["surrogate-key"].to_str().expect("ascii").to_owned();
        let tags = response.headers()["cache-tag"].to_str().expect("ascii").to_owned();
        let keys: Vec<&str> = keys.split(' ').collect();
        assert!(keys.contains(&"site") && keys.contains(&format!("article:{id}").as_str()), "{keys:?}");
        assert_eq!(tags.split(',').collect::<Vec<_>>(), keys, "Cache-Tag names the same keys, comma-separated");
        let control = response.headers()["cache-control"].to_str().expect("ascii").to_owned();
        assert!(control.contains("stale-while-revalidate=") && control.contains("stale-if-error="), "{control}");
    }
    // Feeds and archives too, and never a private page.
    for path in ["/", "/feed/", "/category/news/", "/sitemap.xml"] {
        assert!(app.get(path).await.headers().contains_key("surrogate-key"), "{path}");
    }
    assert!(!app.get("/admin/sign-in").await.headers().contains_key("surrogate-key"));
    app.stop().await;
}

#[tokio::test]
async fn a_page_from_the_cache_carries_what_the_rendered_one_did() {
    let app = TestApp::spawn().await;
    let front = app.page("/").await;
    let path = link_to(&front, "harbour-night-ferry-trial");
    // Rendered, then answered from the cache before the routes: the same
    // bytes and the same headers, the security headers among them.
    let rendered = app.get(&path).await;
    let cached = app.get(&path).await;
    let mut names: Vec<&str> =
        rendered.headers().keys().map(|name| name.as_str()).filter(|name| *name != "date").collect();
    names.sort_unstable();
    for name in &names {
        assert_eq!(rendered.headers()[*name], cached.headers()[*name], "{name}");
    }
    assert_eq!(cached.headers().len(), rendered.headers().len());
    for name in ["x-content-type-options", "x-frame-options", "referrer-policy", "content-security-policy", "etag"] {
        assert!(names.contains(&name), "{name} missing");
    }
    let etag = cached.headers()["etag"].clone();
    assert_eq!(rendered.bytes().await.expect("body"), cached.bytes().await.expect("body"));

    // A reader whose comment waits sees their own version, never the cached one.
    app.relax_timing().await;
    let browser = app.browser();
    let posted = app
        .comment(&browser, &path, &crate::helpers::fields("Held for now, I expect.", "Ana", "ana@example.org"))
        .await;
    assert_eq!(posted.status(), 303);
    let own = browser.get(app.url(&path)).send().await.expect("request").text().await.expect("body");
    assert!(own.contains("Held for now, I expect."), "the reader's own held comment");
    let public = app.page(&path).await;
    assert!(!public.contains("Held for now, I expect."), "not shown to others");

    // HEAD goes the long way, to the same page.
    let head = app.client.head(app.url(&path)).send().await.expect("request");
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["etag"], etag);
    app.stop().await;
}
