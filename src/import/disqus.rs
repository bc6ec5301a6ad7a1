//! `broadsheet import disqus`: the comments of a Disqus export, filed under
//! the articles their pages became.
//!
//! A Disqus export (Admin → Moderate → Export) is one XML file: `<thread>`s
//! (a page that had comments: its address and title) and then `<post>`s (the
//! comments: text as HTML, author, date, state, the thread they are on and
//! the post they answer). Each thread's address is matched to an article:
//! its current address (`/{yyyy}/{mm}/{dd}/{slug}/`, `/{slug}/`), or an old
//! address an earlier WordPress import recorded. Comments on pages that match
//! nothing are counted and listed, not lost silently. As with WordPress
//! imports, each comment is keyed on its Disqus id, so a second import of the
//! same file changes nothing, and everything happens in one transaction.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

use chrono::{DateTime, Utc};
use quick_xml::Reader;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};

use super::content;
use super::wordpress::{ImportError, Tally, old_address};
use super::wxr::WxrError;
use crate::domain::comment;
use crate::store::{ImportComment, Store};

/// Deepest nesting a Disqus export has any use for.
const MAX_DEPTH: usize = 16;
/// Longest text of one element.
const MAX_TEXT: usize = 16 * 1024 * 1024;

/// A page that had comments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisqusThread {
    pub id: String,
    pub link: String,
    pub title: String,
}

/// A comment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisqusPost {
    pub id: String,
    pub thread: String,
    pub parent: Option<String>,
    pub message: String,
    pub created_at: String,
    pub author_name: String,
    pub author_email: String,
    pub ip: String,
    pub is_deleted: bool,
    pub is_spam: bool,
    /// `false` when Disqus held it for moderation (absent in older exports).
    pub is_approved: bool,
}

/// The whole export, read as a stream (threads and posts only).
#[derive(Debug, Default)]
pub struct DisqusExport {
    pub threads: Vec<DisqusThread>,
    pub posts: Vec<DisqusPost>,
}

/// Reads a Disqus export; anything malformed stops with the line and element.
pub fn read<R: BufRead>(input: R) -> Result<DisqusExport, WxrError> {
    let mut xml = Reader::from_reader(input);
    xml.config_mut().check_end_names = true;
    let mut buf = Vec::with_capacity(64 * 1024);
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut export = DisqusExport::default();
    let mut thread: Option<DisqusThread> = None;
    let mut post: Option<DisqusPost> = None;
    let mut line = 1u64;
    let error = |line: u64, stack: &[String], message: String| WxrError {
        line,
        element: stack.last().cloned().unwrap_or_default(),
        message,
    };
    loop {
        buf.clear();
        let event = match xml.read_event_into(&mut buf) {
            Ok(event) => event.into_owned(),
            Err(err) => return Err(error(line, &stack, format!("not well-formed XML: {err}"))),
        };
        line += buf.iter().filter(|b| **b == b'\n').count() as u64;
        let (start, end): (Option<BytesStart>, bool) = match event {
            Event::Start(s) => (Some(s), false),
            Event::Empty(s) => (Some(s), true),
            Event::End(_) => (None, true),
            Event::Text(t) => {
                text.push_str(&t.xml10_content());
                (None, false)
            }
            Event::CData(c) => {
                text.push_str(&c.xml10_content());
                (None, false)
            }
            Event::GeneralRef(r) => {
                match r.resolve_char_ref() {
                    Ok(Some(c)) => text.push(c),
                    _ => match resolve_predefined_entity(&r.xml10_content()) {
                        Some(t) => text.push_str(t),
                        None => return Err(error(line, &stack, format!("unknown entity &{};", r.xml10_content()))),
                    },
                }
                (None, false)
            }
            Event::Eof => {
                if let Some(open) = stack.last() {
                    return Err(error(line, &stack, format!("the file ends inside <{open}>: it is cut short")));
                }
                return Ok(export);
            }
            Event::DocType(_) => return Err(error(line, &stack, "a Disqus export has no DOCTYPE".into())),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => (None, false),
        };
        if text.len() > MAX_TEXT {
            return Err(error(line, &stack, "the text of one element is over 16 MiB".into()));
        }
        if let Some(start) = start {
            let name = local_name(start.name().as_ref());
            if stack.is_empty() && name != "disqus" {
                return Err(error(line, &stack, format!("not a Disqus export: it starts with <{name}>, not <disqus>")));
            }
            if stack.len() >= MAX_DEPTH {
                return Err(error(line, &stack, format!("elements nested more than {MAX_DEPTH} deep")));
            }
            let dsq_id = start
                .attributes()
                .flatten()
                .find(|a| local_name(a.key.as_ref()) == "id")
                .map(|a| a.value.to_string())
                .unwrap_or_default();
            match (stack.len(), name.as_str()) {
                (1, "thread") => thread = Some(DisqusThread { id: dsq_id, ..DisqusThread::default() }),
                (1, "post") => post = Some(DisqusPost { id: dsq_id, is_approved: true, ..DisqusPost::default() }),
                (2, "thread") => {
                    if let Some(p) = post.as_mut() {
                        p.thread = dsq_id;
                    }
                }
                (2, "parent") => {
                    if let Some(p) = post.as_mut() {
                        p.parent = Some(dsq_id).filter(|id| !id.is_empty());
                    }
                }
                _ => {}
            }
            stack.push(name);
            text.clear();
        }
        if end {
            let Some(name) = stack.pop() else {
                return Err(error(line, &stack, "an end tag with nothing open".into()));
            };
            let value = std::mem::take(&mut text);
            let flag = value.trim() == "true";
            let parent = stack.last().map(String::as_str);
            match (stack.len(), name.as_str()) {
                (1, "thread") => export.threads.extend(thread.take()),
                (1, "post") => export.posts.extend(post.take()),
                (2, field) => {
                    if let Some(t) = thread.as_mut() {
                        match field {
                            "link" => t.link = value.trim().to_owned(),
                            "title" => t.title = value,
                            _ => {}
                        }
                    } else if let Some(p) = post.as_mut() {
                        match field {
                            "message" => p.message = value,
                            "createdAt" => p.created_at = value.trim().to_owned(),
                            "ipAddress" => p.ip = value.trim().to_owned(),
                            "isDeleted" => p.is_deleted = flag,
                            "isSpam" => p.is_spam = flag,
                            "isApproved" => p.is_approved = flag,
                            _ => {}
                        }
                    }
                }
                (3, field) if parent == Some("author") => {
                    if let Some(p) = post.as_mut() {
                        match field {
                            "name" => p.author_name = value.trim().to_owned(),
                            "email" => p.author_email = value.trim().to_owned(),
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// An element's name without its namespace prefix.
fn local_name(name: &str) -> String {
    name.rsplit(':').next().unwrap_or_default().to_owned()
}

/// What a Disqus import did (or, for a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct DisqusSummary {
    pub dry_run: bool,
    pub comments: Tally,
    /// Pages whose address matches no article here, with their comment counts.
    pub unmatched: BTreeMap<String, usize>,
}

impl std::fmt::Display for DisqusSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run { "would import" } else { "imported" };
        let t = self.comments;
        writeln!(f, "Disqus comments {verb}: {} added, {} updated, {} unchanged", t.added, t.updated, t.unchanged)?;
        if t.added + t.updated == 0 {
            writeln!(f, "Nothing changed: everything in the file was already here.")?;
        }
        if !self.unmatched.is_empty() {
            let n: usize = self.unmatched.values().sum();
            writeln!(f, "{n} comments on {} pages that match no article here, not imported:", self.unmatched.len())?;
            for (link, count) in &self.unmatched {
                writeln!(f, "  {link} ({count})")?;
            }
        }
        Ok(())
    }
}

/// Imports the Disqus export at `path`. Nothing is written unless the whole
/// file was read and filed; with `dry_run`, nothing at all.
pub async fn import_disqus(
    store: &Store,
    time_zone: chrono_tz::Tz,
    path: &Path,
    dry_run: bool,
) -> Result<DisqusSummary, ImportError> {
    let file = std::fs::File::open(path).map_err(|source| ImportError::Open { path: path.to_owned(), source })?;
    let export = read(std::io::BufReader::with_capacity(256 * 1024, file))?;
    let now = Utc::now().timestamp();
    let retention = i64::from(store.discussion_settings().await?.ip_retention_days) * 86_400;
    let mut summary = DisqusSummary { dry_run, ..DisqusSummary::default() };
    let mut tx = store.begin_import().await?;
    let origin = "disqus";
    let known = tx.known(origin).await?;

    // Each thread's article, by its address.
    let mut article_of: HashMap<&str, Option<i64>> = HashMap::new();
    for t in &export.threads {
        let article = match old_address(&t.link) {
            Some(path) => tx.article_at(&path, time_zone).await?,
            None => None,
        };
        article_of.insert(t.id.as_str(), article);
    }
    let link_of: HashMap<&str, &str> = export.threads.iter().map(|t| (t.id.as_str(), t.link.as_str())).collect();

    let mut local: HashMap<&str, i64> = HashMap::new();
    let mut waiting: Vec<&DisqusPost> = Vec::new();
    for p in &export.posts {
        match article_of.get(p.thread.as_str()).copied().flatten() {
            Some(_) => waiting.push(p),
            None => {
                let link = link_of.get(p.thread.as_str()).copied().unwrap_or("(a thread not in the file)");
                *summary.unmatched.entry(link.to_owned()).or_default() += 1;
            }
        }
    }
    // Parents before replies: one batch per level of the threads.
    while !waiting.is_empty() {
        let pending: HashSet<&str> = waiting.iter().map(|p| p.id.as_str()).collect();
        let (mut ready, later): (Vec<&DisqusPost>, Vec<&DisqusPost>) = waiting
            .into_iter()
            .partition(|p| p.parent.as_deref().is_none_or(|parent| !pending.contains(parent) || parent == p.id));
        if ready.is_empty() {
            ready = later;
            waiting = Vec::new();
        } else {
            waiting = later;
        }
        let prepared: Vec<Prepared> = ready.iter().map(|p| prepare(p, now, retention)).collect();
        let mut fresh: Vec<(usize, ImportComment)> = Vec::new();
        for (i, (p, prep)) in ready.iter().zip(&prepared).enumerate() {
            let digest = blake3::hash(format!("{p:?}").as_bytes()).to_hex()[..32].to_owned();
            let parent_id = p.parent.as_deref().and_then(|parent| {
                local
                    .get(parent)
                    .copied()
                    .or_else(|| known.get(&("comment".to_owned(), parent.to_owned())).map(|(id, _)| *id))
            });
            let row = ImportComment {
                article_id: article_of[p.thread.as_str()].unwrap_or_default(),
                parent_id,
                author_name: if p.author_name.is_empty() { "Anonymous" } else { &p.author_name },
                author_email: &p.author_email,
                author_url: None,
                body: &prep.body,
                body_html: &prep.body_html,
                status: prep.status,
                is_staff: false,
                ip: prep.ip.then_some(p.ip.as_str()),
                created_at: prep.created_at,
            };
            match known.get(&("comment".to_owned(), p.id.clone())) {
                Some((id, old)) if *old == digest => {
                    summary.comments.count_unchanged();
                    local.insert(p.id.as_str(), *id);
                }
                Some((id, _)) => {
                    tx.comment(Some(*id), &row).await?;
                    tx.remember(origin, "comment", &p.id, *id, &digest, None).await?;
                    summary.comments.count_updated();
                    local.insert(p.id.as_str(), *id);
                }
                None => fresh.push((i, row)),
            }
        }
        let rows: Vec<ImportComment> = fresh.iter().map(|(_, row)| row.clone()).collect();
        let ids = tx.new_comments(&rows).await?;
        for ((i, _), id) in fresh.iter().zip(ids) {
            let p = ready[*i];
            let digest = blake3::hash(format!("{p:?}").as_bytes()).to_hex()[..32].to_owned();
            tx.remember(origin, "comment", &p.id, id, &digest, None).await?;
            summary.comments.count_added();
            local.insert(p.id.as_str(), id);
        }
    }
    tx.finish(now, dry_run).await?;
    Ok(summary)
}

/// What a Disqus comment becomes here, before it is filed.
struct Prepared {
    body: String,
    body_html: String,
    status: &'static str,
    created_at: i64,
    ip: bool,
}

fn prepare(p: &DisqusPost, now: i64, retention: i64) -> Prepared {
    let status = match (p.is_deleted, p.is_spam, p.is_approved) {
        (true, _, _) => "trash",
        (_, true, _) => "spam",
        (_, _, false) => "pending",
        _ => "approved",
    };
    // Disqus dates are UTC: `2013-01-11T10:00:00Z`.
    let created_at = DateTime::parse_from_rfc3339(&p.created_at).map(|t| t.timestamp()).unwrap_or(0);
    let body = content::comment_markdown(&p.message);
    let body_html = comment::render_body(&body);
    Prepared { body, body_html, status, created_at, ip: created_at > now - retention && !p.ip.is_empty() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXPORT: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<disqus xmlns="http://disqus.com" xmlns:dsq="http://disqus.com/disqus-internals">
  <category dsq:id="1"><forum>gazette</forum><title>General</title></category>
  <thread dsq:id="10">
    <id>42 https://old.example/?p=42</id><forum>gazette</forum><category dsq:id="1"/>
    <link>https://old.example/2013/01/10/hello/</link><title>Hello &amp; welcome</title>
    <message/><createdAt>2013-01-10T20:15:40Z</createdAt>
    <author><email>editor@old.example</email><name>Editor</name><isAnonymous>false</isAnonymous></author>
    <isClosed>false</isClosed><isDeleted>false</isDeleted>
  </thread>
  <post dsq:id="100">
    <id/><message><![CDATA[<p>First!</p>]]></message><createdAt>2013-01-11T10:00:00Z</createdAt>
    <isDeleted>false</isDeleted><isSpam>false</isSpam>
    <author><email>ana@example.org</email><name>Ana</name><isAnonymous>false</isAnonymous></author>
    <ipAddress>203.0.113.9</ipAddress><thread dsq:id="10"/>
  </post>
  <post dsq:id="101">
    <message><![CDATA[<p>A reply</p>]]></message><createdAt>2013-01-11T11:00:00Z</createdAt>
    <isDeleted>false</isDeleted><isSpam>true</isSpam>
    <author><name>Ben</name><isAnonymous>true</isAnonymous></author>
    <thread dsq:id="10"/><parent dsq:id="100"/>
  </post>
</disqus>"#;

    #[test]
    fn reads_threads_and_posts() {
        let export = read(EXPORT.as_bytes()).expect("reads");
        assert_eq!(export.threads.len(), 1);
        assert_eq!(export.threads[0].title, "Hello & welcome");
        assert_eq!(export.threads[0].link, "https://old.example/2013/01/10/hello/");
        assert_eq!(export.posts.len(), 2);
        assert_eq!(export.posts[0].thread, "10");
        assert_eq!(export.posts[0].author_email, "ana@example.org");
        assert_eq!(export.posts[1].parent.as_deref(), Some("100"));
        assert!(export.posts[1].is_spam && !export.posts[0].is_spam);
    }

    #[test]
    fn bad_files_say_where() {
        let cut = &EXPORT[..EXPORT.find("  <post dsq:id=\"101\">").expect("second post")];
        let err = read(cut.as_bytes()).expect_err("cut short");
        assert!(err.to_string().contains("cut short") && err.to_string().starts_with("line 17"), "{err}");
        let err = read(&EXPORT.as_bytes()[..EXPORT.len() / 2]).expect_err("cut in a tag");
        assert!(err.to_string().starts_with("line 11"), "{err}");
        let err = read("<rss><channel/></rss>".as_bytes()).expect_err("not disqus");
        assert!(err.to_string().contains("not a Disqus export"), "{err}");
    }
}
