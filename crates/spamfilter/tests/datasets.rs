//! Trains on the training data (Youtube01–03, the Fox News comments, the
//! SpamAssassin mail) and checks the out-of-fold quality and that training
//! reproduces the shipped model byte for byte. Only the training files are
//! read here; the evaluation-only files are not opened.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;
use std::sync::Arc;

use spamfilter::eval::{self, Datasets, TRAIN_FILES, TrainingGroup};
use spamfilter::{Comment, Filter, Model, Scratch, Source, TrainConfig, train_model};

fn dataset_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    if dir.join(TRAIN_FILES[0]).exists() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: no data sets at {}", dir.display());
        None
    }
}

fn training(dir: &std::path::Path) -> Vec<TrainingGroup> {
    Datasets::load_training(|name| File::open(dir.join(name)).map(BufReader::new))
        .unwrap_or_else(|e| panic!("cannot read the training data: {e}"))
}

fn counts(train: &[TrainingGroup], source: Source) -> (usize, usize) {
    train
        .iter()
        .filter(|g| g.source == source)
        .flat_map(|g| &g.examples)
        .fold((0, 0), |(n, spam), e| (n + 1, spam + usize::from(e.label.is_spam())))
}

#[test]
fn training_files_parse_with_the_documented_counts() {
    let Some(dir) = dataset_dir() else { return };
    let train = training(&dir);
    let videos: Vec<(usize, usize)> = train
        .iter()
        .filter(|g| g.source == Source::Video)
        .map(|g| (g.examples.len(), g.examples.iter().filter(|e| e.label.is_spam()).count()))
        .collect();
    assert_eq!(videos, vec![(350, 175), (350, 175), (438, 236)]);
    assert_eq!(counts(&train, Source::News), (1528, 0));
    assert_eq!(counts(&train, Source::Mail), (3000, 500));
    assert_eq!(train.iter().filter(|g| g.source == Source::News).count(), eval::NEWS_FOLDS);
    // No mail formatting reaches the filter: no quoted lines, no HTML head or style.
    for e in train.iter().filter(|g| g.source == Source::Mail).flat_map(|g| &g.examples) {
        assert!(e.text.chars().count() <= spamfilter::corpus::MAIL_MAX_CHARS);
        assert!(!e.text.lines().any(|l| l.starts_with('>')), "{}", e.text);
        assert!(!e.text.to_ascii_lowercase().contains("<style"), "{}", e.text);
    }
}

#[test]
fn training_reproduces_the_shipped_model_and_holds_each_source_to_its_target() {
    let Some(dir) = dataset_dir() else { return };
    let train = training(&dir);
    let cfg = TrainConfig::default();
    let trained = train_model(&eval::groups(&train), &cfg);

    // `broadsheet spam train` wrote models/spam-model.bin with the same function and data.
    let mut bytes = Vec::new();
    trained.model.write_to(&mut bytes).expect("write to a Vec");
    let shipped = std::fs::read(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models/spam-model.bin"))
        .expect("the shipped model");
    assert!(bytes == shipped, "training no longer reproduces models/spam-model.bin: run `broadsheet spam train`");
    let back = Model::read_from(&mut bytes.as_slice()).expect("read back");
    assert_eq!(back, trained.model);

    // Every source's held-out ham within the target; each source's spam found.
    let target = f64::from(cfg.base_target_fpr);
    for source in Source::ALL {
        let m = trained.out_of_fold(source);
        eprintln!("{source:?} out of fold: {m:?}");
        assert!(m.fpr <= target, "{source:?}: out-of-fold FPR {} above the target {target}", m.fpr);
    }
    let video = trained.out_of_fold(Source::Video);
    assert!(video.auc > 0.97 && video.recall > 0.8, "{video:?}");
    let mail = trained.out_of_fold(Source::Mail);
    assert!(mail.auc > 0.97 && mail.recall > 0.7, "{mail:?}");
    let t = trained.model.thresholds();
    assert!(t.doubt <= t.spam && t.spam <= t.blatant, "{t:?}");

    let filter = Filter::new(Arc::new(back));
    let mut s = Scratch::new();
    let v = filter.classify(&mut s, &Comment::text("Check out my channel, please subscribe! http://bit.ly/x"));
    assert!(v.decision.is_spam(), "{v}");
    assert!(!v.under_trained);
    let v = filter.classify(&mut s, &Comment::text("I love this song, it reminds me of my childhood"));
    assert!(!v.decision.is_spam(), "{v}");
}
