//! `broadsheet export wxr`: the whole site as a WordPress export (WXR 1.2),
//! as WordPress's own importer reads it, so that a newsroom is never locked
//! in. Written as a stream: articles a slice at a time, each with its comments.
//!
//! What goes where: articles are posts and pages are pages (with their
//! parents), the standfirst is the excerpt, the body the rendered (sanitised)
//! HTML with addresses made absolute, bylines are authors, categories keep
//! their tree, featured images are attachments named by `_thumbnail_id`, the
//! media library's images are attachments, and comments keep their threads,
//! states and (within the retention period) IP addresses.

use std::collections::HashMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::domain::article::Kind;
use crate::publishing::permalink;
use crate::store::{ExportArticle, ExportComment, ExportTermLink, Store, StoreError};

/// Why an export stopped.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot write: {0}")]
    Write(#[from] std::io::Error),
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// The site as the export names it.
#[derive(Debug, Clone)]
pub struct Site {
    pub name: String,
    pub tagline: String,
    /// The public address, without a trailing slash.
    pub base_url: String,
    pub language: String,
    pub time_zone: Tz,
}

/// What an export wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub authors: usize,
    pub categories: usize,
    pub tags: usize,
    pub posts: usize,
    pub pages: usize,
    pub attachments: usize,
    pub comments: usize,
}

/// Text as CDATA (a `]]>` inside is split across two sections).
fn cdata(text: &str) -> String {
    format!("<![CDATA[{}]]>", text.replace("]]>", "]]]]><![CDATA[>"))
}

/// Text for an element or attribute.
fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

fn local_date(at: i64, tz: Tz) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "0000-00-00 00:00:00".to_owned())
}

fn gmt_date(at: i64) -> String {
    DateTime::<Utc>::from_timestamp(at, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "0000-00-00 00:00:00".to_owned())
}

/// Makes the site's own addresses in HTML absolute (`/media/…` → `https://site/media/…`).
fn absolute(html: &str, base: &str) -> String {
    html.replace("src=\"/", &format!("src=\"{base}/"))
        .replace("href=\"/", &format!("href=\"{base}/"))
        .replace("srcset=\"/", &format!("srcset=\"{base}/"))
        .replace(", /media/", &format!(", {base}/media/"))
}

/// Writes the whole site to `out`.
pub async fn export_wxr(store: &Store, site: &Site, out: &mut impl Write, now: i64) -> Result<Written, ExportError> {
    let mut written = Written::default();
    let base = site.base_url.trim_end_matches('/');
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8" ?>"#)?;
    writeln!(out, "<!-- A WordPress eXtended RSS export of a Broadsheet site; WordPress's importer reads it. -->")?;
    writeln!(
        out,
        r#"<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:wfw="http://wellformedweb.org/CommentAPI/" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">"#
    )?;
    writeln!(out, "<channel>")?;
    writeln!(out, "\t<title>{}</title>", escape(&site.name))?;
    writeln!(out, "\t<link>{}</link>", escape(base))?;
    writeln!(out, "\t<description>{}</description>", escape(&site.tagline))?;
    writeln!(out, "\t<pubDate>{}</pubDate>", Utc::now().to_rfc2822())?;
    writeln!(out, "\t<language>{}</language>", escape(&site.language))?;
    writeln!(out, "\t<wp:wxr_version>1.2</wp:wxr_version>")?;
    writeln!(out, "\t<wp:base_site_url>{}</wp:base_site_url>", escape(base))?;
    writeln!(out, "\t<wp:base_blog_url>{}</wp:base_blog_url>", escape(base))?;

    let authors = store.export_authors().await?;
    let mut login_of: HashMap<i64, String> = HashMap::new();
    for a in &authors {
        let email = a.email.clone().unwrap_or_default();
        writeln!(
            out,
            "\t<wp:author><wp:author_id>{}</wp:author_id><wp:author_login>{}</wp:author_login>\
             <wp:author_email>{}</wp:author_email><wp:author_display_name>{}</wp:author_display_name>\
             <wp:author_first_name>{}</wp:author_first_name><wp:author_last_name>{}</wp:author_last_name></wp:author>",
            a.id,
            cdata(&a.slug),
            cdata(&email),
            cdata(&a.name),
            cdata(""),
            cdata("")
        )?;
        login_of.insert(a.id, a.slug.clone());
        written.authors += 1;
    }
    let (categories, tags) = store.export_terms().await?;
    for c in &categories {
        writeln!(
            out,
            "\t<wp:category><wp:term_id>{}</wp:term_id><wp:category_nicename>{}</wp:category_nicename>\
             <wp:category_parent>{}</wp:category_parent><wp:cat_name>{}</wp:cat_name></wp:category>",
            c.id,
            cdata(&c.slug),
            cdata(c.parent.as_deref().unwrap_or("")),
            cdata(&c.name)
        )?;
        written.categories += 1;
    }
    for t in &tags {
        writeln!(
            out,
            "\t<wp:tag><wp:term_id>{}</wp:term_id><wp:tag_slug>{}</wp:tag_slug><wp:tag_name>{}</wp:tag_name></wp:tag>",
            // Term ids are one sequence in WordPress: tags after the categories.
            t.id + 1_000_000,
            cdata(&t.slug),
            cdata(&t.name)
        )?;
        written.tags += 1;
    }

    // Attachments take ids after the articles', as one sequence of posts.
    let media = store.export_media().await?;
    let offset = store.max_article_id().await?;
    let mut attachment_of: HashMap<String, i64> = HashMap::new();
    for m in &media {
        let id = offset + m.id;
        let url = if m.url.starts_with('/') { format!("{base}{}", m.url) } else { m.url.clone() };
        attachment_of.insert(m.url.clone(), id);
        write_item_head(out, &m.original_name, &url, m.created_at, "")?;
        writeln!(out, "\t\t<content:encoded>{}</content:encoded>", cdata(""))?;
        writeln!(out, "\t\t<excerpt:encoded>{}</excerpt:encoded>", cdata(&m.caption))?;
        write_post_fields(
            out,
            id,
            m.created_at,
            "closed",
            &m.original_name,
            "inherit",
            0,
            "attachment",
            false,
            site.time_zone,
        )?;
        writeln!(out, "\t\t<wp:attachment_url>{}</wp:attachment_url>", cdata(&url))?;
        write_meta(out, "_wp_attachment_image_alt", &m.alt)?;
        if !m.credit.is_empty() {
            // The meta key of the Media Credit plugin, which the importer reads too.
            write_meta(out, "_media_credit", &m.credit)?;
        }
        writeln!(out, "\t</item>")?;
        written.attachments += 1;
    }

    let mut links: HashMap<i64, Vec<ExportTermLink>> = HashMap::new();
    for link in store.export_term_links().await? {
        links.entry(link.article_id).or_default().push(link);
    }
    let mut after = 0;
    loop {
        let slice = store.export_articles(after, 500).await?;
        let Some(last) = slice.last() else { break };
        after = last.id;
        for a in &slice {
            let comments = store.export_comments(a.id).await?;
            write_article(out, site, a, links.get(&a.id), &login_of, &attachment_of, &comments, now)?;
            written.comments += comments.len();
            if a.kind == "page" {
                written.pages += 1;
            } else {
                written.posts += 1;
            }
        }
    }
    writeln!(out, "</channel>")?;
    writeln!(out, "</rss>")?;
    out.flush()?;
    Ok(written)
}

fn write_item_head(out: &mut impl Write, title: &str, link: &str, at: i64, creator: &str) -> std::io::Result<()> {
    writeln!(out, "\t<item>")?;
    writeln!(out, "\t\t<title>{}</title>", escape(title))?;
    writeln!(out, "\t\t<link>{}</link>", escape(link))?;
    let date = DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default();
    writeln!(out, "\t\t<pubDate>{}</pubDate>", date.to_rfc2822())?;
    writeln!(out, "\t\t<dc:creator>{}</dc:creator>", cdata(creator))?;
    writeln!(out, "\t\t<guid isPermaLink=\"false\">{}</guid>", escape(link))?;
    writeln!(out, "\t\t<description></description>")
}

#[allow(clippy::too_many_arguments)]
fn write_post_fields(
    out: &mut impl Write,
    id: i64,
    at: i64,
    comment_status: &str,
    slug: &str,
    status: &str,
    parent: i64,
    post_type: &str,
    sticky: bool,
    tz: Tz,
) -> std::io::Result<()> {
    writeln!(out, "\t\t<wp:post_id>{id}</wp:post_id>")?;
    writeln!(out, "\t\t<wp:post_date>{}</wp:post_date>", cdata(&local_date(at, tz)))?;
    let gmt = if status == "draft" { "0000-00-00 00:00:00".to_owned() } else { gmt_date(at) };
    writeln!(out, "\t\t<wp:post_date_gmt>{}</wp:post_date_gmt>", cdata(&gmt))?;
    writeln!(out, "\t\t<wp:comment_status>{}</wp:comment_status>", cdata(comment_status))?;
    writeln!(out, "\t\t<wp:ping_status>{}</wp:ping_status>", cdata("closed"))?;
    writeln!(out, "\t\t<wp:post_name>{}</wp:post_name>", cdata(slug))?;
    writeln!(out, "\t\t<wp:status>{}</wp:status>", cdata(status))?;
    writeln!(out, "\t\t<wp:post_parent>{parent}</wp:post_parent>")?;
    writeln!(out, "\t\t<wp:menu_order>0</wp:menu_order>")?;
    writeln!(out, "\t\t<wp:post_type>{}</wp:post_type>", cdata(post_type))?;
    writeln!(out, "\t\t<wp:post_password>{}</wp:post_password>", cdata(""))?;
    writeln!(out, "\t\t<wp:is_sticky>{}</wp:is_sticky>", u8::from(sticky))
}

fn write_meta(out: &mut impl Write, key: &str, value: &str) -> std::io::Result<()> {
    writeln!(
        out,
        "\t\t<wp:postmeta><wp:meta_key>{}</wp:meta_key><wp:meta_value>{}</wp:meta_value></wp:postmeta>",
        cdata(key),
        cdata(value)
    )
}

#[allow(clippy::too_many_arguments)]
fn write_article(
    out: &mut impl Write,
    site: &Site,
    a: &ExportArticle,
    links: Option<&Vec<ExportTermLink>>,
    login_of: &HashMap<i64, String>,
    attachment_of: &HashMap<String, i64>,
    comments: &[ExportComment],
    now: i64,
) -> std::io::Result<()> {
    let base = site.base_url.trim_end_matches('/');
    let kind = if a.kind == "page" { Kind::Page } else { Kind::Article };
    let status = match a.published_at {
        Some(at) if a.status == "published" && at > now => "future",
        Some(_) if a.status == "published" => "publish",
        _ => "draft",
    };
    let at = a.published_at.unwrap_or(a.created_at);
    let link = format!("{base}{}", permalink(kind, &a.slug, Some(at), site.time_zone));
    let creator = a.author_id.and_then(|id| login_of.get(&id)).map_or("", String::as_str);
    write_item_head(out, &a.headline, &link, at, creator)?;
    writeln!(out, "\t\t<content:encoded>{}</content:encoded>", cdata(&absolute(&a.body_html, base)))?;
    writeln!(out, "\t\t<excerpt:encoded>{}</excerpt:encoded>", cdata(&a.standfirst))?;
    let post_type = if a.kind == "page" { "page" } else { "post" };
    let comment_status = if a.comments_open != 0 { "open" } else { "closed" };
    write_post_fields(
        out,
        a.id,
        at,
        comment_status,
        &a.slug,
        status,
        a.parent_id.unwrap_or(0),
        post_type,
        a.sticky != 0,
        site.time_zone,
    )?;
    for l in links.into_iter().flatten() {
        let domain = if l.taxonomy == "tag" { "post_tag" } else { "category" };
        writeln!(
            out,
            "\t\t<category domain=\"{domain}\" nicename=\"{}\">{}</category>",
            escape(&l.slug),
            cdata(&l.name)
        )?;
    }
    if let Some(id) = a.image_src.as_ref().and_then(|src| attachment_of.get(src)) {
        write_meta(out, "_thumbnail_id", &id.to_string())?;
    }
    for c in comments {
        let approved = match c.status.as_str() {
            "approved" => "1",
            "spam" => "spam",
            "trash" => "trash",
            _ => "0",
        };
        writeln!(out, "\t\t<wp:comment>")?;
        writeln!(out, "\t\t\t<wp:comment_id>{}</wp:comment_id>", c.id)?;
        writeln!(out, "\t\t\t<wp:comment_author>{}</wp:comment_author>", cdata(&c.author_name))?;
        writeln!(out, "\t\t\t<wp:comment_author_email>{}</wp:comment_author_email>", cdata(&c.author_email))?;
        writeln!(
            out,
            "\t\t\t<wp:comment_author_url>{}</wp:comment_author_url>",
            escape(c.author_url.as_deref().unwrap_or(""))
        )?;
        writeln!(out, "\t\t\t<wp:comment_author_IP>{}</wp:comment_author_IP>", cdata(c.ip.as_deref().unwrap_or("")))?;
        writeln!(out, "\t\t\t<wp:comment_date>{}</wp:comment_date>", cdata(&local_date(c.created_at, site.time_zone)))?;
        writeln!(out, "\t\t\t<wp:comment_date_gmt>{}</wp:comment_date_gmt>", cdata(&gmt_date(c.created_at)))?;
        writeln!(out, "\t\t\t<wp:comment_content>{}</wp:comment_content>", cdata(&c.body_html))?;
        writeln!(out, "\t\t\t<wp:comment_approved>{}</wp:comment_approved>", cdata(approved))?;
        writeln!(out, "\t\t\t<wp:comment_type>{}</wp:comment_type>", cdata("comment"))?;
        writeln!(out, "\t\t\t<wp:comment_parent>{}</wp:comment_parent>", c.parent_id.unwrap_or(0))?;
        writeln!(out, "\t\t\t<wp:comment_user_id>{}</wp:comment_user_id>", i64::from(c.is_staff != 0))?;
        writeln!(out, "\t\t</wp:comment>")?;
    }
    writeln!(out, "\t</item>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cdata_survives_its_terminator() {
        assert_eq!(cdata("a]]>b"), "<![CDATA[a]]]]><![CDATA[>b]]>");
    }

    #[test]
    fn own_addresses_become_absolute() {
        let html = r#"<img src="/media/a.jpg" srcset="/media/a-480.jpg 480w, /media/a.jpg 800w"><a href="/about/">x</a><a href="https://other.example/">y</a>"#;
        assert_eq!(
            absolute(html, "https://news.example"),
            r#"<img src="https://news.example/media/a.jpg" srcset="https://news.example/media/a-480.jpg 480w, https://news.example/media/a.jpg 800w"><a href="https://news.example/about/">x</a><a href="https://other.example/">y</a>"#
        );
    }
}
