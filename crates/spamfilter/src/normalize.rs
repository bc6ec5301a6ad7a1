//! Text normalisation: Unicode NFKC, case folding, look-alike letters and leetspeak.
//!
//! Spammers dodge word filters with fullwidth letters (`ｆｒｅｅ`), mathematical
//! alphabets (`𝐟𝐫𝐞𝐞`), Cyrillic or Greek letters that look Latin (`frее` with
//! Cyrillic `е`), zero-width characters and digits for letters (`fr33 m0ney`).
//! [`Normalizer::normalize`] undoes the first four in one pass into a reused
//! buffer; [`deleet`] undoes the last one word by word. It also decodes HTML
//! (tags become spaces, a link's `href` is kept, entities are decoded) and caps
//! runs of one repeated character at three (`!!!!!!!!` and `!!!` read alike).

use unicode_normalization::UnicodeNormalization;

/// Facts noticed while normalising, used as features.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextStats {
    /// Letters in the original text.
    pub letters: u32,
    /// Upper-case letters in the original text.
    pub upper: u32,
    /// Words that mix Latin letters with look-alike letters of another script.
    pub mixed_script_words: u32,
    /// Characters in the normalised text.
    pub chars: u32,
    /// Longest run of `!` or `?`.
    pub longest_bang_run: u32,
}

/// Normalises text into a reusable buffer (no allocation once the buffer is warm).
#[derive(Debug, Default, Clone)]
pub struct Normalizer {
    out: String,
    html: String,
}

/// Longest run of one repeated character kept.
const MAX_RUN: u32 = 3;

impl Normalizer {
    /// Creates a normaliser with an empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// The result of the last [`normalize`](Self::normalize) call.
    pub fn text(&self) -> &str {
        &self.out
    }

    /// NFKC-normalises `text`, folds case and look-alike letters, drops invisible
    /// characters and combining marks, and collapses whitespace runs to one space.
    pub fn normalize(&mut self, text: &str) -> TextStats {
        self.out.clear();
        let text = if text.contains(['<', '&']) {
            decode_html(text, &mut self.html);
            self.html.as_str()
        } else {
            text
        };
        let mut st = State::default();
        // ASCII is already in NFKC form and never combines with what precedes
        // it, so only the non-ASCII runs (with the character before each, which
        // a combining mark may join) go through the decomposition machinery.
        let mut rest = text;
        while let Some(first) = rest.bytes().position(|b| !b.is_ascii()) {
            let from = first.saturating_sub(1);
            let to = rest[first..].bytes().position(|b| b.is_ascii()).map_or(rest.len(), |n| first + n);
            for c in rest[..from].chars() {
                st.push(&mut self.out, c);
            }
            for c in rest[from..to].nfkc() {
                st.push(&mut self.out, c);
            }
            rest = &rest[to..];
        }
        for c in rest.chars() {
            st.push(&mut self.out, c);
        }
        st.end_word();
        if self.out.ends_with(' ') {
            self.out.pop();
        }
        st.stats.chars = self.out.chars().count() as u32;
        st.stats
    }
}

#[derive(Default)]
struct State {
    stats: TextStats,
    pending_space: bool,
    word_latin: bool,
    word_folded: bool,
    bang_run: u32,
    last: char,
    run: u32,
}

impl State {
    fn push(&mut self, out: &mut String, c: char) {
        if c == '!' || c == '?' {
            self.bang_run += 1;
            self.stats.longest_bang_run = self.stats.longest_bang_run.max(self.bang_run);
        } else {
            self.bang_run = 0;
        }
        if c.is_whitespace() || c.is_control() {
            self.end_word();
            self.pending_space = !out.is_empty();
            return;
        }
        let ascii = c.is_ascii();
        if !ascii && (is_invisible(c) || is_combining(c)) {
            return;
        }
        if c == self.last && !self.pending_space {
            self.run += 1;
            if self.run > MAX_RUN {
                return;
            }
        } else {
            self.last = c;
            self.run = 1;
        }
        if self.pending_space {
            out.push(' ');
            self.pending_space = false;
        }
        if c.is_alphabetic() {
            self.stats.letters += 1;
            if c.is_uppercase() {
                self.stats.upper += 1;
            }
        } else {
            self.end_word();
        }
        if ascii {
            let l = c.to_ascii_lowercase();
            self.word_latin |= l.is_ascii_lowercase();
            out.push(l);
            return;
        }
        if let Some(f) = fold_upper(c) {
            self.word_folded = true;
            out.push(f);
            return;
        }
        for l in c.to_lowercase() {
            match fold_lower(l) {
                Some(f) => {
                    self.word_folded = true;
                    out.push(f);
                }
                None => out.push(l),
            }
        }
    }

    fn end_word(&mut self) {
        if self.word_latin && self.word_folded {
            self.stats.mixed_script_words += 1;
        }
        self.word_latin = false;
        self.word_folded = false;
    }
}

/// Decodes HTML into `out`: tags become spaces (a link's `href` is kept as text),
/// entities are decoded. Text that only looks like a tag (`<3`) is kept.
fn decode_html(text: &str, out: &mut String) {
    out.clear();
    let mut rest = text;
    while let Some(pos) = rest.find(['<', '&']) {
        out.push_str(&rest[..pos]);
        rest = &rest[pos..];
        if rest.starts_with('<') {
            let is_tag = rest[1..].starts_with(|c: char| c.is_ascii_alphabetic() || c == '/' || c == '!');
            match rest.find('>').filter(|&end| is_tag && end < 2000) {
                Some(end) => {
                    let tag = &rest[1..end];
                    out.push(' ');
                    if let Some(href) = attribute(tag, "href") {
                        out.push_str(href);
                        out.push(' ');
                    }
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push('<');
                    rest = &rest[1..];
                }
            }
        } else {
            match rest.find(';').filter(|&end| end <= 10).and_then(|end| Some((entity(&rest[1..end])?, end))) {
                Some((c, end)) => {
                    out.push(c);
                    rest = &rest[end + 1..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
}

/// The value of attribute `name` in the inside of a tag, quoted or not.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let lower_pos = tag.match_indices(name).find(|(i, _)| *i > 0 && tag.as_bytes()[i - 1].is_ascii_whitespace())?.0;
    let rest = tag[lower_pos + name.len()..].trim_start().strip_prefix('=')?.trim_start();
    let (quote, body) = match rest.chars().next()? {
        q @ ('"' | '\'') => (Some(q), &rest[1..]),
        _ => (None, rest),
    };
    let end = match quote {
        Some(q) => body.find(q)?,
        None => body.find(char::is_whitespace).unwrap_or(body.len()),
    };
    Some(&body[..end])
}

/// The character an HTML entity (without `&` and `;`) stands for.
fn entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => return None,
    })
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Upper-case Cyrillic and Greek letters that look like a Latin capital, mapped to
/// the Latin lower-case letter (Greek `Η` looks like `H`, while its lower case `η`
/// looks like `n`, so capitals are folded before lower-casing).
fn fold_upper(c: char) -> Option<char> {
    Some(match c {
        'А' | 'Α' => 'a',
        'В' | 'Β' => 'b',
        'С' | 'Ϲ' => 'c',
        'Е' | 'Ε' => 'e',
        'Н' | 'Η' => 'h',
        'І' | 'Ι' | 'Ӏ' => 'i',
        'Ј' => 'j',
        'К' | 'Κ' => 'k',
        'М' | 'Μ' => 'm',
        'Ν' => 'n',
        'О' | 'Ο' => 'o',
        'Р' | 'Ρ' => 'p',
        'Ѕ' => 's',
        'Т' | 'Τ' => 't',
        'Х' | 'Χ' => 'x',
        'У' | 'Υ' => 'y',
        'Ζ' => 'z',
        _ => return None,
    })
}

/// Lower-case letters of other scripts that look like a Latin lower-case letter.
fn fold_lower(c: char) -> Option<char> {
    Some(match c {
        'а' | 'α' => 'a',
        'ь' | 'β' => 'b',
        'с' | 'ϲ' | 'ς' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'ε' => 'e',
        'ɡ' => 'g',
        'һ' => 'h',
        'і' | 'ї' | 'ι' | 'ı' => 'i',
        'ј' => 'j',
        'к' | 'κ' => 'k',
        'м' => 'm',
        'η' | 'п' => 'n',
        'о' | 'ο' | 'σ' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' => 's',
        'т' | 'τ' => 't',
        'υ' | 'μ' => 'u',
        'ν' => 'v',
        'ԝ' | 'ω' | 'ш' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        _ => return None,
    })
}

/// Maps a digit used as a letter to that letter.
fn leet(c: char) -> Option<char> {
    Some(match c {
        '0' => 'o',
        '1' => 'i',
        '3' => 'e',
        '4' => 'a',
        '5' => 's',
        '7' => 't',
        '8' => 'b',
        _ => return None,
    })
}

/// If `word` mixes letters with digits used as letters (`fr33`, `m0ney`), appends
/// the de-leeted word to `out` and returns `true`; otherwise leaves `out` alone.
pub fn deleet(word: &str, out: &mut String) -> bool {
    let mut letters = 0;
    let mut leets = 0;
    for c in word.chars() {
        if c.is_alphabetic() {
            letters += 1;
        } else if leet(c).is_some() {
            leets += 1;
        } else {
            // Other digits (2, 6, 9) make it an identifier or a number, not leet.
            return false;
        }
    }
    if letters == 0 || leets == 0 || leets > letters + 1 {
        return false;
    }
    out.extend(word.chars().map(|c| leet(c).unwrap_or(c)));
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut n = Normalizer::new();
        n.normalize(s);
        n.text().to_owned()
    }

    #[test]
    fn folds_case_and_whitespace() {
        assert_eq!(norm("  Hello\t\n  WORLD  "), "hello world");
        assert_eq!(norm(""), "");
    }

    #[test]
    fn nfkc_fullwidth_and_math_letters() {
        assert_eq!(norm("ＦＲＥＥ ｍｏｎｅｙ"), "free money");
        assert_eq!(norm("𝐟𝐫𝐞𝐞"), "free");
        assert_eq!(norm("ⓕⓡⓔⓔ"), "free");
    }

    #[test]
    fn homoglyphs_fold_to_latin() {
        // Cyrillic е and о, Greek ο and Latin.
        assert_eq!(norm("frее mоney"), "free money");
        assert_eq!(norm("ΗELLO"), "hello");
        assert_eq!(norm("ѕubѕcrіbe"), "subscribe");
        let mut n = Normalizer::new();
        let st = n.normalize("frее money");
        assert_eq!(st.mixed_script_words, 1);
        let st = n.normalize("free money");
        assert_eq!(st.mixed_script_words, 0);
    }

    #[test]
    fn ascii_runs_skip_nfkc_without_changing_the_result() {
        for text in [
            "Cafe\u{301} au lait",
            "e\u{301}\u{327}x",
            "\u{301}leading mark",
            "ﬁle ＦＲＥＥ now 😀 ok",
            "A\u{308}pfel und Ä",
            "\u{1100}\u{1161} hangul",
            "plain ascii only",
            "trailing bom\u{FEFF}",
            "x\u{2460}y\u{2075}",
            "a<\u{338}b and =\u{338}",
            "ab\u{301}\u{302}c",
        ] {
            let mut whole = String::new();
            let mut st = State::default();
            for c in text.nfkc() {
                st.push(&mut whole, c);
            }
            st.end_word();
            let whole = whole.trim_end_matches(' ');
            assert_eq!(norm(text), whole, "{text:?}");
        }
    }

    #[test]
    fn drops_invisible_and_combining() {
        assert_eq!(norm("fr\u{200B}ee\u{FEFF}"), "free");
        assert_eq!(norm("s\u{0336}p\u{0336}am"), "spam");
    }

    #[test]
    fn counts_shouting_and_bangs() {
        let mut n = Normalizer::new();
        let st = n.normalize("BUY NOW!!!");
        assert_eq!(st.upper, 6);
        assert_eq!(st.letters, 6);
        assert_eq!(st.longest_bang_run, 3);
    }

    #[test]
    fn decodes_html() {
        assert_eq!(norm("I&#39;ll<br />go &amp; see"), "i'll go & see");
        assert_eq!(norm("<a href=\"http://x.com/a\">here</a> &lt;3 <3"), "http://x.com/a here <3 <3");
        assert_eq!(norm("AT&T &bogus; a < b"), "at&t &bogus; a < b");
    }

    #[test]
    fn caps_repeated_characters() {
        assert_eq!(norm("SUBSCRIBE!!!!!!!!!!"), "subscribe!!!");
        assert_eq!(norm("soooooo good"), "sooo good");
        let mut n = Normalizer::new();
        assert_eq!(n.normalize("wow!!!!!!").longest_bang_run, 6);
    }

    #[test]
    fn deleet_words() {
        let mut out = String::new();
        assert!(deleet("fr33", &mut out));
        assert_eq!(out, "free");
        out.clear();
        assert!(deleet("m0ney", &mut out));
        assert_eq!(out, "money");
        out.clear();
        assert!(!deleet("2013", &mut out));
        assert!(!deleet("hello", &mut out));
        assert!(!deleet("b2b", &mut out));
        assert!(out.is_empty());
    }
}
