//! Site settings editors change at run time, such as the discussion policies.

use super::{Store, StoreError, StoreResult, invalidations};
use crate::domain::cache_tags;
use crate::domain::moderation::DiscussionSettings;

impl Store {
    /// The discussion settings, with WordPress's defaults for anything unset
    /// (or unreadable, which is logged).
    pub async fn discussion_settings(&self) -> StoreResult<DiscussionSettings> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, value FROM settings").fetch_all(&self.pool).await?;
        let mut settings = DiscussionSettings::default();
        for (name, value) in rows.into_iter().filter(|(name, _)| !name.starts_with(IDENTITY_PREFIX)) {
            if let Err(err) = apply(&mut settings, &name, &value) {
                tracing::warn!(setting = %name, error = %err, "ignoring an unreadable setting");
            }
        }
        Ok(settings)
    }

    /// Sets one discussion setting by name, checking its value.
    pub async fn set_discussion_setting(&self, name: &str, value: &str) -> Result<(), String> {
        check_discussion_setting(&mut DiscussionSettings::default(), name, value)?;
        let save = async {
            let mut tx = self.begin_write().await?;
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2",
            )
            .bind(name)
            .bind(value)
            .execute(&mut *tx)
            .await?;
            // Every article page shows the discussion as the settings shape it.
            invalidations::log(&mut tx, &[(cache_tags::SITE.to_owned(), chrono::Utc::now().timestamp())]).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        };
        save.await.map_err(|err| format!("cannot save the setting: {err}"))
    }
}

/// Reads one setting into `settings`; the names are the field names.
/// Settings of the site's identity share the table under this prefix.
const IDENTITY_PREFIX: &str = "site.";

/// The site's own settings made in the admin, where they were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteSettings {
    pub name: Option<String>,
    pub tagline: Option<String>,
    /// Take effect at the next start, unless the configuration sets them.
    pub time_zone: Option<String>,
    pub base_url: Option<String>,
    /// Feeds carry the standfirst only, not the full text ("true" / "false").
    pub feed_summary: Option<String>,
}

impl Store {
    pub async fn site_settings(&self) -> StoreResult<SiteSettings> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, value FROM settings WHERE name LIKE 'site.%'").fetch_all(&self.pool).await?;
        let get = |key: &str| rows.iter().find(|(name, _)| name == key).map(|(_, value)| value.clone());
        Ok(SiteSettings {
            name: get("site.name"),
            tagline: get("site.tagline"),
            time_zone: get("site.time_zone"),
            base_url: get("site.base_url"),
            feed_summary: get("site.feed_summary"),
        })
    }

    /// Saves the site's settings (those given); every page shows them.
    pub async fn set_site_settings(&self, settings: &SiteSettings, now: i64) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let pairs = [
            ("site.name", &settings.name),
            ("site.tagline", &settings.tagline),
            ("site.time_zone", &settings.time_zone),
            ("site.base_url", &settings.base_url),
            ("site.feed_summary", &settings.feed_summary),
        ];
        for (key, value) in pairs {
            let Some(value) = value else { continue };
            sqlx::query(
                "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        invalidations::log(&mut tx, &[(cache_tags::SITE.to_owned(), now)]).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// The discussion settings' names, in the admin form's order.
pub const DISCUSSION_SETTINGS: [&str; 12] = [
    "manual_approval",
    "hold_first_time",
    "max_links",
    "hold_words",
    "block_words",
    "close_after_days",
    "thread_depth",
    "per_page",
    "flood_seconds",
    "min_seconds_to_submit",
    "ip_retention_days",
    "discard_blatant_spam",
];

/// One setting's value as `set_discussion_setting` takes it (word lists one a line).
pub fn discussion_setting_value(settings: &DiscussionSettings, name: &str) -> String {
    match name {
        "manual_approval" => settings.manual_approval.to_string(),
        "hold_first_time" => settings.hold_first_time.to_string(),
        "max_links" => settings.max_links.to_string(),
        "hold_words" => settings.hold_words.join("\n"),
        "block_words" => settings.block_words.join("\n"),
        "close_after_days" => settings.close_after_days.to_string(),
        "thread_depth" => settings.thread_depth.to_string(),
        "per_page" => settings.per_page.to_string(),
        "flood_seconds" => settings.flood_seconds.to_string(),
        "min_seconds_to_submit" => settings.min_seconds_to_submit.to_string(),
        "ip_retention_days" => settings.ip_retention_days.to_string(),
        "discard_blatant_spam" => settings.discard_blatant_spam.to_string(),
        _ => String::new(),
    }
}

/// The values a whole-number discussion setting takes, smallest and largest:
/// what `set_discussion_setting` accepts and what the admin form offers.
pub fn discussion_setting_bounds(name: &str) -> Option<(i64, i64)> {
    match name {
        "max_links" => Some((0, 1000)),
        "close_after_days" => Some((0, 100_000)),
        "thread_depth" => Some((1, 10)),
        "per_page" => Some((5, 500)),
        "flood_seconds" => Some((0, 86_400)),
        "min_seconds_to_submit" => Some((0, 3600)),
        "ip_retention_days" => Some((1, 3650)),
        _ => None,
    }
}

/// Checks one setting's value as `set_discussion_setting` would, into `settings`.
///
/// A number out of its bounds is refused here; what is already stored is read
/// leniently (`apply` brings a few old values into range).
pub fn check_discussion_setting(settings: &mut DiscussionSettings, name: &str, value: &str) -> Result<(), String> {
    if let Some((min, max)) = discussion_setting_bounds(name)
        && !value.trim().parse::<i64>().is_ok_and(|n| (min..=max).contains(&n))
    {
        return Err(format!("{name} is a whole number from {min} to {max}, not {value:?}"));
    }
    apply(settings, name, value)
}

fn apply(settings: &mut DiscussionSettings, name: &str, value: &str) -> Result<(), String> {
    fn flag(value: &str) -> Result<bool, String> {
        match value {
            "true" | "1" | "on" => Ok(true),
            "false" | "0" | "off" => Ok(false),
            _ => Err(format!("{value:?} is not true or false")),
        }
    }
    fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
        value.trim().parse().map_err(|_| format!("{value:?} is not a whole number"))
    }
    fn words(value: &str) -> Vec<String> {
        value.lines().map(str::trim).filter(|w| !w.is_empty()).map(str::to_owned).collect()
    }
    match name {
        "manual_approval" => settings.manual_approval = flag(value)?,
        "hold_first_time" => settings.hold_first_time = flag(value)?,
        "max_links" => settings.max_links = number(value)?,
        "hold_words" => settings.hold_words = words(value),
        "block_words" => settings.block_words = words(value),
        "close_after_days" => settings.close_after_days = number(value)?,
        "thread_depth" => settings.thread_depth = number::<u32>(value)?.clamp(1, 10),
        "per_page" => settings.per_page = number::<u32>(value)?.clamp(5, 500),
        "flood_seconds" => settings.flood_seconds = number(value)?,
        "min_seconds_to_submit" => settings.min_seconds_to_submit = number(value)?,
        "ip_retention_days" => settings.ip_retention_days = number::<u32>(value)?.max(1),
        "discard_blatant_spam" => settings.discard_blatant_spam = flag(value)?,
        other => return Err(format!("there is no discussion setting called {other:?}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_reads_back_what_it_shows() {
        let shown = DiscussionSettings {
            manual_approval: true,
            max_links: 7,
            hold_words: vec!["casino".into(), "free money".into()],
            close_after_days: 30,
            per_page: 20,
            flood_seconds: 0,
            discard_blatant_spam: true,
            ..DiscussionSettings::default()
        };
        let mut read = DiscussionSettings { hold_first_time: false, thread_depth: 9, ..DiscussionSettings::default() };
        for name in DISCUSSION_SETTINGS {
            check_discussion_setting(&mut read, name, &discussion_setting_value(&shown, name)).expect(name);
        }
        assert_eq!(read, shown, "every field is listed, shown and read back");
    }
}
