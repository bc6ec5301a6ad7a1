//! Runs the spam-filter evaluation protocol and prints the table.
//!
//! ```text
//! cargo run --release -p spamfilter --example spam_eval [DATASET_DIR] [--cv]
//! ```
//!
//! `DATASET_DIR` defaults to `../shared/datasets` (relative to the repository root).
//! With `--cv`, also prints the nested cross-validation figures on the training groups, per source.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;

use spamfilter::TrainConfig;
use spamfilter::eval::{self, Datasets, EvalOptions};

fn main() -> ExitCode {
    let mut dir = PathBuf::from("../shared/datasets");
    let mut cv = false;
    for arg in std::env::args().skip(1) {
        if arg == "--cv" {
            cv = true;
        } else {
            dir = PathBuf::from(arg);
        }
    }
    let data = match Datasets::load(|name| File::open(dir.join(name)).map(BufReader::new)) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("cannot load the data sets from {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let cfg = TrainConfig::default();
    if cv {
        let r = eval::cross_validate(&data.train_groups(), &cfg);
        let rows =
            [("held out", &r.held_out), ("held out, online", &r.online), ("by the other sources", &r.other_sources)];
        for (name, per_source) in rows {
            for (source, m) in per_source.iter() {
                println!(
                    "CV {name}, {}: precision {:.3} recall {:.3} F1 {:.3} ham FPR {:.4} AUC {:.4}",
                    source.name(),
                    m.precision,
                    m.recall,
                    m.f1,
                    m.fpr,
                    m.auc
                );
            }
        }
    }
    let report = eval::run(&data, &cfg, &EvalOptions::default());
    println!("{report}");
    ExitCode::SUCCESS
}
