//! Media files: images checked by their content, stored under content-hashed
//! names in the data directory and served with long cache lifetimes.

use std::io::Write;
use std::path::Path;

/// Images larger than this are refused.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// An image placed in the media directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    /// Public address, `/media/{name}`.
    pub url: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
}

/// Image formats we publish, told apart by their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Jpeg,
    Png,
    Webp,
    Gif,
    Svg,
}

impl ImageFormat {
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        match imagesize::image_type(bytes) {
            Ok(imagesize::ImageType::Jpeg) => Some(ImageFormat::Jpeg),
            Ok(imagesize::ImageType::Png) => Some(ImageFormat::Png),
            Ok(imagesize::ImageType::Webp) => Some(ImageFormat::Webp),
            Ok(imagesize::ImageType::Gif) => Some(ImageFormat::Gif),
            _ if svg_root(bytes).is_some() => Some(ImageFormat::Svg),
            _ => None,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
            ImageFormat::Webp => "webp",
            ImageFormat::Gif => "gif",
            ImageFormat::Svg => "svg",
        }
    }

    pub fn from_extension(ext: &str) -> Option<ImageFormat> {
        match ext {
            "jpg" => Some(ImageFormat::Jpeg),
            "png" => Some(ImageFormat::Png),
            "webp" => Some(ImageFormat::Webp),
            "gif" => Some(ImageFormat::Gif),
            "svg" => Some(ImageFormat::Svg),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
            ImageFormat::Webp => "image/webp",
            ImageFormat::Gif => "image/gif",
            ImageFormat::Svg => "image/svg+xml",
        }
    }
}

/// Checks that `bytes` are an image we publish, within the size limit.
pub fn check_image(original_name: &str, bytes: &[u8]) -> Result<ImageFormat, String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!("{original_name}: image is larger than {} MB", MAX_IMAGE_BYTES / 1024 / 1024));
    }
    ImageFormat::sniff(bytes).ok_or_else(|| format!("{original_name}: not a JPEG, PNG, WebP, GIF or SVG image"))
}

/// Checks an image and writes it to `media_dir` under `{stem}-{hash}.{ext}`;
/// the same bytes always land under the same name, written once.
pub fn store_image(media_dir: &Path, original_name: &str, bytes: &[u8]) -> Result<StoredMedia, String> {
    let format = check_image(original_name, bytes)?;
    let (width, height) = match format {
        ImageFormat::Svg => svg_size(bytes),
        _ => {
            let size = imagesize::blob_size(bytes).map_err(|e| format!("{original_name}: unreadable image: {e}"))?;
            (i64::try_from(size.width).ok(), i64::try_from(size.height).ok())
        }
    };
    let stem = Path::new(original_name).file_stem().and_then(|s| s.to_str()).unwrap_or("image");
    let stem = slug::slugify(stem);
    let stem = if stem.is_empty() { "image".to_owned() } else { stem.chars().take(60).collect() };
    let hash = blake3::hash(bytes).to_hex();
    let name = format!("{stem}-{}.{}", &hash[..12], format.extension());
    let target = media_dir.join(&name);
    if !target.exists() {
        std::fs::create_dir_all(media_dir).map_err(|e| format!("cannot create {}: {e}", media_dir.display()))?;
        let mut tmp = tempfile::NamedTempFile::new_in(media_dir).map_err(|e| format!("cannot write media: {e}"))?;
        tmp.write_all(bytes).map_err(|e| format!("cannot write media: {e}"))?;
        tmp.persist(&target).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(StoredMedia { url: format!("/media/{name}"), width, height })
}

/// The text of the `<svg …>` start tag, if the document's root is `svg`.
fn svg_root(bytes: &[u8]) -> Option<&str> {
    let head = std::str::from_utf8(&bytes[..bytes.len().min(4096)]).ok()?;
    let start = head.find("<svg")?;
    // Only an XML declaration, comments, a doctype and whitespace may come first.
    let before = &head[..start];
    let prologue_ok = before.trim().is_empty() || before.trim_start().starts_with("<?xml") || before.contains("<!");
    let end = head[start..].find('>')? + start;
    prologue_ok.then(|| &head[start..end])
}

fn svg_size(bytes: &[u8]) -> (Option<i64>, Option<i64>) {
    let Some(tag) = svg_root(bytes) else { return (None, None) };
    let attr = |name: &str| {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let value = &tag[start..start + tag[start..].find('"')?];
        value.trim_end_matches("px").parse::<f64>().ok().map(|v| v.round() as i64)
    };
    (attr("width"), attr("height"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_content_hash_and_reads_svg_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1200" height="675"></svg>"#;
        let stored = store_image(dir.path(), "Harbour View.svg", svg).expect("stored");
        assert!(stored.url.starts_with("/media/harbour-view-") && stored.url.ends_with(".svg"), "{}", stored.url);
        assert_eq!((stored.width, stored.height), (Some(1200), Some(675)));
        assert_eq!(store_image(dir.path(), "Harbour View.svg", svg).expect("again"), stored);
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        let dir = tempfile::tempdir().expect("tempdir");
        let err = store_image(dir.path(), "photo.jpg", b"#!/bin/sh\necho hi").expect_err("not an image");
        assert!(err.contains("photo.jpg"));
    }
}
