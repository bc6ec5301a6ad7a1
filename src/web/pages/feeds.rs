//! Feeds: RSS 2.0 and Atom 1.0 for the site, each category, tag and author,
//! all comments and one article's comments, at WordPress's addresses.
//!
//! Feeds are pages like any other: rendered here, cached under their address
//! with the cache tags of the listing or discussion they show, so the change
//! that alters a listing alters its feed on the next request.

use std::collections::BTreeMap;

use atom_syndication as atom;
use axum::http::StatusCode;
use chrono::{DateTime, FixedOffset, Utc};
use rss::extension::{Extension, ExtensionMap};

use super::listing::{ArchiveRef, find_archive};
use super::{Outcome, Rendered, SiteData};
use crate::app::AppState;
use crate::domain::article::Kind;
use crate::domain::cache_tags;
use crate::publishing::permalink;
use crate::store::{ArticleRecord, Listing};
use crate::web::error::AppError;
use crate::web::routes::{FeedFormat, FeedScope};

/// Articles in an article feed, as WordPress's default.
pub const ARTICLES: u32 = 10;
/// Comments in a comments feed.
pub const COMMENTS: u32 = 20;

pub const RSS_TYPE: &str = "application/rss+xml; charset=utf-8";
pub const ATOM_TYPE: &str = "application/atom+xml; charset=utf-8";
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

impl FeedFormat {
    pub fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => RSS_TYPE,
            FeedFormat::Atom => ATOM_TYPE,
        }
    }
}

/// A feed before it is written in either format.
struct Feed {
    /// The site's name: the author of last resort Atom requires.
    site_name: String,
    title: String,
    description: String,
    /// The page the feed follows (absolute).
    link: String,
    /// The feed's own address (absolute).
    self_link: String,
    updated: i64,
    items: Vec<Item>,
}

struct Item {
    title: String,
    link: String,
    published: i64,
    updated: i64,
    /// Plain-text summary.
    summary: String,
    /// Full HTML, with absolute links.
    content_html: Option<String>,
    author: Option<Person>,
    /// The wire agency credited with the story.
    agency: Option<String>,
    categories: Vec<String>,
    image: Option<Image>,
}

struct Person {
    name: String,
    uri: Option<String>,
}

struct Image {
    url: String,
    mime: &'static str,
    width: Option<i64>,
    height: Option<i64>,
    caption: String,
    credit: String,
}

impl Feed {
    /// Every text as XML allows it, so that no title or name a writer or
    /// reader typed can make the feed ill-formed.
    fn xml_safe(self) -> Feed {
        let items = self
            .items
            .into_iter()
            .map(|item| Item {
                title: xml_text(&item.title),
                summary: xml_text(&item.summary),
                content_html: item.content_html.as_deref().map(xml_text),
                author: item.author.map(|a| Person { name: xml_text(&a.name), uri: a.uri }),
                agency: item.agency.as_deref().map(xml_text),
                categories: item.categories.iter().map(|c| xml_text(c)).collect(),
                image: item.image.map(|i| Image { caption: xml_text(&i.caption), credit: xml_text(&i.credit), ..i }),
                ..item
            })
            .collect();
        Feed {
            site_name: xml_text(&self.site_name),
            title: xml_text(&self.title),
            description: xml_text(&self.description),
            items,
            ..self
        }
    }
}

/// Renders the feed at `path`.
pub async fn show_feed(
    state: &AppState,
    site: &SiteData,
    now: DateTime<Utc>,
    path: &str,
    scope: &FeedScope,
    format: FeedFormat,
) -> Result<Outcome, AppError> {
    let base = state.config.base_url.trim_end_matches('/');
    let tz = state.config.time_zone;
    let (feed, tag) = match scope {
        FeedScope::Comments => {
            let comments = state.store.recent_comments(now.timestamp(), COMMENTS).await?;
            let items = comments
                .into_iter()
                .map(|c| {
                    let kind = if c.article_kind == "page" { Kind::Page } else { Kind::Article };
                    let article = permalink(kind, &c.article_slug, c.article_published_at, tz);
                    comment_item(base, &article, &c.article_headline, c.id, &c.author_name, &c.body_html, c.created_at)
                })
                .collect();
            let feed = Feed {
                site_name: site.site_name.clone(),
                title: format!("Comments for {}", site.site_name),
                description: format!("The newest comments on {}", site.site_name),
                link: format!("{base}/"),
                self_link: format!("{base}{path}"),
                updated: 0,
                items,
            };
            (feed, cache_tags::COMMENTS.to_owned())
        }
        FeedScope::ArticleComments { year, month, day, slug } => {
            let record = state.store.article_by_slug(Kind::Article, slug).await?;
            let article = permalink(Kind::Article, &record.slug, record.published_at, tz);
            if !record.is_public(now.timestamp()) || article != format!("/{year:04}/{month:02}/{day:02}/{slug}/") {
                return Err(AppError::NotFound);
            }
            let mut comments = state.store.visible_comments(record.id, &[]).await?;
            comments.reverse();
            comments.truncate(COMMENTS as usize);
            let items = comments
                .iter()
                .map(|c| {
                    comment_item(base, &article, &record.headline, c.id, &c.author_name, &c.body_html, c.created_at)
                })
                .collect();
            let feed = Feed {
                site_name: site.site_name.clone(),
                title: format!("Comments on: {}", record.headline),
                description: record.standfirst.clone(),
                link: format!("{base}{article}"),
                self_link: format!("{base}{path}"),
                updated: record.updated_at,
                items,
            };
            (feed, cache_tags::article(record.id))
        }
        _ => {
            let (listing, title, link, tag) = match scope {
                FeedScope::Site => {
                    (Listing::Front, site.site_name.clone(), "/".to_owned(), cache_tags::FRONT.to_owned())
                }
                FeedScope::Category(_) | FeedScope::Tag(_) | FeedScope::Author(_) => {
                    let archive = match scope {
                        FeedScope::Category(slugs) => ArchiveRef::Category(slugs),
                        FeedScope::Tag(slug) => ArchiveRef::Tag(slug),
                        FeedScope::Author(slug) => ArchiveRef::Author(slug),
                        _ => return Err(AppError::NotFound),
                    };
                    match find_archive(state, site, archive).await? {
                        Ok(a) => (a.listing, format!("{} — {}", a.name, site.site_name), a.href, a.tag),
                        Err(href) => return Ok(Outcome::Redirect(format!("{href}{}", feed_suffix(format)))),
                    }
                }
                FeedScope::Comments | FeedScope::ArticleComments { .. } => return Err(AppError::NotFound),
            };
            let records = state.store.listed_records(listing, now.timestamp(), ARTICLES).await?;
            let items = records.iter().map(|record| article_item(base, record, tz, site.feed_summary)).collect();
            let feed = Feed {
                site_name: site.site_name.clone(),
                title,
                description: site.tagline.clone(),
                link: format!("{base}{link}"),
                self_link: format!("{base}{path}"),
                updated: 0,
                items,
            };
            (feed, tag)
        }
    };
    let updated = feed.items.iter().map(|i| i.updated).chain([feed.updated]).max().unwrap_or(0);
    let feed = Feed { updated, ..feed }.xml_safe();
    let xml = match format {
        FeedFormat::Rss => write_rss(&feed),
        FeedFormat::Atom => write_atom(&feed),
    };
    Ok(Outcome::Page(Rendered {
        status: StatusCode::OK,
        content_type: format.content_type(),
        html: xml,
        tags: vec![tag],
        // When it was rendered: an article leaving the feed changes it too.
        last_modified: now.timestamp(),
        expires_at: None,
    }))
}

fn feed_suffix(format: FeedFormat) -> &'static str {
    match format {
        FeedFormat::Rss => "feed/",
        FeedFormat::Atom => "feed/atom/",
    }
}

/// An article as a feed item: its full text unless the site's feeds carry summaries.
fn article_item(base: &str, record: &ArticleRecord, tz: chrono_tz::Tz, summary_only: bool) -> Item {
    let link = format!("{base}{}", permalink(Kind::Article, &record.slug, record.published_at, tz));
    let content_html = (!summary_only).then(|| absolute_links(&link, &record.body_html, Writer::Newsroom));
    let image = record.image_src.as_ref().map(|src| Image {
        url: absolute(base, src),
        mime: image_type(src),
        width: record.image_width,
        height: record.image_height,
        caption: record.image_caption.clone().unwrap_or_default(),
        credit: record.image_credit.clone().unwrap_or_default(),
    });
    let mut categories: Vec<String> = record.categories.iter().map(|c| c.name.clone()).collect();
    categories.extend(record.tags.iter().map(|t| t.name.clone()));
    Item {
        title: record.headline.clone(),
        link,
        published: record.published_at.unwrap_or(record.created_at),
        updated: record.updated_at,
        summary: record.standfirst.clone(),
        content_html,
        author: record
            .author_name
            .clone()
            .map(|name| Person { name, uri: record.author_slug.as_ref().map(|slug| format!("{base}/author/{slug}/")) }),
        agency: record.agency.clone().filter(|a| !a.trim().is_empty()),
        categories,
        image,
    }
}

fn comment_item(
    base: &str,
    article: &str,
    headline: &str,
    id: i64,
    author: &str,
    body_html: &str,
    created_at: i64,
) -> Item {
    Item {
        title: format!("Comment on {headline} by {author}"),
        link: format!("{base}{article}#comment-{id}"),
        published: created_at,
        updated: created_at,
        summary: String::new(),
        content_html: Some(absolute_links(&format!("{base}{article}"), body_html, Writer::Reader)),
        author: Some(Person { name: author.to_owned(), uri: None }),
        agency: None,
        categories: Vec::new(),
        image: None,
    }
}

/// Who wrote a piece of HTML: a reader's links get `rel="nofollow ugc"`.
#[derive(Clone, Copy)]
enum Writer {
    Newsroom,
    Reader,
}

/// Our HTML with every link and image made absolute against the page it is
/// on, as feed readers need: cleaned again on the way, so nothing a reader
/// wrote can slip through.
fn absolute_links(page_url: &str, html: &str, writer: Writer) -> String {
    let rel = match writer {
        Writer::Newsroom => "noopener",
        Writer::Reader => "nofollow ugc noopener",
    };
    match ammonia::Url::parse(page_url) {
        Ok(url) => ammonia::Builder::default()
            .url_relative(ammonia::UrlRelative::RewriteWithBase(url))
            .link_rel(Some(rel))
            .clean(html)
            .to_string(),
        Err(_) => ammonia::Builder::default().link_rel(Some(rel)).clean(html).to_string(),
    }
}

/// Text as XML 1.0 allows it: characters it forbids (most C0 controls,
/// U+FFFE, U+FFFF, lone surrogates) are dropped.
pub(super) fn xml_text(text: &str) -> String {
    text.chars()
        .filter(|&c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..))
        .collect()
}

fn absolute(base: &str, src: &str) -> String {
    if src.starts_with('/') { format!("{base}{src}") } else { src.to_owned() }
}

fn image_type(src: &str) -> &'static str {
    match src.rsplit_once('.').map(|(_, ext)| ext.to_ascii_lowercase()).as_deref() {
        Some("png") => "image/png",
        Some("webp") => "image/webp",
        Some("gif") => "image/gif",
        Some("svg") => "image/svg+xml",
        _ => "image/jpeg",
    }
}

fn date(at: i64) -> DateTime<FixedOffset> {
    DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default().fixed_offset()
}

/// `media:content` with its caption and credit, in both formats.
fn media_content(image: &Image) -> Extension {
    let mut attrs = BTreeMap::from([
        ("url".to_owned(), image.url.clone()),
        ("medium".to_owned(), "image".to_owned()),
        ("type".to_owned(), image.mime.to_owned()),
    ]);
    if let Some(w) = image.width {
        attrs.insert("width".to_owned(), w.to_string());
    }
    if let Some(h) = image.height {
        attrs.insert("height".to_owned(), h.to_string());
    }
    let mut children = BTreeMap::new();
    if !image.caption.is_empty() {
        let description = Extension {
            name: "media:description".to_owned(),
            value: Some(image.caption.clone()),
            ..Extension::default()
        };
        children.insert("description".to_owned(), vec![description]);
    }
    if !image.credit.is_empty() {
        let credit =
            Extension { name: "media:credit".to_owned(), value: Some(image.credit.clone()), ..Extension::default() };
        children.insert("credit".to_owned(), vec![credit]);
    }
    Extension { name: "media:content".to_owned(), value: None, attrs, children }
}

fn media_map(image: Option<&Image>) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    if let Some(image) = image {
        map.insert("media".to_owned(), BTreeMap::from([("content".to_owned(), vec![media_content(image)])]));
    }
    map
}

fn write_rss(feed: &Feed) -> String {
    let items: Vec<rss::Item> = feed
        .items
        .iter()
        .map(|item| {
            let mut creators: Vec<String> = item.author.iter().map(|a| a.name.clone()).collect();
            creators.extend(item.agency.clone());
            rss::Item {
                title: Some(item.title.clone()),
                link: Some(item.link.clone()),
                // Readers show the description as HTML: the standfirst is text.
                description: (!item.summary.is_empty())
                    .then(|| quick_xml::escape::escape(item.summary.as_str()).into_owned()),
                content: item.content_html.clone(),
                pub_date: Some(date(item.published).to_rfc2822()),
                guid: Some(rss::Guid { value: item.link.clone(), permalink: true }),
                categories: item
                    .categories
                    .iter()
                    .map(|name| rss::Category { name: name.clone(), domain: None })
                    .collect(),
                dublin_core_ext: (!creators.is_empty())
                    .then(|| rss::extension::dublincore::DublinCoreExtension { creators, ..Default::default() }),
                extensions: media_map(item.image.as_ref()),
                ..Default::default()
            }
        })
        .collect();
    let self_link = rss::extension::atom::Link {
        href: feed.self_link.clone(),
        rel: "self".to_owned(),
        mime_type: Some("application/rss+xml".to_owned()),
        ..Default::default()
    };
    let channel = rss::Channel {
        title: feed.title.clone(),
        link: feed.link.clone(),
        description: if feed.description.is_empty() { feed.title.clone() } else { feed.description.clone() },
        last_build_date: Some(date(feed.updated).to_rfc2822()),
        generator: Some("Broadsheet".to_owned()),
        items,
        atom_ext: Some(rss::extension::atom::AtomExtension { links: vec![self_link] }),
        namespaces: BTreeMap::from([("media".to_owned(), MEDIA_NS.to_owned())]),
        ..Default::default()
    };
    channel.to_string()
}

fn write_atom(feed: &Feed) -> String {
    let link = |href: &str, rel: &str, mime: Option<&str>| atom::Link {
        href: href.to_owned(),
        rel: rel.to_owned(),
        mime_type: mime.map(str::to_owned),
        ..Default::default()
    };
    let entries: Vec<atom::Entry> = feed
        .items
        .iter()
        .map(|item| {
            let mut entry = atom::Entry {
                title: atom::Text::plain(item.title.clone()),
                id: item.link.clone(),
                updated: date(item.updated.max(item.published)),
                published: Some(date(item.published)),
                links: vec![link(&item.link, "alternate", Some("text/html"))],
                authors: item
                    .author
                    .iter()
                    .map(|a| atom::Person { name: a.name.clone(), uri: a.uri.clone(), ..Default::default() })
                    .collect(),
                contributors: item
                    .agency
                    .iter()
                    .map(|name| atom::Person { name: name.clone(), ..Default::default() })
                    .collect(),
                categories: item
                    .categories
                    .iter()
                    .map(|name| atom::Category { term: name.clone(), ..Default::default() })
                    .collect(),
                summary: (!item.summary.is_empty()).then(|| atom::Text::plain(item.summary.clone())),
                content: item.content_html.as_ref().map(|html| atom::Content {
                    value: Some(html.clone()),
                    content_type: Some("html".to_owned()),
                    ..Default::default()
                }),
                ..Default::default()
            };
            if let Some(image) = &item.image {
                let media = media_content(image);
                let convert = |e: &Extension| atom::extension::Extension {
                    name: e.name.clone(),
                    value: e.value.clone(),
                    attrs: e.attrs.clone(),
                    children: BTreeMap::new(),
                };
                let mut content = convert(&media);
                content.children =
                    media.children.iter().map(|(k, v)| (k.clone(), v.iter().map(convert).collect())).collect();
                entry.extensions.insert("media".to_owned(), BTreeMap::from([("content".to_owned(), vec![content])]));
            }
            entry
        })
        .collect();
    let atom_feed = atom::Feed {
        title: atom::Text::plain(feed.title.clone()),
        id: feed.self_link.clone(),
        updated: date(feed.updated),
        subtitle: (!feed.description.is_empty()).then(|| atom::Text::plain(feed.description.clone())),
        links: vec![
            link(&feed.link, "alternate", Some("text/html")),
            link(&feed.self_link, "self", Some("application/atom+xml")),
        ],
        authors: vec![atom::Person { name: feed.site_name.clone(), ..Default::default() }],
        generator: Some(atom::Generator { value: "Broadsheet".to_owned(), ..Default::default() }),
        entries,
        namespaces: BTreeMap::from([("media".to_owned(), MEDIA_NS.to_owned())]),
        ..Default::default()
    };
    atom_feed.to_string()
}
