//! The per-site filter: a shared base [`Model`] plus the site's [`Overlay`].

use std::sync::Arc;

use crate::context::Context;
use crate::decision::{Decision, Reason, Thresholds, Verdict};
use crate::features::{Extractor, Kind};
use crate::model::{
    MIN_EXAMPLES_PER_CLASS, Model, Overlay, Seen, Sums, ftrl_step, merge_duplicates, score_with, sigmoid, sums_with,
    weight_with,
};
use crate::persist::PersistError;

/// A comment to classify or learn from.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Comment<'a> {
    /// The comment body (plain text or HTML source; tags are just more tokens).
    pub text: &'a str,
    /// What the app knows besides the text.
    pub context: Context<'a>,
}

impl<'a> Comment<'a> {
    /// A comment with no context.
    pub fn text(text: &'a str) -> Self {
        Self { text, context: Context::default() }
    }

    /// A comment with context.
    pub fn with_context(text: &'a str, context: Context<'a>) -> Self {
        Self { text, context }
    }
}

/// A moderator's (or a data set's) label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Label {
    /// A legitimate comment.
    Ham,
    /// Spam.
    Spam,
}

impl Label {
    /// `true` for spam.
    pub fn is_spam(self) -> bool {
        self == Label::Spam
    }
}

/// Number of reasons returned with each verdict.
pub const REASONS: usize = 5;

/// Reusable buffers for classification; keep one per thread.
#[derive(Debug, Default, Clone)]
pub struct Scratch {
    pub(crate) extractor: Extractor,
}

impl Scratch {
    /// Creates empty buffers.
    pub fn new() -> Self {
        Self::default()
    }
}

/// A site's spam filter: shared base model plus the site's learnt overlay.
#[derive(Debug, Clone)]
pub struct Filter {
    base: Arc<Model>,
    overlay: Overlay,
}

impl Filter {
    /// A filter with an empty overlay.
    pub fn new(base: Arc<Model>) -> Self {
        let overlay = Overlay::new(&base);
        Self { base, overlay }
    }

    /// A filter with a previously learnt overlay; fails if the overlay belongs to another base model.
    pub fn with_overlay(base: Arc<Model>, overlay: Overlay) -> Result<Self, PersistError> {
        if overlay.base_fingerprint() != base.fingerprint() {
            return Err(PersistError::BaseMismatch);
        }
        Ok(Self { base, overlay })
    }

    /// The base model.
    pub fn base(&self) -> &Arc<Model> {
        &self.base
    }

    /// The site's overlay (persist it with [`Overlay::write_to`]).
    pub fn overlay(&self) -> &Overlay {
        &self.overlay
    }

    /// Thresholds in force: the site's own once it has enough history, else the base model's.
    pub fn thresholds(&self) -> Thresholds {
        self.overlay.thresholds().unwrap_or(self.base.thresholds)
    }

    /// Drops the overlay's lessons.
    pub fn reset(&mut self) {
        self.overlay = Overlay::new(&self.base);
    }

    /// Examples seen by base and overlay together.
    pub fn seen(&self) -> Seen {
        let (b, o) = (self.base.seen(), self.overlay.seen());
        Seen { ham: b.ham.saturating_add(o.ham), spam: b.spam.saturating_add(o.spam) }
    }

    /// Whether too few examples of either class were seen to trust a verdict.
    pub fn under_trained(&self) -> bool {
        let s = self.seen();
        s.ham < MIN_EXAMPLES_PER_CLASS || s.spam < MIN_EXAMPLES_PER_CLASS
    }

    /// Approximate resident memory: base model plus overlay.
    pub fn memory_bytes(&self) -> usize {
        self.base.memory_bytes() + self.overlay.memory_bytes()
    }

    /// Log-odds of spam only, context included (no reasons, no decision); the fastest path.
    pub fn score(&self, scratch: &mut Scratch, comment: &Comment<'_>) -> f32 {
        let feats = scratch.extractor.extract(&self.base.features, comment.text, &comment.context);
        score_with(&self.base, &self.overlay.cells, feats) as f32
    }

    /// The decision alone (no reasons): what an API that answers only
    /// "spam or not" needs. Always the same decision as [`classify`](Self::classify).
    pub fn decide(&self, scratch: &mut Scratch, comment: &Comment<'_>) -> Decision {
        let feats = scratch.extractor.extract(&self.base.features, comment.text, &comment.context);
        let mut sums = Sums::default();
        for f in feats {
            sums.add(f, self.contribution(f));
        }
        self.decision(&sums)
    }

    /// A feature's part in the log-odds, base weight plus the site's delta;
    /// `classify` and `decide` both add these up in feature order.
    #[inline]
    fn contribution(&self, f: &crate::features::Feature) -> f32 {
        weight_with(&self.base, &self.overlay.cells, f.index) * f.value
    }

    fn decision(&self, sums: &Sums) -> Decision {
        match self.thresholds().decide_with_context(sums.evidence() as f32, sums.total as f32) {
            // An under-trained filter never advises discarding a comment unseen.
            Decision::BlatantSpam if self.under_trained() => Decision::Spam,
            d => d,
        }
    }

    /// Classifies a comment: decision, probability and the top reasons.
    pub fn classify(&self, scratch: &mut Scratch, comment: &Comment<'_>) -> Verdict {
        let x = &mut scratch.extractor;
        x.extract(&self.base.features, comment.text, &comment.context);
        let feats = x.features();
        // Score and keep the strongest contributions (bias excluded) in one pass.
        let mut sums = Sums::default();
        let mut top: [(f32, usize); REASONS] = [(0.0, usize::MAX); REASONS];
        let mut bias = (0.0f32, usize::MAX);
        for (i, f) in feats.iter().enumerate() {
            let c = self.contribution(f);
            sums.add(f, c);
            if matches!(f.kind, Kind::Context(crate::context::Slot::Bias)) {
                bias = (c, i);
                continue;
            }
            insert_top(&mut top, feats, c, i);
        }
        let mut reasons = Vec::with_capacity(REASONS);
        for &(c, i) in top.iter().filter(|(c, i)| *i != usize::MAX && *c != 0.0) {
            reasons.push(Reason { feature: x.describe(&feats[i]), weight: c });
        }
        if reasons.is_empty() && bias.1 != usize::MAX {
            reasons.push(Reason { feature: x.describe(&feats[bias.1]), weight: bias.0 });
        }
        let decision = self.decision(&sums);
        Verdict {
            decision,
            probability: sigmoid(sums.total) as f32,
            score: sums.total as f32,
            evidence: sums.evidence() as f32,
            under_trained: self.under_trained(),
            reasons,
        }
    }

    /// Learns a moderator's label for a comment (one FTRL step on the overlay).
    ///
    /// Call it when a moderator confirms or corrects a verdict; the verdict on the
    /// same or similar comments moves towards the label with each lesson.
    pub fn learn(&mut self, scratch: &mut Scratch, comment: &Comment<'_>, label: Label) {
        scratch.extractor.extract(&self.base.features, comment.text, &comment.context);
        let feats = scratch.extractor.features_mut();
        merge_duplicates(feats);
        let params = self.base.online;
        // The site's thresholds are chosen from pre-lesson scores on the evidence, as decisions are made.
        let before = sums_with(&self.base, &self.overlay.cells, feats).evidence();
        ftrl_step(&self.base, &mut self.overlay.cells, &params, feats, label.is_spam(), 1.0);
        self.overlay.seen.add(label.is_spam());
        self.overlay.record(before as f32, label.is_spam(), &self.base);
    }
}

/// Keeps `top` sorted by |contribution|, merging repeated indices.
#[inline]
fn insert_top(top: &mut [(f32, usize); REASONS], feats: &[crate::features::Feature], c: f32, i: usize) {
    let last = REASONS - 1;
    // Fast reject: weaker than the weakest kept (a repeat of a kept feature ties, never exceeds, it).
    if top[last].1 != usize::MAX && c.abs() < top[last].0.abs() {
        return;
    }
    if let Some(slot) = top.iter_mut().find(|(_, j)| *j != usize::MAX && feats[*j].index == feats[i].index) {
        slot.0 += c;
        top.sort_by(|a, b| b.0.abs().total_cmp(&a.0.abs()));
        return;
    }
    if top[last].1 != usize::MAX && c.abs() <= top[last].0.abs() {
        return;
    }
    top[last] = (c, i);
    let mut k = last;
    while k > 0 && (top[k - 1].1 == usize::MAX || top[k - 1].0.abs() < top[k].0.abs()) {
        top.swap(k - 1, k);
        k -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::{TrainConfig, Trainer};

    const SPAM: [&str; 6] = [
        "check out my channel and subscribe",
        "subscribe to my channel for free money",
        "visit www.cheap-pills.example.com now",
        "free gift cards at bit.ly/xyz",
        "please subscribe to my music channel",
        "earn money fast from home, click here",
    ];
    const HAM: [&str; 6] = [
        "this song reminds me of summer",
        "the chorus is amazing, love her voice",
        "who is watching this in 2015",
        "great video, the dance is so funny",
        "i love this song so much",
        "the best music video ever made",
    ];

    fn model(rounds: usize) -> Arc<Model> {
        let mut t = Trainer::new(&TrainConfig::default());
        for _ in 0..rounds {
            for (s, h) in SPAM.iter().zip(HAM) {
                t.train(&Comment::text(s), Label::Spam);
                t.train(&Comment::text(h), Label::Ham);
            }
        }
        Arc::new(t.finish(crate::decision::Thresholds { doubt: -1.0, spam: 0.0, blatant: 6.0 }))
    }

    #[test]
    fn classifies_with_reasons() {
        let f = Filter::new(model(5));
        let mut s = Scratch::new();
        let v = f.classify(&mut s, &Comment::text("subscribe to my channel"));
        assert!(v.decision.is_spam(), "{v}");
        assert!(!v.reasons.is_empty() && v.reasons.len() <= REASONS);
        assert!(v.reasons.windows(2).all(|w| w[0].weight.abs() >= w[1].weight.abs()));
        let v = f.classify(&mut s, &Comment::text("i love this song"));
        assert_eq!(v.decision, Decision::Ham, "{v}");
        let v = f.classify(&mut s, &Comment::text(""));
        assert!(!v.reasons.is_empty());
        assert!(v.probability.is_finite() && v.score.is_finite());
    }

    #[test]
    fn decide_agrees_with_classify() {
        let mut s = Scratch::new();
        let ctx = Context { honeypot_filled: true, ip_recent_spam: Some(9), ..Context::default() };
        for f in [Filter::new(model(5)), Filter::new(model(1))] {
            let mut seen = Vec::new();
            for text in SPAM.iter().chain(&HAM).chain(&["", "subscribe to our newsletter", "w w w . x . com"]) {
                for comment in [Comment::text(text), Comment::with_context(text, ctx)] {
                    let d = f.decide(&mut s, &comment);
                    assert_eq!(d, f.classify(&mut s, &comment).decision, "{text}");
                    seen.push(d);
                }
            }
            assert!(seen.iter().any(|d| !d.is_spam()) && seen.iter().any(|d| d.is_spam()), "{seen:?}");
        }
    }

    #[test]
    fn context_reasons_are_named() {
        let f = Filter::new(model(5));
        let mut s = Scratch::new();
        let ctx = Context { honeypot_filled: true, links: Some(3), ..Context::default() };
        let v = f.classify(&mut s, &Comment::with_context("hello there", ctx));
        let names: Vec<&str> = v.reasons.iter().map(|r| r.feature.as_str()).collect();
        assert!(names.contains(&"honeypot filled"), "{names:?}");
        assert!(names.contains(&"3 or more links"), "{names:?}");
        assert!(v.decision.is_spam());
    }

    #[test]
    fn context_alone_raises_doubt_never_spam() {
        let f = Filter::new(model(5));
        let mut s = Scratch::new();
        let text = "i love this song";
        assert_eq!(f.classify(&mut s, &Comment::text(text)).decision, Decision::Ham);
        // Everything an honest reader might also show, and a bad record.
        let ctx = Context {
            author_url: Some("https://reader.example.net/"),
            author_name: Some("best cheap seo online"),
            email: Some("reader@spam.example"),
            user_agent_missing: true,
            seconds_to_submit: Some(1.0),
            links: Some(4),
            author_spam: Some(5),
            ip_recent_spam: Some(9),
            ..Context::default()
        };
        let v = f.classify(&mut s, &Comment::with_context(text, ctx));
        assert_eq!(v.decision, Decision::Doubtful, "{v}");
        assert!(v.score > f.thresholds().blatant && v.evidence < f.thresholds().spam, "{v:?}");
        assert_eq!(f.decide(&mut s, &Comment::with_context(text, ctx)), Decision::Doubtful);
        let names: Vec<&str> = v.reasons.iter().map(|r| r.feature.as_str()).collect();
        assert!(names.contains(&"author has earlier spam"), "the moderator sees why: {names:?}");
        // The honeypot is evidence: only bots fill it in.
        let bot = Context { honeypot_filled: true, ..ctx };
        assert!(f.classify(&mut s, &Comment::with_context(text, bot)).decision.is_spam());
        // Spam text stays spam with the kindest context.
        let kind = Context { author_approved: Some(1), ..Context::default() };
        assert!(
            f.classify(&mut s, &Comment::with_context("check out my channel and subscribe", kind)).decision.is_spam()
        );
    }

    #[test]
    fn learning_changes_the_verdict() {
        let mut f = Filter::new(model(5));
        let mut s = Scratch::new();
        let text = Comment::text("subscribe to our newsletter for the tour dates");
        let before = f.classify(&mut s, &text);
        assert!(before.decision.is_spam(), "{before}");
        let mut lessons = 0;
        while f.classify(&mut s, &text).decision.is_spam() {
            f.learn(&mut s, &text, Label::Ham);
            lessons += 1;
            assert!(lessons <= 10, "still spam after 10 lessons");
        }
        assert!(f.overlay().seen().ham == lessons);
        // Other verdicts barely move: the base is untouched.
        assert!(f.classify(&mut s, &Comment::text("free gift cards at bit.ly/xyz")).decision.is_spam());
        f.reset();
        assert!(f.classify(&mut s, &text).decision.is_spam());
    }

    #[test]
    fn under_trained_models_never_discard() {
        let f = Filter::new(model(1)); // 6 examples of each class
        let mut s = Scratch::new();
        let ctx = Context { honeypot_filled: true, ip_recent_spam: Some(9), ..Context::default() };
        let v = f.classify(&mut s, &Comment::with_context("subscribe to my channel", ctx));
        assert!(v.under_trained);
        assert_eq!(v.decision, Decision::Spam, "{v}");
        assert!(!Filter::new(model(5)).under_trained());
    }

    #[test]
    fn sites_get_their_own_threshold_from_enough_lessons() {
        let mut f = Filter::new(model(5));
        let mut s = Scratch::new();
        let base = f.thresholds();
        for i in 0..crate::model::ADAPT_MIN_HAM + 50 {
            let text = format!("{} number {i}", HAM[i % HAM.len()]);
            f.learn(&mut s, &Comment::text(&text), Label::Ham);
            if i % 5 == 0 {
                f.learn(&mut s, &Comment::text(SPAM[i % SPAM.len()]), Label::Spam);
            }
        }
        let site = f.overlay().thresholds().expect("enough history for site thresholds");
        assert_eq!(f.thresholds(), site);
        assert!(site.blatant >= base.blatant && site.blatant >= site.spam);
        let mut bytes = Vec::new();
        f.overlay().write_to(&mut bytes).expect("write to a Vec");
        let back = Overlay::read_from(&mut bytes.as_slice(), f.base()).expect("read back");
        assert_eq!(back.thresholds(), Some(site));
    }

    #[test]
    fn overlay_must_match_its_base() {
        let a = model(5);
        let b = Arc::new(a.with_thresholds(crate::decision::Thresholds { doubt: 1.0, spam: 1.0, blatant: 2.0 }));
        let overlay = Overlay::new(&a);
        assert!(Filter::with_overlay(Arc::clone(&a), overlay.clone()).is_ok());
        assert!(matches!(Filter::with_overlay(b, overlay), Err(PersistError::BaseMismatch)));
    }

    #[test]
    fn hostile_input_does_not_panic() {
        let f = Filter::new(model(1));
        let mut s = Scratch::new();
        let long = "a".repeat(100_000) + &"\u{0301}".repeat(1000) + "<a href=" + &"&#999999999;".repeat(10);
        for t in ["\0\u{FEFF}", "<", "&", "&#x110000;", "<a href='", "w w w", ". . dot dot", long.as_str()] {
            let v = f.classify(&mut s, &Comment::text(t));
            assert!(v.score.is_finite());
        }
    }
}
