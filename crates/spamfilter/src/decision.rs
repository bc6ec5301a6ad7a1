//! Verdicts: four outcomes by three thresholds, with reasons.
//!
//! Thresholds are log-odds cut-offs chosen at training time from out-of-fold
//! scores on the training data ([`Thresholds::choose`]): the spam threshold so
//! that at most a target share of held-out ham is flagged, the doubt threshold
//! so that at most a larger share is held for a moderator, the blatant-spam
//! threshold above every held-out ham score plus a margin.
//!
//! Spam is a confident verdict on the comment's own evidence: its text, links
//! and the honeypot. Context signals that honest readers also show (a website
//! given, a quick submission, no history, the e-mail domain) can make a
//! comment [`Decision::Doubtful`], never spam on their own
//! ([`Thresholds::decide_with_context`]).

use std::fmt;

/// What to do with a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Publish.
    Ham,
    /// Not spam with confidence, but not clearly ham: a moderator should look
    /// (the article form holds it; the Akismet API answers "not spam").
    Doubtful,
    /// Spam with confidence: the spam folder.
    Spam,
    /// Spam so clear it may be discarded without review.
    BlatantSpam,
}

impl Decision {
    /// Spam or blatant spam: a confident verdict.
    pub fn is_spam(self) -> bool {
        matches!(self, Decision::Spam | Decision::BlatantSpam)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Ham => "ham",
            Decision::Doubtful => "doubtful",
            Decision::Spam => "spam",
            Decision::BlatantSpam => "blatant spam",
        })
    }
}

/// The three cut-offs, in log-odds (`ln(p / (1 - p))`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Scores at or above this are doubtful (never above `spam`).
    pub doubt: f32,
    /// Scores at or above this are spam.
    pub spam: f32,
    /// Scores at or above this are blatant spam (never below `spam`).
    pub blatant: f32,
}

impl Default for Thresholds {
    /// Probability 0.5 for doubt and spam, 0.99 for blatant spam: only for untrained models.
    fn default() -> Self {
        Self { doubt: 0.0, spam: 0.0, blatant: 4.6 }
    }
}

/// How thresholds are chosen from held-out scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdPolicy {
    /// Largest share of held-out ham allowed at or above the spam threshold.
    pub target_fpr: f32,
    /// Largest share of held-out ham allowed at or above the doubt threshold
    /// (held for a moderator, or flagged as spam).
    pub doubt_fpr: f32,
    /// Log-odds added to the highest held-out ham score for the blatant threshold.
    pub blatant_margin: f32,
    /// The spam threshold is never below this log-odds (0 = probability 0.5).
    pub min_spam: f32,
}

impl Default for ThresholdPolicy {
    fn default() -> Self {
        Self { target_fpr: 0.005, doubt_fpr: 0.05, blatant_margin: 1.0, min_spam: 0.0 }
    }
}

impl Thresholds {
    /// Validity check used when reading a model.
    pub fn is_valid(&self) -> bool {
        self.doubt.is_finite()
            && self.spam.is_finite()
            && self.blatant.is_finite()
            && self.doubt <= self.spam
            && self.blatant >= self.spam
    }

    /// Doubt threshold as a probability.
    pub fn doubt_probability(&self) -> f64 {
        crate::model::sigmoid(f64::from(self.doubt))
    }

    /// Spam threshold as a probability.
    pub fn spam_probability(&self) -> f64 {
        crate::model::sigmoid(f64::from(self.spam))
    }

    /// Blatant-spam threshold as a probability.
    pub fn blatant_probability(&self) -> f64 {
        crate::model::sigmoid(f64::from(self.blatant))
    }

    /// Chooses thresholds from held-out `(score, is_spam)` pairs.
    ///
    /// Spam: the lowest cut-off that flags at most `target_fpr` of the ham.
    /// Doubt: the lowest that flags at most `doubt_fpr`, never above spam.
    /// Blatant: above the highest ham score by `blatant_margin`.
    pub fn choose(scores: &[(f32, bool)], policy: &ThresholdPolicy) -> Self {
        let mut ham: Vec<f32> = scores.iter().filter(|(s, y)| !y && s.is_finite()).map(|(s, _)| *s).collect();
        if ham.is_empty() {
            return Self::default();
        }
        ham.sort_by(|a, b| b.total_cmp(a)); // descending
        // Flag at most a `share` of the hams: the cut-off lies just above the ham at that rank.
        let cut = |share: f32| {
            let allowed = (f64::from(share.max(0.0)) * ham.len() as f64).floor() as usize;
            match ham.get(allowed) {
                Some(&s) => next_up(s),
                None => f32::NEG_INFINITY,
            }
        };
        let spam = cut(policy.target_fpr).max(policy.min_spam);
        // A target that allows every ham would put doubt at -inf: keep it finite.
        let doubt = cut(policy.doubt_fpr).max(f32::MIN).min(spam);
        let blatant = (ham[0] + policy.blatant_margin).max(spam);
        Self { doubt, spam, blatant }
    }

    /// [`choose`](Self::choose) for each source's held-out scores, taking the
    /// highest of each threshold: every source's ham is held to the
    /// target, not only the pooled ham (where one source's easy ham could hide
    /// another's false positives).
    pub fn choose_per_source(scores: &[crate::train::Scored], policy: &ThresholdPolicy) -> Self {
        let mut chosen: Option<Self> = None;
        for source in crate::train::Source::ALL {
            let pairs: Vec<(f32, bool)> =
                scores.iter().filter(|s| s.source == source).map(|s| (s.score, s.spam)).collect();
            if !pairs.iter().any(|(_, spam)| !spam) {
                continue;
            }
            let t = Self::choose(&pairs, policy);
            chosen = Some(match chosen {
                None => t,
                Some(c) => {
                    Self { doubt: c.doubt.max(t.doubt), spam: c.spam.max(t.spam), blatant: c.blatant.max(t.blatant) }
                }
            });
        }
        chosen.unwrap_or_default()
    }

    /// The decision for a log-odds score with no context.
    pub fn decide(&self, score: f32) -> Decision {
        self.decide_with_context(score, score)
    }

    /// The decision for a comment whose own evidence scores `evidence` and
    /// which, with the context signals that only raise doubt, scores `total`:
    /// spam and blatant spam by the evidence alone, doubt by the total.
    pub fn decide_with_context(&self, evidence: f32, total: f32) -> Decision {
        if evidence >= self.blatant {
            Decision::BlatantSpam
        } else if evidence >= self.spam {
            Decision::Spam
        } else if total.max(evidence) >= self.doubt {
            Decision::Doubtful
        } else {
            Decision::Ham
        }
    }
}

fn next_up(x: f32) -> f32 {
    if x.is_finite() { x + x.abs().max(1.0) * 1e-6 } else { x }
}

/// One feature's part in a verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// Human-readable feature, e.g. `link to bit.ly` or `word 'subscribe'`.
    pub feature: String,
    /// Contribution to the log-odds: positive pushes towards spam, negative towards ham.
    pub weight: f32,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:+.2})", self.feature, self.weight)
    }
}

/// The result of classifying one comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// What to do.
    pub decision: Decision,
    /// Probability of spam.
    pub probability: f32,
    /// Log-odds of spam (the raw score), context included.
    pub score: f32,
    /// Log-odds on the comment's own evidence: `score` without what context
    /// signals added towards spam (see [`Thresholds::decide_with_context`]).
    pub evidence: f32,
    /// The model has seen too few examples of either class to be trusted; a
    /// blatant-spam verdict is then downgraded to spam (kept in the spam
    /// folder, never discarded).
    pub under_trained: bool,
    /// The features that contributed most, strongest first.
    pub reasons: Vec<Reason>,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (p = {:.3}", self.decision, self.probability)?;
        if self.under_trained {
            f.write_str(", under-trained")?;
        }
        f.write_str(")")?;
        for (i, r) in self.reasons.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decide_by_two_thresholds() {
        let t = Thresholds { doubt: 0.0, spam: 1.0, blatant: 5.0 };
        assert_eq!(t.decide(-0.5), Decision::Ham);
        assert_eq!(t.decide(0.5), Decision::Doubtful);
        assert_eq!(t.decide(1.0), Decision::Spam);
        assert_eq!(t.decide(4.9), Decision::Spam);
        assert_eq!(t.decide(5.0), Decision::BlatantSpam);
        assert!(t.is_valid());
        assert!(!Thresholds { doubt: 0.0, spam: 2.0, blatant: 1.0 }.is_valid());
        assert!(!Thresholds { doubt: 3.0, spam: 2.0, blatant: 4.0 }.is_valid());
    }

    #[test]
    fn context_raises_doubt_but_never_makes_spam() {
        let t = Thresholds { doubt: 0.0, spam: 1.0, blatant: 5.0 };
        // Evidence below doubt; context takes the total far above every threshold.
        assert_eq!(t.decide_with_context(-1.0, 9.0), Decision::Doubtful);
        assert_eq!(t.decide_with_context(-1.0, -0.5), Decision::Ham);
        // Evidence alone decides spam, whatever the context.
        assert_eq!(t.decide_with_context(1.5, -3.0), Decision::Spam);
        assert_eq!(t.decide_with_context(6.0, 0.0), Decision::BlatantSpam);
    }

    #[test]
    fn choose_respects_the_target_fpr() {
        // 200 hams scored -10..-0.05 plus two high outliers, spam at 3..
        let mut scores: Vec<(f32, bool)> = (0..200).map(|i| (-10.0 + i as f32 * 0.05, false)).collect();
        scores.push((2.0, false));
        scores.push((2.5, false));
        scores.extend((0..100).map(|i| (3.0 + i as f32 * 0.01, true)));
        let policy = ThresholdPolicy { target_fpr: 0.01, doubt_fpr: 0.05, blatant_margin: 1.0, min_spam: 0.0 };
        let t = Thresholds::choose(&scores, &policy);
        let fp = scores.iter().filter(|(s, y)| !y && *s >= t.spam).count();
        assert!(fp <= 2, "{fp} false positives at {t:?}");
        let held = scores.iter().filter(|(s, y)| !y && *s >= t.doubt).count();
        assert!(held <= 10 && held > fp, "{held} hams held at {t:?}");
        assert!(t.doubt <= t.spam);
        assert!(t.spam >= 0.0 && t.spam <= 2.0);
        assert!((t.blatant - 3.5).abs() < 1e-5);
        let strict = Thresholds::choose(&scores, &ThresholdPolicy { target_fpr: 0.0, ..policy });
        assert!(strict.spam > 2.5);
        // Doubt at "every ham" stays finite, so the thresholds stay valid.
        let lax = Thresholds::choose(&scores, &ThresholdPolicy { doubt_fpr: 1.0, ..policy });
        assert!(lax.doubt.is_finite() && lax.is_valid(), "{lax:?}");
    }

    #[test]
    fn choose_without_ham_falls_back() {
        assert_eq!(Thresholds::choose(&[(1.0, true)], &ThresholdPolicy::default()), Thresholds::default());
    }
}
