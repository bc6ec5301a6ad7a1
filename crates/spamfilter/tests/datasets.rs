//! Trains on the training videos (Youtube01–03) and checks cross-validated quality.
//! Only the training files are read here; the evaluation-only files are not opened.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use spamfilter::eval::{self, TRAIN_FILES};
use spamfilter::{Comment, Example, Filter, Model, Scratch, TrainConfig, corpus, train_model};

fn dataset_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    if dir.join(TRAIN_FILES[0]).exists() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: no data sets at {}", dir.display());
        None
    }
}

fn train_groups(dir: &Path) -> Vec<Vec<Example>> {
    TRAIN_FILES
        .iter()
        .map(|f| {
            let file = File::open(dir.join(f)).unwrap_or_else(|e| panic!("open {f}: {e}"));
            corpus::youtube_csv(BufReader::new(file)).unwrap_or_else(|e| panic!("parse {f}: {e}"))
        })
        .collect()
}

#[test]
fn training_files_parse_with_the_documented_counts() {
    let Some(dir) = dataset_dir() else { return };
    let groups = train_groups(&dir);
    let counts: Vec<(usize, usize)> =
        groups.iter().map(|g| (g.len(), g.iter().filter(|e| e.label.is_spam()).count())).collect();
    assert_eq!(counts, vec![(350, 175), (350, 175), (438, 236)]);
}

#[test]
fn leave_one_video_out_quality_is_sane() {
    let Some(dir) = dataset_dir() else { return };
    let groups = train_groups(&dir);
    let slices: Vec<&[Example]> = groups.iter().map(Vec::as_slice).collect();
    let cv = eval::cross_validate(&slices, &TrainConfig::default());
    let (h, o) = (cv.held_out, cv.online);
    eprintln!("held-out video: {h:?}\nonline: {o:?}");
    assert!(h.auc > 0.95, "held-out AUC {}", h.auc);
    assert!(h.fpr < 0.02, "held-out ham FPR {}", h.fpr);
    assert!(h.f1 > 0.8, "held-out F1 {}", h.f1);
    assert!(h.precision > 0.95, "held-out precision {}", h.precision);
    assert!(o.auc >= h.auc - 0.01, "online learning hurt: {} < {}", o.auc, h.auc);
}

#[test]
fn shipped_model_is_deterministic_and_round_trips() {
    let Some(dir) = dataset_dir() else { return };
    let groups = train_groups(&dir);
    let slices: Vec<&[Example]> = groups.iter().map(Vec::as_slice).collect();
    let a = train_model(&slices, &TrainConfig::default());
    let b = train_model(&slices, &TrainConfig::default());
    assert_eq!(a.model.fingerprint(), b.model.fingerprint());
    let target = f64::from(TrainConfig::default().base_target_fpr);
    assert!(a.cv.fpr <= target, "out-of-fold FPR {} above the target {target}", a.cv.fpr);
    let t = a.model.thresholds();
    assert!(t.spam <= t.blatant);

    let mut bytes = Vec::new();
    a.model.write_to(&mut bytes).expect("write to a Vec");
    assert!(bytes.len() < 4 << 20, "model file is {} bytes", bytes.len());
    let back = Model::read_from(&mut bytes.as_slice()).expect("read back");
    assert_eq!(back, a.model);

    let filter = Filter::new(Arc::new(back));
    let mut s = Scratch::new();
    let v = filter.classify(&mut s, &Comment::text("Check out my channel, please subscribe! http://bit.ly/x"));
    assert!(v.decision.is_spam(), "{v}");
    assert!(!v.under_trained);
    let v = filter.classify(&mut s, &Comment::text("I love this song, it reminds me of my childhood"));
    assert!(!v.decision.is_spam(), "{v}");
}
