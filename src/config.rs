//! Site configuration: built-in defaults < optional TOML file < `BROADSHEET_*`
//! environment variables < command-line flags.
//!
//! clap resolves flags and environment variables; this module fills what is
//! still missing from the file, then from the defaults, and checks the result
//! once so the rest of the program works with plain values.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use chrono_tz::Tz;
use clap::Args;
use ipnet::IpNet;
use serde::Deserialize;

use crate::media::MediaLocation;

/// Settings a command may override with a flag or a `BROADSHEET_*` variable.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// TOML configuration file (default: ./broadsheet.toml when it exists).
    #[arg(long, env = "BROADSHEET_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// Directory for the database and uploaded media.
    #[arg(long, env = "BROADSHEET_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://… or postgres://…); default: SQLite in the data directory.
    #[arg(long, env = "BROADSHEET_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// Address to listen on.
    #[arg(long, env = "BROADSHEET_ADDR", global = true)]
    pub addr: Option<SocketAddr>,
    /// Site name shown in the masthead and page titles.
    #[arg(long, env = "BROADSHEET_SITE_NAME", global = true)]
    pub site_name: Option<String>,
    /// One-line description under the masthead.
    #[arg(long, env = "BROADSHEET_TAGLINE", global = true)]
    pub tagline: Option<String>,
    /// IANA time zone for dates and URLs, e.g. Europe/Madrid.
    #[arg(long, env = "BROADSHEET_TIME_ZONE", global = true)]
    pub time_zone: Option<String>,
    /// Public address of the site, used in canonical links.
    #[arg(long, env = "BROADSHEET_BASE_URL", global = true)]
    pub base_url: Option<String>,
    /// Log format: text or json.
    #[arg(long, env = "BROADSHEET_LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// A spam model file to use instead of the built-in one.
    #[arg(long, env = "BROADSHEET_SPAM_MODEL", global = true)]
    pub spam_model: Option<PathBuf>,
    /// Reverse proxies whose X-Forwarded-For header names the reader's
    /// address: comma-separated addresses or networks, e.g. 127.0.0.1,10.0.0.0/8.
    #[arg(long, env = "BROADSHEET_TRUSTED_PROXIES", global = true)]
    pub trusted_proxies: Option<String>,
    /// A secret of at least 16 characters that opens `/metrics` (Prometheus'
    /// text format) to `Authorization: Bearer <token>`; without it, there is no `/metrics`.
    #[arg(long, env = "BROADSHEET_METRICS_TOKEN", global = true, hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A CDN's purge webhook: every change POSTs the cache tags it makes stale
    /// (`{"keys": […]}`) to this address.
    #[arg(long, env = "BROADSHEET_PURGE_URL", global = true)]
    pub purge_url: Option<String>,
    /// Signs each purge call: `X-Broadsheet-Signature: sha256=<HMAC-SHA256 of the body>`.
    #[arg(long, env = "BROADSHEET_PURGE_SECRET", global = true, hide_env_values = true)]
    pub purge_secret: Option<String>,
    /// Keep media in an S3-compatible bucket, `s3://bucket[/prefix]`, instead
    /// of DATA_DIR/media; credentials, region and endpoint come from the
    /// usual AWS_* variables (AWS_ENDPOINT_URL for another S3 server).
    #[arg(long, env = "BROADSHEET_MEDIA_STORE", global = true)]
    pub media_store: Option<String>,
    /// Send mail through this SMTP server: `smtps://user:password@host` (TLS),
    /// `smtp://user:password@host:587?tls=required` (STARTTLS) or
    /// `smtp://host:25` (plain, for a relay on the same machine); without
    /// it, messages are written to the log instead.
    #[arg(long, env = "BROADSHEET_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The From address of the site's mail, e.g. `News <news@example.com>`
    /// (default: the site name at noreply@ the base URL's host).
    #[arg(long, env = "BROADSHEET_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,
}

/// The same settings as read from the TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    addr: Option<SocketAddr>,
    site_name: Option<String>,
    tagline: Option<String>,
    time_zone: Option<String>,
    base_url: Option<String>,
    log_format: Option<String>,
    spam_model: Option<PathBuf>,
    trusted_proxies: Option<String>,
    metrics_token: Option<String>,
    purge_url: Option<String>,
    purge_secret: Option<String>,
    media_store: Option<String>,
    smtp_url: Option<String>,
    mail_from: Option<String>,
    limits: Option<LimitsFile>,
}

/// The `[limits]` table of the file: connection limits in seconds and counts.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsFile {
    request_head_seconds: Option<u64>,
    request_body_seconds: Option<u64>,
    idle_seconds: Option<u64>,
    max_connections: Option<usize>,
    max_connections_per_address: Option<usize>,
}

/// How long a client may take and how many connections it may hold (see
/// `web::edge`). The defaults suit a public server behind no proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeLimits {
    /// A request's head (request line and headers) must arrive in full within
    /// this, counted from when the server waits for it: also how long an idle
    /// keep-alive connection stays open.
    pub head_timeout: Duration,
    /// A request's body may pause this long between two pieces.
    pub body_timeout: Duration,
    /// A connection on which nothing moves either way for this long is closed
    /// (a client that stops reading its answer, for one).
    pub idle_timeout: Duration,
    /// Open connections in all (lowered to fit the open-file limit).
    pub max_connections: usize,
    /// Open connections from one address (an IPv6 /64); trusted proxies are exempt.
    pub max_connections_per_address: usize,
}

impl Default for EdgeLimits {
    fn default() -> Self {
        Self {
            head_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(20),
            idle_timeout: Duration::from_secs(60),
            max_connections: 10_000,
            max_connections_per_address: 256,
        }
    }
}

impl EdgeLimits {
    fn from_file(file: Option<LimitsFile>) -> anyhow::Result<Self> {
        let d = Self::default();
        let Some(f) = file else { return Ok(d) };
        let seconds = |name: &str, value: Option<u64>, default: Duration| -> anyhow::Result<Duration> {
            match value {
                None => Ok(default),
                Some(0) => bail!("limits.{name} must be at least 1"),
                Some(s) => Ok(Duration::from_secs(s)),
            }
        };
        let count = |name: &str, value: Option<usize>, default: usize| -> anyhow::Result<usize> {
            match value {
                None => Ok(default),
                Some(0) => bail!("limits.{name} must be at least 1"),
                Some(n) => Ok(n),
            }
        };
        Ok(Self {
            head_timeout: seconds("request_head_seconds", f.request_head_seconds, d.head_timeout)?,
            body_timeout: seconds("request_body_seconds", f.request_body_seconds, d.body_timeout)?,
            idle_timeout: seconds("idle_seconds", f.idle_seconds, d.idle_timeout)?,
            max_connections: count("max_connections", f.max_connections, d.max_connections)?,
            max_connections_per_address: count(
                "max_connections_per_address",
                f.max_connections_per_address,
                d.max_connections_per_address,
            )?,
        })
    }
}

/// Output format of the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// The secret that opens `/metrics`; `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct MetricsToken(String);

impl MetricsToken {
    /// The shortest token accepted.
    pub const MIN_LEN: usize = 16;

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for MetricsToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MetricsToken(…)")
    }
}

/// A database URL; `Debug` and `Display` hide any password in it.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl(String);

impl DatabaseUrl {
    /// A URL as given (`Display` hides its password).
    pub fn new(url: impl Into<String>) -> DatabaseUrl {
        DatabaseUrl(url.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The SQLite file this URL names, if it is a SQLite URL.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        let rest = self.0.strip_prefix("sqlite://").or_else(|| self.0.strip_prefix("sqlite:"))?;
        let path = rest.split('?').next().unwrap_or(rest);
        (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Hide `user:password@` of server URLs.
        match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                write!(f, "{}://***{}", &self.0[..scheme_end], &self.0[at..])
            }
            _ => f.write_str(&self.0),
        }
    }
}

/// The resolved configuration every command runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: DatabaseUrl,
    pub addr: SocketAddr,
    pub site_name: String,
    pub tagline: String,
    pub time_zone: Tz,
    pub base_url: String,
    pub log_format: LogFormat,
    /// `None`: the built-in model.
    pub spam_model: Option<PathBuf>,
    /// Proxies trusted to say who their client is (none by default).
    pub trusted_proxies: Vec<IpNet>,
    /// What the configuration itself fixed (rather than left to the defaults).
    pub pinned: Pinned,
    /// How much the Akismet API takes from one key or one address before it answers `429`.
    pub akismet_quotas: AkismetQuotas,
    /// Connection timeouts and caps.
    pub limits: EdgeLimits,
    /// Opens `/metrics`; `None`: the server has no `/metrics`.
    pub metrics_token: Option<MetricsToken>,
    /// Where changes are announced to a CDN, and the secret that signs them.
    pub purge: Option<PurgeWebhook>,
    /// A bucket for media instead of the media directory.
    pub media_store: Option<MediaLocation>,
    /// Where outgoing mail goes, and whom it is from.
    pub mail: MailConfig,
}

/// Outgoing mail; `Debug` does not show the SMTP URL (it may hold a password).
#[derive(Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// `None`: messages are written to the log.
    pub smtp_url: Option<String>,
    pub from: String,
}

impl fmt::Debug for MailConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MailConfig").field("smtp", &self.smtp_url.is_some()).field("from", &self.from).finish()
    }
}

/// `Site Name <noreply@host>`, the host being the base URL's (the name
/// quoted when it needs to be).
fn default_mail_from(site_name: &str, base_url: &str) -> String {
    let host = base_url.split("://").nth(1).unwrap_or(base_url).split(['/', ':']).next().unwrap_or_default();
    // An address like 127.0.0.1 or a bare name is no mail domain.
    let host =
        if host.contains('.') && host.parse::<std::net::IpAddr>().is_err() { host } else { "localhost.localdomain" };
    let name: String = site_name.chars().filter(|c| !c.is_control() && *c != '"' && *c != '\\').collect();
    format!("\"{name}\" <noreply@{host}>")
}

/// A CDN's purge webhook; `Debug` does not show the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PurgeWebhook {
    pub url: String,
    pub secret: Option<String>,
}

impl fmt::Debug for PurgeWebhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PurgeWebhook").field("url", &self.url).field("signed", &self.secret.is_some()).finish()
    }
}

/// The Akismet API's allowances (see `web::akismet::FloodLimits`); the defaults
/// suit a public server, and tests shrink them to see the limits bite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AkismetQuotas {
    /// Lessons (`submit-spam`, `submit-ham`) one key may send at once: a moderator's bulk action.
    pub feedback_burst: u32,
    /// After the burst, one more lesson per this interval.
    pub feedback_every: std::time::Duration,
    /// Calls with a key that is not valid one address (an IPv6 /64) may make at once.
    pub lookup_burst: u32,
    /// After the burst, one more such call per this interval.
    pub lookup_every: std::time::Duration,
    /// How long the in-memory copy of the active keys is used before it is read again.
    pub key_ttl: std::time::Duration,
}

impl Default for AkismetQuotas {
    fn default() -> Self {
        use std::time::Duration;
        Self {
            feedback_burst: 1000,
            feedback_every: Duration::from_millis(50),
            lookup_burst: 500,
            lookup_every: Duration::from_millis(20),
            key_ttl: Duration::from_secs(5),
        }
    }
}

/// Settings the configuration fixed, with a flag, a `BROADSHEET_*` variable or
/// the file: the admin's saved values do not override them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pinned {
    pub time_zone: bool,
    pub base_url: bool,
}

/// An IANA time zone by name.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse()
        .map_err(|_| format!("unknown time zone {:?}: use an IANA name such as Europe/Madrid", name.trim()))
}

/// A site's public address: `http(s)://host[:port][/path]`, without the final slash.
pub fn check_base_url(url: &str) -> Result<String, String> {
    let url = url.trim().trim_end_matches('/');
    let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match host {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace) => {
            Ok(url.to_owned())
        }
        _ => Err(format!("base URL {url:?} must start with http:// or https:// and name a host")),
    }
}

impl Config {
    /// Resolves flags and environment (already in `args`) over the file over defaults.
    pub fn resolve(args: &ConfigArgs) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None if Path::new("broadsheet.toml").exists() => read_file(Path::new("broadsheet.toml"))?,
            None => FileConfig::default(),
        };
        let data_dir = pick(&args.data_dir, file.data_dir).unwrap_or_else(|| PathBuf::from("data"));
        let database_url = pick(&args.database_url, file.database_url)
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("broadsheet.db").display()));
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres://")
            || database_url.starts_with("postgresql://"))
        {
            bail!("database URL must start with sqlite:// or postgres://");
        }
        let addr = pick(&args.addr, file.addr).unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080)));
        let tz_name = pick(&args.time_zone, file.time_zone);
        let base_url = pick(&args.base_url, file.base_url);
        let pinned = Pinned { time_zone: tz_name.is_some(), base_url: base_url.is_some() };
        let time_zone = parse_time_zone(tz_name.as_deref().unwrap_or("UTC")).map_err(anyhow::Error::msg)?;
        let base_url =
            check_base_url(&base_url.unwrap_or_else(|| format!("http://{addr}"))).map_err(anyhow::Error::msg)?;
        let log_format = match pick(&args.log_format, file.log_format).as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => bail!("log format {other:?} is not text or json"),
        };
        let trusted_proxies = match pick(&args.trusted_proxies, file.trusted_proxies) {
            None => Vec::new(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| {
                    item.parse::<IpNet>().or_else(|_| item.parse::<IpAddr>().map(IpNet::from)).map_err(|_| {
                        anyhow::anyhow!("trusted proxy {item:?} is not an IP address or network such as 10.0.0.0/8")
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        };
        let metrics_token = match pick(&args.metrics_token, file.metrics_token) {
            None => None,
            Some(token)
                if token.trim().chars().count() >= MetricsToken::MIN_LEN
                    && !token.trim().contains(char::is_whitespace) =>
            {
                Some(MetricsToken(token.trim().to_owned()))
            }
            Some(_) => bail!(
                "the metrics token must be at least {} characters, without spaces (for example: openssl rand -hex 24)",
                MetricsToken::MIN_LEN
            ),
        };
        let purge_secret = pick(&args.purge_secret, file.purge_secret).filter(|s| !s.trim().is_empty());
        let purge = match pick(&args.purge_url, file.purge_url).filter(|u| !u.trim().is_empty()) {
            None if purge_secret.is_some() => bail!("a purge secret was given without a purge URL"),
            None => None,
            Some(url) => {
                let url = url.trim().to_owned();
                let host = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
                if !host.is_some_and(|rest| {
                    !rest.is_empty() && !rest.starts_with('/') && !rest.contains(char::is_whitespace)
                }) {
                    bail!("the purge URL {url:?} must start with http:// or https:// and name a host");
                }
                Some(PurgeWebhook { url, secret: purge_secret })
            }
        };
        let media_store = match pick(&args.media_store, file.media_store).filter(|u| !u.trim().is_empty()) {
            None => None,
            Some(url) => Some(MediaLocation::parse_s3(&url).map_err(anyhow::Error::msg)?),
        };
        let site_name = pick(&args.site_name, file.site_name).unwrap_or_else(|| "The Port Alden Broadsheet".to_owned());
        let mail = MailConfig {
            smtp_url: pick(&args.smtp_url, file.smtp_url).filter(|u| !u.trim().is_empty()).map(|u| u.trim().to_owned()),
            from: match pick(&args.mail_from, file.mail_from).filter(|f| !f.trim().is_empty()) {
                Some(from) => from.trim().to_owned(),
                None => default_mail_from(&site_name, &base_url),
            },
        };
        if let Some(url) = &mail.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            bail!("the SMTP URL must start with smtp:// or smtps://");
        }
        if mail.from.parse::<lettre::message::Mailbox>().is_err() {
            bail!("the mail From address {:?} is not an address (e.g. News <news@example.com>)", mail.from);
        }
        Ok(Config {
            data_dir,
            database_url: DatabaseUrl(database_url),
            addr,
            site_name,
            tagline: pick(&args.tagline, file.tagline)
                .unwrap_or_else(|| "Independent news from the harbour city — a Broadsheet demo".to_owned()),
            time_zone,
            base_url,
            log_format,
            spam_model: pick(&args.spam_model, file.spam_model),
            trusted_proxies,
            pinned,
            akismet_quotas: AkismetQuotas::default(),
            limits: EdgeLimits::from_file(file.limits)?,
            metrics_token,
            purge,
            media_store,
            mail,
        })
    }

    /// Takes the time zone and base URL saved in the admin where the
    /// configuration did not fix them; a saved value that does not read is
    /// reported and ignored.
    pub fn apply_saved(&mut self, time_zone: Option<&str>, base_url: Option<&str>) {
        if let Some(name) = time_zone.filter(|_| !self.pinned.time_zone) {
            match parse_time_zone(name) {
                Ok(tz) => self.time_zone = tz,
                Err(err) => tracing::warn!(error = %err, "ignoring the time zone saved in the admin"),
            }
        }
        if let Some(url) = base_url.filter(|_| !self.pinned.base_url) {
            match check_base_url(url) {
                Ok(url) => self.base_url = url,
                Err(err) => tracing::warn!(error = %err, "ignoring the base URL saved in the admin"),
            }
        }
    }

    /// Directory where uploaded and published media files live, unless a
    /// bucket was configured (see [`Config::media_location`]).
    pub fn media_dir(&self) -> PathBuf {
        self.data_dir.join("media")
    }

    /// Where media files live: the configured bucket, else the media directory.
    pub fn media_location(&self) -> MediaLocation {
        self.media_store.clone().unwrap_or_else(|| MediaLocation::Directory(self.media_dir()))
    }
}

fn pick<T: Clone>(flag_or_env: &Option<T>, file: Option<T>) -> Option<T> {
    flag_or_env.clone().or(file)
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read configuration file {}", path.display()))?;
    toml::from_str(&text).map_err(|err| anyhow::anyhow!("{}: {}", path.display(), err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mail_comes_from_the_site() {
        assert_eq!(
            default_mail_from("The \"Port\" Alden", "https://news.example.org/"),
            "\"The Port Alden\" <noreply@news.example.org>"
        );
        assert_eq!(default_mail_from("News", "http://127.0.0.1:8080"), "\"News\" <noreply@localhost.localdomain>");
        assert_eq!(default_mail_from("News", "http://localhost:8080"), "\"News\" <noreply@localhost.localdomain>");
        for from in ["\"News\" <noreply@news.example.org>", "\"News\" <noreply@localhost.localdomain>"] {
            assert!(from.parse::<lettre::message::Mailbox>().is_ok(), "{from}");
        }
        let smtp = MailConfig { smtp_url: Some("smtps://user:secret@mail.example.org".into()), from: "a@b.c".into() };
        assert!(!format!("{smtp:?}").contains("secret"));
    }

    #[test]
    fn database_url_hides_password() {
        let url = DatabaseUrl("postgres://bs:secret@db.local/bs".into());
        assert_eq!(url.to_string(), "postgres://***@db.local/bs");
        assert!(!format!("{url:?}").contains("secret"));
    }

    #[test]
    fn sqlite_path_is_extracted() {
        let url = DatabaseUrl("sqlite://data/broadsheet.db?mode=rwc".into());
        assert_eq!(url.sqlite_path(), Some(PathBuf::from("data/broadsheet.db")));
        assert_eq!(DatabaseUrl("postgres://h/db".into()).sqlite_path(), None);
    }

    #[test]
    fn flags_win_over_file_and_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "site_name = \"From file\"\ntime_zone = \"Europe/Madrid\"\n").expect("write");
        let args = ConfigArgs { config: Some(file), site_name: Some("From flag".into()), ..Default::default() };
        let config = Config::resolve(&args).expect("resolve");
        assert_eq!(config.site_name, "From flag");
        assert_eq!(config.time_zone, chrono_tz::Europe::Madrid);
        assert_eq!(config.addr.port(), 8080);
    }

    #[test]
    fn bad_values_are_named() {
        let args = ConfigArgs { time_zone: Some("Mars/Olympus".into()), ..Default::default() };
        let err = Config::resolve(&args).expect_err("bad zone");
        assert!(err.to_string().contains("Mars/Olympus"));
    }
}
