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
//! - [`decision`]: ham / doubtful / spam / blatant spam by three thresholds chosen by
//!   cross-validation on training data, with the top reasons.
//! - [`persist`]: checksummed binary files for models and overlays.
//! - [`corpus`], [`eval`], [`train`]: data-set parsers, the evaluation protocol and
//!   the deterministic training of the shipped model.
//!
//! # How the defaults were chosen
//!
//! The shipped model trains on a documented mix ([`eval::Datasets::load_training`]):
//! the YouTube videos 01–03 (one group each), 1,528 reader comments of a news site
//! (all ham; three groups of articles) and the SpamAssassin mail turned into comment
//! text by [`corpus::mail_as_comment`] (two groups). Every choice was made by
//! cross-validation over those groups only, with
//! `cargo run --release -p spamfilter --example spam_cv` (evaluation-only data is
//! never read there), watching three things: the held-out videos' recall at the
//! threshold (what split A measures), the held-out news comments' false positives,
//! and the news comments scored by a model trained on the other sources only (a
//! news site the model has never seen: what split D measures).
//!
//! - FTRL α 0.5, β 1, L1 0.1, L2 0.1, 20 epochs, 2^20 buckets, word 1–2-grams and
//!   character 3–5-grams (each group scaled to unit length), cues at half a shape
//!   feature's value: as chosen on the videos alone, and no setting of the grid
//!   moved the three figures by more than their noise on the mix.
//! - No length class and no function word on its own
//!   ([`FeatureConfig::length`], [`FeatureConfig::function_words`]): they said
//!   "spam" because YouTube's long comments and its "my"/"your" are spam. The
//!   explanations of the held-out news comments found them.
//! - Balanced classes, and each source weighted (videos 2, news 4, mail 1): the ham
//!   outnumbers the spam four to one; unweighted, the held-out videos' recall fell
//!   from 0.90 (videos alone) to 0.85 at the same false positives.
//! - The spam threshold holds each source's held-out ham to 1.5 % on its own
//!   ([`Thresholds::choose_per_source`]); the videos decide it. The doubt threshold
//!   holds each to 5 %. Per site, 1 % and 5 % are re-applied to the site's own
//!   pre-lesson scores once it has taught the filter at least 200 ham and 20 spam.
//! - Spam is decided on the comment's own evidence; context signals only raise
//!   doubt ([`Thresholds::decide_with_context`], [`features::Kind::only_raises_doubt`]).
//!
//! Site overlays learn with FTRL α 2, β 1 and no L1 or L2 (chosen on the videos:
//! a lesson moves every feature of the comment at once).
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
pub use train::{Group, Scored, Source, TrainConfig, Trained, Trainer, train_model};
