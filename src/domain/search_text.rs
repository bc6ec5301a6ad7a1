//! The text side of search: folding words the way both engines index them,
//! and cutting a snippet of an article around the words a reader searched for.
//!
//! Snippets are made here rather than by the engine: SQLite's `snippet()`
//! tokenizes the whole body twice and costs about 80 µs an article, this
//! about 5 µs, and both databases then show the same snippet.

use memchr::memmem::Finder;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Marks around a matched word in a snippet (never in article text).
pub const MARK_START: char = '\u{1}';
pub const MARK_END: char = '\u{2}';

/// Lower case, compatibility forms unified, diacritics removed: what both
/// engines index and what queries are matched against.
pub fn fold(text: &str) -> String {
    text.nfkd().filter(|c| !is_combining_mark(*c)).flat_map(char::to_lowercase).collect()
}

/// Finds a query's words (already folded) in text, whole words only, the way
/// the engines match them: case and diacritics aside.
pub struct WordFinder<'a> {
    terms: &'a [String],
    /// The terms written in ASCII, each with its searcher. (An Aho-Corasick
    /// automaton for them took longer to build, once a search, than ten
    /// snippets took to find with these.)
    ascii: Vec<(Finder<'static>, usize)>,
}

/// A word found: its byte range in the text and which term it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Found {
    start: usize,
    end: usize,
    term: usize,
}

impl<'a> WordFinder<'a> {
    pub fn new(terms: &'a [String]) -> WordFinder<'a> {
        // The terms are folded, so in lower case: they are looked for in a
        // lower-case copy of the text, byte for byte.
        let ascii = (0..terms.len())
            .filter(|&i| terms[i].is_ascii())
            .map(|i| (Finder::new(terms[i].as_bytes()).into_owned(), i))
            .collect();
        WordFinder { terms, ascii }
    }

    /// Every whole-word occurrence of a term, in order.
    fn find(&self, text: &str) -> Vec<Found> {
        let mut found = Vec::new();
        if !self.ascii.is_empty() {
            // ASCII letters only: the copy has the text's byte offsets.
            let lower = text.to_ascii_lowercase();
            // Terms are whole words of letters and digits, so two terms'
            // whole-word occurrences never overlap: each is found on its own.
            for (finder, term) in &self.ascii {
                for start in finder.find_iter(lower.as_bytes()) {
                    let end = start + finder.needle().len();
                    if is_word_start(text, start) && is_word_end(text, end) {
                        found.push(Found { start, end, term: *term });
                    }
                }
            }
        }
        // Words with letters beyond ASCII are folded one by one ("Ibáñez" is
        // "ibanez"); text in plain ASCII never gets here.
        let bytes = text.as_bytes();
        let mut at = 0;
        while let Some(offset) = bytes[at..].iter().position(|b| *b >= 0x80) {
            let position = at + offset;
            let Some(c) = text[position..].chars().next() else { break };
            if !c.is_alphanumeric() {
                at = position + c.len_utf8();
                continue;
            }
            let start = text[..position].char_indices().rev().take_while(|(_, c)| c.is_alphanumeric()).last();
            let start = start.map_or(position, |(i, _)| i);
            let end = text[position..].find(|c: char| !c.is_alphanumeric()).map_or(text.len(), |e| position + e);
            let word = fold(&text[start..end]);
            if let Some(term) = self.terms.iter().position(|t| *t == word) {
                found.push(Found { start, end, term });
            }
            at = end;
        }
        found.sort_by_key(|f| f.start);
        found.dedup_by_key(|f| f.start);
        found
    }

    /// About `words` words of `text` around the terms, preferring the
    /// stretch with the most different ones, each found word between
    /// [`MARK_START`] and [`MARK_END`], with `…` where text was cut. Empty
    /// when no term is in the text.
    pub fn snippet(&self, text: &str, words: usize) -> String {
        let found = self.find(text);
        if found.is_empty() {
            return String::new();
        }
        // The window starting at each found word, scored by how many
        // different terms it holds; the first best wins.
        let span = words * 7;
        let mut best = (0, 0);
        for (i, first) in found.iter().enumerate() {
            let mut seen = 0u64;
            for f in found[i..].iter().take_while(|f| f.end <= first.start + span) {
                seen |= 1 << (f.term % 64);
            }
            let score = seen.count_ones() as usize;
            if score > best.1 {
                best = (i, score);
            }
        }
        let anchor = found[best.0].start;
        let start = window_start(text, anchor, words / 5);
        let end = window_end(text, start, words);
        let mut out = String::with_capacity(end - start + 16);
        if start > 0 {
            out.push('…');
        }
        let mut at = start;
        for f in found.iter().filter(|f| f.start >= start && f.end <= end) {
            push_flat(&mut out, &text[at..f.start]);
            out.push(MARK_START);
            out.push_str(&text[f.start..f.end]);
            out.push(MARK_END);
            at = f.end;
        }
        push_flat(&mut out, &text[at..end]);
        if end < text.len() {
            out.push('…');
        }
        out
    }
}

fn is_word_start(text: &str, at: usize) -> bool {
    text[..at].chars().next_back().is_none_or(|c| !c.is_alphanumeric())
}

fn is_word_end(text: &str, at: usize) -> bool {
    text[at..].chars().next().is_none_or(|c| !c.is_alphanumeric())
}

/// Where a snippet around `anchor` begins: up to `lead` words before it, or
/// the start of its sentence or paragraph when that is nearer.
fn window_start(text: &str, anchor: usize, lead: usize) -> usize {
    let mut start = anchor;
    let mut words = 0;
    for (i, c) in text[..anchor].char_indices().rev() {
        let next = i + c.len_utf8();
        let before_space = text[next..].starts_with(char::is_whitespace);
        if c == '\n' || (matches!(c, '.' | '!' | '?') && before_space) {
            return start;
        }
        if c.is_whitespace() && !before_space && next < anchor {
            start = next;
            words += 1;
            if words == lead {
                return start;
            }
        }
    }
    0
}

/// Where a snippet of `words` words from `start` ends (at the end of a word).
fn window_end(text: &str, start: usize, words: usize) -> usize {
    let mut count = 0;
    let mut in_word = false;
    for (i, c) in text[start..].char_indices() {
        if c.is_whitespace() {
            if in_word {
                count += 1;
                if count == words {
                    return start + i;
                }
            }
            in_word = false;
        } else {
            in_word = true;
        }
    }
    text.len()
}

/// Text on one line: paragraph breaks become spaces.
fn push_flat(out: &mut String, text: &str) {
    for c in text.chars() {
        out.push(if c == '\n' || c == '\r' { ' ' } else { c });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    fn marked(snippet: &str) -> String {
        snippet.replace(MARK_START, "[").replace(MARK_END, "]")
    }

    #[test]
    fn folding_matches_what_readers_type() {
        assert_eq!(fold("Ibáñez ÉCOLE ﬁsh"), "ibanez ecole fish");
    }

    #[test]
    fn whole_words_are_marked_whatever_their_case_and_accents() {
        let t = terms(&["ferry", "ibanez", "مرحبا"]);
        let finder = WordFinder::new(&t);
        let text = "Ferrymen said the FERRY sails. Marta Ibáñez agreed: مرحبا ferry’s crew.";
        assert_eq!(
            marked(&finder.snippet(text, 30)),
            "Ferrymen said the [FERRY] sails. Marta [Ibáñez] agreed: [مرحبا] [ferry]’s crew."
        );
        assert_eq!(finder.snippet("No match in caféferry or ferryboat.", 30), "");
    }

    #[test]
    fn terms_inside_other_terms_are_found_as_whole_words_only() {
        let t = terms(&["ferry", "ferryman", "man", "2026"]);
        let finder = WordFinder::new(&t);
        let text = "The Ferryman's ferry, a man-made FERRYMAN in 2026 (not 20261).";
        assert_eq!(
            marked(&finder.snippet(text, 30)),
            "The [Ferryman]'s [ferry], a [man]-made [FERRYMAN] in [2026] (not 20261)."
        );
    }

    #[test]
    fn the_window_holds_the_most_different_words() {
        let t = terms(&["harbour", "strike"]);
        let finder = WordFinder::new(&t);
        let filler = "word ".repeat(60);
        let text = format!("The harbour opened. {filler}Then the harbour strike began today.\n\n{filler}End.");
        let snippet = marked(&finder.snippet(&text, 12));
        assert!(snippet.starts_with("…Then the [harbour] [strike] began today."), "{snippet}");
        assert!(snippet.ends_with('…') && !snippet.contains('\n'), "{snippet}");
        assert_eq!(snippet.split_whitespace().count(), 12, "{snippet}");
    }

    #[test]
    fn a_snippet_starts_at_its_sentence_when_near() {
        let t = terms(&["tern"]);
        let finder = WordFinder::new(&t);
        let snippet = marked(&finder.snippet("Long ago. The old Tern sails at dusk.", 30));
        assert_eq!(snippet, "…The old [Tern] sails at dusk.");
        let snippet = marked(&finder.snippet("Tern first.", 30));
        assert_eq!(snippet, "[Tern] first.");
    }
}
