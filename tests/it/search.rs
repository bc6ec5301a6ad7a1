//! Full-text search against the real server: found by a word of its body,
//! ranked, highlighted, paged; hostile queries get results or none, never a
//! 5xx; what is unpublished is not found. (PostgreSQL: tests/it/postgres.rs.)

use crate::helpers::{TestApp, article, location};

/// The result headlines of a search page, in order.
fn results(html: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(".search-result .card-headline a").expect("selector");
    document.select(&selector).map(|a| a.text().collect::<String>()).collect()
}

/// Follows `/?s=` to the canonical search address and returns its page.
pub async fn search(app: &TestApp, text: &str) -> String {
    let url = format!(
        "{}?s={}",
        app.url("/"),
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
    );
    let response = app.client.get(url).send().await.expect("search");
    assert_eq!(response.status(), 301, "/?s= {text}");
    let target = location(&response);
    assert!(target.starts_with("/search/"), "{target}");
    app.page(&target).await
}

#[tokio::test]
async fn search_finds_ranks_highlights_and_pages() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article(
        "Harbour board meets",
        "slug = \"board\"\nbyline = \"Ana Ruiz\"",
        "The board discussed the budget.",
    ))
    .await;
    app.publish(&article(
        "Council news",
        "slug = \"council\"",
        "Buried in the minutes: the quay's <b>bollards</b> & rails (at < 5 years > old) will be replaced by spring.",
    ))
    .await;
    for n in 0..12 {
        app.publish(&article(&format!("Tide report {n}"), &format!("slug = \"tide-{n}\""), "High tide at noon.")).await;
    }

    // A word only in the body, in the top three.
    let page = search(&app, "bollards").await;
    let found = results(&page);
    assert!(found.iter().take(3).any(|h| h == "Council news"), "{found:?}");
    // Highlighted, and the article's text stays text: its HTML tags are not
    // quoted, its brackets are escaped.
    assert!(page.contains("<mark>bollards</mark>"), "{page}");
    assert!(page.contains("&amp; rails (at &lt; 5 years &gt; old)") && !page.contains("<b>"), "{page}");
    // Diacritics and case do not matter; the author is searchable.
    assert_eq!(results(&search(&app, "RUÍZ").await), ["Harbour board meets"]);
    // The headline outweighs the body.
    app.publish(&article("Budget cuts", "slug = \"budget\"", "Money.")).await;
    assert_eq!(results(&search(&app, "budget").await)[0], "Budget cuts");

    // Paged: 12 tide reports, 10 a page.
    let first = search(&app, "tide").await;
    assert_eq!(results(&first).len(), 10);
    assert!(first.contains("12 articles") && first.contains("href=\"/search/tide/page/2/\""));
    assert_eq!(results(&app.page("/search/tide/page/2/").await).len(), 2);
    assert_eq!(app.get("/search/tide/page/3/").await.status(), 404);

    // Nothing found: said so, with recent stories.
    let none = search(&app, "zeppelin").await;
    assert!(none.contains("No articles match “zeppelin”") && none.contains("Recent stories"));
    assert!(results(&none).is_empty());

    // Unpublished: no longer found.
    app.publish(&article("Council news", "slug = \"council\"\nstatus = \"draft\"", "Withdrawn bollards.")).await;
    assert!(results(&search(&app, "bollards").await).is_empty());
    app.stop().await;
}

#[tokio::test]
async fn any_query_gets_results_or_none_never_an_error() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article("Ferry trial", "slug = \"ferry\"", "Late ferry sailings to the islands.")).await;
    let long = "ferry ".repeat(300);
    // (query, found): every word must appear; operators are words like any other.
    let queries = [
        ("ferry*", true),
        ("\"ferry", true),
        ("ferry islands", true),
        ("ferry AND NOT islands", false),
        ("NEAR(ferry islands, 2)", false),
        ("headline:ferry", false),
        ("ferry) OR (1=1", false),
        ("'; DROP TABLE articles; --", false),
        ("<script>alert(1)</script> ferry", false),
        ("🌊⛴️ ferry", true),
        ("مرحبا بالعالم", false),
        ("עברית ferry", false),
        ("LATE Ferry", true),
        (long.as_str(), true),
    ];
    for (text, expected) in queries {
        let page = search(&app, text).await;
        assert!(!page.contains("<script>alert"), "{text}: the query is shown as text");
        let found = if expected { vec!["Ferry trial".to_owned()] } else { Vec::new() };
        assert_eq!(results(&page), found, "{text}");
    }
    // Addresses typed by hand: any words, any encoding, never a 5xx.
    for path in
        ["/search/%00/", "/search/%FF/", "/search/a%2Fb/", "/search/%E2%80%AE/", "/search/+/", "/search/x/page/0/"]
    {
        let status = app.get(path).await.status();
        assert!(status.is_client_error() || status.is_redirection() || status == 200, "{path}: {status}");
    }
    // 10 kB of text, in any script, is a search like any other.
    for text in ["ferry ".repeat(1_700), "مرحبا ".repeat(1_000), format!("ferry {}", "漢字".repeat(1_700))] {
        assert!(text.len() >= 10_000);
        let page = search(&app, &text).await;
        assert!(results(&page).len() <= 1, "{}", &text[..20]);
    }
    // A query with no words leaves the reader on the front page.
    assert_eq!(app.get("/?s=%E2%9C%93").await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn every_page_has_the_search_box() {
    let app = TestApp::spawn().await;
    let front = app.page("/").await;
    assert!(front.contains(r#"<form class="masthead-search" role="search" action="/" method="get">"#));
    assert!(front.contains(r#"name="s""#));
    let results = search(&app, "ferry").await;
    assert!(results.contains(r#"<meta name="robots" content="noindex, follow">"#), "results stay out of indexes");
    app.stop().await;
}

#[tokio::test]
async fn the_index_is_merged_and_finds_everything_it_found() {
    let app = TestApp::spawn_empty().await;
    // Each save leaves a small piece of the index of its own.
    for n in 0..40 {
        let body = format!("Harbour log entry. The pilot boat berthed at marker{n} before the tide turned.");
        app.publish(&article(&format!("Harbour log {n}"), &format!("slug = \"log-{n}\""), &body)).await;
    }
    let merged = app.store.tidy_search_index().await.expect("merged").expect("pieces to merge");
    assert!(merged.segments_before >= 3, "{merged:?}");
    assert_eq!(merged.segments_after, 1, "{merged:?}");
    assert_eq!(app.store.tidy_search_index().await.expect("tidy"), None, "nothing left to merge");
    for n in [0, 17, 39] {
        assert_eq!(results(&search(&app, &format!("marker{n}")).await), [format!("Harbour log {n}")]);
    }
    assert_eq!(results(&search(&app, "pilot boat").await).len(), 10);

    // An edit afterwards: its new words are found and its old ones are not,
    // before the small piece it left is merged and after.
    app.publish(&article("Harbour log 17", "slug = \"log-17\"", "The dredger worked the channel.")).await;
    assert_eq!(results(&search(&app, "dredger").await), ["Harbour log 17"]);
    let merged = app.store.tidy_search_index().await.expect("merged").expect("a piece to merge");
    assert!(merged.segments_after <= 2, "{merged:?}");
    assert_eq!(results(&search(&app, "dredger").await), ["Harbour log 17"]);
    assert!(results(&search(&app, "marker17").await).is_empty());
    assert_eq!(results(&search(&app, "marker39").await), ["Harbour log 39"]);
    app.stop().await;
}
