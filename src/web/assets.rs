//! Static assets built into the binary, served under content-hashed names
//! (`/static/style.3f2a….css`) so browsers and CDNs may keep them for a year.

use std::sync::Arc;

use axum::http::StatusCode;

use super::cache::CachedPage;

/// Assets never change under one name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

const SOURCES: &[(&str, &str, &str)] = &[
    ("style", "css", include_str!("../../static/style.css")),
    ("favicon", "svg", include_str!("../../static/favicon.svg")),
    ("admin", "js", include_str!("../../static/admin.js")),
];

/// One asset's public address and its ready response.
pub struct Asset {
    pub path: String,
    pub page: Arc<CachedPage>,
}

/// Every static asset, hashed and compressed once at start.
pub struct Assets {
    items: Vec<Asset>,
}

impl Assets {
    pub fn build() -> Assets {
        let items = SOURCES
            .iter()
            .map(|(stem, ext, text)| {
                let hash = blake3::hash(text.as_bytes()).to_hex();
                let content_type = match *ext {
                    "css" => "text/css; charset=utf-8",
                    "js" => "text/javascript; charset=utf-8",
                    _ => "image/svg+xml",
                };
                let page = CachedPage::new(StatusCode::OK, content_type, IMMUTABLE, text.as_bytes(), 0, i64::MAX);
                page.compress();
                Asset { path: format!("/static/{stem}.{}.{ext}", &hash[..16]), page: Arc::new(page) }
            })
            .collect();
        Assets { items }
    }

    /// The asset served at `path`.
    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.items.iter().find(|asset| asset.path == path)
    }

    /// The hashed address of an asset by its stem, for templates.
    pub fn path_of(&self, stem: &str) -> &str {
        self.items
            .iter()
            .find(|asset| {
                asset
                    .path
                    .strip_prefix("/static/")
                    .is_some_and(|rest| rest.starts_with(stem) && rest[stem.len()..].starts_with('.'))
            })
            .map_or("/static/missing", |asset| asset.path.as_str())
    }
}
