//! The media library: uploads checked by content, smaller copies for
//! `srcset`, and a featured image chosen from the library.

use broadsheet::domain::role::Role;
use reqwest::multipart::{Form, Part};

use crate::helpers::TestApp;

/// A real PNG, `width` × `height`, a gradient.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
    let mut bytes = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).expect("png");
    bytes
}

/// The upload form for one image, with a caption and a credit.
pub(crate) fn upload(csrf: &str, name: &str, bytes: Vec<u8>, alt: &str) -> Form {
    Form::new()
        .text("csrf", csrf.to_owned())
        .part("file", Part::bytes(bytes).file_name(name.to_owned()))
        .text("alt", alt.to_owned())
        .text("caption", "The lamp room at dusk.")
        .text("credit", "Photo: Pat Photo")
}

#[tokio::test]
async fn an_upload_gets_smaller_copies_and_becomes_a_featured_image() {
    let app = TestApp::spawn().await;
    let (editor, csrf) = app.signed_in("pat@example.org", Role::Editor).await;
    let response = editor
        .post(app.url("/admin/media"))
        .multipart(upload(&csrf, "Lamp Room.png", png(2000, 1000), "The lighthouse lamp room"))
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 303);
    let library = editor.get(app.url("/admin/media")).send().await.expect("get").text().await.expect("body");
    assert!(
        library.contains("Lamp Room.png") && library.contains("2000 × 1000") && library.contains("Photo: Pat Photo")
    );
    let item = app.store.media(10, 0).await.expect("media").into_iter().next().expect("one image");
    assert!(item.url.starts_with("/media/lamp-room-") && item.url.ends_with(".png"));
    for width in [480, 960, 1600] {
        let copy = item.url.replace(".png", &format!("-{width}w.png"));
        let served = app.get(&copy).await;
        assert_eq!(served.status(), 200, "{copy}");
        let bytes = served.bytes().await.expect("bytes");
        let size = imagesize::blob_size(&bytes).expect("an image");
        assert_eq!((size.width, size.height), (width as usize, width as usize / 2), "{copy}");
    }
    assert_eq!(app.get(&item.url).await.status(), 200, "the original is kept");

    // Chosen in the editor by its address: alt, caption and credit come along.
    let fields = [
        ("csrf", csrf.as_str()),
        ("headline", "The last night at the Alden Heads light"),
        ("body", "The lamp was lit for the last time."),
        ("image_src", item.url.as_str()),
        ("intent", "publish"),
    ];
    let saved = editor.post(app.url("/admin/articles/new")).form(&fields).send().await.expect("post");
    assert_eq!(saved.status(), 303);
    let front = app.page("/").await;
    assert!(front.contains(&format!("{} 480w", item.url.replace(".png", "-480w.png"))), "srcset on the front page");
    let article = crate::helpers::link_to(&front, "the-last-night-at-the-alden-heads-light");
    let page = app.page(&article).await;
    assert!(page.contains("srcset=") && page.contains("alt=\"The lighthouse lamp room\""));
    assert!(page.contains("width=\"2000\" height=\"1000\"") && page.contains("Photo: Pat Photo"));

    // An address that is not in the library is refused, the text kept.
    let unknown = [
        ("csrf", csrf.as_str()),
        ("headline", "Another"),
        ("body", "Kept body."),
        ("image_src", "/media/not-uploaded.png"),
        ("image_alt", "x"),
        ("intent", "draft"),
    ];
    let response = editor.post(app.url("/admin/articles/new")).form(&unknown).send().await.expect("post");
    assert_eq!(response.status(), 422);
    let page = response.text().await.expect("body");
    assert!(page.contains("not in the media library") && page.contains("Kept body."));
    app.stop().await;
}

#[tokio::test]
async fn bad_uploads_get_clear_answers() {
    let app = TestApp::spawn().await;
    let (editor, csrf) = app.signed_in("pat@example.org", Role::Author).await;
    let send = |form: Form| editor.post(app.url("/admin/media")).multipart(form).send();

    // Named like a JPEG, but text.
    let response = send(upload(&csrf, "photo.jpg", b"this is not an image".to_vec(), "A photo")).await.expect("post");
    assert_eq!(response.status(), 415);
    let page = response.text().await.expect("body");
    assert!(page.contains("not a JPEG, PNG or WebP image") && page.contains("The lamp room at dusk."), "words kept");
    // An SVG is not a photograph for the library.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>".to_vec();
    assert_eq!(send(upload(&csrf, "logo.svg", svg, "Logo")).await.expect("post").status(), 415);
    // No description.
    let response = send(upload(&csrf, "ok.png", png(10, 10), "")).await.expect("post");
    assert_eq!(response.status(), 422);
    assert!(response.text().await.expect("body").contains("Describe the image"));
    // No file.
    let response = send(Form::new().text("csrf", csrf.clone()).text("alt", "x")).await.expect("post");
    assert_eq!(response.status(), 422);
    // Too large: refused before it is all read.
    let huge = vec![0u8; 21 * 1024 * 1024];
    let response = send(upload(&csrf, "huge.png", huge, "Huge")).await.expect("post");
    assert_eq!(response.status(), 413);
    // Without the CSRF token.
    let response = send(upload("", "ok.png", png(10, 10), "Fine")).await.expect("post");
    assert_eq!(response.status(), 403);
    assert!(app.store.media(10, 0).await.expect("media").is_empty(), "nothing filed");

    // A contributor may not upload.
    let (contributor, c_csrf) = app.signed_in("c@example.org", Role::Contributor).await;
    let response = contributor
        .post(app.url("/admin/media"))
        .multipart(upload(&c_csrf, "ok.png", png(10, 10), "Fine"))
        .send()
        .await;
    assert_eq!(response.expect("post").status(), 403);
    app.stop().await;
}

#[tokio::test]
async fn an_image_no_article_shows_can_be_deleted_with_its_copies() {
    let app = TestApp::spawn().await;
    let (editor, csrf) = app.signed_in("pat@example.org", Role::Editor).await;
    let sent = editor.post(app.url("/admin/media")).multipart(upload(&csrf, "Pier.png", png(1000, 400), "The pier"));
    assert_eq!(sent.send().await.expect("upload").status(), 303);
    let item = app.store.media(10, 0).await.expect("media").into_iter().next().expect("one image");
    let name = item.url.trim_start_matches("/media/");
    let files = [name.to_owned(), name.replace(".png", "-480w.png"), name.replace(".png", "-960w.png")];
    assert!(files.iter().all(|f| app.config.media_dir().join(f).exists()), "{files:?}");
    let (author, author_csrf) = app.signed_in("sam@example.org", Role::Author).await;
    let delete = app.url(&format!("/admin/media/{}/delete", item.id));
    let refused = author.post(&delete).form(&[("csrf", author_csrf.as_str())]).send().await.expect("post");
    assert_eq!(refused.status(), 403, "an author may not delete the library's images");
    let deleted = editor.post(&delete).form(&[("csrf", csrf.as_str())]).send().await.expect("post");
    assert_eq!(deleted.status(), 200);
    assert!(files.iter().all(|f| !app.config.media_dir().join(f).exists()), "the files are gone");
    assert_eq!(app.get(&item.url).await.status(), 404);
    let again = editor.post(&delete).form(&[("csrf", csrf.as_str())]).send().await.expect("post");
    assert_eq!(again.status(), 404, "deleting twice says it is gone");
}
