//! What search engines and link previews read from a page's head: schema.org
//! JSON-LD (`NewsArticle` with its `BreadcrumbList` on articles,
//! `CollectionPage` on the front page and archives), Open Graph and the
//! Twitter card.

use serde_json::{Value, json};

use super::{Chrome, SiteData};
use crate::domain::dates;
use crate::store::ArticleRecord;

/// One `<meta>` of a page's head: Open Graph uses `property`, Twitter `name`.
#[derive(Debug, Clone)]
pub struct Meta {
    pub attribute: &'static str,
    pub key: &'static str,
    pub content: String,
}

fn property(key: &'static str, content: impl Into<String>) -> Meta {
    Meta { attribute: "property", key, content: content.into() }
}

fn name(key: &'static str, content: impl Into<String>) -> Meta {
    Meta { attribute: "name", key, content: content.into() }
}

/// JSON for a `<script type="application/ld+json">`: nothing in it can end
/// the script element (`<` is written as `\u003c`).
pub fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// The site as publisher, with its logo.
fn publisher(base: &str, site: &SiteData, logo: &str) -> Value {
    json!({
        "@type": "Organization",
        "name": site.site_name,
        "url": format!("{base}/"),
        "logo": { "@type": "ImageObject", "url": format!("{base}{logo}") },
    })
}

/// Adds an article's JSON-LD, Open Graph and Twitter card to `chrome`.
/// `url` is the article's absolute address.
pub fn article(chrome: &mut Chrome, base: &str, site: &SiteData, record: &ArticleRecord, url: &str) {
    let published = dates::utc_seconds(record.published_at.unwrap_or(record.created_at));
    let modified = dates::utc_seconds(record.updated_at.max(record.published_at.unwrap_or(0)));
    let image = record.image_src.as_ref().map(|src| {
        let src = if src.starts_with('/') { format!("{base}{src}") } else { src.clone() };
        (src, record)
    });
    let mut article = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": record.headline,
        "description": record.standfirst,
        "url": url,
        "mainEntityOfPage": { "@type": "WebPage", "@id": url },
        "datePublished": published,
        "dateModified": modified,
        "publisher": publisher(base, site, &chrome.favicon),
        "isAccessibleForFree": true,
        "inLanguage": "en",
    });
    let fields = article.as_object_mut().expect("an object");
    let author = match (&record.author_name, &record.author_slug) {
        (Some(name), Some(slug)) => {
            json!({ "@type": "Person", "name": name, "url": format!("{base}/author/{slug}/") })
        }
        _ => match &record.agency {
            Some(agency) => json!({ "@type": "Organization", "name": agency }),
            None => json!({ "@type": "Organization", "name": site.site_name }),
        },
    };
    fields.insert("author".into(), author);
    if let Some(agency) = record.agency.as_ref().filter(|a| !a.trim().is_empty()) {
        fields.insert("sourceOrganization".into(), json!({ "@type": "Organization", "name": agency }));
    }
    if let Some(section) = record.categories.first() {
        fields.insert("articleSection".into(), json!(section.name));
    }
    if !record.tags.is_empty() {
        let keywords: Vec<&str> = record.tags.iter().map(|t| t.name.as_str()).collect();
        fields.insert("keywords".into(), json!(keywords));
    }
    if let Some((src, record)) = &image {
        let mut object = json!({ "@type": "ImageObject", "url": src, "contentUrl": src });
        let o = object.as_object_mut().expect("an object");
        if let (Some(w), Some(h)) = (record.image_width, record.image_height) {
            o.insert("width".into(), json!(w));
            o.insert("height".into(), json!(h));
        }
        if let Some(caption) = record.image_caption.as_ref().filter(|c| !c.is_empty()) {
            o.insert("caption".into(), json!(caption));
        }
        if let Some(credit) = record.image_credit.as_ref().filter(|c| !c.is_empty()) {
            o.insert("creditText".into(), json!(credit));
            if let Some(name) = photographer(credit) {
                o.insert("creator".into(), json!({ "@type": "Person", "name": name }));
            }
        }
        fields.insert("image".into(), object);
    }
    chrome.json_ld.push(script_json(&article));

    // Home › section › article.
    let mut crumbs = vec![(site.site_name.clone(), format!("{base}/"))];
    if let Some(first) = record.categories.first() {
        let mut chain = Vec::new();
        let mut current = site.categories.iter().find(|c| c.id == first.id);
        while let Some(category) = current {
            if chain.len() > 16 {
                break;
            }
            chain.push(category);
            current = category.parent_id.and_then(|p| site.categories.iter().find(|c| c.id == p));
        }
        crumbs.extend(chain.iter().rev().map(|c| (c.name.clone(), format!("{base}{}", site.category_href(c.id)))));
    }
    crumbs.push((record.headline.clone(), url.to_owned()));
    chrome.json_ld.push(script_json(&breadcrumbs(&crumbs)));

    chrome.meta.extend([
        property("og:type", "article"),
        property("og:site_name", site.site_name.clone()),
        property("og:title", record.headline.clone()),
        property("og:description", record.standfirst.clone()),
        property("og:url", url),
        property("article:published_time", published),
        property("article:modified_time", modified),
    ]);
    if let Some(section) = record.categories.first() {
        chrome.meta.push(property("article:section", section.name.clone()));
    }
    chrome.meta.extend(record.tags.iter().map(|t| property("article:tag", t.name.clone())));
    let card = if image.is_some() { "summary_large_image" } else { "summary" };
    chrome.meta.extend([
        name("twitter:card", card),
        name("twitter:title", record.headline.clone()),
        name("twitter:description", record.standfirst.clone()),
    ]);
    if let Some((src, record)) = image {
        chrome.meta.push(property("og:image", src.clone()));
        if let (Some(w), Some(h)) = (record.image_width, record.image_height) {
            chrome.meta.push(property("og:image:width", w.to_string()));
            chrome.meta.push(property("og:image:height", h.to_string()));
        }
        if let Some(alt) = record.image_alt.as_ref().filter(|a| !a.is_empty()) {
            chrome.meta.push(property("og:image:alt", alt.clone()));
            chrome.meta.push(name("twitter:image:alt", alt.clone()));
        }
        chrome.meta.push(name("twitter:image", src));
    }
}

/// The front page and archives: the site as a `WebSite`, the listing as a
/// `CollectionPage`, and Open Graph for a shared link.
pub fn listing(chrome: &mut Chrome, base: &str, site: &SiteData, url: &str, name_of_page: &str) {
    let website = json!({
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.site_name,
        "url": format!("{base}/"),
        "description": site.tagline,
        "publisher": publisher(base, site, &chrome.favicon),
    });
    chrome.json_ld.push(script_json(&website));
    let collection = json!({
        "@context": "https://schema.org",
        "@type": "CollectionPage",
        "name": name_of_page,
        "url": url,
        "isPartOf": { "@type": "WebSite", "name": site.site_name, "url": format!("{base}/") },
    });
    chrome.json_ld.push(script_json(&collection));
    chrome.meta.extend([
        property("og:type", "website"),
        property("og:site_name", site.site_name.clone()),
        property("og:title", name_of_page),
        property("og:description", chrome.description.clone()),
        property("og:url", url),
        name("twitter:card", "summary"),
    ]);
}

/// The photographer named in an image credit, as newsrooms write them:
/// "Photo: Jo Lee", "Photograph by Jo Lee for Harbour Wire", "Jo Lee/Reuters",
/// "Picture: Jo Lee via Harbour Wire". A credit naming only an agency or an
/// illustration names no photographer.
fn photographer(credit: &str) -> Option<String> {
    const LABELS: [&str; 8] =
        ["photograph by", "photographs by", "photo by", "picture by", "photograph:", "photo:", "picture:", "pic:"];
    let trimmed = credit.trim();
    let lower = trimmed.to_lowercase();
    let (rest, labelled) = match LABELS.iter().find(|label| lower.starts_with(*label)) {
        // The labels are ASCII: their length in the lower-cased text is their length here.
        Some(label) => (&trimmed[label.len()..], true),
        None => (trimmed, false),
    };
    let cut =
        [" via ", " for ", "/", " | ", ", ", " - ", " – "].iter().filter_map(|separator| rest.find(separator)).min();
    let name = rest[..cut.unwrap_or(rest.len())].trim();
    // Another label ("Illustration:", "Graphic:") names no photographer.
    let other_label = !labelled && name.contains(':');
    (!name.is_empty() && !other_label && (labelled || cut.is_some())).then(|| name.to_owned())
}

fn breadcrumbs(crumbs: &[(String, String)]) -> Value {
    let items: Vec<Value> = crumbs
        .iter()
        .enumerate()
        .map(|(i, (name, url))| json!({ "@type": "ListItem", "position": i + 1, "name": name, "item": url }))
        .collect();
    json!({ "@context": "https://schema.org", "@type": "BreadcrumbList", "itemListElement": items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_end_its_script_element() {
        let text = script_json(&json!({ "headline": "</script><script>alert(1)</script> & more" }));
        assert!(!text.contains('<') && !text.contains('>'));
        let back: Value = serde_json::from_str(&text).expect("still JSON");
        assert_eq!(back["headline"], "</script><script>alert(1)</script> & more");
    }
}
