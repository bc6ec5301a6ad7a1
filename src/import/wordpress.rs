//! `broadsheet import wxr`: a WordPress site brought over in one transaction.
//!
//! The file is read twice, as a stream both times: first for its attachments
//! (a post may name its featured image or a gallery's pictures before they
//! appear), then for everything else in the file's order (authors, terms,
//! posts and pages with their comments). Every item is keyed on its WordPress
//! id in the `imported` table with a digest of what it was, so that a second
//! import of the same file changes nothing and a later export of the same site
//! adds and updates only what changed. A dry run does all the work and rolls
//! it back.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::{NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::content::{self, Attachments, Picture};
use super::wxr::{TermKind, WxrComment, WxrError, WxrItem, WxrPost, WxrReader, WxrTerm};
use crate::domain::comment;
use crate::domain::markdown;
use crate::domain::slug::Slug;
use crate::media::{self, MediaStore};
use crate::spam::{LOCAL_SITE, SpamInput};
use crate::store::{
    ImportArticle, ImportComment, ImportImage, ImportMedia, ImportTx, IndexText, Known, RedirectTarget, Store,
    StoreError, Table,
};

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// A copy of the old site's `wp-content/uploads`.
    pub uploads: Option<PathBuf>,
    /// Report what would happen; write nothing.
    pub dry_run: bool,
    /// Teach the spam filter from the imported comments' states (spam, and
    /// approved as not spam), as if a moderator had decided each.
    pub learn: bool,
}

/// Added, updated and unchanged items of one kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
}

impl Tally {
    fn count(&mut self, change: Change) {
        match change {
            Change::Added => self.added += 1,
            Change::Updated => self.updated += 1,
            Change::Unchanged => self.unchanged += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.added + self.updated + self.unchanged
    }

    pub fn count_added(&mut self) {
        self.count(Change::Added);
    }

    pub fn count_updated(&mut self) {
        self.count(Change::Updated);
    }

    pub fn count_unchanged(&mut self) {
        self.count(Change::Unchanged);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Added,
    Updated,
    Unchanged,
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub site: String,
    pub dry_run: bool,
    pub authors: Tally,
    pub categories: Tally,
    pub tags: Tally,
    pub posts: Tally,
    pub pages: Tally,
    pub attachments: Tally,
    pub comments: Tally,
    /// Items not brought over, by what they were ("nav_menu_item", "post in trash"…).
    pub skipped: BTreeMap<String, usize>,
    /// Attachments whose file was not found under `--uploads`: their old address.
    pub missing_files: Vec<String>,
    pub unknown_shortcodes: BTreeMap<String, usize>,
    pub dynamic_blocks: BTreeMap<String, usize>,
    /// Things a newsroom should know (statuses Broadsheet does not have…).
    pub notes: Vec<String>,
    /// Lessons given to the spam filter (with `--learn`).
    pub lessons: usize,
}

impl Summary {
    /// Whether the import changed anything.
    pub fn changed_anything(&self) -> bool {
        [self.authors, self.categories, self.tags, self.posts, self.pages, self.attachments, self.comments]
            .iter()
            .any(|t| t.added + t.updated > 0)
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run { "would import" } else { "imported" };
        writeln!(f, "{} {verb}:", if self.site.is_empty() { "the file" } else { &self.site })?;
        for (name, t) in [
            ("authors", self.authors),
            ("categories", self.categories),
            ("tags", self.tags),
            ("posts", self.posts),
            ("pages", self.pages),
            ("attachments", self.attachments),
            ("comments", self.comments),
        ] {
            writeln!(f, "  {name:<12} {:>7} added {:>7} updated {:>7} unchanged", t.added, t.updated, t.unchanged)?;
        }
        if !self.changed_anything() {
            writeln!(f, "Nothing changed: everything in the file was already here.")?;
        }
        let list = |map: &BTreeMap<String, usize>| {
            map.iter().map(|(k, n)| format!("{k} ({n})")).collect::<Vec<_>>().join(", ")
        };
        if !self.skipped.is_empty() {
            writeln!(f, "Not brought over: {}", list(&self.skipped))?;
        }
        if !self.unknown_shortcodes.is_empty() {
            writeln!(f, "Shortcodes kept as text: {}", list(&self.unknown_shortcodes))?;
        }
        if !self.dynamic_blocks.is_empty() {
            writeln!(f, "Blocks WordPress drew itself, left out: {}", list(&self.dynamic_blocks))?;
        }
        if !self.missing_files.is_empty() {
            writeln!(
                f,
                "{} attachments not copied (no file under --uploads, or not an image): kept at their old address:",
                self.missing_files.len()
            )?;
            for url in &self.missing_files {
                writeln!(f, "  {url}")?;
            }
        }
        for note in &self.notes {
            writeln!(f, "Note: {note}")?;
        }
        if self.lessons > 0 {
            writeln!(
                f,
                "The spam filter learnt from {} imported comments (spam, and approved as not spam).",
                self.lessons
            )?;
        }
        Ok(())
    }
}

/// Why an import stopped (the site is left as it was).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Open { path: PathBuf, source: std::io::Error },
    #[error("{0}")]
    File(#[from] WxrError),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// What the importer knows about the old site's attachments.
#[derive(Debug, Default)]
struct Library {
    by_id: HashMap<i64, Picture>,
    /// Width and height of the media-library copy, by WordPress id.
    sizes: HashMap<i64, (Option<i64>, Option<i64>)>,
    credit: HashMap<i64, String>,
    by_parent: HashMap<i64, Vec<i64>>,
    /// Old address (without a resized copy's `-300x200`) to the new one.
    by_url: HashMap<String, String>,
    /// A digest of all of the above: what the posts' conversion depends on.
    fingerprint: String,
}

impl Attachments for Library {
    fn by_id(&self, id: i64) -> Option<&Picture> {
        self.by_id.get(&id)
    }

    fn of_post(&self, post_id: i64) -> Vec<&Picture> {
        self.by_parent
            .get(&post_id)
            .map_or_else(Vec::new, |ids| ids.iter().filter_map(|id| self.by_id.get(id)).collect())
    }

    fn rewrite(&self, url: &str) -> Option<String> {
        if let Some(local) = self.by_url.get(url) {
            return Some(local.clone());
        }
        let original = without_size_suffix(url)?;
        self.by_url.get(&original).cloned()
    }
}

/// An old site's address as a key of the redirects: its path, or for a query
/// address of the front page (WordPress's plain links) `/?{query}`.
pub fn old_address(url: &str) -> Option<String> {
    let url = url.trim().split('#').next()?;
    let rest = url.split_once("://").map_or(url, |(_, rest)| &rest[rest.find('/').unwrap_or(rest.len())..]);
    let (path, query) = rest.split_once('?').map_or((rest, None), |(p, q)| (p, Some(q)));
    let path = if path.is_empty() { "/" } else { path };
    if !path.starts_with('/') {
        return None;
    }
    Some(match query.filter(|q| !q.is_empty()) {
        Some(query) if path == "/" || path == "/index.php" => format!("/?{query}"),
        Some(_) | None => path.to_owned(),
    })
}

/// `…/photo-300x200.jpg` → `…/photo.jpg` (WordPress's resized copies).
fn without_size_suffix(url: &str) -> Option<String> {
    let dot = url.rfind('.')?;
    let (stem, ext) = url.split_at(dot);
    let dash = stem.rfind('-')?;
    let size = &stem[dash + 1..];
    let (w, h) = size.split_once('x')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(w) && digits(h)).then(|| format!("{}{ext}", &stem[..dash]))
}

fn open(path: &Path) -> Result<WxrReader<BufReader<File>>, ImportError> {
    let file = File::open(path).map_err(|source| ImportError::Open { path: path.to_owned(), source })?;
    Ok(WxrReader::new(BufReader::with_capacity(256 * 1024, file)))
}

fn digest(item: &impl std::fmt::Debug) -> String {
    blake3::hash(format!("{item:?}").as_bytes()).to_hex()[..32].to_owned()
}

/// A WordPress date (`YYYY-MM-DD HH:MM:SS`): UTC when it has one, else the
/// site's local time in `tz`.
fn wp_time(gmt: &str, local: &str, tz: Tz) -> Option<i64> {
    let parse = |s: &str| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok();
    if let Some(at) = parse(gmt).filter(|_| !gmt.starts_with("0000")) {
        return Some(Utc.from_utc_datetime(&at).timestamp());
    }
    parse(local).and_then(|at| tz.from_local_datetime(&at).earliest()).map(|at| at.timestamp())
}

/// A slug as WordPress stored it (perhaps percent-encoded), made valid here.
fn slug_from(raw: &str, fallback: &str) -> Option<String> {
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8_lossy();
    Slug::parse(&decoded)
        .or_else(|_| Slug::from_title(&decoded))
        .or_else(|_| Slug::from_title(fallback))
        .ok()
        .map(|s| s.to_string())
}

/// Text without tags or entities (titles, excerpts).
fn plain(html: &str) -> String {
    let text = ammonia::Builder::empty().clean(html).to_string();
    let text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"");
    let text = text.replace("&#39;", "'").replace("&nbsp;", " ");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Imports the WXR file at `path` into `store`. Nothing is written unless the
/// whole file was read and filed; with `dry_run`, nothing at all.
pub async fn import_wxr(
    store: &Store,
    media: &MediaStore,
    time_zone: Tz,
    path: &Path,
    options: &Options,
    progress: &indicatif::ProgressBar,
) -> Result<Summary, ImportError> {
    let now = Utc::now().timestamp();
    let retention_days = store.discussion_settings().await?.ip_retention_days;
    let keep_ip_after = now - i64::from(retention_days) * 86_400;

    // First reading: the attachments, and how many items there are.
    progress.set_message("reading attachments");
    let mut reader = open(path)?;
    let mut attachments = Vec::new();
    let mut site = String::new();
    let mut items = 0u64;
    while let Some(item) = reader.next()? {
        match item {
            WxrItem::Site(s) => {
                site =
                    [s.base_blog_url, s.base_site_url, s.link].into_iter().find(|u| !u.is_empty()).unwrap_or_default()
            }
            WxrItem::Post(post) if post.post_type == "attachment" => attachments.push(*post),
            _ => {}
        }
        items += 1;
    }
    let origin = site.trim_end_matches('/').to_owned();
    let mut summary = Summary { site: origin.clone(), dry_run: options.dry_run, ..Summary::default() };

    let mut tx = store.begin_import().await?;
    let known = tx.known(&origin).await?;
    let mut run = Run {
        tx,
        known,
        origin,
        summary: &mut summary,
        local: HashMap::new(),
        terms_seen: HashMap::new(),
        learn: options.learn.then_some(now),
    };

    progress.set_length(items);
    progress.set_message("attachments");
    let mut library = Library::default();
    // Attachment pages lead to the post they belong to, else to the file.
    let mut attachment_pages: Vec<(Vec<String>, i64, i64)> = Vec::new();
    for a in &attachments {
        let media_id = run.attachment(a, options, media, &mut library).await?;
        let mut old: Vec<String> = old_address(&a.link).into_iter().collect();
        old.push(format!("/?attachment_id={}", a.id));
        attachment_pages.push((old, a.parent, media_id));
        progress.inc(1);
    }
    drop(attachments);
    let mut pictures: Vec<_> = library.by_id.iter().collect();
    pictures.sort_by_key(|(id, _)| **id);
    library.fingerprint = digest(&(pictures, library.credit.len()));

    // Second reading: everything else, in order.
    let mut reader = open(path)?;
    let mut categories: HashMap<String, i64> = HashMap::new();
    let mut tags: HashMap<String, i64> = HashMap::new();
    let mut category_parents: Vec<(i64, String)> = Vec::new();
    let mut authors: HashMap<String, (i64, String)> = HashMap::new();
    let mut page_parents: Vec<(i64, i64)> = Vec::new();
    while let Some(item) = reader.next()? {
        match item {
            WxrItem::Site(_) => {}
            WxrItem::Author(a) => {
                progress.set_message("authors");
                let email = if comment::is_email(&a.email) {
                    a.email.clone()
                } else {
                    format!("{}@imported.invalid", slug_from(&a.login, "author").unwrap_or_else(|| "author".into()))
                };
                let name = if a.display_name.trim().is_empty() { a.login.clone() } else { a.display_name.clone() };
                let (_, author_id, created) = run.tx.author(&email, &name, &a.login, now).await?;
                run.summary.authors.count(if created { Change::Added } else { Change::Unchanged });
                let target = RedirectTarget::Author(author_id);
                if let Some(id) = a.id {
                    run.tx.redirect(format!("/?author={id}"), target, now).await?;
                }
                if let Some(login) = slug_from(&a.login, "") {
                    run.tx.redirect(format!("/author/{login}/"), target, now).await?;
                }
                authors.insert(a.login.clone(), (author_id, name));
            }
            WxrItem::Term(term) => {
                progress.set_message("categories and tags");
                // A `<wp:term>` of the category or tag taxonomy is one like any other.
                let kind = match (term.kind, term.taxonomy.as_str()) {
                    (TermKind::Other, "category") => TermKind::Category,
                    (TermKind::Other, "post_tag") => TermKind::Tag,
                    (kind, _) => kind,
                };
                match kind {
                    TermKind::Category => {
                        let (id, changed) = run.term(&term, Table::Categories).await?;
                        categories.insert(term.slug.clone(), id);
                        let target = RedirectTarget::Category(id);
                        if let Some(wp_id) = term.id {
                            run.tx.redirect(format!("/?cat={wp_id}"), target, now).await?;
                        }
                        run.tx.redirect(format!("/category/{}/", term.slug), target, now).await?;
                        if changed && !term.parent.is_empty() {
                            category_parents.push((id, term.parent.clone()));
                        }
                    }
                    TermKind::Tag => {
                        let (id, _) = run.term(&term, Table::Tags).await?;
                        tags.insert(term.slug.clone(), id);
                        let target = RedirectTarget::Tag(id);
                        run.tx.redirect(format!("/?tag={}", term.slug), target, now).await?;
                        run.tx.redirect(format!("/tag/{}/", term.slug), target, now).await?;
                    }
                    TermKind::Other => {
                        *run.summary.skipped.entry(format!("{} term", term.taxonomy)).or_default() += 1;
                    }
                }
            }
            WxrItem::Post(post) => {
                progress.inc(1);
                progress.set_message("posts, pages and comments");
                let kind = match post.post_type.as_str() {
                    "post" => "article",
                    "page" => "page",
                    "attachment" => continue,
                    other => {
                        *run.summary.skipped.entry(other.to_owned()).or_default() += 1;
                        continue;
                    }
                };
                if matches!(post.status.as_str(), "trash" | "auto-draft") {
                    *run.summary.skipped.entry(format!("{} in {}", post.post_type, post.status)).or_default() += 1;
                    continue;
                }
                let terms = Terms { categories: &categories, tags: &tags, authors: &authors };
                let id = run.post(&post, kind, &terms, &library, time_zone, now).await?;
                let target = RedirectTarget::Article(id);
                let query = if kind == "page" { "page_id" } else { "p" };
                let mut old = vec![format!("/?{query}={}", post.id), format!("/?p={}", post.id)];
                old.extend(old_address(&post.link));
                old.extend(old_address(&post.guid).filter(|g| g.starts_with("/?")));
                for address in old {
                    run.tx.redirect(address, target, now).await?;
                }
                if kind == "page" && post.parent != 0 {
                    page_parents.push((id, post.parent));
                }
                run.comments(&post, id, time_zone, keep_ip_after).await?;
            }
        }
    }
    for (id, parent_slug) in category_parents {
        if let Some(&parent) = categories.get(&parent_slug) {
            run.tx.category_parent(id, parent).await?;
        }
    }
    for (id, parent) in page_parents {
        let parent = run.local.get(&("page", parent)).copied();
        run.tx.page_parent(id, parent).await?;
    }
    for (old, parent, media_id) in attachment_pages {
        let post = run.local.get(&("post", parent)).or_else(|| run.local.get(&("page", parent)));
        let target = post.map_or(RedirectTarget::Media(media_id), |&id| RedirectTarget::Article(id));
        for address in old {
            run.tx.redirect(address, target, now).await?;
        }
    }
    progress.set_message(if options.dry_run { "rolling back (dry run)" } else { "indexing and saving" });
    let Run { tx, .. } = run;
    tx.finish(now, options.dry_run).await?;
    Ok(summary)
}

/// The item maps a post needs.
struct Terms<'a> {
    categories: &'a HashMap<String, i64>,
    tags: &'a HashMap<String, i64>,
    /// Byline id and name by login.
    authors: &'a HashMap<String, (i64, String)>,
}

/// One import under way.
struct Run<'s> {
    tx: ImportTx,
    known: Known,
    origin: String,
    summary: &'s mut Summary,
    /// Rows made or found in this run, by kind and WordPress id.
    local: HashMap<(&'static str, i64), i64>,
    /// Categories and tags filed in this run, by kind and WordPress id.
    terms_seen: HashMap<(&'static str, String), i64>,
    /// With `--learn`: the time lessons are dated.
    learn: Option<i64>,
}

impl Run<'_> {
    /// Whether an earlier import brought this item, and whether it changed since.
    async fn earlier(&mut self, kind: &str, source_id: &str, digest: &str) -> Result<Earlier, ImportError> {
        Ok(match self.known.get(&(kind.to_owned(), source_id.to_owned())) {
            Some((id, old)) if old == digest => Earlier::Same(*id),
            Some((id, _)) => Earlier::Changed(*id),
            None => Earlier::New,
        })
    }

    /// A category or tag: its row, and whether this import added or changed it.
    async fn term(&mut self, term: &WxrTerm, table: Table) -> Result<(i64, bool), ImportError> {
        let kind = if table == Table::Categories { "category" } else { "tag" };
        let source_id = term.id.map_or_else(|| term.slug.clone(), |id| id.to_string());
        // WordPress 6 declares each category twice, as a category and as a term.
        if let Some(&id) = self.terms_seen.get(&(kind, source_id.clone())) {
            return Ok((id, false));
        }
        let digest = digest(&(&term.slug, &term.name, &term.parent, &term.description));
        let slug = slug_from(&term.slug, &term.name).unwrap_or_else(|| format!("{kind}-{source_id}"));
        let name = if term.name.trim().is_empty() { slug.clone() } else { plain(&term.name) };
        let tally = if table == Table::Categories { &mut self.summary.categories } else { &mut self.summary.tags };
        let earlier = match self.known.get(&(kind.to_owned(), source_id.clone())) {
            Some((id, old)) => Some((*id, old == &digest)),
            _ => None,
        };
        let tally_change = match earlier {
            Some((_, true)) => Change::Unchanged,
            Some((_, false)) => Change::Updated,
            None => Change::Added,
        };
        tally.count(tally_change);
        if let Some((id, true)) = earlier {
            self.terms_seen.insert((kind, source_id), id);
            return Ok((id, false));
        }
        let id = self.tx.term(table, earlier.map(|(id, _)| id), &slug, &name, None).await?;
        self.tx.remember(&self.origin, kind, &source_id, id, &digest, None).await?;
        self.terms_seen.insert((kind, source_id), id);
        Ok((id, true))
    }

    async fn attachment(
        &mut self,
        a: &WxrPost,
        options: &Options,
        media: &MediaStore,
        library: &mut Library,
    ) -> Result<i64, ImportError> {
        let meta = |key: &str| a.meta.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).unwrap_or_default();
        let url = if a.attachment_url.is_empty() { a.guid.clone() } else { a.attachment_url.clone() };
        let alt = meta("_wp_attachment_image_alt");
        let caption = plain(&a.excerpt);
        let credit = meta("_media_credit");
        let digest = digest(&(a.id, &url, &alt, &caption, &credit, &a.title, a.parent));
        let source_id = a.id.to_string();
        let earlier = self.earlier("attachment", &source_id, &digest).await?;
        let previous = match earlier {
            Earlier::Same(id) | Earlier::Changed(id) => Some((id, self.tx.media_row(id).await?)),
            Earlier::New => None,
        };
        // A copy already in the media library stays; an old address is
        // replaced by a copy once the file turns up under --uploads.
        let copied = previous.as_ref().is_some_and(|(_, (src, _, _))| src.starts_with("/media/"));
        let found = match copied {
            true => None,
            false => options.uploads.as_deref().and_then(|dir| upload_file(dir, &url)),
        };
        let (media_id, (src, width, height)) = match (earlier, previous, found) {
            (Earlier::Same(id), Some((_, row)), None) => {
                self.summary.attachments.count(Change::Unchanged);
                if !copied {
                    self.summary.missing_files.push(url.clone());
                }
                (id, row)
            }
            (_, previous, found) => {
                let original_name = url.rsplit('/').next().unwrap_or("").to_owned();
                let stored = match found {
                    Some(file) => stored_copy(&file, media, options.dry_run, &url).await,
                    None => None,
                };
                let (src, width, height, name, bytes) = match (stored, &previous) {
                    (Some(s), _) => s,
                    (None, Some((_, (src, w, h)))) if copied => (src.clone(), *w, *h, original_name, 0),
                    (None, _) => {
                        self.summary.missing_files.push(url.clone());
                        (url.clone(), None, None, original_name, 0)
                    }
                };
                let m = ImportMedia {
                    url: &src,
                    original_name: &name,
                    content_type: mime_of(&name),
                    bytes: bytes as i64,
                    width,
                    height,
                    alt: &alt,
                    caption: &caption,
                    created_at: wp_time(&a.date_gmt, &a.date, Tz::UTC).unwrap_or(0),
                };
                let id = self.tx.media(previous.as_ref().map(|(id, _)| *id), &m).await?;
                self.summary.attachments.count(if previous.is_none() { Change::Added } else { Change::Updated });
                self.tx.remember(&self.origin, "attachment", &source_id, id, &digest, Some(&url)).await?;
                (id, (src, width, height))
            }
        };
        library.by_url.insert(url.clone(), src.clone());
        library.by_id.insert(a.id, Picture { src, alt, caption });
        library.sizes.insert(a.id, (width, height));
        if !credit.is_empty() {
            library.credit.insert(a.id, credit);
        }
        if a.parent != 0 {
            library.by_parent.entry(a.parent).or_default().push(a.id);
        }
        Ok(media_id)
    }

    async fn post(
        &mut self,
        post: &WxrPost,
        kind: &'static str,
        terms: &Terms<'_>,
        library: &Library,
        tz: Tz,
        now: i64,
    ) -> Result<i64, ImportError> {
        let source_kind = if kind == "page" { "page" } else { "post" };
        let mut without_comments = post.clone();
        without_comments.comments.clear();
        // A post shows its attachments: when one of them moves (say, into the
        // media library), the post is converted again.
        let digest = digest(&(&without_comments, &library.fingerprint));
        let source_id = post.id.to_string();
        let earlier = self.earlier(source_kind, &source_id, &digest).await?;
        let tally = if kind == "page" { &mut self.summary.pages } else { &mut self.summary.posts };
        let id = match earlier {
            Earlier::Same(id) => {
                tally.count(Change::Unchanged);
                id
            }
            _ => {
                tally.count(if matches!(earlier, Earlier::New) { Change::Added } else { Change::Updated });
                let converted = content::convert(&post.content, post.id, library);
                for (name, n) in &converted.unknown_shortcodes {
                    *self.summary.unknown_shortcodes.entry(name.clone()).or_default() += n;
                }
                for (name, n) in &converted.dynamic_blocks {
                    *self.summary.dynamic_blocks.entry(name.clone()).or_default() += n;
                }
                let body_html = markdown::render(&converted.markdown);
                let headline = match plain(&post.title) {
                    t if t.is_empty() => "(no title)".to_owned(),
                    t => t,
                };
                let slug = slug_from(&post.slug, &headline).unwrap_or_else(|| format!("{source_kind}-{}", post.id));
                let at = wp_time(&post.date_gmt, &post.date, tz).unwrap_or(now);
                let (published_at, note) = match (post.status.as_str(), post.password.is_empty()) {
                    (_, false) => (None, Some("Password-protected on the old site: imported as a draft.")),
                    ("publish" | "future", true) => (Some(at), None),
                    ("pending", true) => (None, Some("Pending review on the old site: imported as a draft.")),
                    ("private", true) => {
                        (None, Some("Private on the old site (only its editors could read it): imported as a draft."))
                    }
                    _ => (None, None),
                };
                if let Some(note) = note {
                    self.summary.notes.push(format!("{source_kind} {} \"{headline}\": {note}", post.id));
                }
                let thumbnail = post.meta.iter().find(|(k, _)| k == "_thumbnail_id").and_then(|(_, v)| v.parse().ok());
                let image = thumbnail.and_then(|id: i64| {
                    let p = library.by_id.get(&id)?;
                    let (width, height) = library.sizes.get(&id).copied().unwrap_or((None, None));
                    let credit = library.credit.get(&id).map_or("", String::as_str);
                    Some(ImportImage { src: &p.src, alt: &p.alt, caption: &p.caption, credit, width, height })
                });
                let standfirst = plain(&post.excerpt);
                let article = ImportArticle {
                    kind,
                    slug: &slug,
                    headline: &headline,
                    standfirst: &standfirst,
                    body_markdown: &converted.markdown,
                    body_html: &body_html,
                    author_id: terms.authors.get(&post.creator).map(|(id, _)| *id),
                    published_at,
                    created_at: at,
                    updated_at: now,
                    comments_open: post.comment_status != "closed",
                    sticky: post.sticky,
                    admin_note: note,
                    image,
                };
                let existing = match earlier {
                    Earlier::Changed(id) => Some(id),
                    _ => None,
                };
                let id = self.tx.article(existing, &article).await?;
                let mut category_ids = Vec::new();
                let mut tag_ids = Vec::new();
                if kind == "article" {
                    for t in &post.terms {
                        match t.domain.as_str() {
                            "category" => category_ids.extend(terms.categories.get(&t.slug)),
                            "post_tag" => tag_ids.extend(terms.tags.get(&t.slug)),
                            _ => {}
                        }
                    }
                }
                self.tx.article_terms(id, &category_ids, &tag_ids, existing.is_none()).await?;
                let tag_names: Vec<&str> = match kind {
                    "article" => {
                        post.terms.iter().filter(|t| t.domain == "post_tag").map(|t| t.name.as_str()).collect()
                    }
                    _ => Vec::new(),
                };
                let author = terms.authors.get(&post.creator).map_or("", |(_, name)| name.as_str());
                let text = IndexText {
                    headline: &headline,
                    standfirst: &standfirst,
                    body: &markdown::plain_text(&converted.markdown),
                    tags: &tag_names.join(" "),
                    author,
                };
                self.tx.index(id, &text).await?;
                self.tx.remember(&self.origin, source_kind, &source_id, id, &digest, Some(&post.link)).await?;
                id
            }
        };
        self.local.insert((source_kind, post.id), id);
        Ok(id)
    }

    /// A post's comments. New ones are written in batches, parents before
    /// their replies (one batch per level of the threads).
    async fn comments(
        &mut self,
        post: &WxrPost,
        article_id: i64,
        tz: Tz,
        keep_ip_after: i64,
    ) -> Result<(), ImportError> {
        let mut order: Vec<&WxrComment> = post.comments.iter().collect();
        order.sort_by_key(|c| c.id);
        let mut fresh: Vec<(&WxrComment, String)> = Vec::new();
        let mut changed: Vec<(&WxrComment, String, i64)> = Vec::new();
        for c in order {
            let digest = digest(&(c, article_id));
            match self.earlier("comment", &c.id.to_string(), &digest).await? {
                Earlier::Same(id) => {
                    self.summary.comments.count(Change::Unchanged);
                    self.local.insert(("comment", c.id), id);
                }
                Earlier::Changed(id) => changed.push((c, digest, id)),
                Earlier::New => fresh.push((c, digest)),
            }
        }
        let mut waiting = fresh;
        while !waiting.is_empty() {
            let pending: std::collections::HashSet<i64> = waiting.iter().map(|(c, _)| c.id).collect();
            let (mut ready, later): (Vec<_>, Vec<_>) =
                waiting.into_iter().partition(|(c, _)| c.parent == c.id || !pending.contains(&c.parent));
            if ready.is_empty() {
                // A cycle of parents: file the rest; the missing parents stay unset.
                ready = later;
                waiting = Vec::new();
            } else {
                waiting = later;
            }
            let prepared: Vec<Prepared> = ready.iter().map(|(c, _)| prepare(c, tz, keep_ip_after)).collect();
            let rows: Vec<ImportComment> =
                ready.iter().zip(&prepared).map(|((c, _), p)| self.as_import(c, p, article_id)).collect();
            let ids = self.tx.new_comments(&rows).await?;
            for (((c, digest), id), row) in ready.iter().zip(ids).zip(&rows) {
                self.summary.comments.count(Change::Added);
                self.local.insert(("comment", c.id), id);
                self.tx.remember(&self.origin, "comment", &c.id.to_string(), id, digest, None).await?;
                if let (Some(now), "spam" | "approved") = (self.learn, row.status) {
                    let input =
                        SpamInput::of_comment(row.body, Some(row.author_name), Some(row.author_email), row.author_url);
                    let json = serde_json::to_string(&input).unwrap_or_default();
                    self.tx.lesson(LOCAL_SITE, row.status == "spam", &json, id, now).await?;
                    self.summary.lessons += 1;
                }
            }
        }
        for (c, digest, id) in changed {
            let p = prepare(c, tz, keep_ip_after);
            let row = self.as_import(c, &p, article_id);
            self.tx.comment(Some(id), &row).await?;
            self.summary.comments.count(Change::Updated);
            self.local.insert(("comment", c.id), id);
            self.tx.remember(&self.origin, "comment", &c.id.to_string(), id, &digest, None).await?;
        }
        Ok(())
    }

    /// A comment as the store files it; its parent, if already filed.
    fn as_import<'p>(&self, c: &'p WxrComment, p: &'p Prepared, article_id: i64) -> ImportComment<'p> {
        let parent_id = match c.parent {
            0 => None,
            parent => self
                .local
                .get(&("comment", parent))
                .copied()
                .or_else(|| self.known.get(&("comment".to_owned(), parent.to_string())).map(|(id, _)| *id)),
        };
        ImportComment {
            article_id,
            parent_id,
            author_name: if c.author.trim().is_empty() { "Anonymous" } else { c.author.trim() },
            author_email: c.author_email.trim(),
            author_url: p.url.as_deref(),
            body: &p.body,
            body_html: &p.body_html,
            status: p.status,
            is_staff: c.user_id != 0,
            ip: p.ip.then_some(c.author_ip.as_str()),
            created_at: p.created_at,
        }
    }
}

/// What a comment becomes here, before it is filed.
struct Prepared {
    body: String,
    body_html: String,
    url: Option<String>,
    status: &'static str,
    created_at: i64,
    /// Whether its IP address is still within the retention period.
    ip: bool,
}

fn prepare(c: &WxrComment, tz: Tz, keep_ip_after: i64) -> Prepared {
    let status = match c.approved.as_str() {
        "1" | "approve" | "approved" => "approved",
        "spam" => "spam",
        "trash" | "post-trashed" => "trash",
        _ => "pending",
    };
    let created_at = wp_time(&c.date_gmt, &c.date, tz).unwrap_or(0);
    let body = content::comment_markdown(&c.content);
    let body_html = comment::render_body(&body);
    Prepared {
        body,
        body_html,
        url: comment::normalize_url(&c.author_url),
        status,
        created_at,
        ip: created_at > keep_ip_after && !c.author_ip.is_empty(),
    }
}

/// Whether (and as what) an item was imported before.
#[derive(Debug, Clone, Copy)]
enum Earlier {
    New,
    Same(i64),
    Changed(i64),
}

/// An upload's copy in the media library: its address, width, height, file
/// name and size in bytes.
type LibraryCopy = (String, Option<i64>, Option<i64>, String, usize);

/// An upload copied into the media library. On a dry run the file is only
/// checked, and keeps its old address.
async fn stored_copy(file: &Path, media: &MediaStore, dry_run: bool, url: &str) -> Option<LibraryCopy> {
    let bytes = std::fs::read(file).ok()?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    media::check_image(&name, &bytes).ok()?;
    if dry_run {
        return Some((url.to_owned(), None, None, name, bytes.len()));
    }
    let size = bytes.len();
    let stored = media::store_image(media, &name, bytes.into()).await.ok()?;
    Some((stored.url, stored.width, stored.height, name, size))
}

/// The file under a copy of `wp-content/uploads` that an upload URL names.
fn upload_file(uploads: &Path, url: &str) -> Option<PathBuf> {
    let path = url.split(['?', '#']).next()?;
    let path = path.split_once("://").map_or(path, |(_, rest)| rest.split_once('/').map_or("", |(_, p)| p));
    // Under wp-content/uploads (or a network's /files/); else the year and
    // month folders (a wordpress.com "files" host); else the name alone.
    let rest = match ["wp-content/uploads/", "files/"].iter().find_map(|m| path.split_once(m).map(|(_, r)| r)) {
        Some(rest) => rest,
        None => {
            let parts: Vec<&str> = path.split('/').collect();
            let dated = |p: &[&str]| {
                p.len() == 3
                    && p[0].len() == 4
                    && p[1].len() == 2
                    && p[..2].iter().all(|s| s.bytes().all(|b| b.is_ascii_digit()))
            };
            let n = parts.len();
            if n >= 3 && dated(&parts[n - 3..]) {
                &path[path.len() - parts[n - 3..].join("/").len()..]
            } else {
                parts[n - 1]
            }
        }
    };
    let rest = percent_encoding::percent_decode_str(rest).decode_utf8().ok()?;
    // Never outside the folder given.
    if rest.split('/').any(|part| part.is_empty() || part == ".." || part == ".") {
        return None;
    }
    let file = uploads.join(rest.as_ref());
    file.is_file().then_some(file)
}

fn mime_of(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        "pdf" => "application/pdf",
        "mp3" => "audio/mpeg",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_addresses_are_paths_or_front_page_queries() {
        assert_eq!(old_address("https://old.example/2013/01/10/hello/").as_deref(), Some("/2013/01/10/hello/"));
        assert_eq!(old_address("https://old.example/?p=1241").as_deref(), Some("/?p=1241"));
        assert_eq!(old_address("https://old.example/index.php?page_id=2").as_deref(), Some("/?page_id=2"));
        assert_eq!(old_address("https://old.example").as_deref(), Some("/"));
        assert_eq!(old_address("https://old.example/news/a/?utm=x#c").as_deref(), Some("/news/a/"));
        assert_eq!(old_address("mailto:x@y"), None);
    }

    #[test]
    fn resized_copies_map_to_their_original() {
        assert_eq!(
            without_size_suffix("http://x/wp-content/uploads/2013/03/boat-300x200.jpg").as_deref(),
            Some("http://x/wp-content/uploads/2013/03/boat.jpg")
        );
        assert_eq!(without_size_suffix("http://x/a-b.jpg"), None);
    }

    #[test]
    fn dates_use_utc_when_given_else_the_site_zone() {
        let tz: Tz = "Europe/London".parse().expect("zone");
        assert_eq!(wp_time("2013-01-10 20:15:40", "", tz), Some(1_357_848_940));
        assert_eq!(wp_time("0000-00-00 00:00:00", "2013-07-10 21:15:40", tz), Some(1_373_487_340));
        assert_eq!(wp_time("0000-00-00 00:00:00", "garbage", tz), None);
    }

    #[test]
    fn upload_paths_stay_inside_the_folder() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::create_dir_all(dir.path().join("2013/03")).expect("write");
        std::fs::write(dir.path().join("2013/03/a.jpg"), b"x").expect("write");
        assert!(upload_file(dir.path(), "http://old/wp-content/uploads/2013/03/a.jpg").is_some());
        assert!(upload_file(dir.path(), "http://old/wp-content/uploads/../../etc/passwd").is_none());
        assert!(upload_file(dir.path(), "https://old.files.wordpress.com/2013/03/a.jpg?w=300").is_some());
        assert!(upload_file(dir.path(), "http://old/elsewhere/b.jpg").is_none());
        std::fs::write(dir.path().join("c.jpg"), b"x").expect("write");
        assert!(upload_file(dir.path(), "http://old/wp-content/uploads/c.jpg").is_some());
        assert!(upload_file(dir.path(), "http://old/elsewhere/c.jpg").is_some(), "uploads kept without dated folders");
    }

    #[test]
    fn slugs_are_decoded_and_made_valid() {
        assert_eq!(slug_from("hello-world", "x").as_deref(), Some("hello-world"));
        assert_eq!(slug_from("caf%c3%a9-society", "x").as_deref(), Some("cafe-society"));
        assert_eq!(slug_from("", "Template: Sticky").as_deref(), Some("template-sticky"));
    }
}
