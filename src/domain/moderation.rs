//! Moderation policy: a pure function from a comment and what is known about
//! it to a verdict with a reason. The order follows WordPress, which editors
//! know: staff pass; honeypot and block-list words are spam; manual
//! moderation, too many links, hold-list words and suspiciously fast
//! submissions are held; the spam filter's verdict (spam only when it is
//! confident, held when it is in doubt); then first-time commenters are held
//! unless previously approved.

use super::comment::ValidComment;

/// Discussion settings an editor sets; the defaults are WordPress's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscussionSettings {
    /// Hold every comment for a moderator.
    pub manual_approval: bool,
    /// Hold comments unless the author has an approved comment already.
    pub hold_first_time: bool,
    /// Hold comments with more links than this.
    pub max_links: usize,
    /// Words that hold a comment (matched in name, email, website, text, IP and browser).
    pub hold_words: Vec<String>,
    /// Words that send a comment to spam.
    pub block_words: Vec<String>,
    /// Close comments on articles older than this many days; 0 keeps them open.
    pub close_after_days: u32,
    /// Deepest reply nesting.
    pub thread_depth: u32,
    /// Top-level comments per comment page.
    pub per_page: u32,
    /// One comment per IP address or email address per this many seconds.
    pub flood_seconds: i64,
    /// A form sent back faster than this after it was shown is held.
    pub min_seconds_to_submit: i64,
    /// Days to keep commenters' IP addresses and browser names.
    pub ip_retention_days: u32,
    /// Drop blatant spam instead of keeping it in the spam folder.
    pub discard_blatant_spam: bool,
}

impl Default for DiscussionSettings {
    fn default() -> Self {
        DiscussionSettings {
            manual_approval: false,
            hold_first_time: true,
            max_links: 2,
            hold_words: Vec::new(),
            block_words: Vec::new(),
            close_after_days: 0,
            thread_depth: 5,
            per_page: 50,
            flood_seconds: 15,
            min_seconds_to_submit: 3,
            ip_retention_days: 60,
            discard_blatant_spam: false,
        }
    }
}

/// What the pipeline knows about a comment besides its text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Facts {
    pub is_staff: bool,
    pub honeypot_filled: bool,
    pub previously_approved: bool,
    pub seconds_since_render: Option<i64>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The spam filter's opinion, when it has one.
    pub spam: Option<SpamOpinion>,
}

/// The spam filter's verdict, as the policy needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct SpamOpinion {
    /// Spam with confidence: the spam folder.
    pub is_spam: bool,
    pub blatant: bool,
    /// Not confident either way: a moderator should look.
    pub doubtful: bool,
    /// Probability of spam on the comment's own evidence (`score` includes the context).
    pub evidence: f64,
    pub score: f64,
    /// The features behind the verdict, for the moderator.
    pub reasons: String,
}

/// Where a new comment goes, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    Hold(String),
    Spam(String),
    /// Blatant spam the site chose not to keep.
    Discard(String),
}

/// Decides a new comment's fate.
pub fn decide(comment: &ValidComment, facts: &Facts, settings: &DiscussionSettings) -> Verdict {
    if facts.is_staff {
        return Verdict::Approve;
    }
    if facts.honeypot_filled {
        return Verdict::Spam("the hidden honeypot field was filled in".into());
    }
    if let Some(word) = find_word(&settings.block_words, comment, facts) {
        return Verdict::Spam(format!("contains the blocked word {word:?}"));
    }
    if settings.manual_approval {
        return Verdict::Hold("every comment is held for a moderator".into());
    }
    let links = super::comment::count_links(&comment.body);
    if links > settings.max_links {
        return Verdict::Hold(format!("{links} links (more than {})", settings.max_links));
    }
    if let Some(word) = find_word(&settings.hold_words, comment, facts) {
        return Verdict::Hold(format!("contains the moderation word {word:?}"));
    }
    if let Some(seconds) = facts.seconds_since_render.filter(|s| *s < settings.min_seconds_to_submit) {
        return Verdict::Hold(format!("sent {seconds} s after the form was shown"));
    }
    if let Some(spam) = facts.spam.as_ref().filter(|s| s.is_spam) {
        let reason = format!("spam filter: score {:.2}; {}", spam.score, spam.reasons);
        return if spam.blatant && settings.discard_blatant_spam {
            Verdict::Discard(reason)
        } else {
            Verdict::Spam(reason)
        };
    }
    if let Some(spam) = facts.spam.as_ref().filter(|s| s.doubtful) {
        return Verdict::Hold(format!(
            "spam filter is unsure: score {:.2} with its context, {:.2} on its own; {}",
            spam.score, spam.evidence, spam.reasons
        ));
    }
    if settings.hold_first_time && !facts.previously_approved {
        return Verdict::Hold("first comment from this name and email address".into());
    }
    Verdict::Approve
}

/// The first listed word found, case-insensitively, in any field of the comment.
fn find_word<'a>(words: &'a [String], comment: &ValidComment, facts: &Facts) -> Option<&'a str> {
    let haystack = [
        comment.author_name.as_str(),
        comment.author_email.as_str(),
        comment.author_url.as_deref().unwrap_or(""),
        comment.body.as_str(),
        facts.ip.as_deref().unwrap_or(""),
        facts.user_agent.as_deref().unwrap_or(""),
    ]
    .join("\n")
    .to_lowercase();
    words.iter().map(|w| w.trim()).find(|w| !w.is_empty() && haystack.contains(&w.to_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment(body: &str) -> ValidComment {
        ValidComment {
            author_name: "Ana".into(),
            author_email: "ana@example.org".into(),
            author_url: None,
            body: body.into(),
            parent_id: None,
        }
    }

    fn known() -> Facts {
        Facts { previously_approved: true, seconds_since_render: Some(60), ..Facts::default() }
    }

    #[test]
    fn every_policy_has_its_reason() {
        let settings = DiscussionSettings {
            hold_words: vec!["casino".into()],
            block_words: vec!["viagra".into()],
            ..DiscussionSettings::default()
        };
        let cases: Vec<(ValidComment, Facts, &str)> = vec![
            (comment("Nice piece."), known(), "approve"),
            (comment("Nice piece."), Facts { is_staff: true, honeypot_filled: true, ..Facts::default() }, "approve"),
            (comment("Nice piece."), Facts { previously_approved: false, ..known() }, "hold: first comment"),
            (comment("Nice piece."), Facts { honeypot_filled: true, ..known() }, "spam: the hidden honeypot"),
            (comment("buy VIAGRA now"), known(), "spam: contains the blocked word"),
            (comment("a Casino opened"), known(), "hold: contains the moderation word"),
            (comment("http://a.co http://b.co http://c.co"), known(), "hold: 3 links"),
            (comment("http://a.co http://b.co"), known(), "approve"),
            (comment("Quick!"), Facts { seconds_since_render: Some(1), ..known() }, "hold: sent 1 s"),
        ];
        for (comment, facts, expected) in cases {
            let verdict = match decide(&comment, &facts, &settings) {
                Verdict::Approve => "approve".to_owned(),
                Verdict::Hold(why) => format!("hold: {why}"),
                Verdict::Spam(why) => format!("spam: {why}"),
                Verdict::Discard(why) => format!("discard: {why}"),
            };
            assert!(verdict.starts_with(expected), "{:?}: {verdict}", comment.body);
        }
        let manual = DiscussionSettings { manual_approval: true, ..DiscussionSettings::default() };
        assert!(matches!(decide(&comment("Hi"), &known(), &manual), Verdict::Hold(_)));
    }

    #[test]
    fn the_spam_filter_decides_after_the_policies() {
        let spam = SpamOpinion {
            is_spam: true,
            blatant: true,
            doubtful: false,
            score: 0.99,
            evidence: 0.99,
            reasons: "word 'casino'".into(),
        };
        let facts = Facts { spam: Some(spam.clone()), ..known() };
        assert!(matches!(decide(&comment("hi"), &facts, &DiscussionSettings::default()), Verdict::Spam(_)));
        let discard = DiscussionSettings { discard_blatant_spam: true, ..DiscussionSettings::default() };
        assert!(matches!(decide(&comment("hi"), &facts, &discard), Verdict::Discard(_)));
        // A doubtful verdict holds the comment for a moderator, even from a known commenter.
        let doubt = SpamOpinion { is_spam: false, blatant: false, doubtful: true, score: 0.6, evidence: 0.2, ..spam };
        let facts = Facts { spam: Some(doubt), ..known() };
        match decide(&comment("hi"), &facts, &DiscussionSettings::default()) {
            Verdict::Hold(why) => {
                assert!(
                    why.starts_with("spam filter is unsure: score 0.60 with its context, 0.20 on its own; word"),
                    "{why}"
                )
            }
            other => panic!("{other:?}"),
        }
    }
}
