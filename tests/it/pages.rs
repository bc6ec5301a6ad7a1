//! Every public URL form, drafts, scheduling, pagination and the 404 page.

use std::time::Duration;

use chrono::{Datelike, Utc};

use crate::helpers::{TestApp, article, fields, headline_of, link_to};

#[tokio::test]
async fn the_demo_site_answers_every_url_form() {
    let app = TestApp::spawn().await;
    let front = app.page("/").await;
    assert!(front.contains("The Test Gazette"));
    assert!(front.contains("Harbour board approves a night-time ferry trial"), "lead story on the front page");
    assert!(front.contains("class=\"datebar\""));

    let href = link_to(&front, "harbour-night-ferry-trial");
    let page = app.page(&href).await;
    assert_eq!(headline_of(&page), "Harbour board approves a night-time ferry trial to the Alden Islands");
    // The page anatomy: date bar, dateline, categories and tags, figure with caption and credit.
    assert!(page.contains("<time datetime=\"20"), "machine-readable dateline");
    assert!(page.contains("href=\"/category/news/local/\""), "category link");
    assert!(page.contains("href=\"/tag/ferries/\""), "tag link");
    assert!(page.contains("<figure class=\"featured\">") && page.contains("<figcaption>"));
    assert!(page.contains("class=\"credit\">Illustration: Broadsheet demo studio"));
    assert!(page.contains("href=\"/author/marta-ibanez/\""));
    assert!(page.contains("<link rel=\"canonical\" href=\"https://news.example.org/20"));

    let wire = app.page(&link_to(&front, "coastal-mayors-velmora-flood-summit")).await;
    assert!(wire.contains("class=\"agency-credit\">Source: <span class=\"agency\">Broadsheet Demo Wire</span>"));

    for (path, needle) in [
        ("/category/news/", "Harbour board approves"),
        ("/category/news/local/", "Harbour board approves"),
        ("/category/sport/", "Mariners clinch promotion"),
        ("/tag/harbour/", "Harbour board approves"),
        ("/author/marta-ibanez/", "Our children need safer routes"),
        ("/privacy/", "Privacy and your comment data"),
        ("/about/", "About this site"),
    ] {
        let html = app.page(path).await;
        assert!(html.contains(needle), "{path} shows {needle:?}");
    }
    let local = chrono::Utc::now().with_timezone(&chrono_tz::Europe::Madrid);
    let month = app.page(&format!("/{:04}/{:02}/", local.year(), local.month())).await;
    assert!(month.contains("Harbour board approves"), "month archive lists this month's articles");
    // A parent category lists its children's articles; a child's page does not list the parent's others.
    let sport = app.page("/category/sport/").await;
    assert!(!sport.contains("Harbour board approves"));
    app.stop().await;
}

#[tokio::test]
async fn wrong_addresses_get_404_or_a_redirect_to_the_canonical_one() {
    let app = TestApp::spawn().await;
    let front = app.page("/").await;
    let href = link_to(&front, "harbour-night-ferry-trial");

    for path in [
        "/2001/01/01/no-such-article/",
        "/no-such-page/",
        "/category/nothing/",
        "/tag/nothing/",
        "/author/nobody/",
        "/1999/01/",
        "/page/99/",
        "/category/news/page/9/",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let body = response.text().await.expect("body");
        assert!(body.contains("Page not found") && body.contains("The Test Gazette"), "{path}: the site's 404 page");
    }
    for (path, location) in [
        ("/privacy", "/privacy/".to_owned()),
        ("/2001/01/01/harbour-night-ferry-trial/", href.clone()),
        ("/category/local/", "/category/news/local/".to_owned()),
        ("/page/1/", "/".to_owned()),
        (href.trim_end_matches('/'), href.clone()),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 301, "{path}");
        assert_eq!(response.headers()["location"], location.as_str(), "{path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn drafts_are_never_shown() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article("A visible story", "categories = [\"News\"]\ntags = [\"t\"]", "Visible.")).await;
    app.publish(&article("A secret draft", "status = \"draft\"\ncategories = [\"News\"]\ntags = [\"t\"]", "Secret."))
        .await;
    for path in ["/", "/category/news/", "/tag/t/"] {
        let html = app.page(path).await;
        assert!(html.contains("A visible story"), "{path}");
        assert!(!html.contains("A secret draft"), "{path} must not list the draft");
    }
    let now = Utc::now().with_timezone(&chrono_tz::Europe::Madrid);
    let draft_url = format!("/{:04}/{:02}/{:02}/a-secret-draft/", now.year(), now.month(), now.day());
    assert_eq!(app.get(&draft_url).await.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn scheduled_articles_appear_when_their_time_comes() {
    let app = TestApp::spawn_empty().await;
    app.publish(&article("Already out", "categories = [\"News\"]", "Old news.")).await;
    let at = Utc::now() + chrono::Duration::seconds(2);
    let date = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    app.publish(&article("Embargoed until the bell", &format!("date = {date}\ncategories = [\"News\"]"), "Fresh."))
        .await;
    let local = at.with_timezone(&chrono_tz::Europe::Madrid);
    let url = format!("/{:04}/{:02}/{:02}/embargoed-until-the-bell/", local.year(), local.month(), local.day());

    // Before its time: not listed, not served; and these answers are now cached.
    assert!(!app.page("/").await.contains("Embargoed until the bell"));
    assert!(!app.page("/category/news/").await.contains("Embargoed until the bell"));
    assert_eq!(app.get(&url).await.status(), 404);

    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert!(app.page("/").await.contains("Embargoed until the bell"), "front page shows it once due");
    assert!(app.page("/category/news/").await.contains("Embargoed until the bell"), "its category too");
    assert_eq!(headline_of(&app.page(&url).await), "Embargoed until the bell");
    app.stop().await;
}

#[tokio::test]
async fn archives_are_paged() {
    let app = TestApp::spawn_empty().await;
    let start = Utc::now() - chrono::Duration::days(2);
    // Council minutes numbered `numbers`, a minute apart from `start`.
    let publish_minutes = |numbers: std::ops::RangeInclusive<i64>| {
        let app = &app;
        async move {
            for n in numbers {
                let date = (start + chrono::Duration::minutes(n)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                app.publish(&article(
                    &format!("Council minute number {n}"),
                    &format!(
                        "date = {date}\ncategories = [\"Council\"]\ntags = [\"minutes\"]\nbyline = \"Clerk Kent\""
                    ),
                    "Minutes.",
                ))
                .await;
            }
        }
    };
    publish_minutes(1..=23).await;
    for base in ["/", "/category/council/", "/tag/minutes/", "/author/clerk-kent/"] {
        let first = app.page(base).await;
        assert!(first.contains("Council minute number 23<"), "{base}: newest first");
        assert!(first.contains(&format!("href=\"{base}page/2/\"")), "{base}: link to page 2");
        let second = app.page(&format!("{base}page/2/")).await;
        assert!(
            second.contains("Council minute number 13<") && !second.contains("Council minute number 14<"),
            "{base} page 2 holds 13..4"
        );
        assert!(second.contains("Council minute number 4<") && !second.contains("Council minute number 3<"));
        let third = app.page(&format!("{base}page/3/")).await;
        assert!(third.contains("Council minute number 1<") && !third.contains(&format!("href=\"{base}page/4/\"")));
        assert_eq!(app.get(&format!("{base}page/4/")).await.status(), 404, "{base}: past the last page");
    }
    // A comment renders the listings again (their cards count comments);
    // new articles change how many pages they have.
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let newest = link_to(&app.page("/").await, "council-minute-number-23");
    let sent = fields("A fair summary of the minutes, thank you.", "Reader", "reader@example.org");
    assert_eq!(app.comment(&app.browser(), &newest, &sent).await.status(), 303);
    assert!(app.page("/").await.contains("1 comment<"), "the front page counts the comment");
    assert!(app.page("/page/3/").await.contains("Page 3 of 3"));
    publish_minutes(24..=31).await;
    for base in ["/", "/category/council/", "/tag/minutes/", "/author/clerk-kent/"] {
        let fourth = app.page(&format!("{base}page/4/")).await;
        assert!(fourth.contains("Page 4 of 4") && fourth.contains("Council minute number 1<"), "{base}: a fourth page");
    }
    app.stop().await;
}

#[tokio::test]
async fn health_and_assets() {
    let app = TestApp::spawn().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.expect("body"), "ok\n");

    let front = app.page("/").await;
    let css_start = front.find("/static/style.").expect("stylesheet link");
    let css = &front[css_start..css_start + front[css_start..].find('"').expect("end")];
    let response = app.get(css).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(response.headers()["content-type"].to_str().expect("ascii").starts_with("text/css"));
    assert_eq!(app.get("/static/style.0000000000000000.css").await.status(), 404);

    let img_start = front.find("/media/").expect("an image");
    let img = &front[img_start..img_start + front[img_start..].find('"').expect("end")];
    let response = app.get(img).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/svg+xml");
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert!(response.headers()["content-security-policy"].to_str().expect("ascii").contains("sandbox"));
    let missing = app.get("/media/none.svg").await;
    assert_eq!(missing.status(), 404);
    assert!(missing.headers().get("cache-control").is_none(), "a missing file is not cached for a year");
    app.stop().await;
}
