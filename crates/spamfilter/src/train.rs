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
use crate::model::{CellMap, FtrlParams, Model, Seen, ftrl_step, merge_duplicates, score_with};

/// Everything that shapes a trained model. [`Default`] holds the values chosen by
/// cross-validation on the training videos (see the crate documentation).
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
        }
    }
}

/// Incremental training of a base model from scratch (context priors included).
#[derive(Debug, Clone)]
pub struct Trainer {
    prior: Model,
    cells: CellMap,
    params: FtrlParams,
    seen: Seen,
    extractor: Extractor,
}

impl Trainer {
    /// Starts from an untrained model with `cfg`'s features and learning rates.
    pub fn new(cfg: &TrainConfig) -> Self {
        let mut prior = Model::untrained(cfg.features, cfg.online);
        prior.policy = cfg.policy;
        Self { prior, cells: CellMap::default(), params: cfg.ftrl, seen: Seen::default(), extractor: Extractor::new() }
    }

    /// One online step on one labelled comment.
    pub fn train(&mut self, comment: &Comment<'_>, label: Label) {
        self.extractor.extract(&self.prior.features, comment.text, &comment.context);
        let feats = self.extractor.features_mut();
        merge_duplicates(feats);
        ftrl_step(&self.prior, &mut self.cells, &self.params, feats, label.is_spam());
        self.seen.add(label.is_spam());
    }

    fn train_features(&mut self, feats: &[Feature], spam: bool) {
        ftrl_step(&self.prior, &mut self.cells, &self.params, feats, spam);
        self.seen.add(spam);
    }

    fn score_features(&self, feats: &[Feature]) -> f32 {
        score_with(&self.prior, &self.cells, feats) as f32
    }

    /// Bakes the learnt weights into an immutable model with `thresholds`.
    pub fn finish(self, thresholds: Thresholds) -> Model {
        let mut weights = self.prior.weights;
        for (&i, cell) in &self.cells {
            if let Some(w) = weights.get_mut(i as usize) {
                let sum = *w + cell.w;
                *w = if sum.is_finite() { sum } else { *w };
            }
        }
        Model::from_parts(self.prior.features, weights, thresholds, self.prior.online, self.prior.policy, self.seen)
    }
}

/// A training example with its features extracted once.
struct Prepared {
    feats: Vec<Feature>,
    spam: bool,
    group: usize,
}

fn prepare(groups: &[&[Example]], features: &FeatureConfig) -> Vec<Prepared> {
    let mut x = Extractor::new();
    let mut out = Vec::new();
    for (g, examples) in groups.iter().enumerate() {
        for e in *examples {
            x.extract(features, &e.text, &Context::default());
            let mut feats = x.features().to_vec();
            merge_duplicates(&mut feats);
            out.push(Prepared { feats, spam: e.label.is_spam(), group: g });
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
    for _ in 0..cfg.epochs.max(1) {
        rng.shuffle(&mut order);
        for &i in &order {
            t.train_features(&data[i].feats, data[i].spam);
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
    /// Out-of-fold `(score, is_spam)` pairs the thresholds were chosen from.
    pub oof: Vec<(f32, bool)>,
}

/// Trains the shipped model from groups of examples (one group per source, e.g. per video).
///
/// With two or more groups, out-of-fold scores come from leave-one-group-out
/// cross-validation; with one, from five interleaved folds. Thresholds are chosen
/// from those scores with `cfg.policy`; the final model is fitted on everything.
/// The result depends only on the data and `cfg` (fixed seed, fixed order).
pub fn train_model(groups: &[&[Example]], cfg: &TrainConfig) -> Trained {
    let data = prepare(groups, &cfg.features);
    let folds = if groups.len() >= 2 { groups.len() } else { 5 };
    let fold_of = |i: usize, d: &Prepared| if groups.len() >= 2 { d.group } else { i % folds };
    let mut oof = vec![(0.0f32, false); data.len()];
    for k in 0..folds {
        let train: Vec<&Prepared> =
            data.iter().enumerate().filter(|(i, d)| fold_of(*i, d) != k).map(|(_, d)| d).collect();
        if train.is_empty() {
            continue;
        }
        let model = fit(&train, cfg, Thresholds::default());
        let t = Trainer {
            prior: model,
            cells: CellMap::default(),
            params: cfg.ftrl,
            seen: Seen::default(),
            extractor: Extractor::new(),
        };
        for (i, d) in data.iter().enumerate().filter(|(i, d)| fold_of(*i, d) == k) {
            oof[i] = (t.score_features(&d.feats), d.spam);
        }
    }
    let thresholds = Thresholds::choose(&oof, &ThresholdPolicy { target_fpr: cfg.base_target_fpr, ..cfg.policy });
    let all: Vec<&Prepared> = data.iter().collect();
    let model = fit(&all, cfg, thresholds);
    let predicted: Vec<(f32, bool, bool)> = oof.iter().map(|&(s, y)| (s, s >= thresholds.spam, y)).collect();
    Trained { model, cv: Metrics::from_predictions(&predicted), oof }
}
