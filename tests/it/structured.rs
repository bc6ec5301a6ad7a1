//! Structured data and link previews, read by `extruct` (the parser search
//! tools use): a `NewsArticle` with every field a news search engine asks for,
//! its `BreadcrumbList`, Open Graph and the Twitter card; `WebSite` and
//! `CollectionPage` on listings.

use serde_json::Value;

use crate::helpers::{TestApp, article, link_to, python};

/// JSON-LD and Open Graph of a page, as extruct reads them.
fn extract(html: &str, url: &str) -> Option<Value> {
    let script = format!(
        "import sys, json, extruct\n\
         d = extruct.extract(sys.stdin.read(), base_url={url:?}, syntaxes=['json-ld', 'opengraph'])\n\
         print(json.dumps(d))"
    );
    python("extruct", &script, html).map(|out| serde_json::from_str(&out).expect("extruct output"))
}

fn of_type<'a>(data: &'a Value, kind: &str) -> &'a Value {
    data["json-ld"].as_array().expect("json-ld").iter().find(|v| v["@type"] == kind).unwrap_or_else(|| {
        panic!("no {kind} in {data}");
    })
}

#[tokio::test]
async fn an_article_carries_news_article_breadcrumbs_and_previews() {
    let app = TestApp::spawn_empty().await;
    let front_matter = "slug = \"tides\"\nbyline = \"Ana Ruiz\"\nagency = \"Harbour Wire\"\n\
        standfirst = \"New tables </script> & what changes.\"\ncategories = [\"News > Local\"]\ntags = [\"sea\", \"port\"]\n\
        [image]\nsrc = \"tide.svg\"\nalt = \"The quay at high tide\"\ncaption = \"High water at the quay.\"\ncredit = \"Photo: Jo Lee\"";
    app.publish(&article("Tide tables revised", front_matter, "Body.")).await;
    let front = app.page("/").await;
    let path = link_to(&front, "tides");
    let html = app.page(&path).await;
    assert!(!html.contains("New tables </script>"), "the standfirst cannot end the JSON-LD script");
    let url = format!("https://news.example.org{path}");
    let Some(data) = extract(&html, &url) else { return };

    let news = of_type(&data, "NewsArticle");
    assert_eq!(news["headline"], "Tide tables revised");
    assert_eq!(news["description"], "New tables </script> & what changes.");
    assert_eq!(news["url"], url.as_str());
    for field in ["datePublished", "dateModified"] {
        let at = news[field].as_str().unwrap_or_else(|| panic!("{field}"));
        chrono::DateTime::parse_from_rfc3339(at).unwrap_or_else(|e| panic!("{field} {at}: {e}"));
    }
    assert_eq!(news["author"]["@type"], "Person");
    assert_eq!(news["author"]["name"], "Ana Ruiz");
    assert_eq!(news["author"]["url"], "https://news.example.org/author/ana-ruiz/");
    assert_eq!(news["publisher"]["@type"], "Organization");
    assert_eq!(news["publisher"]["name"], "The Test Gazette");
    assert!(news["publisher"]["logo"]["url"].as_str().is_some_and(|u| u.starts_with("https://news.example.org/")));
    assert_eq!(news["image"]["@type"], "ImageObject");
    assert!(news["image"]["url"].as_str().is_some_and(|u| u.starts_with("https://news.example.org/media/")));
    assert_eq!(news["image"]["caption"], "High water at the quay.");
    assert_eq!(news["image"]["creditText"], "Photo: Jo Lee");
    assert_eq!(news["image"]["creator"], serde_json::json!({ "@type": "Person", "name": "Jo Lee" }));
    assert!(news["image"]["width"].is_number() && news["image"]["height"].is_number());
    assert_eq!(news["articleSection"], "Local");
    assert_eq!(news["keywords"], serde_json::json!(["sea", "port"]));
    assert_eq!(news["isAccessibleForFree"], true);
    assert_eq!(news["sourceOrganization"]["name"], "Harbour Wire");

    let crumbs = of_type(&data, "BreadcrumbList")["itemListElement"].as_array().expect("items").clone();
    let names: Vec<&str> = crumbs.iter().map(|c| c["name"].as_str().unwrap_or_default()).collect();
    assert_eq!(names, ["The Test Gazette", "News", "Local", "Tide tables revised"]);
    assert_eq!(crumbs[2]["item"], "https://news.example.org/category/news/local/");

    let og = &data["opengraph"][0]["properties"];
    let get = |key: &str| -> Vec<String> {
        og.as_array()
            .expect("properties")
            .iter()
            .filter(|p| p[0] == key)
            .map(|p| p[1].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(get("og:type"), ["article"]);
    assert_eq!(get("og:title"), ["Tide tables revised"]);
    assert_eq!(get("og:url"), [url.as_str()]);
    assert_eq!(get("article:section"), ["Local"]);
    assert_eq!(get("article:tag"), ["sea", "port"]);
    assert_eq!(get("article:published_time").len(), 1);
    assert!(get("og:image")[0].starts_with("https://news.example.org/media/"));
    assert_eq!(get("og:image:width").len(), 1);
    assert_eq!(get("og:image:height").len(), 1);
    assert!(html.contains(r#"<meta name="twitter:card" content="summary_large_image">"#));
    assert!(html.contains(&format!(r#"<link rel="canonical" href="{url}">"#)));
    app.stop().await;
}

#[tokio::test]
async fn listings_carry_website_and_collection_page() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article("Bridge closed", "slug = \"bridge\"\ntags = [\"roads\"]", "Closed.")).await;
    for (path, name) in [("/", "The Test Gazette"), ("/tag/roads/", "roads")] {
        let html = app.page(path).await;
        let Some(data) = extract(&html, &format!("https://news.example.org{path}")) else { return };
        assert_eq!(of_type(&data, "WebSite")["url"], "https://news.example.org/");
        let collection = of_type(&data, "CollectionPage");
        assert_eq!(collection["name"], name, "{path}");
        assert_eq!(collection["url"], format!("https://news.example.org{path}"));
    }
    app.stop().await;
}
