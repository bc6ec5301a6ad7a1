//! Verdicts: three outcomes by two thresholds, with reasons.
//!
//! Thresholds are log-odds cut-offs chosen at training time from out-of-fold
//! scores on the training data ([`Thresholds::choose`]): the spam threshold so
//! that at most a target share of held-out ham is flagged, the blatant-spam
//! threshold above every held-out ham score plus a margin.

use std::fmt;

/// What to do with a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Decision {
    /// Publish.
    Ham,
    /// Hold for moderation.
    Spam,
    /// Spam so clear it may be discarded without review.
    BlatantSpam,
}

impl Decision {
    /// Spam or blatant spam.
    pub fn is_spam(self) -> bool {
        !matches!(self, Decision::Ham)
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Decision::Ham => "ham",
            Decision::Spam => "spam",
            Decision::BlatantSpam => "blatant spam",
        })
    }
}

/// The two cut-offs, in log-odds (`ln(p / (1 - p))`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Scores at or above this are spam.
    pub spam: f32,
    /// Scores at or above this are blatant spam (never below `spam`).
    pub blatant: f32,
}

impl Default for Thresholds {
    /// Probability 0.5 for spam and 0.99 for blatant spam: only for untrained models.
    fn default() -> Self {
        Self { spam: 0.0, blatant: 4.6 }
    }
}

/// How thresholds are chosen from held-out scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ThresholdPolicy {
    /// Largest share of held-out ham allowed at or above the spam threshold.
    pub target_fpr: f32,
    /// Log-odds added to the highest held-out ham score for the blatant threshold.
    pub blatant_margin: f32,
    /// The spam threshold is never below this log-odds (0 = probability 0.5).
    pub min_spam: f32,
}

impl Default for ThresholdPolicy {
    fn default() -> Self {
        Self { target_fpr: 0.005, blatant_margin: 1.0, min_spam: 0.0 }
    }
}

impl Thresholds {
    /// Validity check used when reading a model.
    pub fn is_valid(&self) -> bool {
        self.spam.is_finite() && self.blatant.is_finite() && self.blatant >= self.spam
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
    /// Blatant: above the highest ham score by `blatant_margin`.
    pub fn choose(scores: &[(f32, bool)], policy: &ThresholdPolicy) -> Self {
        let mut ham: Vec<f32> = scores.iter().filter(|(s, y)| !y && s.is_finite()).map(|(s, _)| *s).collect();
        if ham.is_empty() {
            return Self::default();
        }
        ham.sort_by(|a, b| b.total_cmp(a)); // descending
        let allowed = (f64::from(policy.target_fpr.max(0.0)) * ham.len() as f64).floor() as usize;
        // Flag at most `allowed` hams: the cut-off lies just above the ham at rank `allowed`.
        let spam = match ham.get(allowed) {
            Some(&s) => next_up(s),
            None => f32::NEG_INFINITY,
        }
        .max(policy.min_spam);
        let blatant = (ham[0] + policy.blatant_margin).max(spam);
        Self { spam, blatant }
    }

    /// The decision for a log-odds score.
    pub fn decide(&self, score: f32) -> Decision {
        if score >= self.blatant {
            Decision::BlatantSpam
        } else if score >= self.spam {
            Decision::Spam
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
    /// Log-odds of spam (the raw score).
    pub score: f32,
    /// The model has seen too few examples of either class to be trusted; a
    /// blatant-spam verdict is then downgraded to spam (held, never discarded).
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
        let t = Thresholds { spam: 1.0, blatant: 5.0 };
        assert_eq!(t.decide(0.5), Decision::Ham);
        assert_eq!(t.decide(1.0), Decision::Spam);
        assert_eq!(t.decide(4.9), Decision::Spam);
        assert_eq!(t.decide(5.0), Decision::BlatantSpam);
        assert!(t.is_valid());
        assert!(!Thresholds { spam: 2.0, blatant: 1.0 }.is_valid());
    }

    #[test]
    fn choose_respects_the_target_fpr() {
        // 200 hams scored -10..-0.05 plus two high outliers, spam at 3..
        let mut scores: Vec<(f32, bool)> = (0..200).map(|i| (-10.0 + i as f32 * 0.05, false)).collect();
        scores.push((2.0, false));
        scores.push((2.5, false));
        scores.extend((0..100).map(|i| (3.0 + i as f32 * 0.01, true)));
        let policy = ThresholdPolicy { target_fpr: 0.01, blatant_margin: 1.0, min_spam: 0.0 };
        let t = Thresholds::choose(&scores, &policy);
        let fp = scores.iter().filter(|(s, y)| !y && *s >= t.spam).count();
        assert!(fp <= 2, "{fp} false positives at {t:?}");
        assert!(t.spam >= 0.0 && t.spam <= 2.0);
        assert!((t.blatant - 3.5).abs() < 1e-5);
        let strict = Thresholds::choose(&scores, &ThresholdPolicy { target_fpr: 0.0, ..policy });
        assert!(strict.spam > 2.5);
    }

    #[test]
    fn choose_without_ham_falls_back() {
        assert_eq!(Thresholds::choose(&[(1.0, true)], &ThresholdPolicy::default()), Thresholds::default());
    }
}
