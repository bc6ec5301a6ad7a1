//! Link and domain extraction, including obfuscated forms.
//!
//! Works on normalised text (see [`crate::normalize`]), so fullwidth and
//! look-alike letters are already folded. [`LinkScanner::scan`] first rewrites
//! the usual disguises into a compact buffer — `w w w . example . com`,
//! `example dot com`, `example[.]com`, `example (dot) com`, `hxxp://` — and then
//! finds host names whose last label is a known top-level domain (or that follow
//! a scheme or `www.`).

/// One host name found in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// Byte range of the registrable domain (`bit.ly`, `example.co.uk`) in [`LinkScanner::compact`].
    pub domain: (u32, u32),
    /// Byte range of the top-level domain (`ly`) in [`LinkScanner::compact`].
    pub tld: (u32, u32),
    /// The host was written in a disguised form (spaces, `dot`, brackets, `hxxp`).
    pub obfuscated: bool,
}

/// Finds links in normalised text, reusing its buffers between calls.
#[derive(Debug, Default, Clone)]
pub struct LinkScanner {
    compact: String,
    links: Vec<Link>,
    spans: Vec<(usize, usize)>,
}

/// Top-level domains recognised without a scheme or `www.` in front.
const TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "io", "co", "me", "tv", "us", "uk", "ru", "de", "fr", "it", "nl", "pl", "br",
    "in", "cn", "jp", "au", "ca", "es", "eu", "ly", "gl", "gd", "tk", "ml", "ga", "cf", "gq", "xyz", "top", "club",
    "online", "site", "website", "shop", "store", "live", "app", "tech", "space", "pw", "cc", "ws", "be", "to", "fm",
    "su", "ua", "kz", "mobi", "name", "pro", "asia", "link", "click", "win", "bid", "loan", "download", "review",
    "stream", "ch", "se", "no", "dk", "fi", "at", "cz", "gr", "pt", "ro", "hu", "tr", "mx", "ar", "cl", "vn", "th",
    "id", "ph", "my", "sg", "hk", "tw", "kr", "za", "nz", "ie", "edu", "gov", "tel", "today", "blog", "news", "vip",
    "work", "life", "world", "fun", "icu", "buzz", "ninja", "guru", "ws",
];

/// TLDs that are unlikely to be an ordinary word, so `example . com` with
/// spaces may be joined into a host name.
const PLAIN_TLDS: &[&str] = &[
    "com", "net", "org", "info", "biz", "ru", "xyz", "ly", "tk", "uk", "de", "io", "gl", "ml", "ga", "cf", "gq", "pw",
    "ws", "su", "cc", "tv", "cn", "pl", "nl", "br", "fr", "es", "eu", "mobi",
];

fn is_tld(s: &str, list: &[&str]) -> bool {
    list.contains(&s)
}

/// The leading run of ASCII letters and digits (`com` of `com/watch?v=x`).
fn leading_label(s: &str) -> &str {
    let end = s.bytes().position(|b| !b.is_ascii_alphanumeric()).unwrap_or(s.len());
    &s[..end]
}

fn is_host_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

impl LinkScanner {
    /// Creates a scanner with empty buffers.
    pub fn new() -> Self {
        Self::default()
    }

    /// The de-obfuscated text that [`Link`] ranges point into.
    pub fn compact(&self) -> &str {
        &self.compact
    }

    /// Links found by the last [`scan`](Self::scan).
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// The registrable domain of a link as text.
    pub fn domain(&self, link: &Link) -> &str {
        self.compact.get(link.domain.0 as usize..link.domain.1 as usize).unwrap_or("")
    }

    /// Finds the links in `norm` (normalised text); returns how many.
    pub fn scan(&mut self, norm: &str) -> usize {
        self.links.clear();
        self.compact.clear();
        // Cheap exit: no dot, no "dot" word, no scheme: no link.
        if !norm.contains('.') && !norm.contains("dot") && !norm.contains("://") {
            return 0;
        }
        if needs_deobfuscation(norm) {
            self.deobfuscate(norm);
        } else {
            self.compact.push_str(norm);
        }
        self.find_hosts(norm);
        self.links.len()
    }

    /// Rewrites disguised separators into plain ones.
    fn deobfuscate(&mut self, norm: &str) {
        let mut spans = std::mem::take(&mut self.spans);
        spans.clear();
        let mut start = 0;
        for (i, b) in norm.bytes().enumerate() {
            if b == b' ' {
                spans.push((start, i));
                start = i + 1;
            }
        }
        spans.push((start, norm.len()));
        let tokens = Tokens { text: norm, spans: &spans };
        let bracketed = norm.contains(['[', '(', '{']) || norm.contains("hxxp");
        let mut i = 0;
        let mut glue = false; // the next token joins the previous without a space
        while i < tokens.len() {
            let tok = tokens.at(i);
            // "w w w" spelled out letter by letter.
            if tok == "w" && tokens.get(i + 1) == Some("w") && tokens.get(i + 2) == Some("w") {
                self.push_token("www", glue);
                glue = false;
                i += 3;
                continue;
            }
            if matches!(tok, "." | "dot" | "(dot)" | "[dot]" | "{dot}" | "(.)" | "[.]" | "{.}") {
                // A lone separator: join it to both neighbours, but only if it sits
                // between two host-like tokens (not "the dot of an i").
                let prev_ok = i > 0 && tokens.at(i - 1).bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
                let next_ok =
                    tokens.get(i + 1).is_some_and(|t| t.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric()));
                if prev_ok && next_ok && (tok != "dot" || next_is_tld_or_host(tokens.get(i + 1), tokens.get(i + 2))) {
                    self.compact.push('.');
                    glue = true;
                    i += 1;
                    continue;
                }
            }
            let joins_tld = tok.starts_with('.') && is_tld(leading_label(&tok[1..]), PLAIN_TLDS);
            let before = self.compact.len();
            self.push_token(tok, glue || joins_tld);
            if bracketed {
                replace_in_place(&mut self.compact, before);
            }
            glue = false;
            // "example. com": a trailing dot followed by an unambiguous TLD.
            if tok.ends_with('.') && tokens.get(i + 1).is_some_and(|t| is_tld(leading_label(t), PLAIN_TLDS)) {
                glue = true;
            }
            i += 1;
        }
        self.spans = spans;
    }

    fn push_token(&mut self, tok: &str, glue: bool) {
        if !glue && !self.compact.is_empty() {
            self.compact.push(' ');
        }
        self.compact.push_str(tok);
    }

    fn find_hosts(&mut self, norm: &str) {
        let bytes = self.compact.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !is_host_byte(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            let mut dotted = false;
            while i < bytes.len() && is_host_byte(bytes[i]) {
                dotted |= bytes[i] == b'.';
                i += 1;
            }
            // A host name has at least two labels.
            if !dotted {
                continue;
            }
            // Skip a scheme: "http" followed by "://" is not a host.
            if bytes[i..].starts_with(b"://") {
                continue;
            }
            let after_scheme = bytes[..start].ends_with(b"://");
            // A host cannot directly follow '@' (that is an e-mail address), nor a
            // path ("example.com/a.b" gives one link).
            if start > 0 && matches!(bytes[start - 1], b'@' | b'/' | b'?' | b'=' | b'&') && !after_scheme {
                continue;
            }
            let raw = &self.compact[start..i];
            let run = trim_run(raw);
            let offset = start + (raw.len() - raw.trim_start_matches(['.', '-']).len());
            if let Some(link) = classify_host(run, offset, after_scheme) {
                let host = &self.compact[offset..offset + run.len()];
                let obfuscated =
                    !norm.contains(host) || self.compact[..start].ends_with("http://") && !norm.contains("http");
                self.links.push(Link { obfuscated, ..link });
            }
        }
    }
}

/// The space-separated tokens of normalised text, as byte ranges.
struct Tokens<'a> {
    text: &'a str,
    spans: &'a [(usize, usize)],
}

impl<'a> Tokens<'a> {
    fn len(&self) -> usize {
        self.spans.len()
    }

    fn get(&self, i: usize) -> Option<&'a str> {
        self.spans.get(i).and_then(|&(a, b)| self.text.get(a..b))
    }

    fn at(&self, i: usize) -> &'a str {
        self.get(i).unwrap_or("")
    }
}

fn next_is_tld_or_host(next: Option<&str>, after: Option<&str>) -> bool {
    // "example dot com" but not "connect the dots"; the token after "dot" must be a
    // TLD or followed by another separator.
    next.is_some_and(|t| is_tld(t, TLDS)) || after.is_some_and(|t| matches!(t, "." | "dot" | "(dot)" | "[dot]"))
}

/// Whether `norm` may hold a disguised link (else the compact text is `norm` itself).
///
/// True whenever [`LinkScanner::deobfuscate`] would change anything: a `dot`,
/// `hxxp`, `w w w`, a bracketed dot, a token that starts with `.`, or a
/// sentence-like `. ` followed by a TLD that is rarely an English word. Most
/// comments have full stops and none of these.
fn needs_deobfuscation(norm: &str) -> bool {
    let b = norm.as_bytes();
    b.windows(2).any(|w| matches!(w, b" ." | b"[." | b"(." | b"{."))
        || norm.starts_with('.')
        || norm.contains("dot")
        || norm.contains("hxxp")
        || norm.contains("w w w")
        || norm.match_indices(". ").any(|(i, _)| is_tld(leading_label(&norm[i + 2..]), PLAIN_TLDS))
}

/// Replaces bracketed dots and `hxxp` in the part of `s` after `from`.
fn replace_in_place(s: &mut String, from: usize) {
    const PATTERNS: &[(&str, &str)] =
        &[("[.]", "."), ("(.)", "."), ("{.}", "."), ("[dot]", "."), ("(dot)", "."), ("{dot}", "."), ("hxxp", "http")];
    let tail = &s[from..];
    if !PATTERNS.iter().any(|(p, _)| tail.contains(p)) {
        return;
    }
    let mut t = tail.to_owned();
    for (p, r) in PATTERNS {
        if t.contains(p) {
            t = t.replace(p, r);
        }
    }
    s.truncate(from);
    s.push_str(&t);
}

fn trim_run(run: &str) -> &str {
    run.trim_matches(|c| c == '.' || c == '-')
}

/// Decides whether `run` is a host name; `offset` is its position in the compact buffer.
fn classify_host(run: &str, offset: usize, after_scheme: bool) -> Option<Link> {
    if run.len() < 3 || run.contains("..") {
        return None;
    }
    let mut labels = run.rsplit('.');
    let tld = labels.next()?;
    let second = labels.next()?;
    if second.is_empty() || !tld.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let www = run.starts_with("www.");
    if !(is_tld(tld, TLDS) || (after_scheme || www) && (2..=12).contains(&tld.len())) {
        return None;
    }
    // Registrable domain: the last two labels, three for "co.uk"-style suffixes.
    let third = labels.next();
    let keep_three = tld.len() == 2 && matches!(second, "co" | "com" | "org" | "net" | "ac" | "gov") && third.is_some();
    let dom_len = tld.len() + 1 + second.len() + if keep_three { third.map_or(0, |t| t.len() + 1) } else { 0 };
    let end = offset + run.len();
    let dom_start = end - dom_len;
    let domain = &run[run.len() - dom_len..];
    if domain.starts_with("www.") || domain.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    Some(Link {
        domain: (dom_start as u32, end as u32),
        tld: ((end - tld.len()) as u32, end as u32),
        obfuscated: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::Normalizer;

    fn domains(text: &str) -> Vec<(String, bool)> {
        let mut n = Normalizer::new();
        n.normalize(text);
        let mut s = LinkScanner::new();
        s.scan(n.text());
        s.links().iter().map(|l| (s.domain(l).to_owned(), l.obfuscated)).collect()
    }

    #[test]
    fn plain_urls() {
        assert_eq!(domains("see https://bit.ly/abc now"), vec![("bit.ly".to_owned(), false)]);
        assert_eq!(domains("visit www.example.com"), vec![("example.com".to_owned(), false)]);
        assert_eq!(domains("http://www.youtube.com/watch?v=x.y"), vec![("youtube.com".to_owned(), false)]);
        assert_eq!(domains("shop at news.bbc.co.uk today"), vec![("bbc.co.uk".to_owned(), false)]);
        assert_eq!(domains("murdev.com"), vec![("murdev.com".to_owned(), false)]);
    }

    #[test]
    fn obfuscated_urls() {
        assert_eq!(domains("w w w . example . com"), vec![("example.com".to_owned(), true)]);
        assert_eq!(domains("go to example dot com"), vec![("example.com".to_owned(), true)]);
        assert_eq!(domains("kidsmediausa  . com"), vec![("kidsmediausa.com".to_owned(), true)]);
        assert_eq!(domains("example[.]com"), vec![("example.com".to_owned(), true)]);
        assert_eq!(domains("example (dot) net"), vec![("example.net".to_owned(), true)]);
        assert_eq!(domains("hxxp://evil.ru/x"), vec![("evil.ru".to_owned(), true)]);
        assert_eq!(domains("example. com"), vec![("example.com".to_owned(), true)]);
        assert_eq!(domains("www.youtube. com/watch?v=tq0"), vec![("youtube.com".to_owned(), true)]);
        assert_eq!(domains("example .com."), vec![("example.com".to_owned(), true)]);
    }

    #[test]
    fn homoglyph_and_fullwidth_urls() {
        // Cyrillic "е" and "о" in the host, fullwidth letters.
        assert_eq!(domains("frее-mоney.com"), vec![("free-money.com".to_owned(), false)]);
        assert_eq!(domains("ｅｘａｍｐｌｅ．ｃｏｍ"), vec![("example.com".to_owned(), false)]);
    }

    #[test]
    fn text_without_disguises_is_left_as_it_is() {
        let mut s = LinkScanner::new();
        for text in [
            "i love this song. it is great. so good",
            "version 1.5 is out. see you at 9.30",
            "ends with a stop.",
            "www.example.com. next sentence",
            "mail me at someone@example.com. thanks",
            "a b c. d e. f",
        ] {
            assert!(!needs_deobfuscation(text), "{text}");
            s.compact.clear();
            s.deobfuscate(text);
            assert_eq!(s.compact, text);
        }
        for text in ["example. com", "example .com", "w w w . x . org", ". com", "x[.]org", "x dot com"] {
            assert!(needs_deobfuscation(text), "{text}");
        }
    }

    #[test]
    fn prose_is_not_a_link() {
        assert!(domains("I love this song. It is great.").is_empty());
        assert!(domains("version 1.5 is out, connect the dots").is_empty());
        assert!(domains("mail me at someone@example.com").is_empty());
        assert!(domains("...").is_empty());
    }
}
