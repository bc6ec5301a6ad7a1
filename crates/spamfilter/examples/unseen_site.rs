//! The news comments that a model which never saw a news comment flags, with
//! the features that decided: artifacts of the other sources show up here
//! (the "news by others" column of `spam_cv`, comment by comment). Training
//! data only; the evaluation-only files are never opened.
//!
//! ```text
//! cargo run --release -p spamfilter --example unseen_site [DATASET_DIR]
//! ```

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use spamfilter::eval::{self, Datasets};
use spamfilter::{Comment, Filter, Scratch, Source, TrainConfig, train_model};

fn main() -> ExitCode {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "../shared/datasets".to_owned()));
    let train = match Datasets::load_training(|name| File::open(dir.join(name)).map(BufReader::new)) {
        Ok(train) => train,
        Err(e) => {
            eprintln!("cannot read the training data in {}: {e}", dir.display());
            return ExitCode::FAILURE;
        }
    };
    let groups = eval::groups(&train);
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
    ExitCode::SUCCESS
}
