//! Metrics and the fixed evaluation protocol (splits A, B and C).
//!
//! - **A**: train on the training groups (YouTube 01–03), test on the in-domain test set (YouTube 04–05).
//! - **B**: the split-A model on the out-of-domain set (SMS), no further training.
//! - **C**: the split-A model with a fresh site overlay, streaming the out-of-domain set in
//!   order: classify each message (scored), then learn its true label.
//!
//! [`cross_validate`] runs the same train / static test / online test cycle
//! inside the training groups only (leave one group out); it is what the
//! hyperparameters were chosen with.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::time::Instant;

use crate::corpus::{CorpusError, Example, news_csv, news_jsonl_by_article, sms_tsv, spamassassin_jsonl, youtube_csv};
use crate::decision::Thresholds;
use crate::filter::{Filter, Scratch};
use crate::model::Model;
use crate::train::{Group, Source, TrainConfig, train_model};

/// Confusion counts and the derived figures (spam is the positive class).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Metrics {
    /// Spam flagged as spam.
    pub tp: u64,
    /// Ham flagged as spam.
    pub fp: u64,
    /// Ham passed as ham.
    pub tn: u64,
    /// Spam passed as ham.
    pub fn_: u64,
    /// tp / (tp + fp).
    pub precision: f64,
    /// tp / (tp + fn).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Share of ham flagged as spam.
    pub fpr: f64,
    /// Area under the ROC curve of the raw score.
    pub auc: f64,
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl Metrics {
    /// From `(score, predicted_spam, actually_spam)` triples.
    pub fn from_predictions(p: &[(f32, bool, bool)]) -> Self {
        let mut m = Metrics::default();
        for &(_, pred, y) in p {
            match (pred, y) {
                (true, true) => m.tp += 1,
                (true, false) => m.fp += 1,
                (false, false) => m.tn += 1,
                (false, true) => m.fn_ += 1,
            }
        }
        m.precision = ratio(m.tp, m.tp + m.fp);
        m.recall = ratio(m.tp, m.tp + m.fn_);
        m.f1 = if m.precision + m.recall > 0.0 { 2.0 * m.precision * m.recall / (m.precision + m.recall) } else { 0.0 };
        m.fpr = ratio(m.fp, m.fp + m.tn);
        let scores: Vec<(f32, bool)> = p.iter().map(|&(s, _, y)| (s, y)).collect();
        m.auc = roc_auc(&scores);
        m
    }
}

/// ROC AUC by the rank-sum (Mann–Whitney) formula; ties count half.
pub fn roc_auc(scores: &[(f32, bool)]) -> f64 {
    let mut s: Vec<(f32, bool)> = scores.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let pos = s.iter().filter(|x| x.1).count() as f64;
    let neg = s.len() as f64 - pos;
    if pos == 0.0 || neg == 0.0 {
        return 0.5;
    }
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < s.len() {
        let mut j = i;
        while j < s.len() && s[j].0 == s[i].0 {
            j += 1;
        }
        let avg_rank = (i + 1 + j) as f64 / 2.0;
        rank_sum += avg_rank * s[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    (rank_sum - pos * (pos + 1.0) / 2.0) / (pos * neg)
}

/// One group of training examples, as read: a fold of cross-validation.
#[derive(Debug, Clone)]
pub struct TrainingGroup {
    /// What it is, e.g. `Youtube01-Psy` or `fox-news-comments, articles 1, 4, 7, 10`.
    pub name: String,
    /// Where it comes from.
    pub source: Source,
    /// The examples.
    pub examples: Vec<Example>,
}

/// The data of the protocol.
#[derive(Debug, Clone, Default)]
pub struct Datasets {
    /// Training groups: the three training videos, the news comments in
    /// [`NEWS_FOLDS`] groups of articles, the mail in [`MAIL_FOLDS`] groups.
    pub train: Vec<TrainingGroup>,
    /// In-domain test set (YouTube 04 and 05).
    pub test: Vec<Example>,
    /// Out-of-domain stream (SMS, in file order).
    pub sms: Vec<Example>,
    /// Split D: real news comments of another site, all legitimate.
    pub news: Vec<Example>,
}

/// Training videos, in group order.
pub const TRAIN_FILES: [&str; 3] =
    ["youtube-spam/Youtube01-Psy.csv", "youtube-spam/Youtube02-KatyPerry.csv", "youtube-spam/Youtube03-LMFAO.csv"];
/// Training news comments (all ham), grouped by article.
pub const NEWS_TRAIN_FILE: &str = "news-comments/fox-news-comments.jsonl";
/// Training mail: spam, then ham.
pub const MAIL_TRAIN_FILES: [&str; 2] = ["spamassassin/spam-1.jsonl", "spamassassin/easy-ham-1.jsonl"];
/// In-domain evaluation files (never used for training or tuning).
pub const TEST_FILES: [&str; 2] = ["youtube-spam/Youtube04-Eminem.csv", "youtube-spam/Youtube05-Shakira.csv"];
/// Out-of-domain evaluation file (never used for training or tuning).
pub const SMS_FILE: &str = "sms-spam/SMSSpamCollection";
/// Split D's news comments (never used for training or tuning, never shipped: non-commercial licence).
pub const NEWS_TEST_FILE: &str = "news-comments/sfu-ctc.csv";
/// Groups the training news comments are dealt into, by article (article `i` to group `i % NEWS_FOLDS`).
pub const NEWS_FOLDS: usize = 3;
/// Groups the training mail is dealt into (mail `i` of each file to group `i % MAIL_FOLDS`).
pub const MAIL_FOLDS: usize = 2;

impl Datasets {
    /// Loads the training groups only; `open` maps a path relative to the
    /// data-set directory (e.g. [`NEWS_TRAIN_FILE`]) to a reader, so the library
    /// does no file I/O itself. No evaluation-only file is opened.
    pub fn load_training<R: Read>(
        mut open: impl FnMut(&str) -> io::Result<R>,
    ) -> Result<Vec<TrainingGroup>, CorpusError> {
        let mut train = Vec::new();
        for f in TRAIN_FILES {
            let name = f.trim_start_matches("youtube-spam/").trim_end_matches(".csv").to_owned();
            train.push(TrainingGroup { name, source: Source::Video, examples: youtube_csv(open(f)?)? });
        }
        let articles = news_jsonl_by_article(open(NEWS_TRAIN_FILE)?)?;
        for k in 0..NEWS_FOLDS {
            let picked: Vec<usize> = (k..articles.len()).step_by(NEWS_FOLDS).collect();
            let numbers: Vec<String> = picked.iter().map(|i| (i + 1).to_string()).collect();
            train.push(TrainingGroup {
                name: format!("news comments, articles {}", numbers.join(", ")),
                source: Source::News,
                examples: picked.iter().flat_map(|&i| articles[i].iter().cloned()).collect(),
            });
        }
        let mut mail = vec![Vec::new(); MAIL_FOLDS];
        for f in MAIL_TRAIN_FILES {
            for (i, e) in spamassassin_jsonl(open(f)?)?.into_iter().enumerate() {
                mail[i % MAIL_FOLDS].push(e);
            }
        }
        for (k, examples) in mail.into_iter().enumerate() {
            train.push(TrainingGroup { name: format!("mail, part {}", k + 1), source: Source::Mail, examples });
        }
        Ok(train)
    }

    /// Loads all the protocol's files (see [`load_training`](Self::load_training)).
    pub fn load<R: Read>(mut open: impl FnMut(&str) -> io::Result<R>) -> Result<Self, CorpusError> {
        let mut d = Datasets { train: Self::load_training(&mut open)?, ..Datasets::default() };
        for f in TEST_FILES {
            d.test.extend(youtube_csv(open(f)?)?);
        }
        d.sms = sms_tsv(open(SMS_FILE)?)?;
        d.news = news_csv(open(NEWS_TEST_FILE)?, "comment")?;
        Ok(d)
    }

    /// The training groups as [`Group`]s.
    pub fn train_groups(&self) -> Vec<Group<'_>> {
        groups(&self.train)
    }
}

/// `train` as [`Group`]s, for [`train_model`].
pub fn groups(train: &[TrainingGroup]) -> Vec<Group<'_>> {
    train.iter().map(|g| Group::new(g.source, &g.examples)).collect()
}

/// Figures for one split.
#[derive(Debug, Clone)]
pub struct SplitReport {
    /// Split name.
    pub name: &'static str,
    /// Quality.
    pub metrics: Metrics,
    /// Comments per second, one at a time (classify; classify + learn for split C).
    pub per_second: f64,
    /// Bytes of the written model (plus overlay for split C).
    pub model_bytes: usize,
    /// Estimated resident memory of model, overlay and buffers while classifying.
    pub memory_bytes: usize,
}

/// The protocol's results.
#[derive(Debug, Clone)]
pub struct Report {
    /// One row per split (A, B, C whole, C last 2,000, D).
    pub splits: Vec<SplitReport>,
    /// The model trained for A, for further rows (the article form's policy on D).
    pub model: Arc<Model>,
    /// Out-of-fold figures on the training data at the chosen thresholds.
    pub train_cv: Metrics,
    /// The thresholds of the trained model.
    pub thresholds: Thresholds,
    /// Seconds spent training (cross-validation included).
    pub train_seconds: f64,
}

/// Options of [`run`].
#[derive(Debug, Clone, Copy)]
pub struct EvalOptions {
    /// Minimum wall time of each throughput measurement, in seconds.
    pub throughput_seconds: f64,
    /// Length of the final part of the split-C stream reported separately.
    pub tail: usize,
}

impl Default for EvalOptions {
    fn default() -> Self {
        Self { throughput_seconds: 1.0, tail: 2000 }
    }
}

fn model_size(filter: &Filter, with_overlay: bool) -> usize {
    let mut sink = io::sink();
    let base = filter.base().write_to(&mut sink).unwrap_or(0);
    let overlay = if with_overlay { filter.overlay().write_to(&mut sink).unwrap_or(0) } else { 0 };
    base + overlay
}

/// Classifies `examples` repeatedly for at least `seconds`; returns comments per second.
fn throughput(filter: &Filter, scratch: &mut Scratch, examples: &[Example], seconds: f64) -> f64 {
    if examples.is_empty() {
        return 0.0;
    }
    let start = Instant::now();
    let mut n = 0u64;
    let mut sink = 0usize;
    while n == 0 || start.elapsed().as_secs_f64() < seconds {
        for e in examples {
            let v = filter.classify(scratch, &e.comment());
            sink = sink.wrapping_add(v.reasons.len());
            n += 1;
        }
    }
    std::hint::black_box(sink);
    n as f64 / start.elapsed().as_secs_f64()
}

/// Scores a static test set: `(score, predicted, actual)` triples.
fn predict(filter: &Filter, scratch: &mut Scratch, examples: &[Example]) -> Vec<(f32, bool, bool)> {
    examples
        .iter()
        .map(|e| {
            let v = filter.classify(scratch, &e.comment());
            (v.score, v.decision.is_spam(), e.label.is_spam())
        })
        .collect()
}

/// Streams `examples` prequentially: classify (recorded), then learn the true label.
fn prequential(filter: &mut Filter, scratch: &mut Scratch, examples: &[Example]) -> Vec<(f32, bool, bool)> {
    examples
        .iter()
        .map(|e| {
            let v = filter.classify(scratch, &e.comment());
            filter.learn(scratch, &e.comment(), e.label);
            (v.score, v.decision.is_spam(), e.label.is_spam())
        })
        .collect()
}

/// Runs splits A, B, C and D (D with the text alone: what the filter says of it).
pub fn run(data: &Datasets, cfg: &TrainConfig, opts: &EvalOptions) -> Report {
    let start = Instant::now();
    let trained = train_model(&data.train_groups(), cfg);
    let train_seconds = start.elapsed().as_secs_f64();
    let thresholds = trained.model.thresholds();
    let base = Arc::new(trained.model);
    let mut scratch = Scratch::new();
    let filter = Filter::new(Arc::clone(&base));
    let mut splits = Vec::new();

    let mem = filter.memory_bytes() + std::mem::size_of::<Scratch>();
    let size = model_size(&filter, false);
    // A static split: each example classified once (scored), then again for the speed.
    let mut static_split = |name: &'static str, examples: &[Example]| {
        let predicted = predict(&filter, &mut scratch, examples);
        let per_second = throughput(&filter, &mut scratch, examples, opts.throughput_seconds);
        SplitReport {
            name,
            metrics: Metrics::from_predictions(&predicted),
            per_second,
            model_bytes: size,
            memory_bytes: mem,
        }
    };
    splits.push(static_split("A", &data.test));
    splits.push(static_split("B", &data.sms));
    let d = static_split("D", &data.news);

    let mut online = Filter::new(Arc::clone(&base));
    let t0 = Instant::now();
    let c = prequential(&mut online, &mut scratch, &data.sms);
    let c_rate = c.len() as f64 / t0.elapsed().as_secs_f64().max(1e-9);
    let c_size = model_size(&online, true);
    let c_mem = online.memory_bytes() + std::mem::size_of::<Scratch>();
    let tail = &c[c.len().saturating_sub(opts.tail)..];
    splits.push(SplitReport {
        name: "C whole",
        metrics: Metrics::from_predictions(&c),
        per_second: c_rate,
        model_bytes: c_size,
        memory_bytes: c_mem,
    });
    splits.push(SplitReport {
        name: "C last 2000",
        metrics: Metrics::from_predictions(tail),
        per_second: c_rate,
        model_bytes: c_size,
        memory_bytes: c_mem,
    });

    splits.push(d);

    Report { splits, model: base, train_cv: trained.cv, thresholds, train_seconds }
}

/// Cross-validation figures within the training data.
#[derive(Debug, Clone)]
pub struct CvReport {
    /// Each group scored by a model trained on the other groups (thresholds from
    /// their own inner cross-validation), per source of the held-out group.
    pub held_out: Vec<(Source, Metrics)>,
    /// Each group streamed prequentially through a fresh overlay of that model, per source.
    pub online: Vec<(Source, Metrics)>,
    /// Longer streams: trained on one video alone, the other videos streamed
    /// prequentially (in order) through a fresh overlay.
    pub transfer_online: Metrics,
    /// Out of domain: each source scored by a model trained on the other sources only.
    pub other_sources: Vec<(Source, Metrics)>,
}

/// One source's figures in a per-source list (all zero when it has none).
pub fn for_source(rows: &[(Source, Metrics)], source: Source) -> Metrics {
    rows.iter().find(|(s, _)| *s == source).map(|(_, m)| *m).unwrap_or_default()
}

fn per_source(rows: &[(Source, (f32, bool, bool))]) -> Vec<(Source, Metrics)> {
    Source::ALL
        .iter()
        .filter_map(|&source| {
            let p: Vec<(f32, bool, bool)> = rows.iter().filter(|(s, _)| *s == source).map(|(_, p)| *p).collect();
            (!p.is_empty()).then(|| (source, Metrics::from_predictions(&p)))
        })
        .collect()
}

/// Nested cross-validation on training groups only: for each group, train
/// (with inner cross-validation for thresholds) on the others, score the
/// group, then stream it through a fresh overlay (classify, then learn). Then,
/// for longer streams, train on each video alone and stream the other videos;
/// and, out of domain, train on all sources but one and score that one.
pub fn cross_validate(groups: &[Group<'_>], cfg: &TrainConfig) -> CvReport {
    let mut held = Vec::new();
    let mut online = Vec::new();
    let mut scratch = Scratch::new();
    for (k, group) in groups.iter().enumerate() {
        let others: Vec<Group<'_>> = groups.iter().enumerate().filter(|(i, _)| *i != k).map(|(_, g)| *g).collect();
        let model = Arc::new(train_model(&others, cfg).model);
        let filter = Filter::new(Arc::clone(&model));
        held.extend(predict(&filter, &mut scratch, group.examples).into_iter().map(|p| (group.source, p)));
        let mut f = Filter::new(model);
        online.extend(prequential(&mut f, &mut scratch, group.examples).into_iter().map(|p| (group.source, p)));
    }
    let videos: Vec<&Group<'_>> = groups.iter().filter(|g| g.source == Source::Video).collect();
    let mut transfer = Vec::new();
    if videos.len() >= 2 {
        for (k, g) in videos.iter().enumerate() {
            let model = Arc::new(train_model(&[**g], cfg).model);
            let mut f = Filter::new(model);
            for (_, other) in videos.iter().enumerate().filter(|(i, _)| *i != k) {
                transfer.extend(prequential(&mut f, &mut scratch, other.examples));
            }
        }
    }
    CvReport {
        held_out: per_source(&held),
        online: per_source(&online),
        transfer_online: Metrics::from_predictions(&transfer),
        other_sources: cross_validate_sources(groups, cfg),
    }
}

/// Out of domain: each source scored by a model trained on the other sources only.
pub fn cross_validate_sources(groups: &[Group<'_>], cfg: &TrainConfig) -> Vec<(Source, Metrics)> {
    let mut scratch = Scratch::new();
    let mut rows = Vec::new();
    for source in Source::ALL {
        let (inside, outside): (Vec<Group<'_>>, Vec<Group<'_>>) = groups.iter().partition(|g| g.source == source);
        if inside.is_empty() || outside.is_empty() {
            continue;
        }
        let filter = Filter::new(Arc::new(train_model(&outside, cfg).model));
        for g in inside {
            rows.extend(predict(&filter, &mut scratch, g.examples).into_iter().map(|p| (source, p)));
        }
    }
    per_source(&rows)
}

fn human_bytes(b: usize) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / f64::from(1 << 20))
    } else {
        format!("{:.0} KiB", b as f64 / 1024.0)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| split | precision | recall | F1 | ham FPR | ROC AUC | one at a time/s | model on disk | memory |"
        )?;
        writeln!(f, "| --- | --- | --- | --- | --- | --- | --- | --- | --- |")?;
        for s in &self.splits {
            let m = &s.metrics;
            // A split without spam (D) has a false-positive rate and nothing else.
            let has_spam = m.tp + m.fn_ > 0;
            let fig = |x: f64| if has_spam { format!("{x:.3}") } else { "—".to_owned() };
            writeln!(
                f,
                "| {} | {} | {} | {} | {:.4} ({} of {}) | {} | {:.0}k | {} | {} |",
                s.name,
                fig(m.precision),
                fig(m.recall),
                fig(m.f1),
                m.fpr,
                m.fp,
                m.fp + m.tn,
                fig(m.auc),
                s.per_second / 1000.0,
                human_bytes(s.model_bytes),
                human_bytes(s.memory_bytes)
            )?;
        }
        let cv = &self.train_cv;
        writeln!(
            f,
            "\ntraining: {:.1} s; out-of-fold on the training groups: precision {:.3}, recall {:.3}, F1 {:.3}, ham FPR {:.4}, ROC AUC {:.3}",
            self.train_seconds, cv.precision, cv.recall, cv.f1, cv.fpr, cv.auc
        )?;
        write!(
            f,
            "thresholds: doubt p >= {:.4}, spam p >= {:.4}, blatant spam p >= {:.6}",
            self.thresholds.doubt_probability(),
            self.thresholds.spam_probability(),
            self.thresholds.blatant_probability()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_and_metrics() {
        assert_eq!(roc_auc(&[(0.1, false), (0.9, true)]), 1.0);
        assert_eq!(roc_auc(&[(0.9, false), (0.1, true)]), 0.0);
        assert_eq!(roc_auc(&[(0.5, false), (0.5, true)]), 0.5);
        let m = Metrics::from_predictions(&[
            (1.0, true, true),
            (0.5, true, false),
            (0.0, false, false),
            (0.2, false, true),
        ]);
        assert_eq!((m.tp, m.fp, m.tn, m.fn_), (1, 1, 1, 1));
        assert_eq!(m.precision, 0.5);
        assert_eq!(m.fpr, 0.5);
        assert_eq!(m.f1, 0.5);
    }
}
