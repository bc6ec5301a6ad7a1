//! Media on S3-compatible object storage: uploads with their smaller copies,
//! serving, deletes and backups through a real S3 server (moto in server
//! mode, started by `scripts/test.sh`, which sets `BROADSHEET_TEST_S3` and
//! the `AWS_*` variables the media store reads).

use broadsheet::app::StartOptions;
use broadsheet::config::Config;
use broadsheet::domain::role::Role;
use broadsheet::media::MediaLocation;

use crate::admin_media::{png, upload};
use crate::helpers::{self, TestApp, first_picture, link_to, test_server};

/// A new, empty bucket on the test server; `None` (outside CI) when there is no server.
async fn fresh_bucket() -> Option<(String, MediaLocation)> {
    let endpoint = test_server("BROADSHEET_TEST_S3", "S3")?;
    let bucket = format!("broadsheet-test-{}", rand::random::<u32>());
    let made = reqwest::Client::new().put(format!("{endpoint}/{bucket}")).send().await.expect("the S3 server answers");
    assert!(made.status().is_success(), "bucket made: {}", made.status());
    Some((endpoint, MediaLocation::S3 { bucket, prefix: "site".into() }))
}

/// The names of the objects in a bucket under `site/`.
async fn objects(endpoint: &str, location: &MediaLocation) -> Vec<String> {
    let MediaLocation::S3 { bucket, .. } = location else { unreachable!() };
    let listing = reqwest::get(format!("{endpoint}/{bucket}?list-type=2&prefix=site/"))
        .await
        .expect("list")
        .text()
        .await
        .expect("body");
    let mut names: Vec<String> = listing
        .split("<Key>")
        .skip(1)
        .filter_map(|s| s.split("</Key>").next())
        .map(|k| k.trim_start_matches("site/").to_owned())
        .collect();
    names.sort();
    names
}

async fn spawn_with_bucket(location: &MediaLocation, demo: bool) -> TestApp {
    let location = location.clone();
    TestApp::spawn_configured(StartOptions { demo }, move |config: &mut Config| {
        config.media_store = Some(location);
    })
    .await
}

#[tokio::test]
async fn uploads_copies_serving_and_deletes_go_through_the_bucket() {
    let Some((endpoint, location)) = fresh_bucket().await else { return };
    let app = spawn_with_bucket(&location, true).await;
    let (editor, csrf) = app.signed_in("pat@example.org", Role::Editor).await;
    let original = png(1200, 600);
    let form = upload(&csrf, "Quay at dawn.png", original.clone(), "The quay at dawn");
    let response = editor.post(app.url("/admin/media")).multipart(form).send().await.expect("upload");
    assert_eq!(response.status(), 303);
    let item = app.store.media(10, 0).await.expect("media").into_iter().next().expect("one image");
    let name = item.url.trim_start_matches("/media/").to_owned();
    let copies = [name.replace(".png", "-480w.png"), name.replace(".png", "-960w.png")];
    let mut expected = vec![name.clone(), copies[0].clone(), copies[1].clone()];
    expected.sort();
    let quay =
        |names: Vec<String>| -> Vec<String> { names.into_iter().filter(|n| n.starts_with("quay-at-dawn-")).collect() };
    assert_eq!(quay(objects(&endpoint, &location).await), expected, "the original and its copies, in the bucket");
    assert!(
        !app.config.media_dir().join(&name).exists(),
        "nothing of it in the data directory: {}",
        app.config.media_dir().display()
    );

    // Served from the bucket, byte for byte, cacheable for a year, with 304s.
    let served = app.get(&item.url).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert!(served.headers()["cache-control"].to_str().expect("ascii").contains("immutable"));
    let etag = served.headers()["etag"].clone();
    assert_eq!(served.bytes().await.expect("bytes").to_vec(), original);
    let copy = app.get(&format!("/media/{}", copies[0])).await.bytes().await.expect("bytes");
    assert_eq!(imagesize::blob_size(&copy).expect("an image").width, 480);
    let again = app.client.get(app.url(&item.url)).header("if-none-match", etag).send().await.expect("get");
    assert_eq!(again.status(), 304);
    assert_eq!(app.get("/media/not-there-0123456789ab.png").await.status(), 404);
    assert_eq!(app.get("/media/..%2Fsecret.png").await.status(), 404);

    // The demo site's own pictures went to the bucket too, and show.
    let front = app.page("/").await;
    let demo_image = first_picture(&front);
    assert_eq!(app.get(&demo_image).await.status(), 200, "{demo_image}");

    // An image an article shows cannot be deleted; once it is not shown, it can.
    let fields = [
        ("csrf", csrf.as_str()),
        ("headline", "Dawn on the quay"),
        ("body", "The first boat left at six."),
        ("image_src", item.url.as_str()),
        ("intent", "publish"),
    ];
    let published = editor.post(app.url("/admin/articles/new")).form(&fields).send().await.expect("post");
    assert_eq!(published.status(), 303);
    let edit = helpers::location(&published).split('?').next().expect("the editor's address").to_owned();
    let article = link_to(&app.page("/").await, "dawn-on-the-quay");
    let delete_url = app.url(&format!("/admin/media/{}/delete", item.id));
    let refused = editor.post(&delete_url).form(&[("csrf", csrf.as_str())]).send().await.expect("post");
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.expect("body").contains("Dawn on the quay"), "the page names the article");
    assert_eq!(quay(objects(&endpoint, &location).await).len(), 3, "nothing deleted");
    let editing = editor.get(app.url(&edit)).send().await.expect("get").text().await.expect("body");
    let version = helpers::hidden(&editing, "version");
    let mut without: Vec<(&str, &str)> =
        fields.iter().copied().map(|(k, v)| if k == "image_src" { (k, "") } else { (k, v) }).collect();
    without.push(("version", &version));
    let saved = editor.post(app.url(&edit)).form(&without).send().await.expect("post");
    assert_eq!(saved.status(), 303, "{article}");
    let no_token = editor.post(&delete_url).form(&[("csrf", "forged")]).send().await.expect("post");
    assert_eq!(no_token.status(), 403, "CSRF checked");
    let deleted = editor.post(&delete_url).form(&[("csrf", csrf.as_str())]).send().await.expect("post");
    assert_eq!(deleted.status(), 200);
    assert!(deleted.text().await.expect("body").contains("Deleted Quay at dawn.png"));
    let left = objects(&endpoint, &location).await;
    assert!(quay(left.clone()).is_empty(), "the original and its copies are gone from the bucket");
    assert!(left.contains(&demo_image.trim_start_matches("/media/").to_owned()), "the others stay");
    assert_eq!(app.get(&item.url).await.status(), 404);
    assert!(app.store.media_by_url(&item.url).await.expect("read").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_backup_takes_the_bucket_s_files_and_a_restore_puts_them_back() {
    let Some((endpoint, location)) = fresh_bucket().await else { return };
    let app = spawn_with_bucket(&location, true).await;
    let in_bucket = objects(&endpoint, &location).await;
    assert!(!in_bucket.is_empty(), "the demo's pictures are in the bucket");
    let out = tempfile::tempdir().expect("temp dir");
    let archive = out.path().join("site.tar.gz");
    // The AWS_* variables reach the command (TestApp::cli clears the environment).
    let made = std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .arg("--data-dir")
        .arg(app.config.data_dir.as_os_str())
        .args(["--database-url", app.config.database_url.expose(), "--media-store", &location.to_string()])
        .args(["backup", archive.to_str().expect("utf-8")])
        .output()
        .expect("broadsheet runs");
    let said = format!("{}{}", String::from_utf8_lossy(&made.stdout), String::from_utf8_lossy(&made.stderr));
    assert!(made.status.success(), "{said}");
    assert!(said.contains(&format!("{} media files", in_bucket.len())), "{said}");
    let front = app.page("/").await;
    app.stop().await;

    // Into a new site whose media go to another, empty bucket.
    let Some((_, elsewhere)) = fresh_bucket().await else { return };
    let dir = tempfile::tempdir().expect("temp dir");
    let restored = std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--media-store", &elsewhere.to_string(), "restore", archive.to_str().expect("utf-8")])
        .output()
        .expect("broadsheet runs");
    assert!(restored.status.success(), "{}", String::from_utf8_lossy(&restored.stderr));
    assert_eq!(objects(&endpoint, &elsewhere).await, in_bucket, "the same files in the new bucket");
    let data = dir.path().to_owned();
    let copy = TestApp::spawn_configured(StartOptions { demo: false }, move |config: &mut Config| {
        config.database_url =
            Config::resolve(&broadsheet::config::ConfigArgs { data_dir: Some(data.clone()), ..Default::default() })
                .expect("config")
                .database_url;
        config.data_dir = data;
        config.media_store = Some(elsewhere);
    })
    .await;
    let image = first_picture(&front);
    assert!(copy.page("/").await.contains(&image));
    assert_eq!(copy.get(&image).await.status(), 200, "{image} served from the new bucket");
    copy.stop().await;
}

#[tokio::test]
async fn an_upload_the_bucket_cannot_take_is_refused_with_the_form_kept() {
    let Some((_, location)) = fresh_bucket().await else { return };
    let missing = match location {
        MediaLocation::S3 { bucket, prefix } => MediaLocation::S3 { bucket: format!("{bucket}-gone"), prefix },
        other => other,
    };
    let app = spawn_with_bucket(&missing, false).await;
    let (editor, csrf) = app.signed_in("pat@example.org", Role::Editor).await;
    let form = upload(&csrf, "harbour.png", png(600, 300), "The harbour at noon");
    let response = editor.post(app.url("/admin/media")).multipart(form).send().await.expect("upload");
    assert_eq!(response.status(), 503);
    let page = response.text().await.expect("body");
    assert!(page.contains("could not be stored; try again") && page.contains("The harbour at noon"), "{page}");
    assert!(app.store.media(10, 0).await.expect("media").is_empty(), "no record of a file that is not there");
    app.stop().await;
}
