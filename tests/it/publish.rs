//! `broadsheet publish`: create and update from Markdown; every error names
//! the file and the line, and a batch with any error publishes nothing.

use crate::helpers::{TEST_SVG, TestApp, article, headline_of, link_to};

#[tokio::test]
async fn publish_creates_then_updates_with_image() {
    let app = TestApp::spawn_empty().await;
    std::fs::create_dir_all(app.dir.path().join("img")).expect("mkdir");
    std::fs::write(app.dir.path().join("img/quay.svg"), TEST_SVG).expect("image");
    let source = article(
        "Quay wall repaired",
        "standfirst = \"Works finish early.\"\nbyline = \"Ana Ruiz\"\ncategories = [\"News > Local\"]\ntags = [\"harbour\"]\n[image]\nsrc = \"img/quay.svg\"\nalt = \"The quay\"\ncaption = \"The new wall.\"\ncredit = \"Photo: Ana Ruiz via Test Library\"",
        "The wall is *done*.",
    );
    let file = app.write_file("quay.md", &source);
    let output = app.cli(&["publish", file.to_str().expect("utf-8")]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("created article http://127.0.0.1"), "{stdout}");

    let front = app.page("/").await;
    let page = app.page(&link_to(&front, "quay-wall-repaired")).await;
    assert_eq!(headline_of(&page), "Quay wall repaired");
    assert!(page.contains("<em>done</em>"));
    assert!(page.contains("<span class=\"caption\">The new wall.</span>"));
    assert!(page.contains("<span class=\"credit\">Photo: Ana Ruiz via Test Library</span>"));
    assert!(page.contains("width=\"800\" height=\"450\""));
    let img = &page[page.find("/media/quay-").expect("image url")..];
    let img = &img[..img.find('"').expect("end")];
    assert_eq!(app.get(img).await.text().await.expect("body"), TEST_SVG);

    let output = app.cli(&["publish", file.to_str().expect("utf-8")]);
    assert!(String::from_utf8_lossy(&output.stdout).contains("updated article"));
    app.stop().await;
}

#[tokio::test]
async fn broken_files_are_refused_with_file_and_line() {
    let app = TestApp::spawn_empty().await;
    let good = app.write_file("good.md", &article("A good one", "", "Body."));
    let cases = [
        ("no-front.md", "Just text\n".to_owned(), "no-front.md:1:"),
        ("unclosed.md", "+++\nheadline = \"x\"\nBody\n".to_owned(), "unclosed.md:1:"),
        ("syntax.md", "+++\nheadline = \"x\"\ntags = [\"a\"\n+++\nBody\n".to_owned(), "syntax.md:3:"),
        ("unknown-key.md", "+++\nheadline = \"x\"\n\nhedline = \"typo\"\n+++\nBody\n".to_owned(), "unknown-key.md:4:"),
        ("bad-date.md", "+++\nheadline = \"x\"\ndate = \"tomorrow\"\n+++\nBody\n".to_owned(), "bad-date.md:3:"),
        ("bad-status.md", "+++\nheadline = \"x\"\nstatus = \"live\"\n+++\nBody\n".to_owned(), "bad-status.md:3:"),
        ("missing-image.md", article("x", "[image]\nsrc = \"nope.jpg\"", "Body"), "missing-image.md: image"),
        (
            "not-image.md",
            article("x", "[image]\nsrc = \"not-image.md\"", "Body"),
            "not a JPEG, PNG, WebP, GIF or SVG image",
        ),
    ];
    for (name, text, expected) in cases {
        let file = app.write_file(name, &text);
        let output = app.cli(&["publish", good.to_str().expect("utf-8"), file.to_str().expect("utf-8")]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name} must fail");
        assert!(stderr.contains(expected) && stderr.contains(name), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }
    let missing = app.cli(&["publish", "does-not-exist.md"]);
    assert!(String::from_utf8_lossy(&missing.stderr).contains("does-not-exist.md: cannot read"));
    let binary = app.dir.path().join("binary.md");
    std::fs::write(&binary, b"+++\nheadline = \"x\"\n+++\n\xff\xfe\n").expect("write");
    let output = app.cli(&["publish", binary.to_str().expect("utf-8")]);
    assert!(String::from_utf8_lossy(&output.stderr).contains("binary.md:4: the file is not valid UTF-8"));

    // The good file came first in every batch, but no batch was whole: nothing was published.
    assert!(!app.page("/").await.contains("A good one"));
    app.stop().await;
}
