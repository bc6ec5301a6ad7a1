//! An imported site's old addresses: one 301 to where the thing lives now.
//!
//! Every address the import recorded (`redirects`) is tried when nothing
//! else answers: the old permalinks in whatever structure the site used,
//! attachment pages, category, tag and author archives under their old
//! slugs. WordPress's query addresses of the front page (`/?p=12`,
//! `/?page_id=2`, `/?cat=3`, `/?tag=x`, `/?author=1`, `/?attachment_id=9`)
//! and `/archives/12` are looked up by the id they name, and an old address
//! followed by `feed/` leads to the new one's feed.

use chrono::{DateTime, Utc};

use crate::domain::article::Kind;
use crate::publishing::permalink;
use crate::store::Place;
use crate::web::AppState;

/// The query keys of WordPress's plain links, most specific first.
const QUERY_KEYS: &[&str] = &["p", "page_id", "attachment_id", "cat", "tag", "author"];

/// Whether a front-page query names an old address (and so is worth a lookup).
pub fn is_old_query(path: &str, query: Option<&str>) -> bool {
    (path == "/" || path == "/index.php")
        && query.is_some_and(|q| {
            form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "feed" || QUERY_KEYS.contains(&k.as_ref()))
        })
}

/// WordPress's other addresses of the site's feeds.
fn site_feed(path: &str, query: Option<&str>) -> Option<&'static str> {
    match path {
        "/feed/rss2/" | "/feed/rss/" | "/feed/rdf/" | "/feed/rss2" | "/feed/rss" | "/feed/rdf" => {
            return Some("/feed/");
        }
        "/comments/feed/rss2/" | "/comments/feed/atom/" => return Some("/comments/feed/"),
        "/" | "/index.php" => {}
        _ => return None,
    }
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query?.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    if pairs.iter().any(|(k, _)| QUERY_KEYS.contains(&k.as_str())) {
        return None;
    }
    match pairs.iter().find(|(k, _)| k == "feed").map(|(_, v)| v.as_str())? {
        "atom" => Some("/feed/atom/"),
        "comments-rss2" | "comments-atom" => Some("/comments/feed/"),
        _ => Some("/feed/"),
    }
}

/// Where an old address leads now, if it is one; counts its use.
pub async fn target(state: &AppState, path: &str, query: Option<&str>, now: DateTime<Utc>) -> Option<String> {
    if let Some(feed) = site_feed(path, query) {
        return Some(feed.to_owned());
    }
    let (key, feed) = key_of(path, query)?;
    let target = match state.store.redirect(&key).await {
        Ok(Some(target)) => target,
        Ok(None) => return None,
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the redirects");
            return None;
        }
    };
    let place = state.store.place(target, now.timestamp()).await.ok().flatten()?;
    let mut address = match place {
        Place::Article { kind, slug, published_at } => {
            let kind = if kind == "page" { Kind::Page } else { Kind::Article };
            permalink(kind, &slug, Some(published_at), state.config.time_zone)
        }
        Place::Category(slugs) => format!("/category/{}/", slugs.join("/")),
        Place::Tag(slug) => format!("/tag/{slug}/"),
        Place::Author(slug) => format!("/author/{slug}/"),
        Place::Media(url) => return Some(url),
    };
    if let Some(feed) = feed {
        address.push_str(feed);
    }
    let store = state.store.clone();
    tokio::spawn(async move {
        if let Err(err) = store.redirect_hit(&key, now.timestamp()).await {
            tracing::debug!(error = %err, "cannot count a redirect");
        }
    });
    Some(address)
}

/// The redirect key an address is filed under, and the feed suffix to keep.
fn key_of(path: &str, query: Option<&str>) -> Option<(String, Option<&'static str>)> {
    if path == "/" || path == "/index.php" {
        let pairs: Vec<(String, String)> =
            form_urlencoded::parse(query?.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let feed = pairs.iter().any(|(k, _)| k == "feed").then_some("feed/");
        return QUERY_KEYS.iter().find_map(|key| {
            let (_, value) = pairs.iter().find(|(k, v)| k == key && !v.is_empty())?;
            Some((format!("/?{key}={value}"), feed))
        });
    }
    if let Some(id) = path.strip_prefix("/archives/").map(|rest| rest.trim_end_matches('/')) {
        if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
            return Some((format!("/?p={id}"), None));
        }
    }
    for (suffix, feed) in [
        ("feed/rss2/", "feed/"),
        ("feed/rss/", "feed/"),
        ("feed/rdf/", "feed/"),
        ("feed/atom/", "feed/atom/"),
        ("feed/", "feed/"),
    ] {
        if let Some(base) = path.strip_suffix(suffix).filter(|b| b.len() > 1) {
            return Some((base.to_owned(), Some(feed)));
        }
    }
    Some((path.to_owned(), None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(key_of("/", Some("p=12")), Some(("/?p=12".into(), None)));
        assert_eq!(key_of("/index.php", Some("page_id=2&x=1")), Some(("/?page_id=2".into(), None)));
        assert_eq!(key_of("/", Some("p=12&feed=rss2")), Some(("/?p=12".into(), Some("feed/"))));
        assert_eq!(key_of("/", Some("s=ferry")), None);
        assert_eq!(key_of("/archives/77", None), Some(("/?p=77".into(), None)));
        assert_eq!(key_of("/2013/01/hello/feed/", None), Some(("/2013/01/hello/".into(), Some("feed/"))));
        assert_eq!(key_of("/hello/feed/atom/", None), Some(("/hello/".into(), Some("feed/atom/"))));
        assert_eq!(key_of("/hello/", None), Some(("/hello/".into(), None)));
        assert!(is_old_query("/", Some("cat=3")) && !is_old_query("/", Some("utm_source=x")));
        assert!(!is_old_query("/2024/01/01/x/", Some("p=3")));
        assert_eq!(site_feed("/", Some("feed=rss2")), Some("/feed/"));
        assert_eq!(site_feed("/", Some("feed=atom")), Some("/feed/atom/"));
        assert_eq!(site_feed("/", Some("p=3&feed=rss2")), None);
        assert_eq!(site_feed("/feed/rdf/", None), Some("/feed/"));
    }
}
