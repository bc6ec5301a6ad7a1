//! A learning comment-spam classifier: comment text and context in; decision,
//! probability and reasons out.
//!
//! Pure and synchronous: no I/O except through the [`std::io::Read`] /
//! [`std::io::Write`] values passed in.
//!
//! - [`normalize`] and [`urls`]: Unicode NFKC, case folding, look-alike letters,
//!   leetspeak, obfuscated links (`w w w . example . com`, `example dot com`, `hxxp`).
//! - [`features`]: word uni- and bigrams, character n-grams, link, shape and
//!   context features, hashed on the fly into a fixed table.
//! - [`lexicon`]: cues — phrase families for self-promotion, calls to action and
//!   social handles, each one learnt feature.
//! - [`model`]: logistic regression trained online with FTRL-Proximal; an
//!   immutable shared base [`Model`] plus a sparse per-site [`Overlay`].
//! - [`decision`]: ham / spam / blatant spam by two thresholds chosen by
//!   cross-validation on training data, with the top reasons.
//! - [`persist`]: checksummed binary files for models and overlays.
//! - [`corpus`], [`eval`], [`train`]: data-set parsers, the evaluation protocol and
//!   the deterministic training of the shipped model.
//!
//! # How the defaults were chosen
//!
//! All hyperparameters in [`TrainConfig::default`] were chosen by leave-one-video-out
//! cross-validation on the training videos (Youtube01–03) only, with
//! `cargo run --release -p spamfilter --example spam_cv` (evaluation-only data is never
//! read there): FTRL α 0.5, β 1, L1 0.1, L2 0.1, 20 epochs, 2^20 buckets, word 1–2-grams
//! and character 3–5-grams (each group scaled to unit length), the cues at half a shape
//! feature's value, and a spam threshold at 1.5 % out-of-fold ham false positives. Per
//! site, a 1 % target is re-applied to the site's own pre-lesson scores once it has
//! taught the filter at least 200 ham and 20 spam comments.
//!
//! The cues raised the held-out ROC AUC from 0.974 to 0.986. With them, a 1 % target
//! (the most false positives editors accept) kept the held-out videos at 0.72 % false
//! positives; the earlier 0.75 % target gave recall 0.804 at the same 0.72 %, because it
//! falls on the first of a few outlying ham scores. The cue lists were then narrowed to
//! phrases that ask for something for the writer, within one sentence, because broader
//! ones sent news readers' comments ("check out the council minutes") to the spam
//! folder: held-out (nested) figures then precision 0.992, recall 0.881, F1 0.933, FPR
//! 0.72 %, ROC AUC 0.984.
//!
//! The base model's 1.5 % is the largest target at which nested cross-validation
//! (thresholds for each held-out video chosen from inner out-of-fold scores, as the
//! shipped threshold is) keeps the held-out videos at or under 1 % false positives:
//! out-of-fold scores come from models trained on less data than the shipped one and
//! overstate its false positives (an out-of-fold 1 % gave 0.72 % held out). Held-out
//! F1 rose from 0.933 to 0.945 (precision 0.991, recall 0.903) at 0.91 % false
//! positives; 1.75 % took the held-out videos streamed through an overlay to 1.27 %.
//!
//! Site overlays learn with FTRL α 2, β 1 and no L1 or L2: chosen by the same
//! cross-validation, streaming each held-out video through a fresh overlay (the
//! "online" and "transfer online" columns). Without L1 a lesson moves every feature
//! of the comment at once instead of waiting for the evidence to pass a threshold;
//! out-of-fold ROC AUC rose from 0.987 to 0.990 (online) and from 0.984 to 0.988
//! (transfer online).
//!
//! ```
//! use std::sync::Arc;
//! use spamfilter::{Comment, Filter, Label, Model, Scratch, TrainConfig, Trainer, Context};
//!
//! let mut trainer = Trainer::new(&TrainConfig::default());
//! for _ in 0..30 {
//!     trainer.train(&Comment::text("check out my channel and subscribe"), Label::Spam);
//!     trainer.train(&Comment::text("this song reminds me of summer"), Label::Ham);
//! }
//! let model = Arc::new(trainer.finish(Default::default()));
//! let mut filter = Filter::new(model);
//! let mut scratch = Scratch::new();
//! let ctx = Context { honeypot_filled: true, ..Context::default() };
//! let verdict = filter.classify(&mut scratch, &Comment::with_context("subscribe to my channel", ctx));
//! assert!(verdict.decision.is_spam());
//! assert!(!verdict.reasons.is_empty());
//! // A moderator disagrees: the site's overlay learns from it.
//! filter.learn(&mut scratch, &Comment::text("subscribe to my channel"), Label::Ham);
//! ```

pub mod context;
pub mod corpus;
pub mod decision;
pub mod eval;
pub mod features;
mod filter;
pub mod lexicon;
pub mod model;
pub mod normalize;
pub mod persist;
pub mod train;
pub mod urls;

pub use context::Context;
pub use corpus::Example;
pub use decision::{Decision, Reason, ThresholdPolicy, Thresholds, Verdict};
pub use features::FeatureConfig;
pub use filter::{Comment, Filter, Label, REASONS, Scratch};
pub use model::{FtrlParams, Model, Overlay, Seen};
pub use persist::PersistError;
pub use train::{TrainConfig, Trained, Trainer, train_model};
