//! Data-set parsers, from any [`Read`]: the YouTube comment CSVs, the SMS
//! collection, news sites' reader comments (JSON lines or CSV) and the
//! SpamAssassin mail (JSON lines), which [`mail_as_comment`] turns into what a
//! comment form would receive.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};

use crate::filter::{Comment, Label};

/// One labelled text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Example {
    /// The text.
    pub text: String,
    /// Its label.
    pub label: Label,
}

impl Example {
    /// The example as a comment without context.
    pub fn comment(&self) -> Comment<'_> {
        Comment::text(&self.text)
    }
}

/// Why a data set could not be parsed.
#[derive(Debug)]
pub enum CorpusError {
    /// Reading failed.
    Io(io::Error),
    /// The CSV is malformed.
    Csv(csv::Error),
    /// A required column is missing from the header.
    MissingColumn(&'static str),
    /// A JSON line is malformed (1-based line number).
    Json {
        /// Line number.
        line: u64,
        /// What was wrong.
        error: serde_json::Error,
    },
    /// A record has an unknown label (1-based line or record number).
    BadLabel {
        /// Line or record number.
        line: u64,
        /// The label found.
        found: String,
    },
}

impl fmt::Display for CorpusError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "reading the data set failed: {e}"),
            Self::Csv(e) => write!(f, "malformed CSV: {e}"),
            Self::MissingColumn(c) => write!(f, "the CSV header has no {c} column"),
            Self::Json { line, error } => write!(f, "line {line}: malformed JSON: {error}"),
            Self::BadLabel { line, found } => write!(f, "record {line}: unknown label {found:?}"),
        }
    }
}

impl std::error::Error for CorpusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Csv(e) => Some(e),
            Self::Json { error, .. } => Some(error),
            _ => None,
        }
    }
}

impl From<io::Error> for CorpusError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

impl From<csv::Error> for CorpusError {
    fn from(e: csv::Error) -> Self {
        Self::Csv(e)
    }
}

/// Parses a YouTube Spam Collection CSV (`COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS`, CLASS 1 = spam).
pub fn youtube_csv(reader: impl Read) -> Result<Vec<Example>, CorpusError> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(reader);
    let headers = rdr.headers()?.clone();
    let col = |name: &'static str| {
        headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name)).ok_or(CorpusError::MissingColumn(name))
    };
    let (content, class) = (col("CONTENT")?, col("CLASS")?);
    let mut out = Vec::new();
    for (n, record) in rdr.records().enumerate() {
        let record = record?;
        let label = match record.get(class).map(str::trim) {
            Some("1") => Label::Spam,
            Some("0") => Label::Ham,
            other => {
                return Err(CorpusError::BadLabel { line: n as u64 + 2, found: other.unwrap_or("").to_owned() });
            }
        };
        out.push(Example { text: record.get(content).unwrap_or("").to_owned(), label });
    }
    Ok(out)
}

/// Parses the SMS Spam Collection: one `ham<TAB>text` or `spam<TAB>text` per line.
pub fn sms_tsv(reader: impl Read) -> Result<Vec<Example>, CorpusError> {
    let mut out = Vec::new();
    for (n, line) in BufReader::new(reader).lines().enumerate() {
        let line = line?;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let (label, text) = line.split_once('\t').unwrap_or((line, ""));
        let label = match label {
            "ham" => Label::Ham,
            "spam" => Label::Spam,
            other => return Err(CorpusError::BadLabel { line: n as u64 + 1, found: other.to_owned() }),
        };
        out.push(Example { text: text.to_owned(), label });
    }
    Ok(out)
}

/// Reads one JSON object per non-empty line.
fn json_lines<T: serde::de::DeserializeOwned>(reader: impl Read) -> Result<Vec<T>, CorpusError> {
    let mut out = Vec::new();
    for (n, line) in BufReader::new(reader).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str(&line).map_err(|error| CorpusError::Json { line: n as u64 + 1, error })?);
    }
    Ok(out)
}

/// Reader comments of a news site, one JSON object a line with the comment in
/// `text` (the Fox News comments). All are legitimate: ham.
pub fn news_jsonl(reader: impl Read) -> Result<Vec<Example>, CorpusError> {
    #[derive(serde::Deserialize)]
    struct Line {
        text: String,
    }
    let lines: Vec<Line> = json_lines(reader)?;
    Ok(lines.into_iter().map(|l| Example { text: l.text, label: Label::Ham }).collect())
}

/// [`news_jsonl`] grouped by the article they were left under (its `title`),
/// articles in order of first appearance.
pub fn news_jsonl_by_article(reader: impl Read) -> Result<Vec<Vec<Example>>, CorpusError> {
    #[derive(serde::Deserialize)]
    struct Line {
        text: String,
        #[serde(default)]
        title: String,
    }
    let lines: Vec<Line> = json_lines(reader)?;
    let mut titles: Vec<String> = Vec::new();
    let mut groups: Vec<Vec<Example>> = Vec::new();
    for l in lines {
        let k = match titles.iter().position(|t| *t == l.title) {
            Some(k) => k,
            None => {
                titles.push(l.title);
                groups.push(Vec::new());
                groups.len() - 1
            }
        };
        groups[k].push(Example { text: l.text, label: Label::Ham });
    }
    Ok(groups)
}

/// Reader comments of a news site, a CSV with a header row and the comment in
/// `column` (the SFU corpus: `comment`). All are legitimate: ham.
pub fn news_csv(reader: impl Read, column: &'static str) -> Result<Vec<Example>, CorpusError> {
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).flexible(true).from_reader(reader);
    let headers = rdr.headers()?.clone();
    let col = headers.iter().position(|h| h.trim() == column).ok_or(CorpusError::MissingColumn(column))?;
    let mut out = Vec::new();
    for record in rdr.records() {
        let text = record?.get(col).unwrap_or("").to_owned();
        if !text.trim().is_empty() {
            out.push(Example { text, label: Label::Ham });
        }
    }
    Ok(out)
}

/// SpamAssassin mail, one JSON object a line: `spam` (bool), `subject`, `body`.
/// Each becomes the comment [`mail_as_comment`] makes of it.
pub fn spamassassin_jsonl(reader: impl Read) -> Result<Vec<Example>, CorpusError> {
    #[derive(serde::Deserialize)]
    struct Mail {
        spam: bool,
        #[serde(default)]
        subject: String,
        #[serde(default)]
        body: String,
    }
    let mails: Vec<Mail> = json_lines(reader)?;
    Ok(mails
        .into_iter()
        .map(|m| Example {
            text: mail_as_comment(&m.subject, &m.body),
            label: if m.spam { Label::Spam } else { Label::Ham },
        })
        .filter(|e| !e.text.trim().is_empty())
        .collect())
}

/// Longest text kept of a mail, in characters (cut at a space): a long comment.
pub const MAIL_MAX_CHARS: usize = 1500;

/// What a comment form would receive of a mail: the subject without list tags
/// and `Re:`, then the body without what only mail has: HTML's head, styles,
/// scripts and comments, quoted lines (`>`, `|`), header lines,
/// and everything from a signature (`-- `) or a long separator line (`____`,
/// `----`, `====`: mailing-list footers) on; cut to [`MAIL_MAX_CHARS`].
///
/// Mail formatting is not a spam signal on a comment form: the spam is mostly
/// HTML and the ham mostly quoted plain text, so without this the filter would
/// learn the formats instead of the words.
pub fn mail_as_comment(subject: &str, body: &str) -> String {
    let mut out = clean_subject(subject);
    let body = strip_html_blocks(body);
    let mut kept = String::new();
    for line in body.lines() {
        let t = line.trim();
        if t == "--" || is_separator(t) {
            break;
        }
        if t.starts_with(['>', '|']) || is_header_line(t) {
            continue;
        }
        kept.push_str(t);
        kept.push('\n');
    }
    let body = kept.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>().join("\n\n");
    if !out.is_empty() && !body.is_empty() {
        out.push_str("\n\n");
    }
    out.push_str(&body);
    cut_at_space(&out, MAIL_MAX_CHARS)
}

fn clean_subject(subject: &str) -> String {
    let mut s = subject.trim();
    loop {
        let before = s;
        if s.starts_with('[')
            && let Some(end) = s.find(']')
        {
            s = s[end + 1..].trim_start();
        }
        for prefix in ["re:", "fw:", "fwd:"] {
            if s.get(..prefix.len()).is_some_and(|p| p.eq_ignore_ascii_case(prefix)) {
                s = s[prefix.len()..].trim_start();
            }
        }
        if s == before {
            break;
        }
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A line of 10 or more `-`, `_`, `=`, `~` or `*` only (spaces allowed), or one starting with 20 of them.
fn is_separator(line: &str) -> bool {
    let marks = line.chars().take_while(|c| matches!(c, '-' | '_' | '=' | '~' | '*' | ' ')).count();
    (marks >= 10 && marks == line.chars().count()) || marks >= 20
}

fn is_header_line(line: &str) -> bool {
    const HEADERS: [&str; 8] = ["date:", "from:", "to:", "cc:", "subject:", "sent:", "message-id:", "reply-to:"];
    let lower = line.get(..12).unwrap_or(line).to_ascii_lowercase();
    HEADERS.iter().any(|h| lower.starts_with(h))
}

/// Removes `<head>`, `<style>` and `<script>` elements and `<!-- -->` comments, whose text is not read.
fn strip_html_blocks(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let lower = body.to_ascii_lowercase();
    let mut i = 0;
    while i < body.len() {
        let rest = &lower[i..];
        let Some(open) = rest.find('<') else {
            out.push_str(&body[i..]);
            break;
        };
        out.push_str(&body[i..i + open]);
        let at = &rest[open..];
        let end = if at.starts_with("<!--") {
            at.find("-->").map(|e| e + 3)
        } else {
            ["head", "style", "script"].iter().find_map(|name| {
                let opens = at.strip_prefix('<')?.strip_prefix(name)?;
                opens.starts_with(|c: char| c == '>' || c.is_ascii_whitespace()).then_some(())?;
                let close = format!("</{name}");
                at.find(&close).map(|e| at[e..].find('>').map_or(at.len(), |g| e + g + 1))
            })
        };
        match end {
            Some(end) => {
                out.push(' ');
                i += open + end;
            }
            None => {
                out.push('<');
                i += open + 1;
            }
        }
    }
    out
}

/// `text` cut to at most `max` characters, at the last space before the limit.
fn cut_at_space(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((end, _)) => {
            let cut = text[..end].rfind(char::is_whitespace).unwrap_or(end);
            text[..cut].trim_end().to_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn youtube_with_quoted_newlines() {
        let csv = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\n\
                   a,Bob,2013,\"Hey, check\nmy channel\",1\n\
                   b,Ann,2014,nice song,0\n";
        let ex = youtube_csv(csv.as_bytes()).expect("valid CSV");
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0], Example { text: "Hey, check\nmy channel".into(), label: Label::Spam });
        assert_eq!(ex[1].label, Label::Ham);
    }

    #[test]
    fn youtube_errors() {
        assert!(matches!(youtube_csv("A,B\n1,2\n".as_bytes()), Err(CorpusError::MissingColumn("CONTENT"))));
        let bad = "COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\na,b,c,d,7\n";
        assert!(matches!(youtube_csv(bad.as_bytes()), Err(CorpusError::BadLabel { line: 2, .. })));
    }

    #[test]
    fn sms_lines() {
        let ex = sms_tsv("ham\tOk lar...\r\nspam\tWIN a prize\tnow\n\n".as_bytes()).expect("valid TSV");
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[1], Example { text: "WIN a prize\tnow".into(), label: Label::Spam });
        assert!(sms_tsv("maybe\tx\n".as_bytes()).is_err());
    }

    #[test]
    fn news_comments_are_ham() {
        let lines =
            "{\"text\": \"Merkel would never say \\\"no\\\"\", \"label\": 1}\n\n{\"text\": \"ok\", \"label\": 0}\n";
        let ex = news_jsonl(lines.as_bytes()).expect("valid JSON lines");
        assert_eq!(ex.len(), 2);
        assert_eq!(ex[0], Example { text: "Merkel would never say \"no\"".into(), label: Label::Ham });
        assert!(matches!(news_jsonl("{\"text\": 1}\n".as_bytes()), Err(CorpusError::Json { line: 1, .. })));
        let lines = "{\"title\": \"a\", \"text\": \"1\"}\n{\"title\": \"b\", \"text\": \"2\"}\n{\"title\": \"a\", \"text\": \"3\"}\n";
        let by_article = news_jsonl_by_article(lines.as_bytes()).expect("valid JSON lines");
        let texts: Vec<Vec<&str>> = by_article.iter().map(|g| g.iter().map(|e| e.text.as_str()).collect()).collect();
        assert_eq!(texts, vec![vec!["1", "3"], vec!["2"]]);
        let csv = "id,comment,is_toxic\n1,\"A long, thoughtful\ncomment.\",no\n2,,no\n";
        let ex = news_csv(csv.as_bytes(), "comment").expect("valid CSV");
        assert_eq!(ex, vec![Example { text: "A long, thoughtful\ncomment.".into(), label: Label::Ham }]);
        assert!(matches!(news_csv("a,b\n".as_bytes(), "comment"), Err(CorpusError::MissingColumn("comment"))));
    }

    #[test]
    fn mail_becomes_a_comment() {
        let body = "<HTML><HEAD><STYLE>p { color: red }</STYLE></HEAD><BODY><!-- x -->\n\
                    <p>Cheap <b>loans</b> today</p>\n</BODY></HTML>";
        let text = mail_as_comment("[ILUG] Re: Re: Loans   10.206", body);
        assert!(text.starts_with("Loans 10.206\n\n"), "{text:?}");
        assert!(text.contains("Cheap <b>loans</b> today") && !text.contains("color") && !text.contains("x -->"));

        let body = "    Date:        Wed, 21 Aug 2002\n> quoted line\n  | quoted too\n\
                    For me it is very repeatable.\n\n\n\nSecond paragraph.\n-- \nSig\n";
        assert_eq!(
            mail_as_comment("Re: New window", body),
            "New window\n\nFor me it is very repeatable.\n\nSecond paragraph."
        );
        let footer = "Text.\n------------------------ Yahoo! Groups Sponsor ---------------------~-->\nBuy";
        assert_eq!(mail_as_comment("", footer), "Text.");
        let long = "word ".repeat(1000);
        let cut = mail_as_comment("", &long);
        assert!(cut.chars().count() <= MAIL_MAX_CHARS && cut.ends_with("word"));
        // An unclosed style block is kept as text rather than swallowing the rest.
        assert!(mail_as_comment("", "a <style b").contains("<style b"));
        assert_eq!(mail_as_comment("ç½‘ç»œ Best", ""), "ç½‘ç»œ Best", "non-ASCII subjects are cut at characters");
    }
}
