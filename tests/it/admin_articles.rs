//! The admin's articles: writing, previewing, publishing, editing with
//! conflict detection, and who may do what.

use broadsheet::domain::role::Role;

use crate::helpers::{TestApp, hidden, location};

/// The article number in an editor address such as `/admin/articles/12?saved=draft`.
fn id_in(location: &str) -> i64 {
    location.trim_start_matches("/admin/articles/").split('?').next().and_then(|id| id.parse().ok()).expect("an id")
}

async fn send(browser: &reqwest::Client, app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    browser.post(app.url(path)).form(fields).send().await.expect("post")
}

#[tokio::test]
async fn an_editor_writes_previews_publishes_and_edits() {
    let app = TestApp::spawn().await;
    let (editor, csrf) = app.signed_in("ed@example.org", Role::Editor).await;
    let form = editor.get(app.url("/admin/articles/new")).send().await.expect("get").text().await.expect("body");
    assert!(form.contains("name=\"headline\"") && form.contains("News"), "the editor offers the categories");
    let news = form
        .split("name=\"category\" value=\"")
        .skip(1)
        .find(|part| part.contains("> <label") && part.split("</label>").next().unwrap_or("").ends_with(">News"))
        .and_then(|part| part.split('"').next())
        .expect("the News category")
        .to_owned();

    let fields = |intent: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("headline", "Lighthouse keeper retires after 40 years".to_owned()),
            ("standfirst", "Morag Dunn hands over the Alden Heads light.".to_owned()),
            ("body", "She climbed **112 steps** every night.\n\n<script>alert(1)</script>".to_owned()),
            ("byline", "Kit Marr".to_owned()),
            ("category", news.clone()),
            ("tags", "harbour, people".to_owned()),
            ("comments_open", "1".to_owned()),
            ("intent", intent.to_owned()),
        ]
    };
    let as_refs = |v: &Vec<(&'static str, String)>| v.iter().map(|(k, v)| (*k, v.clone())).collect::<Vec<_>>();

    // Preview: rendered, sanitised, nothing stored.
    let preview = editor.post(app.url("/admin/articles/new")).form(&as_refs(&fields("preview"))).send().await;
    let preview = preview.expect("post").text().await.expect("body");
    assert!(preview.contains("<strong>112 steps</strong>") && !preview.contains("<script>alert(1)</script>"));
    assert!(preview.contains("Lighthouse keeper retires"), "the form keeps what was typed");
    assert!(!app.page("/").await.contains("Lighthouse keeper"), "a preview publishes nothing");

    // Save a draft, then publish it.
    let saved =
        editor.post(app.url("/admin/articles/new")).form(&as_refs(&fields("draft"))).send().await.expect("post");
    assert_eq!(saved.status(), 303);
    let id = id_in(&location(&saved));
    assert!(location(&saved).ends_with("?saved=draft"));
    assert!(!app.page("/").await.contains("Lighthouse keeper"), "a draft is not public");
    let page =
        editor.get(app.url(&format!("/admin/articles/{id}"))).send().await.expect("get").text().await.expect("body");
    let version = hidden(&page, "version");
    let mut publish = as_refs(&fields("publish"));
    publish.push(("version", version));
    let published = editor.post(app.url(&format!("/admin/articles/{id}"))).form(&publish).send().await.expect("post");
    assert_eq!(location(&published), format!("/admin/articles/{id}?saved=published"));
    let front = app.page("/").await;
    assert!(front.contains("Lighthouse keeper retires after 40 years"), "on the front page at once");
    assert!(app.page("/category/news/").await.contains("Lighthouse keeper"));
    assert!(app.page("/tag/people/").await.contains("Lighthouse keeper"));

    // An edit keeps the earlier text as a revision.
    let page = editor.get(app.url(&location(&published))).send().await.expect("get").text().await.expect("body");
    assert!(page.contains("Published."));
    let mut edit = as_refs(&fields("publish"));
    edit[1].1 = "Lighthouse keeper retires after four decades".into();
    edit.push(("version", hidden(&page, "version")));
    let response = editor.post(app.url(&format!("/admin/articles/{id}"))).form(&edit).send().await.expect("post");
    assert_eq!(response.status(), 303);
    assert!(app.page("/").await.contains("after four decades"));
    let revisions = editor.get(app.url(&format!("/admin/articles/{id}/revisions"))).send().await.expect("get");
    assert!(revisions.text().await.expect("body").contains("Lighthouse keeper retires after 40 years"));

    // The list finds it by words and by state.
    let found =
        editor.get(app.url("/admin/articles?q=lighthouse")).send().await.expect("get").text().await.expect("body");
    assert!(found.contains("four decades") && !found.contains("night-time ferry trial"));
    // By the beginnings of words, any case, whatever the punctuation.
    let found = editor
        .get(app.url("/admin/articles?q=KEEP+%22lightho*"))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("body");
    assert!(found.contains("four decades") && !found.contains("night-time ferry trial"));
    let drafts =
        editor.get(app.url("/admin/articles?status=draft")).send().await.expect("get").text().await.expect("body");
    assert!(!drafts.contains("four decades"));
    app.stop().await;
}

#[tokio::test]
async fn bad_input_is_reported_field_by_field_and_nothing_is_lost() {
    let app = TestApp::spawn().await;
    let (editor, csrf) = app.signed_in("ed@example.org", Role::Editor).await;
    let missing = [
        ("csrf", csrf.as_str()),
        ("headline", ""),
        ("body", ""),
        ("standfirst", "Kept standfirst"),
        ("intent", "draft"),
    ];
    let response = send(&editor, &app, "/admin/articles/new", &missing).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.expect("body");
    assert!(
        page.contains("Please write a headline.")
            && page.contains("Please write the article")
            && page.contains("Kept standfirst")
    );

    let unknown =
        [("csrf", csrf.as_str()), ("headline", "A"), ("body", "B"), ("category", "99999"), ("intent", "draft")];
    let response = send(&editor, &app, "/admin/articles/new", &unknown).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.expect("body").contains("does not exist"));

    let taken = [
        ("csrf", csrf.as_str()),
        ("headline", "Another story"),
        ("slug", "harbour-night-ferry-trial"),
        ("body", "Text kept after the refusal."),
        ("intent", "publish"),
    ];
    // A new article may not take an address in use (it would replace that article)…
    let response = send(&editor, &app, "/admin/articles/new", &taken).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.expect("body");
    assert!(page.contains("already used by another article") && page.contains("Text kept after the refusal."));
    assert!(app.page("/").await.contains("night-time ferry trial"), "the other article is untouched");
    assert!(!app.page("/").await.contains("Another story"));
    // …nor may an edit move an article onto one.
    let created = send(
        &editor,
        &app,
        "/admin/articles/new",
        &[("csrf", csrf.as_str()), ("headline", "Another story"), ("body", "x"), ("intent", "draft")],
    )
    .await;
    let id = id_in(&location(&created));
    let page =
        editor.get(app.url(&format!("/admin/articles/{id}"))).send().await.expect("get").text().await.expect("body");
    let version = hidden(&page, "version");
    let mut collide = taken.to_vec();
    collide.push(("version", version.as_str()));
    let response = send(&editor, &app, &format!("/admin/articles/{id}"), &collide).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.expect("body");
    assert!(page.contains("already used by another article") && page.contains("Text kept after the refusal."));

    let bad_date = [
        ("csrf", csrf.as_str()),
        ("headline", "Dated"),
        ("body", "B"),
        ("publish_at", "next week"),
        ("intent", "publish"),
    ];
    let response = send(&editor, &app, "/admin/articles/new", &bad_date).await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.expect("body").contains("Give a date and time"));
    app.stop().await;
}

#[tokio::test]
async fn a_save_from_an_older_copy_is_refused_not_lost() {
    let app = TestApp::spawn().await;
    let (first, csrf_first) = app.signed_in("one@example.org", Role::Editor).await;
    let (second, csrf_second) = app.signed_in("two@example.org", Role::Editor).await;
    let created = send(
        &first,
        &app,
        "/admin/articles/new",
        &[("csrf", &csrf_first), ("headline", "Shared story"), ("body", "First text."), ("intent", "draft")],
    )
    .await;
    let id = id_in(&location(&created));
    let path = format!("/admin/articles/{id}");
    // Both open the article.
    let page_one = first.get(app.url(&path)).send().await.expect("get").text().await.expect("body");
    let page_two = second.get(app.url(&path)).send().await.expect("get").text().await.expect("body");
    let (v1, v2) = (hidden(&page_one, "version"), hidden(&page_two, "version"));
    let saved = send(
        &first,
        &app,
        &path,
        &[
            ("csrf", &csrf_first),
            ("version", &v1),
            ("headline", "Shared story"),
            ("body", "The first editor's text."),
            ("intent", "draft"),
        ],
    )
    .await;
    assert_eq!(saved.status(), 303);
    let late = send(
        &second,
        &app,
        &path,
        &[
            ("csrf", &csrf_second),
            ("version", &v2),
            ("headline", "Shared story"),
            ("body", "The second editor's text."),
            ("intent", "draft"),
        ],
    )
    .await;
    assert_eq!(late.status(), 409);
    let page = late.text().await.expect("body");
    assert!(page.contains("Someone else saved this article") && page.contains("The second editor"), "kept, not saved");
    let stored = first.get(app.url(&path)).send().await.expect("get").text().await.expect("body");
    assert!(stored.contains("The first editor") && !stored.contains("The second editor"), "not silently overwritten");
    app.stop().await;
}

#[tokio::test]
async fn each_role_may_do_what_its_role_allows() {
    let app = TestApp::spawn().await;
    let (contributor, c_csrf) = app.signed_in("c@example.org", Role::Contributor).await;
    let (author, a_csrf) = app.signed_in("a@example.org", Role::Author).await;
    let (other_author, o_csrf) = app.signed_in("o@example.org", Role::Author).await;

    // A contributor writes drafts but cannot publish; the text is kept.
    let publish =
        [("csrf", c_csrf.as_str()), ("headline", "Contributor piece"), ("body", "Kept words."), ("intent", "publish")];
    let refused = send(&contributor, &app, "/admin/articles/new", &publish).await;
    assert_eq!(refused.status(), 403);
    let page = refused.text().await.expect("body");
    assert!(page.contains("Your role cannot publish") && page.contains("Kept words."));
    let draft =
        [("csrf", c_csrf.as_str()), ("headline", "Contributor piece"), ("body", "Kept words."), ("intent", "draft")];
    let saved = send(&contributor, &app, "/admin/articles/new", &draft).await;
    assert_eq!(saved.status(), 303);
    let contributed = id_in(&location(&saved));
    assert!(!app.page("/").await.contains("Contributor piece"));
    // The demo's articles belong to no contributor: not editable by one.
    let listed = contributor.get(app.url("/admin/articles")).send().await.expect("get").text().await.expect("body");
    assert!(listed.contains("Contributor piece") && !listed.contains("night-time ferry trial"), "only their own");

    // An author publishes their own, and cannot touch others'.
    let own = [("csrf", a_csrf.as_str()), ("headline", "Author piece"), ("body", "Words."), ("intent", "publish")];
    let saved = send(&author, &app, "/admin/articles/new", &own).await;
    assert_eq!(location(&saved).split('?').nth(1), Some("saved=published"));
    let authored = id_in(&location(&saved));
    assert!(app.page("/").await.contains("Author piece"));
    for path in [format!("/admin/articles/{authored}"), format!("/admin/articles/{contributed}")] {
        let get = other_author.get(app.url(&path)).send().await.expect("get");
        assert_eq!(get.status(), 403, "{path}");
        let post = send(
            &other_author,
            &app,
            &path,
            &[("csrf", &o_csrf), ("version", "1"), ("headline", "Hijack"), ("body", "x"), ("intent", "publish")],
        )
        .await;
        assert_eq!(post.status(), 403, "{path}");
    }
    assert!(!app.page("/").await.contains("Hijack"));
    // Nobody but editors writes pages or moderates.
    assert_eq!(author.get(app.url("/admin/articles/new?kind=page")).send().await.expect("get").status(), 403);
    assert_eq!(author.get(app.url("/admin/comments")).send().await.expect("get").status(), 403);
    // A demo article (no owner) is the editors' only.
    let demo = app
        .store
        .article_by_slug(broadsheet::domain::article::Kind::Article, "harbour-night-ferry-trial")
        .await
        .expect("demo");
    assert_eq!(author.get(app.url(&format!("/admin/articles/{}", demo.id))).send().await.expect("get").status(), 403);
    // Signed out: nothing.
    let anonymous = app.browser();
    let post =
        send(&anonymous, &app, "/admin/articles/new", &[("headline", "x"), ("body", "y"), ("intent", "publish")]).await;
    assert_eq!(post.status(), 303);
    assert!(location(&post).starts_with("/admin/sign-in"));
    // Without the CSRF token: refused.
    let forged =
        send(&author, &app, "/admin/articles/new", &[("headline", "Forged"), ("body", "y"), ("intent", "publish")])
            .await;
    assert_eq!(forged.status(), 403);
    assert!(!app.page("/").await.contains("Forged"));
    app.stop().await;
}

#[tokio::test]
async fn the_live_preview_renders_and_needs_the_form_token() {
    let app = TestApp::spawn().await;
    let (editor, csrf) = app.signed_in("ed@example.org", Role::Contributor).await;
    let fields = [("csrf", csrf.as_str()), ("body", "Some **bold** words <script>alert(1)</script>")];
    let response = send(&editor, &app, "/admin/preview", &fields).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.expect("body");
    assert!(html.contains("<strong>bold</strong>") && !html.contains("<script>"), "{html}");
    assert_eq!(send(&editor, &app, "/admin/preview", &[("body", "x")]).await.status(), 403);
    let anonymous = send(&app.browser(), &app, "/admin/preview", &fields).await;
    assert!(location(&anonymous).starts_with("/admin/sign-in"));
    // The script is served from this site (the CSP allows nothing else).
    let editor_page = editor.get(app.url("/admin/articles/new")).send().await.expect("get").text().await.expect("body");
    let start = editor_page.find("<script src=\"").expect("the admin script") + "<script src=\"".len();
    let src = &editor_page[start..start + editor_page[start..].find('"').expect("end")];
    let script = app.get(src).await;
    assert_eq!(script.headers()["content-type"], "text/javascript; charset=utf-8");
    assert!(script.text().await.expect("body").contains("/admin/preview"));
    app.stop().await;
}

/// A field's value in a form as the server rendered it (an input's `value`,
/// a textarea's text, the checked boxes of a group).
fn form_fields(page: &str) -> Vec<(String, String)> {
    let unescape = |s: &str| {
        s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    };
    let attribute = |tag: &str, name: &str| {
        tag.split(&format!(" {name}=\"")).nth(1).and_then(|rest| rest.split('"').next()).map(unescape)
    };
    let mut fields = Vec::new();
    for tag in page.split('<').skip(1) {
        let tag_text = tag.split('>').next().unwrap_or("");
        let Some(name) = attribute(tag_text, "name") else { continue };
        if tag_text.starts_with("input") {
            let kind = attribute(tag_text, "type").unwrap_or_default();
            if (kind == "checkbox" && !tag_text.contains(" checked")) || kind == "submit" {
                continue;
            }
            fields.push((name, attribute(tag_text, "value").unwrap_or_default()));
        } else if tag_text.starts_with("textarea") {
            fields.push((name, unescape(tag.split_once('>').map_or("", |(_, text)| text))));
        }
    }
    fields
}

#[tokio::test]
async fn a_published_article_keeps_its_image_through_an_edit_in_the_admin() {
    let app = TestApp::spawn().await;
    let (editor, _) = app.signed_in("ed@example.org", Role::Editor).await;
    // A demo article, published from a Markdown file with its featured image.
    let article = app
        .store
        .article_by_slug(broadsheet::domain::article::Kind::Article, "harbour-night-ferry-trial")
        .await
        .expect("demo article");
    let path = format!("/admin/articles/{}", article.id);
    let page = editor.get(app.url(&path)).send().await.expect("get").text().await.expect("body");
    let mut fields: Vec<(String, String)> =
        form_fields(page.split("class=\"admin-form editor\"").nth(1).expect("the editor form"));
    assert!(fields.iter().any(|(k, v)| k == "image_src" && !v.is_empty()), "the article has an image: {fields:?}");
    for (name, value) in &mut fields {
        if name == "standfirst" {
            value.push_str(" Updated at noon.");
        }
    }
    fields.push(("intent".into(), "publish".into()));
    let saved = editor.post(app.url(&path)).form(&fields).send().await.expect("post");
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap_or_default());
    assert!(app.page(&article_path(&app, &article)).await.contains("Updated at noon."));
    app.stop().await;
}

fn article_path(app: &TestApp, article: &broadsheet::store::ArticleRecord) -> String {
    broadsheet::publishing::permalink(
        broadsheet::domain::article::Kind::Article,
        &article.slug,
        article.published_at,
        app.config.time_zone,
    )
}
