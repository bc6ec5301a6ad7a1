//! Throughput of classifying one comment at a time (the way comments arrive).
//!
//! Trains the shipped model on its training data and classifies the split-A
//! test text (Youtube04–05) one comment per call, reasons included. Falls back
//! to a small built-in corpus if the data sets are missing.

use std::fs::File;
use std::hint::black_box;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use spamfilter::eval::{self, Datasets, TEST_FILES, TrainingGroup};
use spamfilter::{Comment, Example, Filter, Label, Scratch, Source, TrainConfig, corpus, train_model};

fn load(dir: &Path, files: &[&str]) -> Option<Vec<Vec<Example>>> {
    files.iter().map(|f| corpus::youtube_csv(BufReader::new(File::open(dir.join(f)).ok()?)).ok()).collect()
}

fn data() -> (Vec<TrainingGroup>, Vec<Example>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    let train = Datasets::load_training(|name| File::open(dir.join(name)).map(BufReader::new)).ok();
    if let (Some(train), Some(test)) = (train, load(&dir, &TEST_FILES)) {
        return (train, test.into_iter().flatten().collect());
    }
    eprintln!("data sets not found at {}: using a built-in corpus", dir.display());
    let ex = |t: &str, spam| Example { text: t.to_owned(), label: if spam { Label::Spam } else { Label::Ham } };
    let set = vec![
        ex("Check out my new channel and subscribe! http://bit.ly/abc", true),
        ex("This song never gets old, I have listened to it every day since 2012", false),
        ex("fr33 m0ney at w w w . example . com", true),
        ex("Who else is watching this in 2015? Still a masterpiece.", false),
    ];
    let group = |name: &str| TrainingGroup { name: name.to_owned(), source: Source::Video, examples: set.clone() };
    (vec![group("a"), group("b")], set)
}

fn bench(c: &mut Criterion) {
    let (train, test) = data();
    let groups = eval::groups(&train);
    let model = Arc::new(train_model(&groups, &TrainConfig::default()).model);
    let filter = Filter::new(Arc::clone(&model));
    let mut scratch = Scratch::new();
    let mut g = c.benchmark_group("spamfilter");
    g.throughput(Throughput::Elements(1));
    let mut i = 0;
    g.bench_function("classify one comment (split A text, with reasons)", |b| {
        b.iter(|| {
            let e = &test[i % test.len()];
            i += 1;
            black_box(filter.classify(&mut scratch, &Comment::text(black_box(&e.text))))
        })
    });
    g.bench_function("score one comment (split A text, no reasons)", |b| {
        b.iter(|| {
            let e = &test[i % test.len()];
            i += 1;
            black_box(filter.score(&mut scratch, &Comment::text(black_box(&e.text))))
        })
    });
    let mut online = Filter::new(model);
    g.bench_function("learn one comment (site overlay)", |b| {
        b.iter(|| {
            let e = &test[i % test.len()];
            i += 1;
            online.learn(&mut scratch, &Comment::text(black_box(&e.text)), e.label)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
