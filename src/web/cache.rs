//! The rendered-page cache: whole responses kept in memory, filed under cache
//! tags (see `domain::cache_tags`) and dropped exactly when a change touches
//! one of their tags; served with strong ETags, `Last-Modified`, `304 Not
//! Modified` and ready-compressed gzip and brotli bodies.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock, RwLock};
use std::time::{Duration, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;

use super::pages::SiteData;
use crate::domain::cache_tags;

/// How many pages the cache holds before it makes room…
const MAX_ENTRIES: usize = 20_000;
/// …and how much memory they may take (bodies and their compressed copies).
const MAX_BYTES: usize = 256 * 1024 * 1024;

/// HTML may be kept by browsers and CDNs briefly, then revalidated with its
/// ETag; a CDN may serve a stale copy while it revalidates, and for a day
/// when this server cannot answer.
pub const HTML_CACHE_CONTROL: &str = "public, max-age=60, stale-while-revalidate=300, stale-if-error=86400";

/// One rendered response, with everything needed to answer for it.
#[derive(Debug)]
pub struct CachedPage {
    status: StatusCode,
    content_type: HeaderValue,
    cache_control: HeaderValue,
    body: Bytes,
    gzip: OnceLock<Bytes>,
    brotli: OnceLock<Bytes>,
    /// Whether someone has undertaken to make its gzip and its brotli copy.
    claimed: [AtomicBool; 2],
    etags: [HeaderValue; 3],
    last_modified: HeaderValue,
    last_modified_secs: i64,
    /// Unix second after which the page must be rendered again (the date bar changes).
    expires_at: i64,
    /// Its cache tags, for CDNs (`Surrogate-Key`, space-separated; `Cache-Tag`, comma-separated).
    surrogate_keys: Option<(HeaderValue, HeaderValue)>,
}

/// Which body a response carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity = 0,
    Gzip = 1,
    Brotli = 2,
}

impl CachedPage {
    pub fn new(
        status: StatusCode,
        content_type: &'static str,
        cache_control: &'static str,
        body: impl Into<Bytes>,
        last_modified_secs: i64,
        expires_at: i64,
    ) -> CachedPage {
        let body = body.into();
        let hash = blake3::hash(&body).to_hex();
        let tag = &hash[..24];
        let etag = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{tag}{suffix}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
        };
        let last_modified = UNIX_EPOCH + Duration::from_secs(u64::try_from(last_modified_secs).unwrap_or(0));
        CachedPage {
            status,
            content_type: HeaderValue::from_static(content_type),
            cache_control: HeaderValue::from_static(cache_control),
            body,
            gzip: OnceLock::new(),
            brotli: OnceLock::new(),
            claimed: [AtomicBool::new(false), AtomicBool::new(false)],
            etags: [etag(""), etag("-gz"), etag("-br")],
            last_modified: HeaderValue::from_str(&httpdate::fmt_http_date(last_modified))
                .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT")),
            last_modified_secs,
            expires_at,
            surrogate_keys: None,
        }
    }

    /// Names the page's cache tags in its responses, so that a CDN in front
    /// can purge exactly the pages a change makes stale (see `jobs::purge`).
    /// Every page also carries `site`, which a change to the whole site purges.
    pub fn with_surrogate_keys(mut self, tags: &[String]) -> CachedPage {
        let mut clean: Vec<&str> = vec![cache_tags::SITE];
        clean.extend(
            tags.iter()
                .map(String::as_str)
                .filter(|t| *t != cache_tags::SITE && !t.is_empty())
                .filter(|t| t.bytes().all(|b| b.is_ascii_graphic() && b != b',')),
        );
        if let (Ok(spaced), Ok(commas)) =
            (HeaderValue::from_str(&clean.join(" ")), HeaderValue::from_str(&clean.join(",")))
        {
            self.surrogate_keys = Some((spaced, commas));
        }
        self
    }

    /// The compressed copy a request would like and the page lacks, claimed
    /// for the caller to make ([`CachedPage::compress_as`]); `None` when it
    /// has it, someone else is making it, or the client takes no compression.
    /// Each copy is made only once a client asks for it: a client that takes
    /// brotli (every browser) never costs a gzip copy.
    pub fn claim_compression(&self, request: &HeaderMap) -> Option<Encoding> {
        let wanted = preferred_encoding(request);
        let flag = match wanted {
            Encoding::Identity => return None,
            Encoding::Gzip => &self.claimed[0],
            Encoding::Brotli => &self.claimed[1],
        };
        // Read before writing: every cache hit asks, and a write on each would
        // bounce the flag's cache line between cores on the hottest path.
        (!flag.load(Ordering::Relaxed) && !flag.swap(true, Ordering::Relaxed)).then_some(wanted)
    }

    /// Makes both compressed copies (for assets, compressed once at start).
    pub fn compress(&self) {
        self.compress_as(Encoding::Gzip);
        self.compress_as(Encoding::Brotli);
    }

    /// Makes one compressed copy; costly, so run off the request path.
    pub fn compress_as(&self, encoding: Encoding) {
        if self.body.len() < 256 {
            return;
        }
        match encoding {
            Encoding::Identity => {}
            Encoding::Gzip => self.compress_gzip(),
            Encoding::Brotli => self.compress_brotli(),
        }
    }

    fn compress_gzip(&self) {
        let mut gz =
            flate2::write::GzEncoder::new(Vec::with_capacity(self.body.len() / 3), flate2::Compression::best());
        if gz.write_all(&self.body).is_ok()
            && let Ok(out) = gz.finish()
        {
            let _ = self.gzip.set(Bytes::from(out));
        }
    }

    fn compress_brotli(&self) {
        let mut br = Vec::with_capacity(self.body.len() / 3);
        // Quality 5: within 0.5 % of quality 9's size on our pages and feeds
        // (13.5 KB article: 3,685 vs 3,676 bytes) at a seventh of the time
        // (0.6 vs 4.2 ms); a page a comment makes stale is compressed again.
        // The window just covers the page: the encoder allocates and clears
        // buffers for the window it is given, and 4 MiB cost more than the
        // compression itself. Never under 2^17: for smaller windows brotli
        // picks another hasher, twenty times slower on our pages.
        let lgwin = (17..22).find(|bits| (1usize << bits) - 16 >= self.body.len()).unwrap_or(22);
        let params = brotli::enc::BrotliEncoderParams { quality: 5, lgwin, ..Default::default() };
        if brotli::BrotliCompress(&mut &self.body[..], &mut br, &params).is_ok() {
            let _ = self.brotli.set(Bytes::from(br));
        }
    }

    /// The response for a request with these headers: a 304 when the client's
    /// copy is current, otherwise the best-compressed body it accepts.
    pub fn respond(&self, request: &HeaderMap) -> Response {
        let encoding = self.choose_encoding(request);
        // Room for these and the security headers added on the way out
        // (`logging`), so that the map is never grown.
        let mut headers = HeaderMap::with_capacity(16);
        headers.insert(header::ETAG, self.etags[encoding as usize].clone());
        headers.insert(header::LAST_MODIFIED, self.last_modified.clone());
        headers.insert(header::CACHE_CONTROL, self.cache_control.clone());
        headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        if let Some((spaced, commas)) = &self.surrogate_keys {
            headers.insert(HeaderName::from_static("surrogate-key"), spaced.clone());
            headers.insert(HeaderName::from_static("cache-tag"), commas.clone());
        }
        if self.status == StatusCode::OK && self.not_modified(request) {
            return response(StatusCode::NOT_MODIFIED, headers, Body::empty());
        }
        headers.insert(header::CONTENT_TYPE, self.content_type.clone());
        let body = match encoding {
            Encoding::Brotli => self.brotli.get(),
            Encoding::Gzip => self.gzip.get(),
            Encoding::Identity => None,
        };
        let body = match body {
            Some(compressed) => {
                let name = if encoding == Encoding::Brotli { "br" } else { "gzip" };
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
                compressed.clone()
            }
            None => self.body.clone(),
        };
        response(self.status, headers, Body::from(body))
    }

    fn choose_encoding(&self, request: &HeaderMap) -> Encoding {
        if self.brotli.get().is_some() && accepts(request, "br") {
            Encoding::Brotli
        } else if self.gzip.get().is_some() && accepts(request, "gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    /// `If-None-Match` wins over `If-Modified-Since` (RFC 9110 §13.2.2).
    fn not_modified(&self, request: &HeaderMap) -> bool {
        if let Some(matched) = if_none_match(request, &self.etags.each_ref().map(HeaderValue::as_bytes)) {
            return matched;
        }
        request
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|since| since.duration_since(UNIX_EPOCH).ok())
            .is_some_and(|since| i64::try_from(since.as_secs()).is_ok_and(|since| since >= self.last_modified_secs))
    }
}

/// A response with exactly these headers. (Built as a tuple, the headers
/// would be copied one by one into the response's own map, which grows.)
fn response(status: StatusCode, headers: HeaderMap, body: Body) -> Response {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// Whether the request's `Accept-Encoding` takes the coding `name`.
fn accepts(request: &HeaderMap, name: &str) -> bool {
    let Some(accept) = request.get(header::ACCEPT_ENCODING).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    accept.split(',').any(|item| {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
        coding.eq_ignore_ascii_case(name) && !refused
    })
}

/// The best coding the request takes: brotli, then gzip, then none.
fn preferred_encoding(request: &HeaderMap) -> Encoding {
    if accepts(request, "br") {
        Encoding::Brotli
    } else if accepts(request, "gzip") {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Whether the request's `If-None-Match` names one of `etags` (or `*`),
/// weak or strong; `None` when it has no such header.
pub fn if_none_match(request: &HeaderMap, etags: &[&[u8]]) -> Option<bool> {
    let inm = request.get(header::IF_NONE_MATCH)?;
    let Ok(inm) = inm.to_str() else { return Some(false) };
    Some(inm.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || etags.iter().any(|etag| candidate.trim_start_matches("W/").as_bytes() == *etag)
    }))
}

/// One stored page.
struct Entry {
    page: Arc<CachedPage>,
    tags: Vec<String>,
    /// What it weighs in bytes.
    weight: usize,
    /// A discussion it shows changed since it was rendered (see [`PageCache::invalidate_discussion`]).
    stale: bool,
    /// The claim of the request rendering it again (0: none).
    refreshing: u64,
}

/// When a tag was last invalidated, past a size.
const MAX_REMEMBERED_TAGS: usize = 100_000;

#[derive(Default)]
struct Entries {
    pages: HashMap<Box<str>, Entry>,
    by_tag: HashMap<String, HashSet<Box<str>>>,
    /// The sum of the pages' weights.
    bytes: usize,
    /// The generation each tag was last invalidated at: a render that began
    /// before it is not stored under that tag.
    invalidated: HashMap<String, u64>,
    /// The generation each tag was last invalidated at by a change to what
    /// its pages list (not only to a discussion): for `counts`.
    content_invalidated: HashMap<String, u64>,
    /// How many articles each listing has, by the listing's tag (see
    /// [`PageCache::listing_count`]).
    counts: HashMap<String, i64>,
    /// Renders that began before this generation are not stored at all (the
    /// site tag was invalidated, or `invalidated` was cleared to stay small).
    floor: u64,
    /// The last refresh claim handed out.
    claims: u64,
}

impl Entries {
    fn remove(&mut self, key: &str) {
        if let Some(entry) = self.pages.remove(key) {
            self.bytes -= entry.weight;
            for tag in entry.tags {
                if let Some(keys) = self.by_tag.get_mut(&tag) {
                    keys.remove(key);
                    if keys.is_empty() {
                        self.by_tag.remove(&tag);
                    }
                }
            }
        }
    }

    /// `content`: what the tag's pages list changed, not only a discussion.
    fn note_invalidated(&mut self, tag: &str, generation: u64, content: bool) {
        // `content_invalidated` holds some of `invalidated`'s tags, never more.
        if self.invalidated.len() >= MAX_REMEMBERED_TAGS {
            self.invalidated.clear();
            self.content_invalidated.clear();
            self.floor = generation;
        }
        self.invalidated.insert(tag.to_owned(), generation);
        if content {
            self.content_invalidated.insert(tag.to_owned(), generation);
            self.counts.remove(tag);
        }
    }

    /// Whether a render that began at `generation` may be stored under `tags`.
    fn still_current(&self, tags: &[String], generation: u64) -> bool {
        self.unchanged_since(&self.invalidated, tags.iter().map(String::as_str), generation)
    }

    /// Whether a listing counted at `generation` may be kept under `tag`.
    fn count_current(&self, tag: &str, generation: u64) -> bool {
        self.unchanged_since(&self.content_invalidated, std::iter::once(tag), generation)
    }

    /// Whether none of `tags` was invalidated (as `changed` records) after `generation`.
    fn unchanged_since<'a>(
        &self,
        changed: &HashMap<String, u64>,
        mut tags: impl Iterator<Item = &'a str>,
        generation: u64,
    ) -> bool {
        generation >= self.floor && tags.all(|tag| changed.get(tag).is_none_or(|&at| at <= generation))
    }
}

/// What the cache has for a request.
pub enum Lookup<'a> {
    /// A page to answer with: current, or being rendered again by another request.
    Hit(Arc<CachedPage>),
    /// The page's discussion changed and this request renders it again; the
    /// others are answered with the page held meanwhile. Keep the claim until
    /// the new page is stored (dropping it lets the next request try).
    Refresh(RefreshClaim<'a>),
    /// Nothing stored.
    Miss,
}

/// A request's undertaking to render a stale page again.
pub struct RefreshClaim<'a> {
    cache: &'a PageCache,
    key: Box<str>,
    claim: u64,
}

impl Drop for RefreshClaim<'_> {
    fn drop(&mut self) {
        let mut entries = self.cache.write();
        if let Some(entry) = entries.pages.get_mut(&self.key)
            && entry.refreshing == self.claim
        {
            entry.refreshing = 0;
        }
    }
}

/// Rendered pages by request path, and the data every page shares.
pub struct PageCache {
    entries: RwLock<Entries>,
    /// At most this many pages, weighing at most this many bytes.
    max_entries: usize,
    max_bytes: usize,
    site: RwLock<Option<Arc<SiteData>>>,
    /// Bumped by every invalidation; a render that began before a bump of one
    /// of its tags is not stored.
    generation: AtomicU64,
}

impl Default for PageCache {
    fn default() -> Self {
        PageCache::new()
    }
}

impl PageCache {
    pub fn new() -> PageCache {
        PageCache::with_limits(MAX_ENTRIES, MAX_BYTES)
    }

    pub fn with_limits(max_entries: usize, max_bytes: usize) -> PageCache {
        PageCache {
            entries: RwLock::default(),
            max_entries,
            max_bytes,
            site: RwLock::default(),
            generation: AtomicU64::default(),
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The cached page for `key`, unless it has expired at `now`; a page whose
    /// discussion changed counts as missing.
    pub fn get(&self, key: &str, now: i64) -> Option<Arc<CachedPage>> {
        let entries = self.read();
        entries.pages.get(key).filter(|e| e.page.expires_at > now && !e.stale).map(|e| Arc::clone(&e.page))
    }

    /// What to answer `key` with at `now`: the page, a claim to render it
    /// again (the first request after its discussion changed), or nothing.
    pub fn lookup(&self, key: &str, now: i64) -> Lookup<'_> {
        {
            let entries = self.read();
            match entries.pages.get(key) {
                Some(e) if e.page.expires_at <= now => return Lookup::Miss,
                Some(e) if !e.stale || e.refreshing != 0 => return Lookup::Hit(Arc::clone(&e.page)),
                Some(_) => {}
                None => return Lookup::Miss,
            }
        }
        let mut entries = self.write();
        entries.claims += 1;
        let claim = entries.claims;
        match entries.pages.get_mut(key) {
            Some(e) if e.page.expires_at <= now => Lookup::Miss,
            Some(e) if !e.stale || e.refreshing != 0 => Lookup::Hit(Arc::clone(&e.page)),
            Some(e) => {
                e.refreshing = claim;
                Lookup::Refresh(RefreshClaim { cache: self, key: key.into(), claim })
            }
            None => Lookup::Miss,
        }
    }

    /// Read before rendering, handed back to `insert`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Stores a page under `key` with its tags, unless one of them was
    /// invalidated since `generation` was read (the render may show the old state).
    pub fn insert(&self, key: &str, page: Arc<CachedPage>, tags: Vec<String>, generation: u64) -> bool {
        let mut entries = self.write();
        if !entries.still_current(&tags, generation) {
            return false;
        }
        entries.remove(key);
        // The body, its gzip and brotli copies (at most as large), the key.
        let weight = page.body.len() * 3 + key.len() + 512;
        if weight > self.max_bytes / 16 {
            return false;
        }
        // Make room: any pages will do (the hash order is as good as random).
        while entries.pages.len() >= self.max_entries || entries.bytes + weight > self.max_bytes {
            let Some(victim) = entries.pages.keys().next().cloned() else { break };
            entries.remove(&victim);
        }
        for tag in &tags {
            entries.by_tag.entry(tag.clone()).or_default().insert(key.into());
        }
        entries.bytes += weight;
        entries.pages.insert(key.into(), Entry { page, tags, weight, stale: false, refreshing: 0 });
        true
    }

    /// How many articles the listing filed under `tag` has, if known. A
    /// comment renders every listing that shows its article again (their
    /// cards count comments) but changes no listing's size, so the count is
    /// kept until an article in the listing changes: counting is the one part
    /// of a listing's render that grows with the archive.
    pub fn listing_count(&self, tag: &str) -> Option<i64> {
        self.read().counts.get(tag).copied()
    }

    /// Keeps a listing's count, unless an article in it changed since `generation`.
    pub fn keep_listing_count(&self, tag: &str, count: i64, generation: u64) {
        let mut entries = self.write();
        if entries.count_current(tag, generation) {
            entries.counts.insert(tag.to_owned(), count);
        }
    }

    /// The shared page data, unless the site tag was invalidated since it was stored.
    pub fn site_data(&self) -> Option<Arc<SiteData>> {
        self.site.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Keeps the shared page data, unless the site tag was invalidated since `generation`.
    pub fn set_site_data(&self, site: Arc<SiteData>, generation: u64) {
        let entries = self.write();
        if entries.still_current(&[cache_tags::SITE.to_owned()], generation) {
            *self.site.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(site);
        }
    }

    /// Drops every page filed under `tag` (all of them, and the shared page
    /// data, for the site tag); returns how many pages.
    pub fn invalidate(&self, tag: &str) -> usize {
        let mut entries = self.write();
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        if tag == cache_tags::SITE {
            *self.site.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
            let n = entries.pages.len();
            *entries = Entries { floor: generation, claims: entries.claims, ..Entries::default() };
            return n;
        }
        entries.note_invalidated(tag, generation, true);
        let keys: Vec<Box<str>> =
            entries.by_tag.get(tag).map(|keys| keys.iter().cloned().collect()).unwrap_or_default();
        for key in &keys {
            entries.remove(key);
        }
        keys.len()
    }

    /// Marks the pages filed under `tag` as showing a discussion that changed:
    /// the next request for each renders it again, and requests that arrive
    /// while it does are answered with the page held (see [`Lookup`]). Returns
    /// how many pages.
    pub fn invalidate_discussion(&self, tag: &str) -> usize {
        if tag == cache_tags::SITE {
            return self.invalidate(tag);
        }
        let mut entries = self.write();
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        entries.note_invalidated(tag, generation, false);
        let keys: Vec<Box<str>> =
            entries.by_tag.get(tag).map(|keys| keys.iter().cloned().collect()).unwrap_or_default();
        for key in &keys {
            if let Some(entry) = entries.pages.get_mut(key) {
                entry.stale = true;
            }
        }
        keys.len()
    }

    /// What the cached pages weigh, in bytes (estimated with their compressed copies).
    pub fn bytes(&self) -> usize {
        self.read().bytes
    }

    pub fn len(&self) -> usize {
        self.read().pages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> Arc<CachedPage> {
        Arc::new(CachedPage::new(
            StatusCode::OK,
            "text/html; charset=utf-8",
            HTML_CACHE_CONTROL,
            body.to_owned(),
            1_700_000_000,
            i64::MAX,
        ))
    }

    #[test]
    fn invalidation_drops_exactly_the_tagged_pages() {
        let cache = PageCache::new();
        let g = cache.generation();
        assert!(cache.insert("/a/", page("a"), vec!["article:1".into(), "front".into()], g));
        assert!(cache.insert("/b/", page("b"), vec!["article:2".into()], g));
        assert!(cache.insert("/", page("front"), vec!["front".into()], g));
        assert_eq!(cache.invalidate("article:1"), 1);
        assert!(cache.get("/a/", 0).is_none());
        assert!(cache.get("/b/", 0).is_some() && cache.get("/", 0).is_some());
        assert_eq!(cache.invalidate("front"), 1);
        assert_eq!(cache.invalidate(cache_tags::SITE), 1);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_render_that_raced_an_invalidation_is_not_stored() {
        let cache = PageCache::new();
        let g = cache.generation();
        cache.invalidate("article:1");
        assert!(!cache.insert("/a/", page("stale"), vec!["article:1".into()], g));
    }

    #[test]
    fn only_an_invalidation_of_its_own_tags_keeps_a_render_out() {
        let cache = PageCache::new();
        let g = cache.generation();
        cache.invalidate("article:2");
        cache.invalidate_discussion("front");
        assert!(cache.insert("/a/", page("a"), vec!["article:1".into()], g), "other pages' changes do not matter");
        assert!(!cache.insert("/", page("front"), vec!["front".into()], g));
        let g = cache.generation();
        cache.invalidate(cache_tags::SITE);
        assert!(!cache.insert("/b/", page("b"), vec!["article:3".into()], g), "the site tag covers every page");
        assert!(cache.insert("/b/", page("b"), vec!["article:3".into()], cache.generation()));
    }

    #[test]
    fn a_changed_discussion_is_rendered_by_one_request_while_the_others_get_the_held_page() {
        let cache = PageCache::new();
        assert!(cache.insert("/a/", page("old"), vec!["article:1".into()], cache.generation()));
        assert_eq!(cache.invalidate_discussion("article:1"), 1);
        assert!(cache.get("/a/", 0).is_none(), "a plain read does not take the held page");
        let Lookup::Refresh(claim) = cache.lookup("/a/", 0) else { panic!("the first request renders") };
        let Lookup::Hit(held) = cache.lookup("/a/", 0) else { panic!("the others are answered") };
        assert_eq!(held.body, "old");
        // The render lost a race with another change: the next request tries.
        drop(claim);
        let Lookup::Refresh(claim) = cache.lookup("/a/", 0) else { panic!("tried again") };
        let g = cache.generation();
        assert!(cache.insert("/a/", page("new"), vec!["article:1".into()], g));
        drop(claim);
        let Lookup::Hit(fresh) = cache.lookup("/a/", 0) else { panic!("stored") };
        assert_eq!(fresh.body, "new");
        // A change to the article itself drops the page at once.
        cache.invalidate("article:1");
        assert!(matches!(cache.lookup("/a/", 0), Lookup::Miss));
    }

    #[test]
    fn a_claim_released_late_does_not_free_a_newer_one() {
        let cache = PageCache::new();
        cache.insert("/a/", page("v1"), vec!["t".into()], cache.generation());
        cache.invalidate_discussion("t");
        let Lookup::Refresh(first) = cache.lookup("/a/", 0) else { panic!() };
        cache.insert("/a/", page("v2"), vec!["t".into()], cache.generation());
        cache.invalidate_discussion("t");
        let Lookup::Refresh(_second) = cache.lookup("/a/", 0) else { panic!() };
        drop(first);
        assert!(matches!(cache.lookup("/a/", 0), Lookup::Hit(_)), "the second render is still under way");
    }

    #[test]
    fn the_cache_stays_within_its_memory_limit() {
        let cache = PageCache::with_limits(1000, 64 * 1024);
        let body = "x".repeat(1000);
        for n in 0..200 {
            cache.insert(&format!("/p{n}/"), page(&body), vec![format!("article:{n}")], cache.generation());
            assert!(cache.bytes() <= 64 * 1024, "{} bytes after {n} pages", cache.bytes());
        }
        assert!(cache.len() >= 10, "room is made, not everything dropped: {}", cache.len());
        assert!(
            !cache.insert("/huge/", page(&"y".repeat(10_000)), vec![], cache.generation()),
            "one page may not fill it"
        );
        for n in 0..200 {
            cache.invalidate(&format!("article:{n}"));
        }
        assert_eq!((cache.len(), cache.bytes()), (0, 0), "the weights are given back");
    }

    #[test]
    fn a_listing_count_outlives_comments_but_not_a_change_to_its_articles() {
        let cache = PageCache::new();
        let g = cache.generation();
        cache.keep_listing_count("front", 1000, g);
        assert_eq!(cache.listing_count("front"), Some(1000));
        cache.invalidate_discussion("front");
        assert_eq!(cache.listing_count("front"), Some(1000), "a comment changes no listing's size");
        cache.invalidate("category:2");
        assert_eq!(cache.listing_count("front"), Some(1000), "another listing changed");
        cache.invalidate("front");
        assert_eq!(cache.listing_count("front"), None);
        // Counted before a publish, kept after it: stale, so not kept.
        let before = cache.generation();
        cache.invalidate("front");
        cache.keep_listing_count("front", 1000, before);
        assert_eq!(cache.listing_count("front"), None);
        // A comment meanwhile does not stop it being kept.
        let before = cache.generation();
        cache.invalidate_discussion("front");
        cache.keep_listing_count("front", 1001, before);
        assert_eq!(cache.listing_count("front"), Some(1001));
        cache.invalidate(cache_tags::SITE);
        assert_eq!(cache.listing_count("front"), None);
    }

    #[test]
    fn expired_pages_are_not_served() {
        let cache = PageCache::new();
        let expiring = Arc::new(CachedPage::new(StatusCode::OK, "text/html", HTML_CACHE_CONTROL, "x", 0, 100));
        cache.insert("/x/", expiring, vec![], cache.generation());
        assert!(cache.get("/x/", 99).is_some());
        assert!(cache.get("/x/", 100).is_none());
    }

    #[test]
    fn each_compressed_copy_is_made_once_a_client_asks_for_it() {
        let page = page(&"<p>news</p>".repeat(100));
        let asking = |accept: &'static str| {
            let mut request = HeaderMap::new();
            request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(accept));
            request
        };
        let (browser, gzip_only, plain) = (asking("gzip, deflate, br, zstd"), asking("gzip"), HeaderMap::new());
        assert_eq!(page.claim_compression(&plain), None, "no compression asked for, none made");
        assert_eq!(page.claim_compression(&browser), Some(Encoding::Brotli));
        assert_eq!(page.claim_compression(&browser), None, "claimed once");
        page.compress_as(Encoding::Brotli);
        assert_eq!(page.respond(&browser).headers()[header::CONTENT_ENCODING], "br");
        // Brotli alone was made: a gzip-only client is served plain until its copy exists.
        assert!(page.respond(&gzip_only).headers().get(header::CONTENT_ENCODING).is_none());
        assert_eq!(page.claim_compression(&gzip_only), Some(Encoding::Gzip));
        assert_eq!(page.claim_compression(&gzip_only), None);
        page.compress_as(Encoding::Gzip);
        assert_eq!(page.respond(&gzip_only).headers()[header::CONTENT_ENCODING], "gzip");
        assert_eq!(page.respond(&browser).headers()[header::CONTENT_ENCODING], "br");
    }

    #[test]
    fn conditional_requests_and_encodings() {
        let page = page(&"<p>news</p>".repeat(100));
        page.compress();
        let mut request = HeaderMap::new();
        request.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip, deflate, br"));
        let response = page.respond(&request);
        assert_eq!(response.headers()[header::CONTENT_ENCODING], "br");
        let etag = response.headers()[header::ETAG].clone();
        request.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(page.respond(&request).status(), StatusCode::NOT_MODIFIED);
        request.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(page.respond(&request).status(), StatusCode::OK);
        let mut plain = HeaderMap::new();
        plain.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip;q=0, identity"));
        assert!(page.respond(&plain).headers().get(header::CONTENT_ENCODING).is_none());
        plain.insert(header::IF_MODIFIED_SINCE, HeaderValue::from_static("Wed, 15 Nov 2023 00:00:00 GMT"));
        assert_eq!(page.respond(&plain).status(), StatusCode::NOT_MODIFIED);
    }
}
