//! The application as a value: `App::build` opens the database, prepares a
//! first start, binds the listener (port 0 in tests) and builds the site;
//! `App::run` serves until a shutdown signal, then drains requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::FromRef;
use axum_extra::extract::cookie::Key;
use chrono::Utc;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::mail::{Notifier, Transport, Wake};
use crate::media::MediaStore;
use crate::purge::Purger;
use crate::spam::SpamEngine;
use crate::store::Store;
use crate::web::akismet::traffic::TrafficCounter;
use crate::web::akismet::{FloodLimits, KeySet};
use crate::web::assets::Assets;
use crate::web::cache::PageCache;
use crate::web::changes::ChangeFeed;
use crate::web::comment_queue::CommentQueue;
use crate::web::metrics::Metrics;
use crate::web::routes::Site;
use crate::web::signing::Signer;
use crate::web::writes::WriteThread;
use crate::{demo, jobs, setup, web};

/// What every request handler can reach: one shared allocation, so that
/// handing it to a request is a single reference-count increment.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of the running application.
pub struct Shared {
    pub store: Store,
    pub config: Config,
    pub cache: PageCache,
    /// Where media files live (the media directory or a bucket).
    pub media: MediaStore,
    pub changes: ChangeFeed,
    pub assets: Assets,
    pub signer: Arc<Signer>,
    pub spam: Arc<SpamEngine>,
    pub akismet_keys: KeySet,
    pub akismet_limits: FloodLimits,
    pub akismet_traffic: TrafficCounter,
    pub metrics: Arc<Metrics>,
    /// The CDN purge webhook's client, when one is configured.
    pub purger: Option<Purger>,
    pub comment_queue: CommentQueue,
    /// The thread and connections comment posts do their database work on.
    pub writes: WriteThread,
    /// Queues the discussion's messages.
    pub notifier: Notifier,
    /// Where queued messages are sent, and the sender's bell.
    pub mail: Arc<Transport>,
    pub mail_wake: Wake,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Signed cookies use the site's key.
impl FromRef<AppState> for Key {
    fn from_ref(state: &AppState) -> Key {
        state.signer.cookie_key().clone()
    }
}

/// Choices for a start.
#[derive(Debug, Clone, Copy)]
pub struct StartOptions {
    /// Install the demo site on a first start with an empty database.
    pub demo: bool,
}

/// A server ready to run.
pub struct App {
    pub state: AppState,
    /// The administrator made on a first start, for `serve` to print once.
    pub first_start: Option<setup::FirstStart>,
    site: Site,
    listener: TcpListener,
}

impl App {
    pub async fn build(mut config: Config, options: StartOptions) -> anyhow::Result<App> {
        let listener =
            TcpListener::bind(config.addr).await.with_context(|| format!("cannot listen on {}", config.addr))?;
        let store = setup::open_store(&mut config).await?;
        // On port 0 (any free port), the default base URL names the port it got:
        // links in pages and mail must reach this server.
        if config.addr.port() == 0 && config.base_url == format!("http://{}", config.addr) {
            config.base_url = format!("http://{}", listener.local_addr()?);
        }
        let now = Utc::now();
        let first_start = setup::first_start(&store, &config, now).await?;
        let spam = Arc::new(SpamEngine::load(config.spam_model.as_deref())?);
        if options.demo {
            demo::install_if_fresh(&store, &config, &spam, now).await?;
        }
        setup::mark_initialized(&store).await?;
        let secret = setup::site_secret(&store).await?;
        let lessons = spam.catch_up(&store).await?;
        tracing::info!(lessons, "spam filter ready");
        let changes = ChangeFeed::start(store.clone(), Arc::clone(&spam), now.timestamp()).await?;
        let akismet_limits = FloodLimits::new(&config.akismet_quotas);
        let purger = config.purge.clone().map(Purger::new).transpose()?;
        let media = MediaStore::open(&config.media_location())?;
        tracing::info!(media = %media.location(), "media store ready");
        let mail = Arc::new(Transport::from_config(&config.mail)?);
        let mail_wake = Wake::default();
        let notifier = Notifier::new(store.clone(), &config, mail_wake.clone());
        let writes = WriteThread::start(&store, &config.database_url).await?;
        let state = AppState(Arc::new(Shared {
            store,
            config,
            cache: PageCache::new(),
            media,
            changes,
            assets: Assets::build(),
            signer: Arc::new(Signer::new(&secret)),
            spam,
            akismet_keys: KeySet::default(),
            akismet_limits,
            akismet_traffic: TrafficCounter::default(),
            metrics: Arc::new(Metrics::default()),
            purger,
            comment_queue: CommentQueue::default(),
            writes,
            notifier,
            mail,
            mail_wake,
        }));
        let site = web::routes::site(state.clone());
        Ok(App { state, first_start, site, listener })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then finishes requests in flight.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let jobs = jobs::spawn(self.state.clone());
        tracing::info!(addr = %self.local_addr()?, site = %self.state.config.base_url, "serving");
        let config = &self.state.config;
        web::edge::serve(self.listener, self.site, config.limits, config.trusted_proxies.clone(), shutdown).await;
        for job in jobs {
            job.abort();
        }
        if let Err(err) = self.state.akismet_traffic.flush(&self.state.store).await {
            tracing::warn!(error = %err, "cannot save the spam API's last traffic figures");
        }
        self.state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests in flight");
}
