//! Training a base model: incremental [`Trainer`] and the deterministic [`train_model`].
//!
//! [`train_model`] is what builds the shipped model: it picks the decision
//! thresholds from out-of-fold scores (leave-one-group-out cross-validation on
//! the training data only), then fits on all training data for a fixed number
//! of epochs in a seeded, reproducible order.

use crate::context::Context;
use crate::corpus::Example;
use crate::decision::{ThresholdPolicy, Thresholds};
use crate::eval::Metrics;
use crate::features::{Extractor, Feature, FeatureConfig};
use crate::filter::{Comment, Label};
use crate::model::{DenseCells, FtrlParams, Model, Seen, ftrl_step, merge_duplicates, sums_with};

/// Everything that shapes a trained model. [`Default`] holds the values chosen by
/// cross-validation on the training groups (see the crate documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainConfig {
    /// Feature extraction.
    pub features: FeatureConfig,
    /// FTRL settings for base training.
    pub ftrl: FtrlParams,
    /// FTRL settings stored in the model for per-site online learning.
    pub online: FtrlParams,
    /// Passes over the training data.
    pub epochs: u32,
    /// Seed of the example order.
    pub seed: u64,
    /// How thresholds are chosen from out-of-fold scores.
    pub policy: ThresholdPolicy,
    /// Share of out-of-fold ham that the shipped model's spam threshold may
    /// flag; `policy.target_fpr` is what sites' own thresholds aim at.
    ///
    /// The two differ because out-of-fold scores come from models trained on
    /// fewer groups than the shipped one, and so overstate its false positives:
    /// in nested cross-validation an out-of-fold 1 % gave 0.72 % on the
    /// held-out videos. The default is the largest target at which nested
    /// cross-validation keeps the held-out videos within `policy.target_fpr`,
    /// both scored by the base model and streamed through a site overlay.
    /// A site's own pre-lesson scores are already held out, so its policy
    /// needs no such margin.
    pub base_target_fpr: f32,
    /// Weigh each class as half of the training data, however many examples it
    /// has (the news and mail ham outnumber the spam four to one).
    pub balance: bool,
    /// Weight of each source's examples ([`Source`] order: video, news, mail).
    pub source_weights: [f32; 3],
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::default(),
            ftrl: FtrlParams { alpha: 0.5, beta: 1.0, l1: 0.1, l2: 0.1 },
            online: FtrlParams { alpha: 2.0, beta: 1.0, l1: 0.0, l2: 0.0 },
            epochs: 20,
            seed: 0x5eed,
            policy: ThresholdPolicy { target_fpr: 0.01, ..ThresholdPolicy::default() },
            base_target_fpr: 0.015,
            balance: true,
            source_weights: [2.0, 4.0, 1.0],
        }
    }
}

/// Incremental training of a base model from scratch (context priors included).
#[derive(Debug, Clone)]
pub struct Trainer {
    prior: Model,
    cells: DenseCells,
    params: FtrlParams,
    seen: Seen,
    extractor: Extractor,
}

impl Trainer {
    /// Starts from an untrained model with `cfg`'s features and learning rates.
    pub fn new(cfg: &TrainConfig) -> Self {
        let mut prior = Model::untrained(cfg.features, cfg.online);
        prior.policy = cfg.policy;
        let cells = DenseCells::new(prior.features.dim());
        Self { prior, cells, params: cfg.ftrl, seen: Seen::default(), extractor: Extractor::new() }
    }

    /// One online step on one labelled comment.
    pub fn train(&mut self, comment: &Comment<'_>, label: Label) {
        self.extractor.extract(&self.prior.features, comment.text, &comment.context);
        let feats = self.extractor.features_mut();
        merge_duplicates(feats);
        ftrl_step(&self.prior, &mut self.cells, &self.params, feats, label.is_spam(), 1.0);
        self.seen.add(label.is_spam());
    }

    fn train_features(&mut self, feats: &[Feature], spam: bool, weight: f64) {
        ftrl_step(&self.prior, &mut self.cells, &self.params, feats, spam, weight);
        self.seen.add(spam);
    }

    /// Bakes the learnt weights into an immutable model with `thresholds`.
    pub fn finish(self, thresholds: Thresholds) -> Model {
        let mut weights = self.prior.weights;
        for (i, cell) in self.cells.touched() {
            if let Some(w) = weights.get_mut(i as usize) {
                let sum = *w + cell.w;
                *w = if sum.is_finite() { sum } else { *w };
            }
        }
        Model::from_parts(self.prior.features, weights, thresholds, self.prior.online, self.prior.policy, self.seen)
    }
}

/// The kind of site a training group comes from. The spam threshold holds
/// each source's held-out ham to the target separately, so that no kind of
/// site pays for another's easy ham.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    /// Comments under videos (the YouTube Spam Collection).
    Video,
    /// Reader comments of a news site.
    News,
    /// E-mail turned into comment text (SpamAssassin).
    Mail,
}

impl Source {
    /// All sources, in order.
    pub const ALL: [Source; 3] = [Source::Video, Source::News, Source::Mail];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Source::Video => "video",
            Source::News => "news",
            Source::Mail => "mail",
        }
    }
}

/// A group of training examples from one source: one fold of cross-validation.
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    /// Where the examples come from.
    pub source: Source,
    /// The examples.
    pub examples: &'a [Example],
}

impl<'a> Group<'a> {
    /// A group of `examples` from `source`.
    pub fn new(source: Source, examples: &'a [Example]) -> Self {
        Self { source, examples }
    }
}

/// A held-out score: what the threshold is chosen from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// Log-odds of spam from a model that did not see the example.
    pub score: f32,
    /// The example's label.
    pub spam: bool,
    /// Its source.
    pub source: Source,
}

/// A training example with its features extracted once.
struct Prepared {
    feats: Vec<Feature>,
    spam: bool,
    group: usize,
    source: Source,
}

fn prepare(groups: &[Group<'_>], features: &FeatureConfig) -> Vec<Prepared> {
    let mut x = Extractor::new();
    let mut out = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        for e in group.examples {
            x.extract(features, &e.text, &Context::default());
            let mut feats = x.features().to_vec();
            merge_duplicates(&mut feats);
            out.push(Prepared { feats, spam: e.label.is_spam(), group: g, source: group.source });
        }
    }
    out
}

/// Deterministic pseudo-random numbers (SplitMix64) for the example order.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            items.swap(i, j);
        }
    }
}

fn fit(data: &[&Prepared], cfg: &TrainConfig, thresholds: Thresholds) -> Model {
    let mut t = Trainer::new(cfg);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut rng = SplitMix::new(cfg.seed);
    // Each example weighs its source's weight; with `balance`, each class then
    // weighs half of the whole, however many examples it has.
    let source_weight = |d: &Prepared| f64::from(cfg.source_weights[d.source as usize]);
    let total: f64 = data.iter().map(|d| source_weight(d)).sum();
    let spam: f64 = data.iter().filter(|d| d.spam).map(|d| source_weight(d)).sum();
    let class_weight = |is_spam: bool| {
        let class = if is_spam { spam } else { total - spam };
        if cfg.balance && class > 0.0 { total / (2.0 * class) } else { 1.0 }
    };
    let (spam_weight, ham_weight) = (class_weight(true), class_weight(false));
    for _ in 0..cfg.epochs.max(1) {
        rng.shuffle(&mut order);
        for &i in &order {
            let d = data[i];
            let w = source_weight(d) * if d.spam { spam_weight } else { ham_weight };
            t.train_features(&d.feats, d.spam, w);
        }
    }
    // Count each example once, not once per epoch.
    t.seen = Seen::default();
    for d in data {
        t.seen.add(d.spam);
    }
    t.finish(thresholds)
}

/// A trained model and the cross-validation figures its thresholds came from.
#[derive(Debug, Clone)]
pub struct Trained {
    /// The model, fitted on all training data.
    pub model: Model,
    /// Out-of-fold quality at the chosen thresholds.
    pub cv: Metrics,
    /// Out-of-fold scores the thresholds were chosen from.
    pub oof: Vec<Scored>,
}

impl Trained {
    /// Out-of-fold figures of one source at the model's spam threshold.
    pub fn out_of_fold(&self, source: Source) -> Metrics {
        let spam_at = self.model.thresholds().spam;
        let p: Vec<(f32, bool, bool)> =
            self.oof.iter().filter(|s| s.source == source).map(|s| (s.score, s.score >= spam_at, s.spam)).collect();
        Metrics::from_predictions(&p)
    }
}

/// Trains the shipped model from groups of examples (e.g. one per video).
///
/// With two or more groups, out-of-fold scores come from leave-one-group-out
/// cross-validation; with one, from five interleaved folds. Thresholds are chosen
/// from those scores with `cfg.policy`, each source's ham held to the target on
/// its own ([`Thresholds::choose_per_source`]); the final model is fitted on
/// everything. The result depends only on the data and `cfg` (fixed seed, fixed order).
pub fn train_model(groups: &[Group<'_>], cfg: &TrainConfig) -> Trained {
    let data = prepare(groups, &cfg.features);
    let folds = if groups.len() >= 2 { groups.len() } else { 5 };
    let fold_of = |i: usize, d: &Prepared| if groups.len() >= 2 { d.group } else { i % folds };
    let mut oof: Vec<Scored> = data.iter().map(|d| Scored { score: 0.0, spam: d.spam, source: d.source }).collect();
    // Each fold's model scores its held-out examples; folds are independent, so
    // they train side by side on the machine's cores with the same result.
    let fold_scores = |k: usize| -> Vec<(usize, f32)> {
        let train: Vec<&Prepared> =
            data.iter().enumerate().filter(|(i, d)| fold_of(*i, d) != k).map(|(_, d)| d).collect();
        if train.is_empty() {
            return Vec::new();
        }
        let model = fit(&train, cfg, Thresholds::default());
        // On the evidence, as decisions compare it with the spam threshold.
        let no_cells = DenseCells::default();
        data.iter()
            .enumerate()
            .filter(|(i, d)| fold_of(*i, d) == k)
            .map(|(i, d)| (i, sums_with(&model, &no_cells, &d.feats).evidence() as f32))
            .collect()
    };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, folds);
    let scored: Vec<(usize, f32)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| scope.spawn(move || (w..folds).step_by(workers).flat_map(fold_scores).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))).collect()
    });
    for (i, score) in scored {
        oof[i].score = score;
    }
    let policy = ThresholdPolicy { target_fpr: cfg.base_target_fpr, ..cfg.policy };
    let thresholds = Thresholds::choose_per_source(&oof, &policy);
    let all: Vec<&Prepared> = data.iter().collect();
    let model = fit(&all, cfg, thresholds);
    let predicted: Vec<(f32, bool, bool)> = oof.iter().map(|s| (s.score, s.score >= thresholds.spam, s.spam)).collect();
    Trained { model, cv: Metrics::from_predictions(&predicted), oof }
}
