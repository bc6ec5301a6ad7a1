//! The demo site: original, clearly-marked demo articles and pages about a
//! fictional city, built into the binary as ordinary source files (`demo/`)
//! and published through the same path as `broadsheet publish`.

use chrono::{DateTime, Duration, Utc};
use include_dir::{Dir, include_dir};

use crate::config::Config;
use crate::domain::article::Publication;
use crate::domain::source;
use crate::publishing::{self, ImageBytes};
use crate::setup;
use crate::store::{Listing, Store};

static DEMO: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/demo");

/// Hours between demo articles, newest first, so the front page looks current.
const SPACING_HOURS: i64 = 9;

/// Publishes the demo site when this is the first start of an empty database.
pub async fn install_if_fresh(store: &Store, config: &Config, now: DateTime<Utc>) -> anyhow::Result<()> {
    if setup::is_initialized(store).await? || store.count_articles(Listing::Front, i64::MAX).await? > 0 {
        return Ok(());
    }
    let mut sources: Vec<_> = ["articles", "pages"]
        .iter()
        .filter_map(|dir| DEMO.get_dir(dir))
        .flat_map(|dir| dir.files())
        .filter(|file| file.path().extension().is_some_and(|ext| ext == "md"))
        .collect();
    sources.sort_by_key(|file| file.path());
    let mut articles = 0;
    for file in sources {
        let name = file.path().display().to_string();
        let text = file.contents_utf8().ok_or_else(|| anyhow::anyhow!("demo/{name} is not UTF-8"))?;
        let mut draft = source::parse(text).map_err(|err| anyhow::anyhow!("demo/{name}: {err}"))?;
        // Articles are dated back from now, one every few hours, first file newest.
        let published = now - Duration::hours(1 + articles * SPACING_HOURS);
        if draft.kind == crate::domain::article::Kind::Article {
            articles += 1;
        }
        draft.publication = Publication::At(Some(crate::domain::article::PublishDate::Fixed(published.fixed_offset())));
        let image = match &draft.image {
            Some(image) => {
                let file_name = image.src.rsplit('/').next().unwrap_or(&image.src);
                let bytes = DEMO
                    .get_file(format!("images/{file_name}"))
                    .ok_or_else(|| anyhow::anyhow!("demo/{name}: image {} is missing", image.src))?
                    .contents();
                Some(ImageBytes { name: file_name, bytes })
            }
            None => None,
        };
        publishing::publish_draft(store, config, &draft, image, now)
            .await
            .map_err(|err| anyhow::anyhow!("demo/{name}: {err}"))?;
    }
    tracing::info!(articles, "installed the demo site");
    Ok(())
}
