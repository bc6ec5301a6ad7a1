//! The model: logistic regression over hashed features, learnt online with FTRL-Proximal.
//!
//! A [`Model`] is an immutable, shared base: dense `f32` weights, the feature
//! configuration, the decision thresholds chosen at training time and the
//! learning rates for later online learning. An [`Overlay`] is a small, sparse
//! per-site map of weight *deltas* (with their FTRL state) on top of a base
//! model; moderators' decisions only ever touch the overlay, so each site
//! learns cheaply and the base stays shared.
//!
//! FTRL-Proximal (McMahan et al., 2013) keeps per coordinate `z` and `n` (sum of
//! squared gradients): each coordinate has its own, decaying learning rate
//! `alpha / (beta + sqrt(n))`, L1 keeps the deltas sparse and L2 pulls them
//! back towards the base. All arithmetic is done in `f64`, and an update that
//! would produce a non-finite value is skipped, so weights are never NaN.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

use crate::context::Slot;
use crate::decision::{ThresholdPolicy, Thresholds};
use crate::features::{Feature, FeatureConfig};

/// Learning-rate and regularisation settings of FTRL-Proximal.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FtrlParams {
    /// Base learning rate.
    pub alpha: f32,
    /// Learning-rate smoothing (larger = slower start).
    pub beta: f32,
    /// L1 strength (sparsity).
    pub l1: f32,
    /// L2 strength (shrinkage towards the base weights).
    pub l2: f32,
}

impl FtrlParams {
    /// Whether all values are finite and in range.
    pub fn is_valid(&self) -> bool {
        [self.alpha, self.beta, self.l1, self.l2].iter().all(|v| v.is_finite() && *v >= 0.0) && self.alpha > 0.0
    }
}

/// Per-coordinate FTRL state and the resulting weight (delta).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cell {
    /// FTRL `z` accumulator.
    pub z: f32,
    /// Sum of squared gradients.
    pub n: f32,
    /// Current weight, derived from `z` and `n`.
    pub w: f32,
}

impl Cell {
    /// Recomputes `w` from `z` and `n`.
    pub fn weight(z: f64, n: f64, p: &FtrlParams) -> f64 {
        let l1 = f64::from(p.l1);
        if z.abs() <= l1 {
            return 0.0;
        }
        let denom = (f64::from(p.beta) + n.sqrt()) / f64::from(p.alpha) + f64::from(p.l2);
        -(z - z.signum() * l1) / denom
    }

    /// Applies gradient `g`; returns `false` (and changes nothing) if the result would not be finite.
    fn update(&mut self, g: f64, p: &FtrlParams) -> bool {
        let (z, n, w) = (f64::from(self.z), f64::from(self.n), f64::from(self.w));
        let n2 = n + g * g;
        let sigma = (n2.sqrt() - n.sqrt()) / f64::from(p.alpha);
        let z2 = z + g - sigma * w;
        let w2 = Self::weight(z2, n2, p);
        let cell = Cell { z: z2 as f32, n: n2 as f32, w: w2 as f32 };
        if !(cell.z.is_finite() && cell.n.is_finite() && cell.w.is_finite()) {
            return false;
        }
        *self = cell;
        true
    }
}

/// A fast hasher for bucket indices (already uniformly hashed).
#[derive(Debug, Default, Clone, Copy)]
pub struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }

    fn write_u32(&mut self, i: u32) {
        self.0 = u64::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// Map from weight index to FTRL cell.
pub type CellMap = HashMap<u32, Cell, BuildHasherDefault<IndexHasher>>;

/// Where FTRL cells live: a sparse map for a site's overlay, a dense table
/// (one cell per weight) for training a base model, where most cells are
/// touched and a table lookup is several times faster than a hash lookup.
pub(crate) trait Cells {
    /// The cell of `index`, if it has one.
    fn cell(&self, index: u32) -> Option<&Cell>;
    /// The cell of `index`, made if needed.
    fn cell_mut(&mut self, index: u32) -> &mut Cell;
    /// Whether no cell was ever made (scoring skips the lookups).
    fn is_empty(&self) -> bool;
}

impl Cells for CellMap {
    #[inline]
    fn cell(&self, index: u32) -> Option<&Cell> {
        self.get(&index)
    }

    #[inline]
    fn cell_mut(&mut self, index: u32) -> &mut Cell {
        self.entry(index).or_default()
    }

    #[inline]
    fn is_empty(&self) -> bool {
        HashMap::is_empty(self)
    }
}

/// One cell per weight of the table (untouched cells are zero, as a missing cell is).
#[derive(Debug, Clone, Default)]
pub(crate) struct DenseCells(Vec<Cell>);

impl DenseCells {
    /// Zeroed cells for a table of `dim` weights.
    pub(crate) fn new(dim: usize) -> Self {
        Self(vec![Cell::default(); dim])
    }

    /// `(index, cell)` for every cell with a non-zero state.
    pub(crate) fn touched(&self) -> impl Iterator<Item = (u32, &Cell)> {
        self.0.iter().enumerate().filter(|(_, c)| c.n != 0.0 || c.z != 0.0).map(|(i, c)| (i as u32, c))
    }
}

impl Cells for DenseCells {
    #[inline]
    fn cell(&self, index: u32) -> Option<&Cell> {
        self.0.get(index as usize)
    }

    #[inline]
    fn cell_mut(&mut self, index: u32) -> &mut Cell {
        let i = index as usize;
        if i >= self.0.len() {
            self.0.resize(i + 1, Cell::default());
        }
        &mut self.0[i]
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Counts of labelled examples a model or overlay has learnt from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Seen {
    /// Ham examples.
    pub ham: u64,
    /// Spam examples.
    pub spam: u64,
}

impl Seen {
    /// Ham plus spam.
    pub fn total(&self) -> u64 {
        self.ham.saturating_add(self.spam)
    }

    pub(crate) fn add(&mut self, spam: bool) {
        if spam {
            self.spam = self.spam.saturating_add(1);
        } else {
            self.ham = self.ham.saturating_add(1);
        }
    }
}

/// Below this many examples of either class (base plus overlay), verdicts are flagged as under-trained.
pub const MIN_EXAMPLES_PER_CLASS: u64 = 20;

/// The shared, immutable base model.
#[derive(Clone, PartialEq)]
pub struct Model {
    pub(crate) features: FeatureConfig,
    pub(crate) weights: Vec<f32>,
    pub(crate) thresholds: Thresholds,
    pub(crate) online: FtrlParams,
    pub(crate) policy: ThresholdPolicy,
    pub(crate) seen: Seen,
    pub(crate) fingerprint: u32,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("features", &self.features)
            .field("non_zero_weights", &self.non_zero())
            .field("thresholds", &self.thresholds)
            .field("online", &self.online)
            .field("policy", &self.policy)
            .field("seen", &self.seen)
            .field("fingerprint", &format_args!("{:08x}", self.fingerprint))
            .finish()
    }
}

impl Model {
    /// A model that has learnt nothing: zero text weights, the context priors,
    /// default thresholds. Its verdicts are flagged as under-trained.
    pub fn untrained(features: FeatureConfig, online: FtrlParams) -> Self {
        let mut weights = vec![0.0; features.dim()];
        for slot in Slot::ALL {
            weights[features.slot_index(slot) as usize] = slot.prior();
        }
        Self::from_parts(features, weights, Thresholds::default(), online, ThresholdPolicy::default(), Seen::default())
    }

    pub(crate) fn from_parts(
        features: FeatureConfig,
        weights: Vec<f32>,
        thresholds: Thresholds,
        online: FtrlParams,
        policy: ThresholdPolicy,
        seen: Seen,
    ) -> Self {
        let mut m = Self { features, weights, thresholds, online, policy, seen, fingerprint: 0 };
        m.fingerprint = m.compute_fingerprint();
        m
    }

    /// Feature configuration the model was trained with.
    pub fn features(&self) -> &FeatureConfig {
        &self.features
    }

    /// Decision thresholds chosen at training time.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Learning rates for site overlays.
    pub fn online_params(&self) -> FtrlParams {
        self.online
    }

    /// The threshold policy chosen at training time; site overlays re-apply it to their own history.
    pub fn threshold_policy(&self) -> ThresholdPolicy {
        self.policy
    }

    /// Examples the base was trained on.
    pub fn seen(&self) -> Seen {
        self.seen
    }

    /// A checksum identifying this model; overlays record it to refuse a different base.
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// Number of non-zero weights.
    pub fn non_zero(&self) -> usize {
        self.weights.iter().filter(|w| **w != 0.0).count()
    }

    /// Approximate resident memory of the model in bytes.
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.weights.capacity() * std::mem::size_of::<f32>()
    }

    /// Log-odds of spam for extracted features, without any overlay.
    pub fn score(&self, feats: &[Feature]) -> f32 {
        feats.iter().map(|f| self.weight(f.index) * f.value).sum()
    }

    #[inline]
    pub(crate) fn weight(&self, index: u32) -> f32 {
        self.weights.get(index as usize).copied().unwrap_or(0.0)
    }

    /// Returns a copy with other thresholds.
    pub fn with_thresholds(&self, thresholds: Thresholds) -> Self {
        Self::from_parts(self.features, self.weights.clone(), thresholds, self.online, self.policy, self.seen)
    }
}

/// Scores kept from a site's most recent lessons for its own thresholds.
pub const HISTORY: usize = 2000;
/// A site gets its own spam threshold once its history holds this many ham lessons...
pub const ADAPT_MIN_HAM: usize = 200;
/// ... and this many spam lessons.
pub const ADAPT_MIN_SPAM: usize = 20;
/// Site thresholds are re-chosen after this many lessons.
const ADAPT_EVERY: u32 = 25;

/// Per-site learnt corrections on top of a base [`Model`]: sparse FTRL cells,
/// plus the site's own spam threshold.
///
/// Each lesson records the score on the evidence the comment had *before* the
/// lesson (a held-out score, like the cross-validation scores the base
/// thresholds came from; both leave out what context only adds to doubt, as
/// the spam decision does; the doubt threshold is then compared with the
/// score with context, which may hold a little more than its target). Once
/// the recent history holds enough ham and spam, the base model's threshold
/// policy (its target ham false-positive rate) is re-applied to it, so each site
/// is calibrated to its own traffic. The blatant-spam threshold never drops below the base's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Overlay {
    pub(crate) cells: CellMap,
    pub(crate) seen: Seen,
    pub(crate) base: u32,
    pub(crate) history: VecDeque<(f32, bool)>,
    pub(crate) since_update: u32,
    pub(crate) thresholds: Option<Thresholds>,
}

impl Overlay {
    /// An empty overlay for `base`.
    pub fn new(base: &Model) -> Self {
        Self { base: base.fingerprint, ..Self::default() }
    }

    /// The site's own thresholds, once it has enough history.
    pub fn thresholds(&self) -> Option<Thresholds> {
        self.thresholds
    }

    /// Records a lesson's pre-lesson score; re-chooses the site thresholds now and then.
    pub(crate) fn record(&mut self, score: f32, spam: bool, base: &Model) {
        if !score.is_finite() {
            return;
        }
        if self.history.len() >= HISTORY {
            self.history.pop_front();
        }
        self.history.push_back((score, spam));
        self.since_update += 1;
        if self.since_update >= ADAPT_EVERY {
            self.update_thresholds(base);
        }
    }

    pub(crate) fn update_thresholds(&mut self, base: &Model) {
        self.since_update = 0;
        let spam = self.history.iter().filter(|(_, y)| *y).count();
        let ham = self.history.len() - spam;
        self.thresholds = (ham >= ADAPT_MIN_HAM && spam >= ADAPT_MIN_SPAM).then(|| {
            let t = Thresholds::choose(self.history.make_contiguous(), &base.policy);
            Thresholds { doubt: t.doubt, spam: t.spam, blatant: base.thresholds.blatant.max(t.spam) }
        });
    }

    /// Examples this overlay has learnt from.
    pub fn seen(&self) -> Seen {
        self.seen
    }

    /// Fingerprint of the base model this overlay belongs to.
    pub fn base_fingerprint(&self) -> u32 {
        self.base
    }

    /// Number of stored cells.
    pub fn len(&self) -> usize {
        self.cells.len()
    }

    /// Whether the overlay has learnt nothing.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Approximate resident memory in bytes (hash table included).
    pub fn memory_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + self.cells.capacity() * (std::mem::size_of::<(u32, Cell)>() + 1)
            + self.history.capacity() * std::mem::size_of::<(f32, bool)>()
    }
}

/// Log-odds from base weights plus a sparse delta map.
pub(crate) fn score_with(model: &Model, cells: &impl Cells, feats: &[Feature]) -> f64 {
    feats.iter().map(|f| f64::from(weight_with(model, cells, f.index)) * f64::from(f.value)).sum()
}

/// The weight of `index`: the base's plus the cells' delta.
#[inline]
pub(crate) fn weight_with(model: &Model, cells: &impl Cells, index: u32) -> f32 {
    let w = model.weight(index);
    if cells.is_empty() {
        return w;
    }
    cells.cell(index).map_or(w, |c| w + c.w)
}

/// A comment's log-odds, and the part of it that only raises doubt
/// ([`Kind::only_raises_doubt`](crate::features::Kind::only_raises_doubt)).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Sums {
    /// Every contribution.
    pub(crate) total: f64,
    /// Contributions towards spam of features that only raise doubt.
    pub(crate) doubt_only: f64,
}

impl Sums {
    /// Adds feature `f`'s contribution `c`.
    #[inline]
    pub(crate) fn add(&mut self, f: &Feature, c: f32) {
        self.total += f64::from(c);
        if c > 0.0 && f.kind.only_raises_doubt() {
            self.doubt_only += f64::from(c);
        }
    }

    /// The log-odds on the comment's own evidence.
    #[inline]
    pub(crate) fn evidence(&self) -> f64 {
        self.total - self.doubt_only
    }
}

/// [`Sums`] from base weights plus a sparse delta map, in feature order.
pub(crate) fn sums_with(model: &Model, cells: &impl Cells, feats: &[Feature]) -> Sums {
    let mut sums = Sums::default();
    for f in feats {
        sums.add(f, weight_with(model, cells, f.index) * f.value);
    }
    sums
}

/// Logistic function, clamped away from 0 and 1.
pub fn sigmoid(x: f64) -> f64 {
    if x.is_nan() {
        return 0.5;
    }
    let x = x.clamp(-35.0, 35.0);
    1.0 / (1.0 + (-x).exp())
}

/// Sorts features by index and merges duplicates (summing values), in place.
pub(crate) fn merge_duplicates(feats: &mut Vec<Feature>) {
    feats.sort_unstable_by_key(|f| f.index);
    feats.dedup_by(|next, kept| {
        if next.index == kept.index {
            kept.value += next.value;
            true
        } else {
            false
        }
    });
}

/// One FTRL step on `cells` (deltas over `model`) for merged features, the
/// gradient scaled by the example's `weight`; returns the log-odds predicted
/// before the step.
pub(crate) fn ftrl_step(
    model: &Model,
    cells: &mut impl Cells,
    p: &FtrlParams,
    feats: &[Feature],
    spam: bool,
    weight: f64,
) -> f64 {
    let score = score_with(model, cells, feats);
    let prob = sigmoid(score);
    let y = if spam { 1.0 } else { 0.0 };
    let err = (prob - y) * weight;
    if !err.is_finite() {
        return score;
    }
    for f in feats {
        let g = err * f64::from(f.value);
        if g == 0.0 || !g.is_finite() {
            continue;
        }
        cells.cell_mut(f.index).update(g, p);
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> FtrlParams {
        FtrlParams { alpha: 0.5, beta: 1.0, l1: 0.0, l2: 0.0 }
    }

    #[test]
    fn ftrl_cell_moves_against_gradient() {
        let mut c = Cell::default();
        assert!(c.update(1.0, &params()));
        assert!(c.w < 0.0);
        let mut c = Cell::default();
        assert!(c.update(-1.0, &params()));
        assert!(c.w > 0.0);
    }

    #[test]
    fn non_finite_updates_are_refused() {
        let mut c = Cell::default();
        assert!(!c.update(f64::INFINITY, &params()));
        assert_eq!(c, Cell::default());
        assert!(!c.update(f64::NAN, &params()));
        assert_eq!(c, Cell::default());
    }

    #[test]
    fn l1_keeps_small_weights_at_zero() {
        let p = FtrlParams { l1: 10.0, ..params() };
        let mut c = Cell::default();
        c.update(1.0, &p);
        assert_eq!(c.w, 0.0);
    }

    #[test]
    fn sigmoid_is_bounded() {
        assert!(sigmoid(1e9) < 1.0 && sigmoid(-1e9) > 0.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-12);
        assert_eq!(sigmoid(f64::NAN), 0.5);
    }
}
