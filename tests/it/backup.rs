//! `broadsheet backup` and `broadsheet restore`: the whole site, database and
//! media, taken from a running server and brought back in a new place; a
//! site with content is never overwritten unasked, and a bad archive changes
//! nothing.

use std::path::Path;
use std::process::Output;

use broadsheet::app::StartOptions;

use crate::helpers::{TestApp, fields, first_picture, link_to, location};

/// The binary against the data folder `dir` (and its SQLite database).
fn cli_in(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("BROADSHEET_DATA_DIR", dir)
        .current_dir(dir)
        .output()
        .expect("broadsheet runs")
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// The site as readers see it: the front page's headlines, an article with its
/// discussion, and an image's bytes.
pub(crate) async fn snapshot(app: &TestApp, article: &str, image: &str) -> (String, String, Vec<u8>) {
    let front = app.page("/").await;
    let headlines: String = front.split("<h2").skip(1).map(|h| h.split("</h2>").next().unwrap_or("")).collect();
    let page = app.page(article).await;
    let discussion = page.split("id=\"comments\"").nth(1).unwrap_or("");
    // The form's token is minted when the page is rendered (its second differs).
    let discussion = discussion
        .split("name=\"token\" value=\"")
        .enumerate()
        .map(|(i, part)| if i == 0 { part } else { part.split_once('"').map_or(part, |(_, rest)| rest) })
        .collect::<Vec<_>>()
        .join("name=\"token\" value=\"…");
    let bytes = app.get(image).await.bytes().await.expect("image").to_vec();
    (headlines, discussion, bytes)
}

#[tokio::test]
async fn a_backup_of_a_running_site_restores_the_same_site_elsewhere() {
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    app.set("hold_first_time", "false").await;
    let article = link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let posted = app.comment(&app.browser(), &article, &fields("Backed up, I hope.", "Ana", "ana@example.org")).await;
    assert_eq!(posted.status(), 303, "{}", location(&posted));
    let page = app.page(&article).await;
    let image = first_picture(&page);
    let before = snapshot(&app, &article, &image).await;
    assert!(before.1.contains("Backed up, I hope."));

    let out = tempfile::tempdir().expect("temp dir");
    let archive = out.path().join("site.tar.gz");
    let made = app.cli(&["backup", archive.to_str().expect("utf-8")]);
    assert!(made.status.success(), "{}", text(&made));
    let comments = app.store.list_comments(None, 100).await.expect("list").len();
    assert!(text(&made).contains(&format!("{comments} comments")), "{}", text(&made));

    // Restored into a new data folder, and served from there.
    let elsewhere = tempfile::tempdir().expect("temp dir");
    let restored = cli_in(elsewhere.path(), &["restore", archive.to_str().expect("utf-8")]);
    assert!(restored.status.success(), "{}", text(&restored));
    let dir = elsewhere.path().to_owned();
    let copy = TestApp::spawn_configured(StartOptions { demo: false }, |config| {
        config.database_url = broadsheet::config::Config::resolve(&broadsheet::config::ConfigArgs {
            data_dir: Some(dir.clone()),
            ..Default::default()
        })
        .expect("config")
        .database_url;
        config.data_dir = dir.clone();
    })
    .await;
    assert_eq!(snapshot(&copy, &article, &image).await, before, "the same site, its discussion and its images");
    copy.stop().await;

    // Again into the same folder: it has content now, so it is refused and left as it was.
    let again = cli_in(elsewhere.path(), &["restore", archive.to_str().expect("utf-8")]);
    assert!(!again.status.success());
    assert!(text(&again).contains("--replace") && text(&again).contains("nothing was changed"), "{}", text(&again));
    let replaced = cli_in(elsewhere.path(), &["restore", archive.to_str().expect("utf-8"), "--replace"]);
    assert!(replaced.status.success(), "{}", text(&replaced));
    let kept: Vec<String> = std::fs::read_dir(elsewhere.path())
        .expect("folder")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|name| name.contains(".before-restore-"))
        .collect();
    assert!(
        kept.iter().any(|n| n.starts_with("broadsheet.db.")) && kept.iter().any(|n| n.starts_with("media.")),
        "{kept:?}"
    );
    assert_eq!(
        kept.iter().filter(|n| n.starts_with("broadsheet.db.")).count(),
        2,
        "each earlier database kept: {kept:?}"
    );

    // Archives that are not backups, or are cut short, change nothing.
    let fresh = tempfile::tempdir().expect("temp dir");
    let not_backup = out.path().join("notes.tar.gz");
    std::fs::write(&not_backup, b"just some text").expect("write");
    let cut = out.path().join("cut.tar.gz");
    let whole = std::fs::read(&archive).expect("archive");
    std::fs::write(&cut, &whole[..whole.len() / 2]).expect("write");
    for (bad, says) in [(&not_backup, "not a Broadsheet backup"), (&cut, "damaged or cut short")] {
        let refused = cli_in(fresh.path(), &["restore", bad.to_str().expect("utf-8")]);
        assert!(!refused.status.success());
        assert!(text(&refused).contains(says), "{}", text(&refused));
        assert!(!fresh.path().join("media").exists(), "nothing was restored");
    }
    app.stop().await;
}
