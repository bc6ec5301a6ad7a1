//! Cues: short phrase lists for what comment spam asks of its readers.
//!
//! Word n-grams learn each phrase on its own, from however few examples the
//! training data holds. A cue pools a whole family of phrases into one
//! feature whose weight is learnt from all of them at once, so "look at my
//! playlist" counts as self-promotion even if no training comment said it.
//! The lists are English and deliberately short, and each phrase names what is
//! promoted or asked for: "my first comment" or "search for survivors" in a
//! news discussion must not count. The weights are learnt.
//!
//! Phrases are matched as whole words on the de-leeted word sequence (so
//! `ch3ck 0ut` matches `check out`), with one Aho–Corasick pass.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};

/// A family of phrases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cue {
    /// The writer promotes their own channel, music, site or profile.
    SelfPromotion,
    /// The writer asks readers to do something: subscribe, check out, visit, like.
    CallToAction,
    /// A social-network name or an `@handle`.
    SocialHandle,
}

impl Cue {
    /// All cues, in bit order.
    pub const ALL: [Cue; 3] = [Cue::SelfPromotion, Cue::CallToAction, Cue::SocialHandle];

    /// Bit of this cue in a [`Cues`] set.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// What the moderator reads.
    pub fn describe(self) -> &'static str {
        match self {
            Cue::SelfPromotion => "self-promotion",
            Cue::CallToAction => "call to action",
            Cue::SocialHandle => "social-network handle",
        }
    }
}

const SELF_PROMOTION: &[&str] = &[
    "my channel",
    "my videos",
    "my video",
    "my vids",
    "my vid",
    "my page",
    "my music",
    "my song",
    "my songs",
    "my new song",
    "my new video",
    "my first video",
    "my cover",
    "my playlist",
    "my mixtape",
    "my blog",
    "my website",
    "my site",
    "my profile",
    "my twitter",
    "my instagram",
    "my facebook",
    "my youtube",
    "my soundcloud",
    "my tumblr",
    "my snapchat",
    "my kik",
    "my rap",
    "my track",
    "our channel",
    "our video",
    "our videos",
    "our music",
    "our new song",
    "our new video",
];

// Each phrase asks for something for the writer: "subscribe to the newsletter",
// "check out the minutes", "please share this with your neighbours", "I share my
// street with forty families", "the figures support my point" and "watch my
// step" are a news reader's words.
const CALL_TO_ACTION: &[&str] = &[
    "please subscribe",
    "subscribe to my",
    "subscribe to our",
    "subscribe to me",
    "subscribe to this channel",
    "subscribe for more",
    "sub to",
    "sub me",
    "sub 4 sub",
    "check out my",
    "check out our",
    "checkout my",
    "checkout our",
    "check it out",
    "check this out",
    "look at my",
    "look up my",
    "visit my",
    "visit our",
    "go to my",
    "click here",
    "click the link",
    "click on my",
    "follow me",
    "add me on",
    "please like",
    "give it a like",
    "like this comment",
    "follow 4 follow",
    "like 4 like",
    "please support me",
    "help me reach",
    "help me get to",
];

// Social networks are news too ("she said on Twitter"): only being found or messaged there counts.
const SOCIAL: &[&str] = &["add me on", "follow me on", "find me on", "message me on", "dm me", "kik me", "snap me"];

struct Matcher {
    automaton: AhoCorasick,
    cue_of: Vec<Cue>,
}

static MATCHER: LazyLock<Matcher> = LazyLock::new(|| {
    let mut patterns = Vec::new();
    let mut cue_of = Vec::new();
    for (cue, list) in
        [(Cue::SelfPromotion, SELF_PROMOTION), (Cue::CallToAction, CALL_TO_ACTION), (Cue::SocialHandle, SOCIAL)]
    {
        for phrase in list {
            // Padded with spaces: whole words only, on a space-padded word sequence.
            patterns.push(format!(" {phrase} "));
            cue_of.push(cue);
        }
    }
    let automaton = AhoCorasick::builder()
        .match_kind(MatchKind::Standard)
        .build(&patterns)
        .expect("the cue phrases form a valid automaton");
    Matcher { automaton, cue_of }
});

/// The cues found in a text, with the first phrase of each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cues {
    bits: u8,
    spans: [(u32, u32); 3],
}

impl Cues {
    /// Whether `cue` was found.
    pub fn contains(&self, cue: Cue) -> bool {
        self.bits & cue.bit() != 0
    }

    /// Byte range of the first phrase found for `cue`, in the text given to [`find`].
    pub fn span(&self, cue: Cue) -> Option<(u32, u32)> {
        self.contains(cue).then(|| self.spans[cue as usize])
    }

    fn insert(&mut self, cue: Cue, span: (u32, u32)) {
        if !self.contains(cue) {
            self.bits |= cue.bit();
            self.spans[cue as usize] = span;
        }
    }
}

/// Finds the cues in `padded`: words separated by single spaces, with one space
/// before the first and after the last (and `|` between sentences, which no
/// phrase contains). `text` is the normalised text, searched for `@handle`s: an
/// `@` at the start of a word or after punctuation such as `(` or `,` (not after
/// a letter or digit, as in an email address), followed by a letter, digit or `_`.
pub fn find(padded: &str, text: &str) -> Cues {
    let mut cues = Cues::default();
    let m = &*MATCHER;
    // Overlapping search: " check out " and " out " style neighbours share their spaces.
    for hit in m.automaton.find_overlapping_iter(padded) {
        // The span without the padding spaces.
        cues.insert(m.cue_of[hit.pattern().as_usize()], (hit.start() as u32 + 1, hit.end() as u32 - 1));
    }
    if !cues.contains(Cue::SocialHandle) {
        let bytes = text.as_bytes();
        for (i, _) in text.match_indices('@') {
            let starts_word = i == 0 || bytes[i - 1].is_ascii_whitespace() || b"([{,;:!?\"'".contains(&bytes[i - 1]);
            let named = text[i + 1..].chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_');
            if starts_word && named {
                cues.insert(Cue::SocialHandle, (0, 0));
                break;
            }
        }
    }
    cues
}

/// English function words: articles, pronouns, prepositions, conjunctions,
/// auxiliaries and the fragments contractions leave (`don`, `t`), sorted.
pub(crate) const FUNCTION_WORDS: [&str; 133] = [
    "a",
    "about",
    "after",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "both",
    "but",
    "by",
    "can",
    "could",
    "d",
    "did",
    "do",
    "does",
    "doing",
    "don",
    "during",
    "each",
    "few",
    "for",
    "from",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "let",
    "ll",
    "m",
    "may",
    "me",
    "might",
    "mine",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "re",
    "s",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "t",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "ve",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Whether `word` (normalised: lower case) is an English function word, which
/// says nothing about spam on its own.
#[inline]
pub fn is_function_word(word: &str) -> bool {
    // The longest is "yourselves"; most words are longer than that or not in the list.
    word.len() <= 10 && FUNCTION_WORDS.binary_search(&word).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cues(words: &str) -> Vec<Cue> {
        let padded = format!(" {words} ");
        let found = find(&padded, words);
        Cue::ALL.into_iter().filter(|c| found.contains(*c)).collect()
    }

    #[test]
    fn whole_words_only() {
        assert_eq!(cues("please subscribe to my channel"), vec![Cue::SelfPromotion, Cue::CallToAction]);
        assert_eq!(cues("so close to 14 million subscribers"), vec![], "subscribers is not subscribe");
        assert_eq!(cues("the visitors left"), vec![]);
        assert_eq!(cues("my first comment on my new street"), vec![]);
        assert_eq!(cues("i go to the harbour to visit friends and search for shells"), vec![]);
        assert_eq!(cues("follow me on instagram"), vec![Cue::CallToAction, Cue::SocialHandle]);
    }

    #[test]
    fn a_news_readers_words_are_not_cues() {
        for words in [
            "i subscribe to the broadsheet and read every issue",
            "check out the council minutes before the vote",
            "she said on twitter that the ferry is cancelled",
            "i had to share this with my neighbours",
            "watch my words the mayor will resign",
            "add me to the list of people who want the pool open",
            "please share this with anyone who lives near the river",
            "i share my street with forty families",
            "the figures support my point",
        ] {
            assert_eq!(cues(words), vec![], "{words}");
        }
    }

    #[test]
    fn no_phrase_spans_two_sentences() {
        assert_eq!(cues("i looked | at my notes"), vec![]);
        assert_eq!(cues("look | at my notes"), vec![]);
        assert_eq!(cues("look at my notes"), vec![Cue::CallToAction]);
    }

    #[test]
    fn handles_but_not_email_addresses() {
        assert_eq!(cues("follow @ana_b"), vec![Cue::SocialHandle]);
        assert_eq!(cues("@ana_b hi"), vec![Cue::SocialHandle]);
        assert_eq!(cues("thanks,@ana_b"), vec![Cue::SocialHandle]);
        assert_eq!(cues("(@ana_b)"), vec![Cue::SocialHandle]);
        assert_eq!(cues("mail ana@example.org"), vec![]);
        assert_eq!(cues("at @ alone"), vec![]);
    }

    #[test]
    fn spans_name_the_phrase() {
        let padded = " hey check out my new song ";
        let found = find(padded, padded.trim());
        let (a, b) = found.span(Cue::CallToAction).expect("a call to action");
        assert_eq!(&padded[a as usize..b as usize], "check out my");
        let (a, b) = found.span(Cue::SelfPromotion).expect("self-promotion");
        assert_eq!(&padded[a as usize..b as usize], "my new song");
    }

    #[test]
    fn function_words_are_sorted_and_found() {
        assert!(FUNCTION_WORDS.windows(2).all(|w| w[0] < w[1]), "FUNCTION_WORDS must stay sorted");
        for w in ["my", "the", "i", "t", "whom", "you", "your"] {
            assert!(is_function_word(w), "{w}");
        }
        for w in ["channel", "subscribe", "my channel", "My"] {
            assert!(!is_function_word(w), "{w}");
        }
    }
}
