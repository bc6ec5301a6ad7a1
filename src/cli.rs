//! The command line: `serve` runs the site; `publish` creates or updates
//! articles from Markdown files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::Utc;
use clap::{Parser, Subcommand};

use crate::app::{App, StartOptions, shutdown_signal};
use crate::config::{Config, ConfigArgs};
use anyhow::Context as _;
use spamfilter::eval::{self, Datasets, EvalOptions};

use crate::discussion::{self, Action};
use crate::domain::article::{ArticleDraft, Kind};
use crate::domain::comment::Status;
use crate::domain::role::Role;
use crate::domain::source;
use crate::import::wordpress::Options;
use crate::media;
use crate::publishing::{self, ImageBytes, permalink};
use crate::spam::SpamEngine;
use crate::store::{Store, StoreError};

/// `println!` that returns the error instead of panicking when standard output
/// is gone (`broadsheet comments list | head` closes it early); `main` treats a
/// broken pipe as the reader having seen enough.
macro_rules! outln {
    ($($arg:tt)*) => {
        out!("{}\n", format_args!($($arg)*))
    };
}

/// `print!` that returns the error, as `outln!` does.
macro_rules! out {
    ($($arg:tt)*) => {
        std::io::Write::write_fmt(&mut std::io::stdout(), format_args!($($arg)*))?
    };
}

#[derive(Debug, Parser)]
#[command(name = "broadsheet", version, about = "A self-hosted news publishing platform")]
pub struct Cli {
    #[command(flatten)]
    pub config: ConfigArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (creating the database and a demo site on first start).
    Serve {
        /// Do not install the demo site on a first start.
        #[arg(long)]
        no_demo: bool,
    },
    /// Create or update articles and pages from Markdown files with TOML front matter.
    Publish {
        /// Markdown files; nothing is published unless every one is valid.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Moderate reader comments.
    #[command(subcommand)]
    Comments(CommentsCommand),
    /// Answer a commenter's privacy request.
    #[command(subcommand)]
    Privacy(PrivacyCommand),
    /// Show or change discussion settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Train or evaluate the spam filter.
    #[command(subcommand)]
    Spam(SpamCommand),
    /// Manage API keys of sites using the Akismet-compatible spam API.
    #[command(subcommand)]
    Apikey(ApikeyCommand),
    /// Manage newsroom accounts (who can sign in to /admin/).
    #[command(subcommand)]
    User(UserCommand),
    /// Bring a site over from another platform.
    #[command(subcommand)]
    Import(ImportCommand),
    /// Back the whole site up (database and media) into one archive, while it runs.
    Backup {
        /// The archive to write (a .tar.gz); written beside it first, then renamed into place.
        file: PathBuf,
    },
    /// Move the site from its SQLite database into an empty PostgreSQL
    /// database (postgres://…), then run the servers with --database-url.
    MigrateTo {
        /// The PostgreSQL database to fill; it must hold no site yet.
        url: String,
    },
    /// Restore a backup made by `broadsheet backup` (stop the server first).
    Restore {
        /// The archive to read.
        file: PathBuf,
        /// Replace a database that already has articles or comments (it and
        /// the media folder are kept beside the restored ones).
        #[arg(long)]
        replace: bool,
    },
    /// Write the whole site out for another platform.
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Write the whole site as a WordPress export (WXR), as WordPress's own
    /// importer (Tools → Import → WordPress) reads it: articles, pages,
    /// authors, categories, tags, images and comments.
    Wxr {
        /// The file to write ("-" for standard output).
        file: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// Import a WordPress export (Tools → Export → All content): authors,
    /// categories, tags, posts, pages, attachments and comments. Importing the
    /// same site again adds and updates only what changed.
    Wxr {
        /// The export file (WordPress eXtended RSS).
        file: PathBuf,
        /// A copy of the old site's wp-content/uploads folder: its images go
        /// into the media library.
        #[arg(long, value_name = "DIR")]
        uploads: Option<PathBuf>,
        /// Report what would be imported, and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Teach the spam filter from the imported comments: spam as spam,
        /// approved ones as not spam, as a moderator's decisions would.
        #[arg(long)]
        learn: bool,
    },
    /// Import the comments of a Disqus export (Moderate → Export), each
    /// under the article its page's address leads to (the page's current
    /// address, or an old one kept by a WordPress import).
    Disqus {
        /// The export file (XML, uncompressed).
        file: PathBuf,
        /// Report what would be imported, and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account; its one-time password is printed once and must be
    /// changed at the first sign-in.
    Add {
        email: String,
        /// The name shown in the admin and on bylines.
        #[arg(long)]
        name: String,
        /// administrator, editor, author or contributor.
        #[arg(long, default_value = "author")]
        role: String,
    },
    /// List accounts.
    List,
    /// Change an account's role (by email address or number).
    Role { user: String, role: String },
    /// Give an account a new one-time password (printed once) and sign out its sessions.
    ResetPassword { user: String },
}

#[derive(Debug, Subcommand)]
pub enum SpamCommand {
    /// Train the shipped model from its training data (deterministic) and write it.
    Train {
        /// The shared data sets.
        #[arg(long, default_value = "../shared/datasets")]
        datasets: PathBuf,
        #[arg(long, default_value = crate::spam::SHIPPED_MODEL_PATH)]
        out: PathBuf,
    },
    /// Run the evaluation protocol of spam-eval.md (splits A, B, C, D) and print the table.
    Eval {
        #[arg(long, default_value = "../shared/datasets")]
        datasets: PathBuf,
    },
    /// Score comment texts with the model every site starts from (the built-in
    /// one, or --spam-model) and show the features behind each verdict.
    Check {
        /// The texts; with none, each line of standard input is one text.
        texts: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApikeyCommand {
    /// Create a key for a site; the key is printed once.
    Create {
        /// The site's address, as its Akismet client sends it in `blog`.
        #[arg(long)]
        site: String,
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List keys.
    List,
    /// Revoke a key (by its value or number).
    Revoke { key: String },
}

#[derive(Debug, Subcommand)]
pub enum CommentsCommand {
    /// List comments, newest first.
    List {
        /// pending, approved, spam or trash (default: all).
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Approve comments (they appear on the site).
    Approve { ids: Vec<i64> },
    /// Mark comments as spam.
    Spam { ids: Vec<i64> },
    /// Move comments to the trash.
    Trash { ids: Vec<i64> },
    /// Delete comments for good.
    Delete { ids: Vec<i64> },
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Print, as JSON, everything stored about the commenter with this email address.
    Export { email: String },
    /// Anonymise (or, with --delete, delete) the comments of this email address.
    Erase {
        email: String,
        #[arg(long)]
        delete: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SettingsCommand {
    /// Print the discussion settings.
    List,
    /// Change one setting, e.g. `settings set max_links 3` (word lists: one word per line).
    Set { name: String, value: String },
}

impl Cli {
    /// Runs the command; errors are printed by the caller.
    pub async fn run(self, mut config: Config) -> anyhow::Result<ExitCode> {
        match self.command {
            Command::Serve { no_demo } => {
                let mut app = App::build(config, StartOptions { demo: !no_demo }).await?;
                if let Some(first) = app.first_start.take() {
                    outln!("{first}");
                }
                let state = app.state.clone();
                tokio::spawn(async move {
                    let pages = crate::web::pages::warm_cache(&state).await;
                    tracing::info!(pages, "page cache warmed");
                });
                app.run(shutdown_signal()).await?;
                Ok(ExitCode::SUCCESS)
            }
            Command::Publish { files } => publish(&mut config, &files).await,
            Command::Comments(command) => {
                let store = crate::setup::open_store(&mut config).await?;
                let spam = SpamEngine::load(config.spam_model.as_deref())?;
                // Messages are queued here and sent by the running server.
                let notifier = crate::mail::Notifier::new(store.clone(), &config, crate::mail::Wake::default());
                let result = comments(&store, &spam, &notifier, command).await;
                store.close().await;
                result
            }
            Command::Privacy(command) => {
                let store = crate::setup::open_store(&mut config).await?;
                let now = Utc::now().timestamp();
                let result = match command {
                    PrivacyCommand::Export { email } => {
                        outln!("{}", serde_json::to_string_pretty(&discussion::export(&store, &email).await?)?);
                        Ok(ExitCode::SUCCESS)
                    }
                    PrivacyCommand::Erase { email, delete } => {
                        let n = discussion::erase(&store, &email, delete, now).await?;
                        let done = if delete { "deleted" } else { "anonymised" };
                        outln!("{n} comment(s) of {email} {done}");
                        Ok(ExitCode::SUCCESS)
                    }
                };
                store.close().await;
                result
            }
            Command::Spam(command) => spam(command, &config),
            Command::Apikey(command) => {
                let store = crate::setup::open_store(&mut config).await?;
                let result = apikey(&store, command).await;
                store.close().await;
                result
            }
            Command::User(command) => {
                let store = crate::setup::open_store(&mut config).await?;
                let result = user(&store, command).await;
                store.close().await;
                result
            }
            Command::Import(ImportCommand::Wxr { file, uploads, dry_run, learn }) => {
                let store = crate::setup::open_store(&mut config).await?;
                let result = import_wxr(&store, &config, &file, Options { uploads, dry_run, learn }).await;
                store.close().await;
                result
            }
            Command::Import(ImportCommand::Disqus { file, dry_run }) => {
                let store = crate::setup::open_store(&mut config).await?;
                let result = crate::import::disqus::import_disqus(&store, config.time_zone, &file, dry_run).await;
                store.close().await;
                match result {
                    Ok(summary) => {
                        out!("{summary}");
                        if dry_run {
                            outln!("Dry run: nothing was written.");
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(err) => {
                        eprintln!("error: {}: {err}", file.display());
                        eprintln!("Nothing was imported: the site is as it was.");
                        Ok(ExitCode::FAILURE)
                    }
                }
            }
            Command::Backup { file } => {
                let store = crate::setup::open_store(&mut config).await?;
                let result = crate::backup::backup(&store, &config, &file).await;
                store.close().await;
                let m = result?;
                outln!(
                    "Backed up to {}: {} articles and pages, {} comments, {} media files ({} database).",
                    file.display(),
                    m.articles,
                    m.comments,
                    m.media_files,
                    m.backend
                );
                Ok(ExitCode::SUCCESS)
            }
            Command::MigrateTo { url } => migrate_to(&mut config, &url).await,
            Command::Restore { file, replace } => {
                if let Err(err) = crate::backup::read_manifest(&file) {
                    eprintln!("error: {}: {err:#}", file.display());
                    eprintln!("Nothing was changed.");
                    return Ok(ExitCode::FAILURE);
                }
                let store = crate::setup::open_store(&mut config).await?;
                let counts = store.content_counts().await;
                store.close().await;
                let (articles, comments) = counts?;
                match crate::backup::restore(&config, &file, replace, articles + comments > 0).await {
                    Ok(done) => {
                        let m = &done.manifest;
                        outln!(
                            "Restored {} ({}): {} articles and pages, {} comments, {} media files.",
                            file.display(),
                            m.created_at,
                            m.articles,
                            m.comments,
                            m.media_files
                        );
                        for kept in &done.kept {
                            outln!("What was there before is kept in {}.", kept.display());
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    Err(err) => {
                        eprintln!("error: {err:#}");
                        Ok(ExitCode::FAILURE)
                    }
                }
            }
            Command::Export(ExportCommand::Wxr { file }) => {
                let store = crate::setup::open_store(&mut config).await?;
                let result = export_wxr(&store, &config, &file).await;
                store.close().await;
                result
            }
            Command::Settings(command) => {
                let store = crate::setup::open_store(&mut config).await?;
                let result = match command {
                    SettingsCommand::List => {
                        // As `settings set` takes them; a word list shows its lines quoted.
                        let settings = store.discussion_settings().await?;
                        for name in crate::store::DISCUSSION_SETTINGS {
                            let value = crate::store::discussion_setting_value(&settings, name);
                            if value.contains(char::is_whitespace) || value.is_empty() {
                                outln!("{name} {value:?}");
                            } else {
                                outln!("{name} {value}");
                            }
                        }
                        Ok(ExitCode::SUCCESS)
                    }
                    SettingsCommand::Set { name, value } => match store.set_discussion_setting(&name, &value).await {
                        Ok(()) => Ok(ExitCode::SUCCESS),
                        Err(message) => {
                            eprintln!("error: {message}");
                            Ok(ExitCode::FAILURE)
                        }
                    },
                };
                store.close().await;
                result
            }
        }
    }
}

async fn export_wxr(store: &Store, config: &Config, file: &Path) -> anyhow::Result<ExitCode> {
    use crate::export::{self, Site};
    let saved = store.site_settings().await?;
    let site = Site {
        name: saved.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| config.site_name.clone()),
        tagline: saved.tagline.unwrap_or_else(|| config.tagline.clone()),
        base_url: config.base_url.clone(),
        language: "en".to_owned(),
        time_zone: config.time_zone,
    };
    let now = Utc::now().timestamp();
    let written = if file == Path::new("-") {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        export::export_wxr(store, &site, &mut out, now).await?
    } else {
        // Written beside the target and renamed at the end: a failed export
        // never leaves half a file under the name asked for.
        let partial = file.with_extension("partial");
        let out = std::fs::File::create(&partial).with_context(|| format!("cannot create {}", partial.display()))?;
        let mut out = std::io::BufWriter::new(out);
        let written = match export::export_wxr(store, &site, &mut out, now).await {
            Ok(written) => written,
            Err(err) => {
                drop(out);
                let _ = std::fs::remove_file(&partial);
                return Err(err.into());
            }
        };
        drop(out);
        std::fs::rename(&partial, file).with_context(|| format!("cannot write {}", file.display()))?;
        written
    };
    eprintln!(
        "exported {} posts, {} pages, {} comments, {} authors, {} categories, {} tags, {} images",
        written.posts,
        written.pages,
        written.comments,
        written.authors,
        written.categories,
        written.tags,
        written.attachments
    );
    Ok(ExitCode::SUCCESS)
}

/// `migrate-to`: the configured SQLite site into an empty PostgreSQL
/// database, in one transaction; media into the configured bucket, if any.
async fn migrate_to(config: &mut Config, url: &str) -> anyhow::Result<ExitCode> {
    if config.database_url.sqlite_path().is_none() {
        eprintln!("error: the configured database is not SQLite: migrate-to moves a SQLite site to PostgreSQL");
        return Ok(ExitCode::FAILURE);
    }
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        eprintln!("error: give the PostgreSQL database to move to as postgres://user:password@host/database");
        return Ok(ExitCode::FAILURE);
    }
    let source = crate::setup::open_store(config).await?;
    let target_url = crate::config::DatabaseUrl::new(url);
    let target = match Store::connect(&target_url, config.time_zone).await {
        Ok(target) => target,
        Err(err) => {
            source.close().await;
            eprintln!("error: cannot open {}: {err:#}", target_url);
            eprintln!("Nothing was changed.");
            return Ok(ExitCode::FAILURE);
        }
    };
    let result = source.copy_into(&target).await;
    source.close().await;
    target.close().await;
    let copied = match result {
        Ok(copied) => copied,
        Err(err) => {
            eprintln!("error: {err}");
            eprintln!("Nothing was copied: the PostgreSQL database is as it was.");
            return Ok(ExitCode::FAILURE);
        }
    };
    let count = |table: &str| copied.iter().find(|(t, _)| t == table).map_or(0, |(_, n)| *n);
    outln!(
        "Moved to {}: {} articles and pages, {} comments, {} users, {} rows in {} tables.",
        target_url,
        count("articles"),
        count("comments"),
        count("users"),
        copied.iter().map(|(_, n)| n).sum::<u64>(),
        copied.len()
    );
    if let Some(location) = &config.media_store {
        let bucket = crate::media::MediaStore::open(location)?;
        let sent = crate::backup::upload_media(&bucket, &config.media_dir()).await?;
        outln!("{sent} media files put into {location}.");
    } else {
        outln!(
            "Media files stay in {}: give every server the same media (--media-store s3://…) for a cluster.",
            config.media_dir().display()
        );
    }
    outln!("Start the servers with --database-url set to the new database; the SQLite file was only read.");
    Ok(ExitCode::SUCCESS)
}

async fn import_wxr(store: &Store, config: &Config, file: &Path, options: Options) -> anyhow::Result<ExitCode> {
    use crate::import::wordpress;
    let dry_run = options.dry_run;
    if let Some(dir) = options.uploads.as_deref().filter(|d| !d.is_dir()) {
        anyhow::bail!("--uploads {}: not a folder", dir.display());
    }
    let progress = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg:<28} [{bar:30}] {pos}/{len} items, {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    progress.enable_steady_tick(std::time::Duration::from_millis(200));
    let media = crate::media::MediaStore::open(&config.media_location())?;
    let result = wordpress::import_wxr(store, &media, config.time_zone, file, &options, &progress).await;
    progress.finish_and_clear();
    match result {
        Ok(summary) => {
            out!("{summary}");
            if dry_run {
                outln!("Dry run: nothing was written.");
            } else if let Err(err) = store.tidy_search_index().await {
                eprintln!("warning: cannot merge the search index: {err}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(err) => {
            eprintln!("error: {}: {err}", file.display());
            eprintln!("Nothing was imported: the site is as it was.");
            Ok(ExitCode::FAILURE)
        }
    }
}

fn spam(command: SpamCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let open = |dir: &Path| {
        let dir = dir.to_owned();
        move |name: &str| std::fs::File::open(dir.join(name)).map(std::io::BufReader::new)
    };
    let cannot_read = |dir: &Path| {
        let dir = dir.display().to_string();
        move |err| anyhow::anyhow!("cannot read the data sets in {dir}: {err}")
    };
    match command {
        SpamCommand::Train { datasets, out } => {
            // The training files only: the evaluation-only ones are not opened.
            let train = Datasets::load_training(open(&datasets)).map_err(cannot_read(&datasets))?;
            let trained = spamfilter::train_model(&eval::groups(&train), &spamfilter::TrainConfig::default());
            let mut bytes = Vec::new();
            trained.model.write_to(&mut bytes).map_err(|err| anyhow::anyhow!("cannot encode the model: {err}"))?;
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, &bytes).with_context(|| format!("cannot write {}", out.display()))?;
            let t = trained.model.thresholds();
            outln!(
                "wrote {} ({} bytes); out-of-fold on the training groups: precision {:.3}, recall {:.3}, F1 {:.3}, ham FPR {:.4}",
                out.display(),
                bytes.len(),
                trained.cv.precision,
                trained.cv.recall,
                trained.cv.f1,
                trained.cv.fpr
            );
            outln!(
                "thresholds (log-odds): doubt >= {:.4}, spam >= {:.4}, blatant spam >= {:.4}",
                t.doubt,
                t.spam,
                t.blatant
            );
            Ok(ExitCode::SUCCESS)
        }
        SpamCommand::Eval { datasets } => {
            let data = Datasets::load(open(&datasets)).map_err(cannot_read(&datasets))?;
            let report = eval::run(&data, &spamfilter::TrainConfig::default(), &EvalOptions::default());
            outln!("{report}");
            let form = news_through_the_form(&report.model, &data.news);
            outln!(
                "\nD through the article form (first-time commenters who give a website, sent 15 s after loading \
                 the form, default discussion settings): spam folder {} of {} ({:.2} %), held for a moderator {} \
                 (the spam filter unsure: {}), published {}",
                form.spam,
                data.news.len(),
                100.0 * form.spam as f64 / data.news.len().max(1) as f64,
                form.held,
                form.doubtful,
                form.published
            );
            Ok(ExitCode::SUCCESS)
        }
        SpamCommand::Check { texts } => {
            let engine = SpamEngine::load(config.spam_model.as_deref())?;
            let texts = if texts.is_empty() {
                std::io::stdin().lines().collect::<Result<Vec<_>, _>>().context("cannot read standard input")?
            } else {
                texts
            };
            for text in texts.iter().filter(|t| !t.trim().is_empty()) {
                // A fresh engine has learnt no lessons: this is the base model's verdict.
                let verdict = engine.check(
                    crate::spam::LOCAL_SITE,
                    &crate::spam::SpamInput { text: text.clone(), ..Default::default() },
                );
                outln!("{text}\n  {verdict}");
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where split D's comments go when sent through the article form.
#[derive(Debug, Default)]
struct FormOutcomes {
    spam: usize,
    held: usize,
    /// Of the held: held because the spam filter was unsure.
    doubtful: usize,
    published: usize,
}

/// Runs each of `news` through the article form's decision ([`discussion::judge`]) as a
/// first-time commenter who gave a website and sent the form 15 s after loading it.
fn news_through_the_form(model: &std::sync::Arc<spamfilter::Model>, news: &[spamfilter::Example]) -> FormOutcomes {
    use crate::domain::moderation::Verdict;
    let engine = SpamEngine::new(std::sync::Arc::clone(model));
    let settings = crate::domain::moderation::DiscussionSettings::default();
    let mut out = FormOutcomes::default();
    for e in news {
        let submission = discussion::Submission {
            article_id: 1,
            comment: crate::domain::comment::ValidComment {
                author_name: "A. Reader".into(),
                author_email: "reader@example.net".into(),
                author_url: Some("https://example.net/".into()),
                body: e.text.trim().to_owned(),
                parent_id: None,
            },
            ip: "192.0.2.1".into(),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64)".into()),
            seconds_since_render: 15,
            subscribe_to_replies: false,
            honeypot_filled: false,
            now: 0,
        };
        let (verdict, opinion) = discussion::judge(&engine, &settings, &submission, crate::store::History::default());
        match verdict {
            Verdict::Spam(_) | Verdict::Discard(_) => out.spam += 1,
            Verdict::Hold(_) => {
                out.held += 1;
                out.doubtful += usize::from(opinion.doubtful);
            }
            Verdict::Approve => out.published += 1,
        }
    }
    out
}

async fn user(store: &Store, command: UserCommand) -> anyhow::Result<ExitCode> {
    let parse_role = |name: &str| {
        Role::parse(name.trim())
            .ok_or_else(|| anyhow::anyhow!("role {name:?} is not administrator, editor, author or contributor"))
    };
    let refuse = |message: String| {
        eprintln!("error: {message}");
        Ok(ExitCode::FAILURE)
    };
    match command {
        UserCommand::Add { email, name, role } => {
            let role = parse_role(&role)?;
            let email = email.trim();
            let valid = email.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !email.chars().any(char::is_whitespace)
            });
            if !valid {
                return refuse(format!("{email:?} is not an email address"));
            }
            if name.trim().is_empty() {
                return refuse("--name must not be empty".into());
            }
            let password = crate::auth::generate_password();
            let hash = crate::auth::hash_password(&password)?;
            match store.create_user(email, name.trim(), role.as_str(), &hash, true, Utc::now().timestamp()).await {
                Ok(id) => {
                    outln!("{password}");
                    eprintln!("user {id} <{email}> added as {role}; the one-time password above is shown only now.");
                }
                Err(StoreError::Rejected(message)) => return refuse(message),
                Err(err) => return Err(err.into()),
            }
        }
        UserCommand::List => {
            for user in store.users().await? {
                let note = if user.must_change_password { "  (one-time password)" } else { "" };
                outln!("{:>4}  {:<14}  {}  <{}>{note}", user.id, user.role.as_str(), user.display_name, user.email);
            }
        }
        UserCommand::Role { user, role } => match store.set_role(&user, parse_role(&role)?).await {
            Ok(user) => outln!("{} <{}> is now {}", user.display_name, user.email, user.role),
            Err(StoreError::NotFound) => return refuse(format!("no user {user:?}")),
            Err(StoreError::Rejected(message)) => return refuse(message),
            Err(err) => return Err(err.into()),
        },
        UserCommand::ResetPassword { user } => {
            let found = match store.find_user(&user).await {
                Ok(found) => found,
                Err(StoreError::NotFound) => return refuse(format!("no user {user:?}")),
                Err(err) => return Err(err.into()),
            };
            let password = crate::auth::generate_password();
            store.set_password(found.id, &crate::auth::hash_password(&password)?, true, None).await?;
            outln!("{password}");
            eprintln!("new one-time password for <{}>, shown only now; their sessions are signed out.", found.email);
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn apikey(store: &Store, command: ApikeyCommand) -> anyhow::Result<ExitCode> {
    let now = Utc::now().timestamp();
    match command {
        ApikeyCommand::Create { site, label } => {
            if !(site.starts_with("http://") || site.starts_with("https://")) {
                anyhow::bail!("--site must be the site's address, starting with http:// or https://");
            }
            let key = crate::auth::generate_api_key();
            store.create_api_key(&key, &site, &label, now).await?;
            outln!("{key}");
            eprintln!("API key for {site} created; it is shown only now.");
        }
        ApikeyCommand::List => {
            let totals = store.api_traffic_totals().await?;
            for key in store.api_keys().await? {
                let state = if key.revoked_at.is_some() { "revoked" } else { "active" };
                let shown = format!("{}…", key.key.chars().take(6).collect::<String>());
                outln!("{:>4}  {shown:<8}  {state:<8}  {}  {}", key.id, key.site_url, key.label);
                let (t, lessons) =
                    totals.iter().find(|(site, ..)| *site == key.id).map(|(_, t, n)| (*t, *n)).unwrap_or_default();
                outln!(
                    "      {} checked ({} spam, {} ham), {} missed spam, {} false positives, {} lessons learnt",
                    t.spam + t.ham,
                    t.spam,
                    t.ham,
                    t.missed_spam,
                    t.false_positives,
                    lessons
                );
            }
        }
        ApikeyCommand::Revoke { key } => match store.revoke_api_key(&key, now).await {
            Ok(()) => outln!("revoked"),
            Err(StoreError::NotFound) => {
                eprintln!("error: no active key {key:?}");
                return Ok(ExitCode::FAILURE);
            }
            Err(err) => return Err(err.into()),
        },
    }
    Ok(ExitCode::SUCCESS)
}

async fn comments(
    store: &Store,
    spam: &SpamEngine,
    notifier: &crate::mail::Notifier,
    command: CommentsCommand,
) -> anyhow::Result<ExitCode> {
    let now = Utc::now().timestamp();
    let (ids, action) = match command {
        CommentsCommand::List { status, limit } => {
            let status = match status.as_deref() {
                None => None,
                Some(text) => Some(
                    Status::parse(text)
                        .ok_or_else(|| anyhow::anyhow!("status {text:?} is not pending, approved, spam or trash"))?,
                ),
            };
            for c in store.list_comments(status, limit).await? {
                let excerpt: String = c.body.chars().take(70).collect::<String>().replace('\n', " ");
                outln!("{:>6}  {:<8}  article {:<5} {:<24} {}", c.id, c.status, c.article_id, c.author_name, excerpt);
                if let Some(reason) = c.reason {
                    outln!("{:>6}  reason: {reason}", "");
                }
            }
            return Ok(ExitCode::SUCCESS);
        }
        CommentsCommand::Approve { ids } => (ids, Action::Approve),
        CommentsCommand::Spam { ids } => (ids, Action::Spam),
        CommentsCommand::Trash { ids } => (ids, Action::Trash),
        CommentsCommand::Delete { ids } => (ids, Action::Delete),
    };
    if ids.is_empty() {
        anyhow::bail!("give the number of at least one comment");
    }
    let mut failed = false;
    for id in ids {
        match discussion::moderate(store, spam, notifier, id, action, now).await {
            Ok(()) => outln!("comment {id}: {action:?}"),
            Err(StoreError::NotFound) => {
                eprintln!("error: there is no comment {id}");
                failed = true;
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// A source file read and checked, with its image loaded.
struct Prepared {
    path: PathBuf,
    draft: ArticleDraft,
    image: Option<(String, Vec<u8>)>,
}

async fn publish(config: &mut Config, files: &[PathBuf]) -> anyhow::Result<ExitCode> {
    let mut prepared = Vec::new();
    let mut failures = 0;
    for path in files {
        match prepare(path) {
            Ok(item) => prepared.push(item),
            Err(message) => {
                eprintln!("error: {message}");
                failures += 1;
            }
        }
    }
    if failures > 0 {
        eprintln!("nothing was published: {failures} of {} file(s) have errors", files.len());
        return Ok(ExitCode::FAILURE);
    }
    let store = crate::setup::open_store(config).await?;
    let now = Utc::now();
    for item in &prepared {
        let image = item.image.as_ref().map(|(name, bytes)| ImageBytes { name, bytes });
        match publishing::publish_draft(&store, config, &item.draft, image, now).await {
            Ok(saved) => {
                let record = store.article_by_slug(item.draft.kind, item.draft.slug.as_str()).await?;
                let verb = if saved.created { "created" } else { "updated" };
                let state = match record.published_at {
                    None => "draft, not public".to_owned(),
                    Some(at) if at > now.timestamp() => format!(
                        "scheduled for {}",
                        crate::domain::dates::machine(
                            chrono::DateTime::from_timestamp(at, 0).unwrap_or(now),
                            config.time_zone
                        )
                    ),
                    Some(_) => "public".to_owned(),
                };
                let address = permalink(item.draft.kind, &record.slug, record.published_at, config.time_zone);
                let kind = if item.draft.kind == Kind::Page { "page" } else { "article" };
                outln!("{verb} {kind} {}{address} ({state}) from {}", config.base_url, item.path.display());
            }
            Err(err) => {
                store.close().await;
                anyhow::bail!("{}: {err}", item.path.display());
            }
        }
    }
    // Many articles at once leave the search index in many pieces; they are
    // published whether or not merging them works (the server tries again).
    if let Err(err) = store.tidy_search_index().await {
        eprintln!("warning: cannot merge the search index: {err}");
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

/// Reads and validates one file; the message names the file and, when known, the line.
fn prepare(path: &Path) -> Result<Prepared, String> {
    let bytes = std::fs::read(path).map_err(|err| format!("{}: cannot read: {err}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|err| {
        let line = err.as_bytes()[..err.utf8_error().valid_up_to()].iter().filter(|&&b| b == b'\n').count() + 1;
        format!("{}:{line}: the file is not valid UTF-8", path.display())
    })?;
    let draft = source::parse(&text).map_err(|err| match err.line {
        Some(line) => format!("{}:{line}: {}", path.display(), err.message),
        None => format!("{}: {}", path.display(), err.message),
    })?;
    let image = match &draft.image {
        Some(image) if !publishing::is_url(&image.src) => {
            let image_path = path.parent().unwrap_or(Path::new(".")).join(&image.src);
            let bytes = std::fs::read(&image_path)
                .map_err(|err| format!("{}: image {}: {err}", path.display(), image_path.display()))?;
            let name = image_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            media::check_image(&name, &bytes).map_err(|err| format!("{}: {err}", path.display()))?;
            Some((name, bytes))
        }
        _ => None,
    };
    Ok(Prepared { path: path.to_owned(), draft, image })
}
