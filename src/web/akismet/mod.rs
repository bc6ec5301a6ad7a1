//! The Akismet-compatible spam API: `verify-key`, `comment-check`,
//! `submit-spam`, `submit-ham` (this module), the account calls around them
//! (`get-subscription`, `get-stats`, `deactivate`, the 1.2 `key-sites` and
//! `usage-limit`: [`account`]) and the plugin's connection `test`, with
//! Akismet's parameters, bodies and headers, so that existing Akismet client
//! libraries and WordPress's own plugin work unchanged against Broadsheet.
//! Each API key is a site with its own learning copy of the model, and its
//! traffic counted ([`traffic`]).

mod account;
pub mod traffic;

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use governor::clock::{Clock, DefaultClock};
use governor::{Quota, RateLimiter};
use spamfilter::Decision;

use super::{AppState, client_ip};
use crate::config::AkismetQuotas;
use crate::spam::SpamInput;
use crate::store::{Store, StoreError};
use traffic::Outcome;

/// The largest request body accepted.
pub const MAX_BODY: usize = 256 * 1024;
/// Akismet's thanks for feedback.
const THANKS: &str = "Thanks for making the web a better place.";
/// Author names and emails Akismet documents for testing.
const GUARANTEED_SPAM: &str = "akismet-guaranteed-spam";

/// The longest key accepted: Broadsheet's keys have 12 characters, Akismet's
/// 12 too; anything much longer is not a key and is refused at once.
pub const MAX_KEY_LEN: usize = 64;
/// How often an unknown key may cause the keys to be read again, at most
/// (so that a key made a moment ago with `broadsheet apikey create` works).
const UNKNOWN_KEY_REREAD: Duration = Duration::from_secs(1);

/// Whether `key` could be a key at all: letters, digits, `-` and `_`, at most [`MAX_KEY_LEN`].
fn well_formed(key: &str) -> bool {
    key.len() <= MAX_KEY_LEN && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The active API keys, held in memory and read again from the database
/// every key TTL, and at most once a second when a key is not among them.
/// A request never causes a database read of its own, so no number of
/// clients or guesses can make the server read more than that.
#[derive(Default)]
pub struct KeySet {
    copy: RwLock<KeyCopy>,
    reading: tokio::sync::Mutex<()>,
}

/// The keys as last read, and when.
#[derive(Default)]
struct KeyCopy {
    sites: HashMap<String, KeySite>,
    read_at: Option<Instant>,
}

/// The site a key was made for.
#[derive(Debug, Clone, PartialEq, Eq)]
struct KeySite {
    /// Its number.
    id: i64,
    /// The key itself.
    key: String,
    /// Its host name, as [`blog_host`] reads it.
    host: String,
}

/// The host of a site's address, as keys and `blog` values are matched:
/// without scheme, port, path, case or a leading `www.`.
fn blog_host(url: &str) -> String {
    let url = url.trim();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

impl KeySet {
    /// The site of `key` in the copy in hand, and the copy's age (`Duration::MAX` before the first read).
    fn lookup(&self, key: &str) -> (Option<KeySite>, Duration) {
        let copy = self.copy.read().unwrap_or_else(|p| p.into_inner());
        (copy.sites.get(key).cloned(), copy.read_at.map_or(Duration::MAX, |at| at.elapsed()))
    }

    /// Makes the next request read the keys again (a key was made or revoked elsewhere).
    pub fn expire(&self) {
        self.copy.write().unwrap_or_else(|p| p.into_inner()).read_at = None;
    }

    fn age(&self) -> Duration {
        self.copy.read().unwrap_or_else(|p| p.into_inner()).read_at.map_or(Duration::MAX, |at| at.elapsed())
    }

    /// Reads the keys again unless they were read within `max_age` (by another request, say).
    async fn refresh(&self, store: &Store, max_age: Duration) -> Result<(), StoreError> {
        let _one_at_a_time = match self.reading.try_lock() {
            Ok(guard) => guard,
            // Another request is reading them: answer from the copy in hand, if there is one.
            Err(_) if self.age() != Duration::MAX => return Ok(()),
            Err(_) => self.reading.lock().await,
        };
        if self.age() < max_age {
            return Ok(());
        }
        let sites = store
            .active_api_keys()
            .await?
            .into_iter()
            .map(|(key, id, url)| (key.clone(), KeySite { id, key, host: blog_host(&url) }))
            .collect();
        *self.copy.write().unwrap_or_else(|p| p.into_inner()) = KeyCopy { sites, read_at: Some(Instant::now()) };
        Ok(())
    }

    /// The site of an active key, `None` for an unknown or revoked one.
    async fn site_of(&self, store: &Store, key: &str, ttl: Duration) -> Result<Option<KeySite>, StoreError> {
        let (mut site, mut age) = self.lookup(key);
        if age >= ttl {
            self.refresh(store, ttl).await?;
            (site, age) = self.lookup(key);
        }
        let reread = ttl.min(UNKNOWN_KEY_REREAD);
        if site.is_none() && age >= reread {
            self.refresh(store, reread).await?;
            (site, _) = self.lookup(key);
        }
        Ok(site)
    }
}

/// Per-key and per-address limits that turn a flood into clear `429` answers,
/// with allowances from [`AkismetQuotas`].
///
/// `comment-check` with a valid key is never limited: it is a read that costs
/// microseconds, and a busy site (or a host serving many sites from one
/// address) checks every comment. Two things are limited:
/// - feedback (`submit-spam`, `submit-ham`), per key: every lesson is a database
///   write and changes the site's model;
/// - calls with a key that is not valid, per client address (an IPv6 /64 counts
///   as one address), so that guessing keys is slow. A client with one wrong
///   key still gets its `invalid` answers within the allowance.
pub struct FloodLimits {
    feedback: DefaultKeyedRateLimiter<i64>,
    lookups: DefaultKeyedRateLimiter<IpAddr>,
}

type DefaultKeyedRateLimiter<K> = governor::DefaultKeyedRateLimiter<K>;

fn quota(every: Duration, burst: u32) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every.max(Duration::from_nanos(1))).map_or(Quota::per_second(burst), |q| q.allow_burst(burst))
}

impl FloodLimits {
    pub fn new(quotas: &AkismetQuotas) -> Self {
        Self {
            feedback: RateLimiter::keyed(quota(quotas.feedback_every, quotas.feedback_burst)),
            lookups: RateLimiter::keyed(quota(quotas.lookup_every, quotas.lookup_burst)),
        }
    }

    /// Forgets clients whose allowance is full again, so that the tables stay
    /// small; the server's poll job calls it every two seconds.
    pub fn forget_idle(&self) {
        self.feedback.retain_recent();
        self.lookups.retain_recent();
    }
}

/// Takes one request from `key`'s allowance; `Err` holds the wait until the next is allowed.
fn take<K: Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Duration> {
    limiter.check_key(key).map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
}

/// `429 Too Many Requests`, with `Retry-After` and a line of help.
fn too_many(wait: Duration, help: &str) -> Response {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    answer(
        StatusCode::TOO_MANY_REQUESTS,
        "invalid",
        &[("retry-after", seconds.max(1).to_string()), ("x-akismet-debug-help", help.to_owned())],
    )
}

/// A plain-text answer with Akismet's headers.
fn answer(status: StatusCode, body: &'static str, extra: &[(&'static str, String)]) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response();
    for (name, value) in extra {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
    response
}

/// An error Akismet's way: `invalid` and a line of help in `X-akismet-debug-help`.
fn invalid(status: StatusCode, help: &str) -> Response {
    answer(status, "invalid", &[("x-akismet-debug-help", help.to_owned())])
}

/// The parameters of a request body, or what is wrong with it. Later values
/// win, as in PHP; parameters we do not know are kept and ignored.
pub fn read_params(body: &[u8]) -> Result<HashMap<String, String>, &'static str> {
    if std::str::from_utf8(body).is_err() {
        return Err("The request body is not valid UTF-8.");
    }
    match serde_urlencoded::from_bytes::<Vec<(String, String)>>(body) {
        Ok(pairs) => Ok(pairs.into_iter().collect()),
        Err(_) => Err("The request body is not valid form encoding."),
    }
}

/// Where a call's parameters come from: the query string (GET), or a
/// form-encoded body (POST), whose values win over the query's.
fn call_params(
    http: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<HashMap<String, String>, (StatusCode, &'static str)> {
    let mut params = match uri.query() {
        Some(query) => read_params(query.as_bytes()).map_err(|help| (StatusCode::BAD_REQUEST, help))?,
        None => HashMap::new(),
    };
    if http == Method::POST {
        let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !content_type.to_ascii_lowercase().starts_with("application/x-www-form-urlencoded") {
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the parameters form-encoded, with Content-Type: application/x-www-form-urlencoded.",
            ));
        }
        params.extend(read_params(body).map_err(|help| (StatusCode::BAD_REQUEST, help))?);
    }
    Ok(params)
}

/// The methods of the API, and which may be called with GET as well as POST.
const METHODS: &[(&str, bool)] = &[
    ("verify-key", false),
    ("comment-check", false),
    ("submit-spam", false),
    ("submit-ham", false),
    ("get-subscription", false),
    ("get-stats", false),
    ("deactivate", false),
    ("key-sites", true),
    ("usage-limit", true),
];

/// `POST /1.1/{method}` (and `/1.2/`; `test`, `key-sites` and `usage-limit` by GET too).
#[allow(clippy::too_many_arguments)]
pub async fn handle(
    State(state): State<AppState>,
    Path(method): Path<String>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    http: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The connection test of Akismet's plugin: no key, any method.
    if method == "test" {
        return answer(StatusCode::OK, "connected", &[]);
    }
    let Some(&(_, get_allowed)) = METHODS.iter().find(|(name, _)| *name == method) else {
        return answer(
            StatusCode::NOT_FOUND,
            "invalid",
            &[(
                "x-akismet-debug-help",
                "Unknown method: use verify-key, comment-check, submit-spam, submit-ham, get-subscription, \
                 get-stats, deactivate, key-sites, usage-limit or test."
                    .into(),
            )],
        );
    };
    if http != Method::POST && !get_allowed {
        let mut refused = invalid(StatusCode::METHOD_NOT_ALLOWED, "Send this call as a POST.");
        refused.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST"));
        return refused;
    }
    let params = match call_params(&http, &uri, &headers, &body) {
        Ok(params) => params,
        Err((status, help)) => return invalid(status, help),
    };
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    // Keys come as a parameter or, from older clients, as the first label of the host name.
    let host_key = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .and_then(|host| host.split('.').next().filter(|_| host.matches('.').count() >= 2))
        .filter(|label| label.len() >= 8 && label.bytes().all(|b| b.is_ascii_alphanumeric()));
    // Calls about a key name it as `key`; Akismet's plugin adds the key in use as `api_key`
    // (when it saves a new key, the old one).
    let key = match method.as_str() {
        "verify-key" | "get-subscription" | "get-stats" | "deactivate" => get("key").or(get("api_key")).or(host_key),
        _ => get("api_key").or(get("key")).or(host_key),
    };
    let Some(key) = key else {
        return invalid(StatusCode::OK, "Empty \"api_key\" value");
    };
    if !well_formed(key) {
        return invalid(StatusCode::OK, "This is not an API key: keys are letters, digits, - and _, at most 64.");
    }
    let site = match state.akismet_keys.site_of(&state.store, key, state.config.akismet_quotas.key_ttl).await {
        Ok(site) => site,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the API keys");
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "invalid",
                &[("x-akismet-debug-help", "Try again shortly.".into())],
            );
        }
    };
    if site.is_none() {
        let client = client_ip::limit_key(client_ip::client_ip(peer.ip(), &headers, &state.config.trusted_proxies));
        if let Err(wait) = take(&state.akismet_limits.lookups, &client) {
            return too_many(wait, "Too many calls with keys that are not valid from your address; check your key.");
        }
    }
    // A key works for the site it was made for, as Akismet's keys do.
    let other_site = |site: &KeySite| get("blog").is_some_and(|blog| blog_host(blog) != site.host);
    const OTHER_SITE: &str = "This API key was made for another site: use the key made for this one, \
                              or create one with `broadsheet apikey create --site URL`.";
    if method == "verify-key" {
        return match site {
            Some(site) if other_site(&site) => invalid(StatusCode::OK, OTHER_SITE),
            Some(_) => answer(StatusCode::OK, "valid", &[]),
            None => invalid(StatusCode::OK, "We were unable to verify your API key."),
        };
    }
    let Some(site) = site else {
        return invalid(
            StatusCode::OK,
            "Your API key is not valid. Check it, or create one with `broadsheet apikey create`.",
        );
    };
    if other_site(&site) {
        return invalid(StatusCode::OK, OTHER_SITE);
    }
    match method.as_str() {
        "get-subscription" => return account::subscription(&site),
        "get-stats" => return account::stats(&state, &site, &params).await,
        "deactivate" => return account::deactivate(),
        "key-sites" => return account::key_sites(&state, &site, &params).await,
        "usage-limit" => return account::usage_limit(&state, &site).await,
        _ => {}
    }
    if get("blog").is_none() {
        return invalid(StatusCode::OK, "Empty \"blog\" value");
    }
    if method == "comment-check" && get("user_ip").is_none() {
        return answer(
            StatusCode::OK,
            "Missing required field: user_ip.",
            &[("x-akismet-debug-help", "Send the commenter's IP address as user_ip.".into())],
        );
    }
    let input = spam_input(&params, from_wordpress(&headers));
    // Akismet's test traffic teaches nothing and is not counted.
    let test = get("is_test").is_some_and(|v| v != "0" && v != "false");
    let site = site.id;
    if method == "comment-check" {
        let (response, outcome) = comment_check(&state, site, &params, &input);
        if !test {
            state.akismet_traffic.record(site, outcome);
        }
        return response;
    }
    // submit-spam or submit-ham.
    let is_spam = method == "submit-spam";
    if let Err(wait) = take(&state.akismet_limits.feedback, &site) {
        return too_many(wait, "Too much feedback for this API key at once; send the rest more slowly.");
    }
    if !test {
        if let Err(err) = state.spam.teach(&state.store, site, &input, is_spam, None, Utc::now().timestamp()).await {
            tracing::error!(error = %err, "cannot record a spam lesson");
            return answer(
                StatusCode::SERVICE_UNAVAILABLE,
                "invalid",
                &[("x-akismet-debug-help", "Try again shortly.".into())],
            );
        }
        state.akismet_traffic.record(site, if is_spam { Outcome::MissedSpam } else { Outcome::FalsePositive });
    }
    answer(StatusCode::OK, THANKS, &[])
}

/// Whether the call comes from WordPress's Akismet plugin, which sends every
/// field with PHP's added slashes (`I\'m`).
fn from_wordpress(headers: &HeaderMap) -> bool {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|agent| agent.starts_with("WordPress/") && agent.contains("Akismet/"))
}

/// `comment-check`: the answer, and what it counts as in the key's figures.
fn comment_check(
    state: &AppState,
    site: i64,
    params: &HashMap<String, String>,
    input: &SpamInput,
) -> (Response, Outcome) {
    let get = |name: &str| params.get(name).map(|v| v.trim()).unwrap_or("");
    let guid = format!("{:032x}", rand::random::<u128>());
    let mut extra = vec![("x-akismet-guid", guid)];
    // Akismet's documented test values.
    if get("comment_author").eq_ignore_ascii_case(GUARANTEED_SPAM)
        || get("comment_author_email").eq_ignore_ascii_case(&format!("{GUARANTEED_SPAM}@example.com"))
    {
        return (answer(StatusCode::OK, "true", &extra), Outcome::Spam);
    }
    if get("user_role").eq_ignore_ascii_case("administrator") {
        return (answer(StatusCode::OK, "false", &extra), Outcome::Ham);
    }
    let decision = state.spam.decide(site, input);
    state.metrics.verdict(true, decision);
    match decision {
        // Only a confident verdict is spam; a doubtful one is for the site's own moderation.
        Decision::Ham | Decision::Doubtful => (answer(StatusCode::OK, "false", &extra), Outcome::Ham),
        Decision::Spam => (answer(StatusCode::OK, "true", &extra), Outcome::Spam),
        Decision::BlatantSpam => {
            extra.push(("x-akismet-pro-tip", "discard".to_owned()));
            (answer(StatusCode::OK, "true", &extra), Outcome::Spam)
        }
    }
}

/// What the filter reads from Akismet's parameters; `slashed`: the client
/// sends PHP's added slashes, which are taken off first.
pub fn spam_input(params: &HashMap<String, String>, slashed: bool) -> SpamInput {
    let get = |name: &str| {
        params.get(name).map(|v| unslash(v.trim(), slashed)).filter(|v| !v.trim().is_empty()).map(|v| v.into_owned())
    };
    let (content, author, email, url) =
        (get("comment_content"), get("comment_author"), get("comment_author_email"), get("comment_author_url"));
    let present = |name: &str| params.get(name).is_some_and(|v| !v.trim().is_empty());
    SpamInput {
        user_agent_missing: !present("user_agent"),
        honeypot_filled: params.get("honeypot_field_name").is_some_and(|field| present(field.trim())),
        ..SpamInput::of_comment(content.as_deref().unwrap_or(""), author.as_deref(), email.as_deref(), url.as_deref())
    }
}

/// A value without PHP's added slashes (`addslashes`: a backslash before
/// `'`, `"`, `\` and NUL). From a client known to add them, they are always
/// taken off (PHP's `stripslashes`); from others, only where the value reads
/// as slashed throughout: some quote escaped, none bare, and every backslash
/// one of those escapes.
fn unslash(value: &str, slashed: bool) -> std::borrow::Cow<'_, str> {
    if !value.contains('\\') || !(slashed || looks_slashed(value)) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // An escaped NUL is dropped: no control character reaches the filter.
                Some('0') | None => {}
                Some(escaped) => out.push(escaped),
            },
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

fn looks_slashed(value: &str) -> bool {
    let bytes = value.as_bytes();
    let (mut i, mut escaped_quotes) = (0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => match bytes.get(i + 1) {
                Some(b'\'' | b'"') => {
                    escaped_quotes += 1;
                    i += 2;
                }
                Some(b'\\' | b'0') => i += 2,
                _ => return false,
            },
            b'\'' | b'"' => return false,
            _ => i += 1,
        }
    }
    escaped_quotes > 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blogs_match_by_host() {
        assert_eq!(blog_host("https://www.Blog.Example.org:8443/news/?x=1"), "blog.example.org");
        assert_eq!(blog_host("blog.example.org"), "blog.example.org");
        assert_eq!(blog_host("http://user@[2001:db8::1]:80/"), "2001:db8::1");
        assert_ne!(blog_host("https://blog.example.org.evil.test"), blog_host("https://blog.example.org"));
    }

    #[test]
    fn only_short_plain_keys_are_looked_up() {
        assert!(well_formed("k3ysiteone12"));
        assert!(well_formed("abc-DEF_123"));
        assert!(well_formed(&"k".repeat(MAX_KEY_LEN)));
        assert!(!well_formed(&"k".repeat(MAX_KEY_LEN + 1)));
        for bad in ["with space", "kéy", "a;b", "a\0b", "a.b"] {
            assert!(!well_formed(bad), "{bad:?}");
        }
    }

    #[test]
    fn slashes_come_off_text_sent_slashed() {
        assert_eq!(unslash(r#"I\'m \"here\" C:\\dir"#, true), r#"I'm "here" C:\dir"#);
        assert_eq!(unslash(r#"I\'m \"here\" C:\\dir"#, false), r#"I'm "here" C:\dir"#);
        // From a client that adds no slashes, text that is not slashed throughout stays as it is.
        for clean in [r"C:\dir", r#"It's \"odd\""#, r"a \n b", "plain", r"\'"] {
            let expected = if clean == r"\'" { "'" } else { clean };
            assert_eq!(unslash(clean, false), expected, "{clean}");
        }
        // An escaped NUL is dropped, a trailing lone backslash too.
        assert_eq!(unslash(r"a\0b\", true), "ab");
        let params: HashMap<String, String> =
            [("comment_content", r"Don\'t miss it"), ("comment_author", r"O\'Brien"), ("user_agent", "Mozilla/5.0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let clean: HashMap<String, String> =
            [("comment_content", "Don't miss it"), ("comment_author", "O'Brien"), ("user_agent", "Mozilla/5.0")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        assert_eq!(spam_input(&params, true), spam_input(&clean, false));
    }
}
