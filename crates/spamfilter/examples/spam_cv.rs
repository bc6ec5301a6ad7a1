//! Hyperparameter sweep by leave-one-video-out cross-validation on the TRAINING
//! videos only (Youtube01–03); the evaluation-only files are never opened.
//!
//! ```text
//! cargo run --release -p spamfilter --example spam_cv [DATASET_DIR [FILTER]]
//! ```
//!
//! `FILTER` keeps only the settings whose name contains it.
//!
//! Each line varies one setting of [`TrainConfig::default`] and prints the
//! held-out-video figures (static model, thresholds from inner CV) and the
//! figures when the held-out video is streamed through a fresh site overlay.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use spamfilter::eval::{self, TRAIN_FILES};
use spamfilter::{FeatureConfig, FtrlParams, TrainConfig, corpus};

fn main() -> ExitCode {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/datasets".to_owned()));
    let mut groups = Vec::new();
    for f in TRAIN_FILES {
        match File::open(dir.join(f))
            .map_err(corpus::CorpusError::Io)
            .and_then(|r| corpus::youtube_csv(BufReader::new(r)))
        {
            Ok(g) => groups.push(g),
            Err(e) => {
                eprintln!("cannot read {f}: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    let groups: Vec<&[spamfilter::Example]> = groups.iter().map(Vec::as_slice).collect();
    let filter = std::env::args().nth(2).unwrap_or_default();
    let base = TrainConfig::default();
    let mut grid: Vec<(String, TrainConfig)> = vec![("default".to_owned(), base)];
    let ftrl = |f: fn(&mut FtrlParams, f32), v: f32| {
        let mut c = base;
        f(&mut c.ftrl, v);
        c
    };
    for a in [0.05, 0.1, 0.2, 1.0, 2.0] {
        grid.push((format!("alpha {a}"), ftrl(|p, v| p.alpha = v, a)));
    }
    for l1 in [0.0, 0.01, 0.3, 1.0] {
        grid.push((format!("l1 {l1}"), ftrl(|p, v| p.l1 = v, l1)));
    }
    for l2 in [0.0, 0.01, 1.0, 3.0] {
        grid.push((format!("l2 {l2}"), ftrl(|p, v| p.l2 = v, l2)));
    }
    for e in [1, 3, 5, 20, 40] {
        grid.push((format!("epochs {e}"), TrainConfig { epochs: e, ..base }));
    }
    let feats = |f: FeatureConfig| TrainConfig { features: f, ..base };
    let fc = base.features;
    for (lo, hi) in [(0, 0), (2, 5), (3, 4), (3, 6), (4, 6), (1, 4)] {
        grid.push((format!("chars {lo}-{hi}"), feats(FeatureConfig { char_min: lo, char_max: hi, ..fc })));
    }
    grid.push(("no bigrams".to_owned(), feats(FeatureConfig { bigrams: false, ..fc })));
    grid.push(("no cues".to_owned(), feats(FeatureConfig { cues: false, ..fc })));
    for t in [0.01, 0.0125] {
        let mut c = base;
        c.features.cues = false;
        c.policy.target_fpr = t;
        c.base_target_fpr = t;
        grid.push((format!("no cues, target FPR {t}"), c));
    }
    for bits in [18, 22] {
        grid.push((format!("bits {bits}"), feats(FeatureConfig { bits, ..fc })));
    }
    for a in [0.5, 1.0, 4.0] {
        let mut c = base;
        c.online.alpha = a;
        grid.push((format!("online alpha {a}"), c));
    }
    for (l1, l2) in [(0.1, 0.1), (0.1, 0.0), (0.01, 0.0), (0.0, 0.1)] {
        let mut c = base;
        c.online.l1 = l1;
        c.online.l2 = l2;
        grid.push((format!("online l1 {l1} l2 {l2}"), c));
    }
    for (a, e) in [(1.0, 20), (0.5, 20), (1.0, 40)] {
        let mut c = base;
        c.ftrl.alpha = a;
        c.epochs = e;
        grid.push((format!("combo alpha {a} epochs {e}"), c));
    }
    for t in [0.0, 0.005, 0.0075, 0.01, 0.0125, 0.015] {
        let mut c = base;
        c.policy.target_fpr = t;
        c.base_target_fpr = t;
        grid.push((format!("target FPR {t}"), c));
    }
    for t in [0.0125, 0.015, 0.0175, 0.02, 0.025, 0.03] {
        grid.push((format!("base target FPR {t}"), TrainConfig { base_target_fpr: t, ..base }));
    }
    println!(
        "| setting | held-out P | R | F1 | FPR | AUC | online P | R | F1 | FPR | AUC | transfer online P | R | F1 | FPR | AUC |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (name, cfg) in grid.into_iter().filter(|(n, _)| n.contains(&filter)) {
        let r = eval::cross_validate(&groups, &cfg);
        print!("| {name} |");
        for m in [r.held_out, r.online, r.transfer_online] {
            print!(" {:.3} | {:.3} | {:.3} | {:.4} | {:.4} |", m.precision, m.recall, m.f1, m.fpr, m.auc);
        }
        println!();
    }
    ExitCode::SUCCESS
}
