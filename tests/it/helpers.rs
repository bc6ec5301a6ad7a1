//! `TestApp`: a running server on its own database, with helpers per route.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Output;

use broadsheet::app::{App, StartOptions};
use broadsheet::config::{Config, ConfigArgs};
use broadsheet::domain::source;
use broadsheet::publishing::{self, ImageBytes};
use broadsheet::store::Store;
use chrono::Utc;
use tokio::sync::oneshot;

pub const TIME_ZONE: &str = "Europe/Madrid";
/// Readers' browsers say who they are.
pub const BROWSER_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Safari/537.36";

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub config: Config,
    pub store: Store,
    pub spam: std::sync::Arc<broadsheet::spam::SpamEngine>,
    pub signer: std::sync::Arc<broadsheet::web::signing::Signer>,
    pub notifier: broadsheet::mail::Notifier,
    pub dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// A server with the demo site.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(StartOptions { demo: true }).await
    }

    /// A server with an empty site.
    pub async fn spawn_empty() -> TestApp {
        Self::spawn_with(StartOptions { demo: false }).await
    }

    async fn spawn_with(options: StartOptions) -> TestApp {
        Self::spawn_configured(options, |_| {}).await
    }

    /// A server with the demo site on the database at `database_url`.
    pub async fn spawn_on(database_url: &str) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let args = ConfigArgs { database_url: Some(database_url.to_owned()), ..config_args(dir.path()) };
        let config = Config::resolve(&args).expect("config");
        Self::start(dir, config, StartOptions { demo: true }).await
    }

    /// A server whose configuration `adjust` changes first.
    pub async fn spawn_configured(options: StartOptions, adjust: impl FnOnce(&mut Config)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = Config::resolve(&config_args(dir.path())).expect("config");
        adjust(&mut config);
        Self::start(dir, config, options).await
    }

    /// Stops the server and starts a new one on the same data directory.
    pub async fn restart(mut self) -> TestApp {
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("temp dir"));
        self.stop().await;
        Self::spawn_in(dir, StartOptions { demo: true }).await
    }

    async fn spawn_in(dir: tempfile::TempDir, options: StartOptions) -> TestApp {
        let config = Config::resolve(&config_args(dir.path())).expect("config");
        Self::start(dir, config, options).await
    }

    async fn start(dir: tempfile::TempDir, config: Config, options: StartOptions) -> TestApp {
        let app = App::build(config.clone(), options).await.expect("app builds");
        let addr = app.local_addr().expect("bound");
        let store = app.state.store.clone();
        let spam = app.state.spam.clone();
        let signer = app.state.signer.clone();
        let notifier = app.state.notifier.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run(async move {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        TestApp { addr, client, config, store, spam, signer, notifier, dir, stop: Some(stop), server: Some(server) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    /// GET, asserting 200, returning the body.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), 200, "GET {path}");
        response.text().await.expect("body")
    }

    /// Publishes Markdown source in-process, as `broadsheet publish` does.
    pub async fn publish(&self, text: &str) -> i64 {
        let draft = source::parse(text).expect("valid source");
        let image = draft
            .image
            .as_ref()
            .filter(|i| !publishing::is_url(&i.src))
            .map(|_| ImageBytes { name: "test.svg", bytes: TEST_SVG.as_bytes() });
        publishing::publish_draft(&self.store, &self.config, &draft, image, Utc::now()).await.expect("published").id
    }

    /// Runs the real `broadsheet` binary against this server's database.
    pub fn cli(&self, args: &[&str]) -> Output {
        std::process::Command::new(env!("CARGO_BIN_EXE_broadsheet"))
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BROADSHEET_DATA_DIR", self.dir.path())
            .env("BROADSHEET_TIME_ZONE", TIME_ZONE)
            .env("BROADSHEET_BASE_URL", self.url(""))
            .env("BROADSHEET_DATABASE_URL", self.config.database_url.expose())
            .current_dir(self.dir.path())
            .output()
            .expect("broadsheet runs")
    }

    /// Writes a file in the test's directory and returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stopped cleanly");
        }
    }
}

fn config_args(dir: &Path) -> ConfigArgs {
    ConfigArgs {
        data_dir: Some(dir.to_owned()),
        addr: Some("127.0.0.1:0".parse().expect("addr")),
        time_zone: Some(TIME_ZONE.to_owned()),
        site_name: Some("The Test Gazette".to_owned()),
        base_url: Some("https://news.example.org".to_owned()),
        ..ConfigArgs::default()
    }
}

pub const TEST_SVG: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="450" viewBox="0 0 800 450"><title>Test</title><rect width="800" height="450" fill="#abc"/></svg>"##;

/// Source text for an article; `extra` is more front matter.
pub fn article(headline: &str, extra: &str, body: &str) -> String {
    format!("+++\nheadline = \"{headline}\"\n{extra}\n+++\n{body}\n")
}

/// The `<h1 class="headline">` text of an article page.
pub fn headline_of(html: &str) -> &str {
    let start = html.find("<h1 class=\"headline\">").map(|i| i + "<h1 class=\"headline\">".len()).expect("headline");
    &html[start..start + html[start..].find("</h1>").expect("end of headline")]
}

/// The article's address, `/{yyyy}/{mm}/{dd}/{slug}/`, from a listing's first link to it.
pub fn link_to(html: &str, slug: &str) -> String {
    let needle = format!("/{slug}/\"");
    let end = html.find(&needle).unwrap_or_else(|| panic!("no link to {slug}")) + needle.len() - 1;
    let start = html[..end].rfind("href=\"").expect("href") + "href=\"".len();
    html[start..end].to_owned()
}

impl TestApp {
    /// A reader's browser: keeps cookies, does not follow redirects.
    pub fn browser(&self) -> reqwest::Client {
        self.browser_from([127, 0, 0, 1])
    }

    /// A browser connecting from another loopback address (127.x.y.z):
    /// another reader, as far as the server can tell.
    pub fn browser_from(&self, address: [u8; 4]) -> reqwest::Client {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(address))
            .user_agent(BROWSER_UA)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Changes a discussion setting as an editor would.
    pub async fn set(&self, name: &str, value: &str) {
        self.store.set_discussion_setting(name, value).await.expect("setting");
    }

    /// Deletes every comment (the demo's discussion among them): for tests
    /// that count what is in the moderation queue.
    pub async fn clear_discussion(&self) {
        let now = chrono::Utc::now().timestamp();
        for c in self.store.list_comments(None, 1000).await.expect("list") {
            self.store.delete_comment(c.id, now).await.expect("delete");
        }
    }

    /// Settings that let tests post quickly from one address.
    pub async fn relax_timing(&self) {
        self.set("flood_seconds", "0").await;
        self.set("min_seconds_to_submit", "0").await;
    }

    /// Publishes a plain article and returns its address.
    pub async fn article_at(&self, slug: &str, extra: &str) -> String {
        self.publish(&article(&format!("Story {slug}"), &format!("slug = \"{slug}\"\n{extra}"), "Body.")).await;
        let record =
            self.store.article_by_slug(broadsheet::domain::article::Kind::Article, slug).await.expect("stored");
        broadsheet::publishing::permalink(
            broadsheet::domain::article::Kind::Article,
            slug,
            record.published_at,
            self.config.time_zone,
        )
    }

    /// Opens the article in `browser` and sends the comment form with `fields`
    /// as a reader who spent a minute on the page would: the form's token is
    /// the page's, re-signed as issued 60 s ago.
    pub async fn comment(&self, browser: &reqwest::Client, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.comment_after(browser, path, fields, 60).await
    }

    /// [`comment`](Self::comment), the form sent `seconds` after it was loaded.
    pub async fn comment_after(
        &self,
        browser: &reqwest::Client,
        path: &str,
        fields: &[(&str, &str)],
        seconds: i64,
    ) -> reqwest::Response {
        let page = browser.get(self.url(path)).send().await.expect("article").text().await.expect("body");
        let article_id: i64 = form_token(&page).split('.').next().and_then(|id| id.parse().ok()).expect("token");
        let token = self.signer.form_token(article_id, chrono::Utc::now().timestamp() - seconds);
        let mut form: Vec<(&str, &str)> = vec![("token", token.as_str())];
        form.extend_from_slice(fields);
        browser.post(self.url(path)).form(&form).send().await.expect("post")
    }

    /// Follows a 303 and returns the page body.
    pub async fn follow(&self, browser: &reqwest::Client, response: reqwest::Response) -> String {
        assert_eq!(response.status(), 303, "a comment is answered with a redirect");
        let location = response.headers()["location"].to_str().expect("ascii").to_owned();
        let path = location.split('#').next().unwrap_or("/");
        browser.get(self.url(path)).send().await.expect("page").text().await.expect("body")
    }
}

/// The comment form's signed token in a page.
pub fn form_token(page: &str) -> String {
    let start = page.find("name=\"token\" value=\"").expect("a comment form") + "name=\"token\" value=\"".len();
    page[start..start + page[start..].find('"').expect("end")].to_owned()
}

/// A complete, valid comment.
pub fn fields<'a>(text: &'a str, name: &'a str, email: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![("comment", text), ("author", name), ("email", email)]
}

/// A hidden (or any) form field's value in a page.
pub fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    page[start..start + page[start..].find('"').expect("end")].to_owned()
}

/// A redirect's target.
pub fn location(response: &reqwest::Response) -> String {
    response.headers().get("location").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned()
}

impl TestApp {
    /// Adds a newsroom account with a known password (not a one-time one).
    pub async fn add_user(&self, email: &str, role: broadsheet::domain::role::Role) -> String {
        let password = format!("correct horse {email}");
        let hash = broadsheet::auth::hash_password(&password).expect("hash");
        self.store.create_user(email, "Sam Editor", role.as_str(), &hash, false, 0).await.expect("user");
        password
    }

    /// Opens the sign-in page in `browser` and sends it.
    pub async fn sign_in(&self, browser: &reqwest::Client, email: &str, password: &str) -> reqwest::Response {
        let form = browser.get(self.url("/admin/sign-in")).send().await.expect("form").text().await.expect("body");
        let token = hidden(&form, "token");
        let fields = [("token", token.as_str()), ("next", "/admin/"), ("email", email), ("password", password)];
        browser.post(self.url("/admin/sign-in")).form(&fields).send().await.expect("sign in")
    }

    /// A new account, signed in in its own browser, with its CSRF token.
    pub async fn signed_in(&self, email: &str, role: broadsheet::domain::role::Role) -> (reqwest::Client, String) {
        let password = self.add_user(email, role).await;
        let browser = self.browser();
        assert_eq!(self.sign_in(&browser, email, &password).await.status(), 303);
        let page = browser.get(self.url("/admin/")).send().await.expect("get").text().await.expect("body");
        let csrf = hidden(&page, "csrf");
        (browser, csrf)
    }
}

/// Runs a Python script with `stdin` and returns what it printed; `None` when
/// `module` is not installed outside CI (`scripts/test.sh` installs it; CI
/// must have it).
pub fn python(module: &str, script: &str, stdin: &str) -> Option<String> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new("python3")
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write to python3");
    let output = child.wait_with_output().expect("python3 finishes");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(&format!("No module named '{module}'")), "python3 failed: {stderr}");
        assert!(std::env::var_os("CI").is_none(), "{module} is missing on CI (scripts/test.sh installs it)");
        eprintln!("{module} is not installed: that check is skipped (scripts/test.sh installs it)");
        return None;
    }
    Some(String::from_utf8(output.stdout).expect("utf-8 output"))
}

/// The admin's settings form with the default discussion policies and the
/// site's name set to `site_name`.
pub fn settings_form<'a>(csrf: &'a str, site_name: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("csrf", csrf),
        ("site_name", site_name),
        ("tagline", ""),
        ("max_links", "2"),
        ("close_after_days", "0"),
        ("thread_depth", "5"),
        ("per_page", "50"),
        ("flood_seconds", "15"),
        ("min_seconds_to_submit", "3"),
        ("ip_retention_days", "60"),
    ]
}

/// The address of the first picture of the media library a page shows.
pub fn first_picture(page: &str) -> String {
    let mut sources = page.split("src=\"").skip(1).filter_map(|s| s.split('"').next());
    sources.find(|s| s.starts_with("/media/")).expect("a picture").to_owned()
}

/// The address of a server the test script starts for some tests (named by
/// the variable `var`); `None`, so that they are skipped, outside CI when it
/// is not set. CI must have it.
pub fn test_server(var: &str, what: &str) -> Option<String> {
    let Ok(url) = std::env::var(var) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs the {what} tests: scripts/test.sh starts a server and sets {var}"
        );
        eprintln!("{var} is not set: {what} tests not run (scripts/test.sh runs them)");
        return None;
    };
    Some(url)
}
