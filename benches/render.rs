//! Cold render: the server time of an article page or the front page that is
//! not in the page cache (database reads, template, no compression), and the
//! cost of compressing a rendered page (gzip and brotli, done once per page
//! version, off the request path), and the snippet of a search result.
//!
//! `cargo bench --bench render`

use std::hint::black_box;

use axum::http::StatusCode;
use broadsheet::app::{App, StartOptions};
use broadsheet::config::{Config, ConfigArgs};
use broadsheet::domain::search_text::WordFinder;
use broadsheet::web::cache::{CachedPage, HTML_CACHE_CONTROL};
use broadsheet::web::pages::{Outcome, render_path};
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};

fn cold_render(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let args = ConfigArgs {
        data_dir: Some(dir.path().to_owned()),
        addr: Some("127.0.0.1:0".parse().expect("addr")),
        ..ConfigArgs::default()
    };
    let config = Config::resolve(&args).expect("config");
    let app = runtime.block_on(App::build(config, StartOptions { demo: true })).expect("app");
    let state = app.state.clone();
    let front = match runtime.block_on(render_path(&state, "/", Utc::now())) {
        Ok(Outcome::Page(page)) => page.html,
        _ => panic!("front page renders"),
    };
    let start = front.find("class=\"lead-headline\"><a href=\"").expect("lead link") + 31;
    let article = front[start..start + front[start..].find('"').expect("end")].to_owned();

    let mut group = c.benchmark_group("cold render");
    for (name, path) in [("article page", article.as_str()), ("front page", "/")] {
        group.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                match render_path(&state, path, Utc::now()).await {
                    Ok(Outcome::Page(page)) => black_box(page.html.len()),
                    _ => panic!("renders"),
                }
            })
        });
    }
    group.finish();

    let mut group = c.benchmark_group("compress");
    for (name, path) in [("article page", article.as_str()), ("site feed", "/feed/")] {
        let body = match runtime.block_on(render_path(&state, path, Utc::now())) {
            Ok(Outcome::Page(page)) => page.html,
            _ => panic!("renders"),
        };
        group.bench_function(format!("{name}, {} bytes", body.len()), |b| {
            b.iter(|| {
                let page = CachedPage::new(StatusCode::OK, "text/html", HTML_CACHE_CONTROL, body.clone(), 0, 0);
                page.compress();
                black_box(page)
            })
        });
    }
    group.finish();

    // A search result's snippet, made from an article's text: one word that
    // is found early, and two words of which one is found only at the end.
    let text = match runtime.block_on(render_path(&state, article.as_str(), Utc::now())) {
        Ok(Outcome::Page(page)) => page.html,
        _ => panic!("renders"),
    };
    let mut group = c.benchmark_group("search snippet");
    for terms in [vec!["ferry".to_owned()], vec!["harbour".to_owned(), "copyright".to_owned()]] {
        // Made once a search, for the page's ten snippets.
        group.bench_function(format!("finder for {}", terms.join(" ")), |b| {
            b.iter(|| black_box(WordFinder::new(black_box(&terms))))
        });
        let finder = WordFinder::new(&terms);
        group.bench_function(format!("{}, {} bytes", terms.join(" "), text.len()), |b| {
            b.iter(|| black_box(finder.snippet(black_box(&text), 30)))
        });
    }
    group.finish();
}

criterion_group!(benches, cold_render);
criterion_main!(benches);
