//! A first start: the administrator account, created once with a one-time password.

use std::fmt;

use chrono::{DateTime, Utc};

use crate::auth;
use crate::config::Config;
use crate::store::Store;

/// The e-mail address of the account a first start creates.
pub const FIRST_ADMIN_EMAIL: &str = "admin@localhost";

/// Marks a database whose first start is done.
const INITIALIZED: &str = "initialized";

/// What a first start created, to print once.
pub struct FirstStart {
    pub email: String,
    pub password: String,
    pub base_url: String,
}

impl fmt::Display for FirstStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "────────────────────────────────────────────────────────────")?;
        writeln!(f, " Broadsheet created an administrator account for this site.")?;
        writeln!(f, "   sign in at: {}/admin/", self.base_url)?;
        writeln!(f, "   email:      {}", self.email)?;
        writeln!(f, "   password:   {}", self.password)?;
        writeln!(f, " This password is shown only now and must be changed at first sign-in.")?;
        write!(f, "────────────────────────────────────────────────────────────")
    }
}

/// On a database that has never been started, creates the administrator.
pub async fn first_start(store: &Store, config: &Config, now: DateTime<Utc>) -> anyhow::Result<Option<FirstStart>> {
    if store.flag(INITIALIZED).await?.is_some() || store.count_users().await? > 0 {
        return Ok(None);
    }
    let password = auth::generate_password();
    let hash = auth::hash_password(&password)?;
    store.create_user(FIRST_ADMIN_EMAIL, "Administrator", "administrator", &hash, true, now.timestamp()).await?;
    tracing::info!(email = FIRST_ADMIN_EMAIL, "created the first administrator account");
    Ok(Some(FirstStart { email: FIRST_ADMIN_EMAIL.to_owned(), password, base_url: config.base_url.clone() }))
}

/// Names the site's secret key (hex) among the flags.
const SECRET: &str = "secret_key";

/// The site's 64-byte secret for signing forms and cookies, made on first use.
pub async fn site_secret(store: &Store) -> anyhow::Result<[u8; 64]> {
    if let Some(hex) = store.flag(SECRET).await? {
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .filter_map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect();
        return <[u8; 64]>::try_from(bytes).map_err(|_| {
            anyhow::anyhow!("the stored site secret is damaged; delete the `secret_key` flag to make a new one")
        });
    }
    let secret = crate::web::signing::generate_secret();
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    store.set_flag(SECRET, &hex).await?;
    Ok(secret)
}

/// True once a first start has completed.
pub async fn is_initialized(store: &Store) -> anyhow::Result<bool> {
    Ok(store.flag(INITIALIZED).await?.is_some())
}

pub async fn mark_initialized(store: &Store) -> anyhow::Result<()> {
    store.set_flag(INITIALIZED, "1").await?;
    Ok(())
}

/// Opens the database for a command or the server, and takes the site's time
/// zone and base URL saved in the admin where the configuration left them to
/// the defaults, so that every command dates and addresses things alike.
pub async fn open_store(config: &mut Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url, config.time_zone).await?;
    let saved = store.site_settings().await?;
    config.apply_saved(saved.time_zone.as_deref(), saved.base_url.as_deref());
    Ok(store.with_time_zone(config.time_zone))
}
