//! Feature extraction with on-the-fly feature hashing.
//!
//! A comment becomes a sparse vector over a fixed table of `2^bits` hashed
//! buckets followed by [`Slot::COUNT`] fixed context slots:
//!
//! - word unigrams and bigrams (words de-leeted: `fr33` also counts as `free`),
//! - character n-grams of the normalised text (spanning word boundaries),
//! - link features: registrable domain, top-level domain,
//! - shape features: link count, disguised link, look-alike letters, leetspeak,
//!   long numbers, shouting, `!!!`, length,
//! - [cues](crate::lexicon): self-promotion, calls to action, social handles,
//! - the e-mail domain and the fixed context slots of [`Context`].
//!
//! Each feature is hashed as its bytes are read (no `String` per n-gram) with
//! a signed hash. Word features (unigrams, bigrams) and character n-grams are
//! each scaled by `1/sqrt(n)` of their group, so long and short comments weigh
//! alike and neither group drowns the other. The [`Extractor`] keeps its buffers between
//! calls, so extraction does not allocate once warm.

use crate::context::{Context, Slot};
use crate::lexicon::{self, Cue};
use crate::normalize::{Normalizer, TextStats, deleet};
use crate::urls::LinkScanner;

/// Shape of the feature vector; persisted with the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeatureConfig {
    /// log2 of the number of hashed buckets (16..=24).
    pub bits: u8,
    /// Smallest character n-gram length (0 disables character n-grams).
    pub char_min: u8,
    /// Largest character n-gram length.
    pub char_max: u8,
    /// Whether word bigrams are used.
    pub bigrams: bool,
    /// Whether the [cues](crate::lexicon) are used.
    pub cues: bool,
    /// Whether the text's length class is a feature. Off by default: length
    /// means different things on different sites (long comments are mostly
    /// spam under videos and the best comments under news).
    pub length: bool,
    /// Whether [function words](crate::lexicon::is_function_word) count as
    /// words on their own. Off by default: a pronoun or an article is not spam
    /// by itself. They always count inside bigrams and character n-grams.
    pub function_words: bool,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        Self { bits: 20, char_min: 3, char_max: 5, bigrams: true, cues: true, length: false, function_words: false }
    }
}

impl FeatureConfig {
    /// Number of hashed buckets.
    pub fn buckets(&self) -> u32 {
        1 << self.bits
    }

    /// Length of the weight vector: hashed buckets plus fixed slots.
    pub fn dim(&self) -> usize {
        self.buckets() as usize + Slot::COUNT as usize
    }

    /// Index of a fixed slot.
    pub fn slot_index(&self, slot: Slot) -> u32 {
        self.buckets() + slot as u32
    }

    /// Checks the ranges (used when reading a model file).
    pub fn is_valid(&self) -> bool {
        (16..=24).contains(&self.bits)
            && (self.char_min == 0 || (1..=8).contains(&self.char_min))
            && self.char_max >= self.char_min
            && self.char_max <= 8
    }
}

/// A shape feature: a fact about the comment as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Number of links in the text (1, 2, 3 = three or more).
    Links(u8),
    /// A link written in a disguised form.
    DisguisedLink,
    /// Words mixing Latin and look-alike letters.
    LookAlike,
    /// Digits used as letters.
    Leet,
    /// A number of five digits or more (phone numbers, codes).
    LongNumber,
    /// Mostly capital letters.
    Shouting,
    /// A run of three or more `!` / `?`.
    Bangs,
    /// Length class: `floor(log2(chars + 1))`.
    Length(u8),
}

impl Shape {
    fn code(self) -> u64 {
        match self {
            Shape::Links(n) => 0x100 | u64::from(n),
            Shape::DisguisedLink => 0x200,
            Shape::LookAlike => 0x300,
            Shape::Leet => 0x400,
            Shape::LongNumber => 0x500,
            Shape::Shouting => 0x600,
            Shape::Bangs => 0x700,
            Shape::Length(n) => 0x800 | u64::from(n),
        }
    }
}

/// Where a feature came from; used to explain verdicts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A word (range in the normalised text).
    Word,
    /// A de-leeted word (range in the word buffer).
    LeetWord,
    /// Two consecutive words (range in the word buffer).
    Bigram,
    /// A character n-gram (range in the padded text).
    CharGram,
    /// A link's registrable domain (range in the compact link text).
    Domain,
    /// A link's top-level domain (range in the compact link text).
    Tld,
    /// E-mail domain (range in the context buffer).
    EmailDomain,
    /// A shape feature.
    Shape(Shape),
    /// A cue (range of its first phrase in the cue text; empty for an `@handle`).
    Cue(Cue),
    /// A fixed context slot.
    Context(Slot),
}

impl Kind {
    /// Whether the feature is a context signal that honest readers show too
    /// (a website given, a quick submission, no user agent, links counted by
    /// the app, the commenter's or the address's history, the e-mail domain):
    /// it may make a comment doubtful, never spam on its own. The honeypot is
    /// evidence; the text's own features are evidence.
    #[inline]
    pub fn only_raises_doubt(self) -> bool {
        match self {
            Kind::Context(slot) => !matches!(slot, Slot::Bias | Slot::Honeypot),
            Kind::EmailDomain => true,
            _ => false,
        }
    }
}

/// One active feature of a comment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Feature {
    /// Index in the weight vector.
    pub index: u32,
    /// Value (signed by the hash; scaled for word and character features).
    pub value: f32,
    /// What it is.
    pub kind: Kind,
    /// Byte range of its text in the buffer that `kind` names.
    pub span: (u32, u32),
}

#[derive(Clone, Copy)]
#[repr(u64)]
enum Ns {
    Word = 1,
    Bigram = 2,
    Char = 3,
    Domain = 4,
    Tld = 5,
    Shape = 6,
    Email = 7,
    Cue = 8,
}

/// Value of a cue feature: half a shape feature's, chosen by cross-validation
/// (a full 1.0 let a single cue outweigh the text).
const CUE_VALUE: f32 = 0.5;

fn group_scale(n: usize) -> f32 {
    if n == 0 { 0.0 } else { 1.0 / (n as f32).sqrt() }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

#[inline]
fn seed(ns: Ns) -> u64 {
    FNV_OFFSET ^ (ns as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

#[inline]
fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    h
}

#[inline]
fn fmix(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^ (k >> 33)
}

/// Character n-grams of `lo..=hi` characters: calls `emit(hash, start, end)`
/// for each, with byte offsets; `starts` holds each character's first byte
/// and ends with `text.len()`.
#[inline]
fn char_grams(text: &[u8], starts: &[u32], lo: usize, hi: usize, mut emit: impl FnMut(u64, usize, usize)) {
    let nchars = starts.len() - 1;
    for p in 0..nchars {
        let mut h = seed(Ns::Char);
        let from = starts[p] as usize;
        for n in 1..=hi.min(nchars - p) {
            let (a, b) = (starts[p + n - 1] as usize, starts[p + n] as usize);
            h = fnv(h, &text[a..b]);
            if n >= lo {
                emit(h, from, b);
            }
        }
    }
}

/// [`char_grams`] for ASCII text (one byte per character): the same hashes, faster.
#[inline]
fn char_grams_ascii(text: &[u8], lo: usize, hi: usize, mut emit: impl FnMut(u64, usize, usize)) {
    let start = seed(Ns::Char);
    for p in 0..text.len() {
        let mut h = start;
        let end = text.len().min(p + hi);
        for (b, &byte) in text.iter().enumerate().take(end).skip(p) {
            h = (h ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
            if b + 1 - p >= lo {
                emit(h, p, b + 1);
            }
        }
    }
}

/// The word hashes of [`lexicon::FUNCTION_WORDS`], sorted: a word is looked up
/// by the hash its feature needs anyway, with no string comparison.
static FUNCTION_WORD_HASHES: std::sync::LazyLock<Vec<u64>> = std::sync::LazyLock::new(|| {
    let mut hashes: Vec<u64> = lexicon::FUNCTION_WORDS.iter().map(|w| fnv(seed(Ns::Word), w.as_bytes())).collect();
    hashes.sort_unstable();
    hashes
});

/// [`lexicon::is_function_word`] by the word's hash (`fnv(seed(Ns::Word), word)`).
#[inline]
fn is_function_word_hash(hash: u64) -> bool {
    FUNCTION_WORD_HASHES.binary_search(&hash).is_ok()
}

/// Turns reusable text into features; keep one per thread and reuse it.
#[derive(Debug, Default, Clone)]
pub struct Extractor {
    norm: Normalizer,
    links: LinkScanner,
    padded: String,
    char_starts: Vec<u32>,
    words: String,
    cue_text: String,
    /// Offsets in `words` of words that start a new sentence (after `.`, `!` or `?`;
    /// normalisation has already turned line breaks into spaces).
    sentence_starts: Vec<usize>,
    ctx: String,
    feats: Vec<Feature>,
    stats: TextStats,
}

impl Extractor {
    /// Creates an extractor with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Features of the last [`extract`](Self::extract) call.
    pub fn features(&self) -> &[Feature] {
        &self.feats
    }

    /// Mutable access for scoring (the model fills nothing in, but reorders for training).
    pub(crate) fn features_mut(&mut self) -> &mut Vec<Feature> {
        &mut self.feats
    }

    /// Extracts the features of one comment; they stay available through [`features`](Self::features).
    pub fn extract(&mut self, cfg: &FeatureConfig, text: &str, ctx: &Context<'_>) -> &[Feature] {
        self.feats.clear();
        self.words.clear();
        self.sentence_starts.clear();
        self.ctx.clear();
        self.stats = self.norm.normalize(text);
        let shift = 64 - u32::from(cfg.bits);
        let hashed = |h: u64, value: f32, kind: Kind, span: (usize, usize)| {
            let m = fmix(h);
            let sign = if m & 1 == 0 { 1.0 } else { -1.0 };
            Feature { index: (m >> shift) as u32, value: sign * value, kind, span: (span.0 as u32, span.1 as u32) }
        };

        // Words, de-leeted words, bigrams.
        let norm = self.norm.text();
        let mut prev: Option<(u64, usize)> = None; // hash and start (in `words`) of the previous word
        let mut long_numbers = 0u32;
        let mut leet_words = 0u32;
        let mut i = 0;
        let mut sentence_break = false;
        let bytes = norm.as_bytes();
        while i < bytes.len() {
            let Some(c) = norm[i..].chars().next() else { break };
            if !c.is_alphanumeric() {
                sentence_break |= matches!(c, '.' | '!' | '?');
                i += c.len_utf8();
                continue;
            }
            let start = i;
            let mut digits_only = true;
            for c in norm[start..].chars() {
                if !c.is_alphanumeric() {
                    break;
                }
                digits_only &= c.is_ascii_digit();
                i += c.len_utf8();
            }
            let word = &norm[start..i];
            if digits_only && word.len() >= 5 {
                long_numbers += 1;
                prev = None;
                continue;
            }
            let word_hash = fnv(seed(Ns::Word), word.as_bytes());
            if cfg.function_words || !is_function_word_hash(word_hash) {
                self.feats.push(hashed(word_hash, 1.0, Kind::Word, (start, i)));
            }
            if !self.words.is_empty() {
                self.words.push(' ');
                if sentence_break {
                    self.sentence_starts.push(self.words.len());
                }
            }
            sentence_break = false;
            let wstart = self.words.len();
            let form_hash = if !digits_only && deleet(word, &mut self.words) {
                leet_words += 1;
                let h = fnv(seed(Ns::Word), &self.words.as_bytes()[wstart..]);
                self.feats.push(hashed(h, 1.0, Kind::LeetWord, (wstart, self.words.len())));
                h
            } else {
                self.words.push_str(word);
                fnv(seed(Ns::Word), word.as_bytes())
            };
            if cfg.bigrams
                && let Some((ph, pstart)) = prev
            {
                let h = fmix(ph ^ seed(Ns::Bigram)).wrapping_add(form_hash);
                self.feats.push(hashed(h, 1.0, Kind::Bigram, (pstart, self.words.len())));
            }
            prev = Some((form_hash, wstart));
        }

        let n_word = self.feats.len();

        // Character n-grams over " text "
        if cfg.char_min > 0 && !norm.is_empty() {
            self.padded.clear();
            self.padded.push(' ');
            self.padded.push_str(norm);
            self.padded.push(' ');
            let (lo, hi) = (usize::from(cfg.char_min), usize::from(cfg.char_max));
            if self.padded.is_ascii() {
                // One byte per character: no table of character starts needed.
                char_grams_ascii(self.padded.as_bytes(), lo, hi, |h, a, b| {
                    self.feats.push(hashed(h, 1.0, Kind::CharGram, (a, b)));
                });
            } else {
                self.char_starts.clear();
                self.char_starts.extend(self.padded.char_indices().map(|(i, _)| i as u32));
                self.char_starts.push(self.padded.len() as u32);
                char_grams(self.padded.as_bytes(), &self.char_starts, lo, hi, |h, a, b| {
                    self.feats.push(hashed(h, 1.0, Kind::CharGram, (a, b)));
                });
            }
        }

        // Scale word and character features so that each group has unit length.
        let n_text = self.feats.len();
        let (ws, cs) = (group_scale(n_word), group_scale(n_text - n_word));
        for f in &mut self.feats {
            f.value *= if f.kind == Kind::CharGram { cs } else { ws };
        }

        // Links.
        let n_links = self.links.scan(norm);
        let mut disguised = false;
        for link in self.links.links() {
            let compact = self.links.compact().as_bytes();
            let (a, b) = (link.domain.0 as usize, link.domain.1 as usize);
            self.feats.push(hashed(fnv(seed(Ns::Domain), &compact[a..b]), 1.0, Kind::Domain, (a, b)));
            let (a, b) = (link.tld.0 as usize, link.tld.1 as usize);
            self.feats.push(hashed(fnv(seed(Ns::Tld), &compact[a..b]), 1.0, Kind::Tld, (a, b)));
            disguised |= link.obfuscated;
        }

        // Shape.
        let st = self.stats;
        let mut shape =
            |s: Shape| self.feats.push(hashed(fmix(seed(Ns::Shape) ^ s.code()), 1.0, Kind::Shape(s), (0, 0)));
        if n_links > 0 {
            shape(Shape::Links(n_links.min(3) as u8));
        }
        if disguised {
            shape(Shape::DisguisedLink);
        }
        if st.mixed_script_words > 0 {
            shape(Shape::LookAlike);
        }
        if leet_words > 0 {
            shape(Shape::Leet);
        }
        if long_numbers > 0 {
            shape(Shape::LongNumber);
        }
        if st.letters >= 8 && st.upper * 10 >= st.letters * 6 {
            shape(Shape::Shouting);
        }
        if st.longest_bang_run >= 3 {
            shape(Shape::Bangs);
        }
        if cfg.length {
            shape(Shape::Length((32 - (st.chars + 1).leading_zeros()).min(12) as u8));
        }

        // Cues, on the de-leeted words.
        if cfg.cues {
            // The words again, with `|` between sentences so that no phrase spans two.
            self.cue_text.clear();
            self.cue_text.push(' ');
            let mut from = 0;
            for &start in &self.sentence_starts {
                self.cue_text.push_str(&self.words[from..start]);
                self.cue_text.push_str("| ");
                from = start;
            }
            self.cue_text.push_str(&self.words[from..]);
            self.cue_text.push(' ');
            let found = lexicon::find(&self.cue_text, norm);
            for cue in Cue::ALL {
                if let Some((a, b)) = found.span(cue) {
                    let h = fmix(seed(Ns::Cue) ^ cue as u64);
                    self.feats.push(hashed(h, CUE_VALUE, Kind::Cue(cue), (a as usize, b as usize)));
                }
            }
        }

        // Context.
        if let Some(domain) = ctx.email_domain() {
            self.ctx.extend(domain.chars().flat_map(char::to_lowercase));
            let h = fnv(seed(Ns::Email), self.ctx.as_bytes());
            self.feats.push(hashed(h, 1.0, Kind::EmailDomain, (0, self.ctx.len())));
        }
        ctx.for_each_slot(|slot| {
            self.feats.push(Feature {
                index: cfg.slot_index(slot),
                value: 1.0,
                kind: Kind::Context(slot),
                span: (0, 0),
            });
        });
        &self.feats
    }

    /// Human-readable description of a feature of the last extraction.
    pub fn describe(&self, f: &Feature) -> String {
        let (a, b) = (f.span.0 as usize, f.span.1 as usize);
        let text = |buf: &str| buf.get(a..b).unwrap_or("").to_owned();
        match f.kind {
            Kind::Word => format!("word '{}'", text(self.norm.text())),
            Kind::LeetWord => format!("disguised word '{}'", text(&self.words)),
            Kind::Bigram => format!("words '{}'", text(&self.words)),
            Kind::CharGram => format!("char-gram '{}'", text(&self.padded)),
            Kind::Domain => format!("link to {}", text(self.links.compact())),
            Kind::Tld => format!("link domain ending .{}", text(self.links.compact())),
            Kind::EmailDomain => format!("e-mail domain {}", text(&self.ctx)),
            Kind::Shape(s) => match s {
                Shape::Links(1) => "1 link".to_owned(),
                Shape::Links(2) => "2 links".to_owned(),
                Shape::Links(_) => "3 or more links".to_owned(),
                Shape::DisguisedLink => "disguised link".to_owned(),
                Shape::LookAlike => "look-alike letters from another script".to_owned(),
                Shape::Leet => "digits used as letters".to_owned(),
                Shape::LongNumber => "long number (phone or code)".to_owned(),
                Shape::Shouting => "mostly capital letters".to_owned(),
                Shape::Bangs => "'!!!'".to_owned(),
                Shape::Length(n) => format!("length {}-{} characters", (1u32 << n) / 2 - 1, (1u32 << n) - 2),
            },
            Kind::Cue(cue) if a == b => cue.describe().to_owned(),
            Kind::Cue(cue) => format!("{} '{}'", cue.describe(), text(&self.cue_text)),
            Kind::Context(slot) => slot.describe().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn descriptions(text: &str, ctx: &Context) -> Vec<String> {
        let mut x = Extractor::new();
        let cfg = FeatureConfig::default();
        x.extract(&cfg, text, ctx);
        x.features().iter().map(|f| x.describe(f)).collect()
    }

    #[test]
    fn words_bigrams_chars_and_links() {
        let d = descriptions("Check out my fr33 m0ney at bit.ly/x", &Context::default());
        for want in [
            "word 'check'",
            "words 'check out'",
            "disguised word 'free'",
            "words 'free money'",
            "char-gram 'chec'",
            "link to bit.ly",
            "1 link",
            "call to action 'check out my'",
            "digits used as letters",
            "base rate",
        ] {
            assert!(d.iter().any(|s| s == want), "{want} missing from {d:?}");
        }
    }

    #[test]
    fn indices_in_range_and_unit_scaled() {
        let mut x = Extractor::new();
        let cfg = FeatureConfig { bits: 16, ..FeatureConfig::default() };
        let ctx = Context { honeypot_filled: true, email: Some("x@spam.example"), ..Context::default() };
        x.extract(&cfg, "Hello world, ВИАГРА 0800123456!!!", &ctx);
        let feats = x.features();
        assert!(feats.iter().all(|f| (f.index as usize) < cfg.dim() && f.value.is_finite()));
        let text_norm: f32 = feats
            .iter()
            .filter(|f| matches!(f.kind, Kind::Word | Kind::LeetWord | Kind::Bigram | Kind::CharGram))
            .map(|f| f.value * f.value)
            .sum();
        // Words and character n-grams each have unit length.
        assert!((text_norm - 2.0).abs() < 1e-4);
        let d: Vec<String> = feats.iter().map(|f| x.describe(f)).collect();
        assert!(d.contains(&"honeypot filled".to_owned()));
        assert!(d.contains(&"long number (phone or code)".to_owned()));
        assert!(d.contains(&"e-mail domain spam.example".to_owned()));
    }

    #[test]
    fn cues_stay_within_a_sentence() {
        let cues = |text: &str| {
            descriptions(text, &Context::default()).into_iter().filter(|d| d.starts_with("call to action")).count()
        };
        assert_eq!(cues("Look at my channel"), 1);
        assert_eq!(cues("Sorry, but you should look. At my age, the ferry is the only way."), 0);
        assert_eq!(cues("Where did you look? At my office."), 0);
        assert_eq!(cues("see subscribe.to.my.channel"), 0, "dots end sentences, even in a run of words");
    }

    #[test]
    fn ascii_char_grams_match_the_general_path() {
        for text in [&b" check out my channel! "[..], b" hi ", b" "] {
            let starts: Vec<u32> = (0..=text.len() as u32).collect();
            for (lo, hi) in [(3, 5), (1, 4), (2, 2), (4, 8), (5, 3)] {
                let (mut general, mut ascii) = (Vec::new(), Vec::new());
                char_grams(text, &starts, lo, hi, |h, a, b| general.push((h, a, b)));
                char_grams_ascii(text, lo, hi, |h, a, b| ascii.push((h, a, b)));
                assert_eq!(general, ascii, "{lo}-{hi} of {text:?}");
                assert_eq!(general.is_empty(), lo > hi || text.len() < lo, "{lo}-{hi} of {text:?}");
            }
        }
    }

    #[test]
    fn empty_text_has_only_the_bias() {
        let d = descriptions("", &Context::default());
        assert_eq!(d, vec!["base rate".to_owned()]);
        let mut x = Extractor::new();
        let cfg = FeatureConfig { length: true, ..FeatureConfig::default() };
        x.extract(&cfg, "", &Context::default());
        let d: Vec<String> = x.features().iter().map(|f| x.describe(f)).collect();
        assert_eq!(d, vec!["length 0-0 characters".to_owned(), "base rate".to_owned()]);
    }

    #[test]
    fn function_words_are_found_by_their_hash() {
        for w in lexicon::FUNCTION_WORDS {
            assert!(is_function_word_hash(fnv(seed(Ns::Word), w.as_bytes())), "{w}");
        }
        for w in ["channel", "subscribe", "money", "myself2", ""] {
            assert_eq!(is_function_word_hash(fnv(seed(Ns::Word), w.as_bytes())), lexicon::is_function_word(w), "{w}");
        }
    }

    #[test]
    fn function_words_count_only_in_company() {
        let d = descriptions("Check out my channel", &Context::default());
        assert!(!d.iter().any(|s| s == "word 'my' " || s == "word 'my'" || s == "word 'out'"), "{d:?}");
        assert!(d.iter().any(|s| s == "words 'out my'") && d.iter().any(|s| s == "char-gram ' my '"), "{d:?}");
        let mut x = Extractor::new();
        let cfg = FeatureConfig { function_words: true, ..FeatureConfig::default() };
        x.extract(&cfg, "Check out my channel", &Context::default());
        assert!(x.features().iter().any(|f| x.describe(f) == "word 'my'"));
    }

    #[test]
    fn same_text_same_features() {
        let mut a = Extractor::new();
        let mut b = Extractor::new();
        let cfg = FeatureConfig::default();
        let fa = a.extract(&cfg, "Ｓｕｂｓｃｒｉｂｅ to my channel", &Context::default()).to_vec();
        b.extract(&cfg, "something else entirely", &Context::default());
        let fb = b.extract(&cfg, "subscribe to my channel", &Context::default());
        let ia: Vec<u32> = fa.iter().map(|f| f.index).collect();
        let ib: Vec<u32> = fb.iter().map(|f| f.index).collect();
        assert_eq!(ia, ib);
    }
}
