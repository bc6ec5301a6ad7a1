//! Hyperparameter sweep by cross-validation on the TRAINING groups only
//! (Youtube01–03, the Fox News comments in groups of articles, the SpamAssassin
//! mail in two parts); the evaluation-only files are never opened.
//!
//! ```text
//! cargo run --release -p spamfilter --example spam_cv [DATASET_DIR [FILTER]] [--nested | --unseen-site]
//! ```
//!
//! `FILTER` keeps only the settings whose name contains it. With `--nested`,
//! the full nested cross-validation (about 50 times slower). With
//! `--unseen-site`, instead of the sweep: the news comments that the default
//! model trained without news flags, each with the features that decided
//! (the "news by others" column, comment by comment, where the other
//! sources' artifacts show).
//!
//! Each line varies one setting of [`TrainConfig::default`] and prints, per source:
//! - out of fold: each group scored by the model trained on the others, at the
//!   thresholds chosen from these very scores (what `spam train` does); with
//!   `--nested`, at thresholds from an inner cross-validation instead, and each
//!   held-out video also streamed through a fresh site overlay;
//! - by others: each source scored by a model trained on the other sources
//!   only (news comments by a model that never saw a news comment).

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use spamfilter::eval::{self, Datasets, Metrics};
use spamfilter::{Comment, FeatureConfig, Filter, FtrlParams, Scratch, Source, TrainConfig, train_model};

fn main() -> ExitCode {
    // DATASET_DIR and FILTER by position among the arguments that are not flags.
    let mut positional = std::env::args().skip(1).filter(|a| !a.starts_with("--"));
    let dir = PathBuf::from(positional.next().unwrap_or_else(|| "../shared/datasets".to_owned()));
    let filter = positional.next().unwrap_or_default();
    let train = match Datasets::load_training(|name| File::open(dir.join(name)).map(BufReader::new)) {
        Ok(train) => train,
        Err(e) => {
            eprintln!("cannot read the training data in {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let groups = eval::groups(&train);
    if std::env::args().any(|a| a == "--unseen-site") {
        print_unseen_site(&groups);
        return ExitCode::SUCCESS;
    }
    let nested = std::env::args().any(|a| a == "--nested");
    let base = TrainConfig::default();
    let mut grid: Vec<(String, TrainConfig)> = vec![("default".to_owned(), base)];
    let ftrl = |f: fn(&mut FtrlParams, f32), v: f32| {
        let mut c = base;
        f(&mut c.ftrl, v);
        c
    };
    for a in [0.2, 1.0] {
        grid.push((format!("alpha {a}"), ftrl(|p, v| p.alpha = v, a)));
    }
    for l1 in [0.0, 0.3, 1.0] {
        grid.push((format!("l1 {l1}"), ftrl(|p, v| p.l1 = v, l1)));
    }
    for l2 in [0.0, 1.0] {
        grid.push((format!("l2 {l2}"), ftrl(|p, v| p.l2 = v, l2)));
    }
    for e in [5, 10, 40] {
        grid.push((format!("epochs {e}"), TrainConfig { epochs: e, ..base }));
    }
    let feats = |f: FeatureConfig| TrainConfig { features: f, ..base };
    let fc = base.features;
    for (lo, hi) in [(0, 0), (2, 5), (3, 6)] {
        grid.push((format!("chars {lo}-{hi}"), feats(FeatureConfig { char_min: lo, char_max: hi, ..fc })));
    }
    for bits in [18, 22, 24] {
        grid.push((format!("bits {bits}"), feats(FeatureConfig { bits, ..fc })));
    }
    grid.push(("no bigrams".to_owned(), feats(FeatureConfig { bigrams: false, ..fc })));
    grid.push(("no cues".to_owned(), feats(FeatureConfig { cues: false, ..fc })));
    grid.push(("no balance".to_owned(), TrainConfig { balance: false, ..base }));
    grid.push(("length".to_owned(), feats(FeatureConfig { length: true, ..fc })));
    grid.push(("function words".to_owned(), feats(FeatureConfig { function_words: true, ..fc })));
    grid.push(("length, function words".to_owned(), feats(FeatureConfig { length: true, function_words: true, ..fc })));
    for w in [
        [1.0, 1.0, 1.0],
        [1.0, 2.0, 1.0],
        [2.0, 2.0, 1.0],
        [2.0, 6.0, 1.0],
        [3.0, 6.0, 1.0],
        [2.0, 4.0, 0.5],
        [4.0, 4.0, 1.0],
    ] {
        grid.push((format!("source weights {w:?}"), TrainConfig { source_weights: w, ..base }));
    }
    for t in [0.0025, 0.005, 0.0075, 0.01, 0.015] {
        grid.push((format!("base target FPR {t}"), TrainConfig { base_target_fpr: t, ..base }));
    }
    if nested {
        print_nested(&groups, grid.into_iter().filter(|(n, _)| n.contains(&filter)));
        return ExitCode::SUCCESS;
    }
    println!(
        "| setting | video P | R | F1 | FPR | AUC | news FPR | mail P | R | FPR | AUC | \
         news by others FPR | video by others R | FPR | AUC | spam p | s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, cfg) in grid.into_iter().filter(|(n, _)| n.contains(&filter)) {
        let t0 = Instant::now();
        let trained = train_model(&groups, &cfg);
        let oof = |source| trained.out_of_fold(source);
        let (v, n, m) = (oof(Source::Video), oof(Source::News), oof(Source::Mail));
        let r = eval::cross_validate_sources(&groups, &cfg);
        let (xn, xv) = (eval::for_source(&r, Source::News), eval::for_source(&r, Source::Video));
        let mut cells = all(&v);
        cells.extend([f4(n.fpr), f3(m.precision), f3(m.recall), f4(m.fpr), f4(m.auc), f4(xn.fpr)]);
        cells.extend([f3(xv.recall), f4(xv.fpr), f4(xv.auc), f3(trained.model.thresholds().spam_probability())]);
        row(&name, &cells, t0);
    }
    ExitCode::SUCCESS
}

fn print_nested<'a>(groups: &[spamfilter::Group<'a>], grid: impl Iterator<Item = (String, TrainConfig)>) {
    println!(
        "| setting | video P | R | F1 | FPR | AUC | news FPR | mail P | R | FPR | online video F1 | FPR | \
         news by others FPR | video by others R | FPR | AUC | s |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, cfg) in grid {
        let t0 = Instant::now();
        let r = eval::cross_validate(groups, &cfg);
        let (v, n, m) = (
            eval::for_source(&r.held_out, Source::Video),
            eval::for_source(&r.held_out, Source::News),
            eval::for_source(&r.held_out, Source::Mail),
        );
        let ov = eval::for_source(&r.online, Source::Video);
        let (xn, xv) =
            (eval::for_source(&r.other_sources, Source::News), eval::for_source(&r.other_sources, Source::Video));
        let mut cells = all(&v);
        cells.extend([f4(n.fpr), f3(m.precision), f3(m.recall), f4(m.fpr), f3(ov.f1), f4(ov.fpr), f4(xn.fpr)]);
        cells.extend([f3(xv.recall), f4(xv.fpr), f4(xv.auc)]);
        row(&name, &cells, t0);
    }
}

/// The news comments flagged by the default model trained on the other sources, with their reasons.
fn print_unseen_site(groups: &[spamfilter::Group<'_>]) {
    let others: Vec<_> = groups.iter().copied().filter(|g| g.source != Source::News).collect();
    let filter = Filter::new(Arc::new(train_model(&others, &TrainConfig::default()).model));
    let mut scratch = Scratch::new();
    let (mut flagged, mut total) = (0, 0);
    for group in groups.iter().filter(|g| g.source == Source::News) {
        for example in group.examples {
            total += 1;
            let verdict = filter.classify(&mut scratch, &Comment::text(&example.text));
            if verdict.decision.is_spam() {
                flagged += 1;
                let text: String = example.text.replace('\n', " ").chars().take(160).collect();
                let reasons: Vec<String> =
                    verdict.reasons.iter().take(5).map(|r| format!("{} ({:+.2})", r.feature, r.weight)).collect();
                println!("p {:.2} | {text} | {}", verdict.probability, reasons.join(", "));
            }
        }
    }
    println!("{flagged} of {total} news comments flagged by a model trained without news");
}

fn f3(x: f64) -> String {
    format!("{x:.3}")
}

fn f4(x: f64) -> String {
    format!("{x:.4}")
}

/// Precision, recall, F1, FPR and ROC AUC.
fn all(m: &Metrics) -> Vec<String> {
    vec![f3(m.precision), f3(m.recall), f3(m.f1), f4(m.fpr), f4(m.auc)]
}

/// One row of the table: the setting, its figures, and the seconds it took.
fn row(name: &str, cells: &[String], started: Instant) {
    println!("| {name} | {} | {:.0} |", cells.join(" | "), started.elapsed().as_secs_f64());
}
