//! Data-set parsers: the YouTube comment CSVs and the SMS collection, from any [`Read`].

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
            Self::BadLabel { line, found } => write!(f, "record {line}: unknown label {found:?}"),
        }
    }
}

impl std::error::Error for CorpusError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io(e) => Some(e),
            Self::Csv(e) => Some(e),
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
}
