//! Media files: images checked by their content, stored under content-hashed
//! names in the data directory and served with long cache lifetimes.

use std::path::Path;

use bytes::Bytes;

pub mod storage;

pub use storage::{MediaLocation, MediaStore};

/// Images larger than this are refused.
pub const MAX_IMAGE_BYTES: usize = 20 * 1024 * 1024;

/// Widths of the smaller copies made of every JPEG, PNG and WebP image, for
/// `srcset`: phones and narrow columns load a fraction of the original.
pub const VARIANT_WIDTHS: [i64; 3] = [480, 960, 1600];
/// Images wider or taller than this are refused (they would take too much
/// memory to resize: a few KB of compressed data can claim gigapixels).
pub const MAX_DIMENSION: u32 = 12_000;

/// An image placed in the media directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMedia {
    /// Public address, `/media/{name}`.
    pub url: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub format: ImageFormat,
    /// The smaller copies made: (width, address).
    pub variants: Vec<(i64, String)>,
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

/// Why an image was not stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    /// It is not an image we publish, or too large: the uploader's to fix.
    #[error("{0}")]
    Refused(String),
    /// The media store could not take it: try again later.
    #[error("{0}")]
    Storage(String),
}

/// Checks an image and stores it under `{stem}-{hash}.{ext}`, with its
/// smaller copies; the same bytes always land under the same name, written
/// once. The copies are written first, so that an original in the store
/// means its copies are there too.
pub async fn store_image(media: &MediaStore, original_name: &str, bytes: Bytes) -> Result<StoredMedia, ImageError> {
    let format = check_image(original_name, &bytes).map_err(ImageError::Refused)?;
    let (width, height) = match format {
        ImageFormat::Svg => svg_size(&bytes),
        _ => {
            let size = imagesize::blob_size(&bytes)
                .map_err(|e| ImageError::Refused(format!("{original_name}: unreadable image: {e}")))?;
            (i64::try_from(size.width).ok(), i64::try_from(size.height).ok())
        }
    };
    if width.is_some_and(|w| w > i64::from(MAX_DIMENSION)) || height.is_some_and(|h| h > i64::from(MAX_DIMENSION)) {
        return Err(ImageError::Refused(format!(
            "{original_name}: the image is larger than {MAX_DIMENSION} pixels on a side"
        )));
    }
    let stem = Path::new(original_name).file_stem().and_then(|s| s.to_str()).unwrap_or("image");
    let stem = slug::slugify(stem);
    let stem = if stem.is_empty() { "image".to_owned() } else { stem.chars().take(60).collect() };
    let hash = blake3::hash(&bytes).to_hex();
    let name = format!("{stem}-{}.{}", &hash[..12], format.extension());
    let url = format!("/media/{name}");
    let widths = copy_widths(format, width);
    let variants: Vec<(i64, String)> = widths.iter().map(|&w| (w, variant_url(&url, w))).collect();
    if !media.exists(&name).await.map_err(ImageError::Storage)? {
        // The copies first: an image that cannot be decoded is refused whole.
        if !widths.is_empty() {
            let original = bytes.clone();
            let copies = tokio::task::spawn_blocking(move || make_copies(&original, format, &widths))
                .await
                .map_err(|e| ImageError::Storage(format!("{original_name}: cannot make the smaller copies: {e}")))?
                .map_err(|e| ImageError::Refused(format!("{original_name}: {e}")))?;
            for (w, copy) in copies {
                media.put(&variant_url(&name, w), Bytes::from(copy)).await.map_err(ImageError::Storage)?;
            }
        }
        media.put(&name, bytes).await.map_err(ImageError::Storage)?;
    }
    Ok(StoredMedia { url, width, height, format, variants })
}

/// The media file names of an image stored here: the original and its copies.
pub fn file_names(url: &str, width: Option<i64>) -> Vec<String> {
    let Some(name) = url.strip_prefix("/media/").filter(|n| storage::is_media_name(n)) else {
        return Vec::new();
    };
    let format = name.rsplit_once('.').and_then(|(_, ext)| ImageFormat::from_extension(ext));
    let copies = format.map(|format| copy_widths(format, width)).unwrap_or_default();
    std::iter::once(name.to_owned()).chain(copies.into_iter().map(|w| variant_url(name, w))).collect()
}

/// The widths of the smaller copies made of an image `width` pixels wide
/// (none of SVG and GIF images, nor of images narrower than the smallest).
fn copy_widths(format: ImageFormat, width: Option<i64>) -> Vec<i64> {
    match (format, width) {
        (ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Webp, Some(width)) => {
            VARIANT_WIDTHS.into_iter().filter(|&w| w < width).collect()
        }
        _ => Vec::new(),
    }
}

/// Makes the smaller copies of a raster image, `widths` pixels wide.
fn make_copies(bytes: &[u8], format: ImageFormat, widths: &[i64]) -> Result<Vec<(i64, Vec<u8>)>, String> {
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(1024 * 1024 * 1024);
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("unreadable image: {e}"))?;
    reader.limits(limits);
    let image = reader.decode().map_err(|e| format!("unreadable image: {e}"))?;
    let mut made = Vec::new();
    for &w in widths {
        let target_width = u32::try_from(w).unwrap_or(u32::MAX);
        let smaller = image.resize(target_width, u32::MAX, image::imageops::FilterType::Triangle);
        let mut out = Vec::new();
        let encoded = match format {
            ImageFormat::Jpeg => {
                smaller.to_rgb8().write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 82))
            }
            ImageFormat::Png => smaller.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png),
            _ => smaller.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::WebP),
        };
        encoded.map_err(|e| format!("cannot make a {w} px copy: {e}"))?;
        made.push((w, out));
    }
    Ok(made)
}

/// The address (or file name) of an image's copy `width` pixels wide.
fn variant_url(url: &str, width: i64) -> String {
    match url.rsplit_once('.') {
        Some((base, ext)) => format!("{base}-{width}w.{ext}"),
        None => format!("{url}-{width}w"),
    }
}

/// The `srcset` of an image stored here: its smaller copies and itself.
/// `None` for images elsewhere, SVG and GIF, or too small to have copies.
pub fn srcset(url: &str, width: Option<i64>) -> Option<String> {
    let width = width?;
    let format = ImageFormat::from_extension(url.strip_prefix("/media/")?.rsplit_once('.')?.1)?;
    let mut parts: Vec<String> =
        copy_widths(format, Some(width)).into_iter().map(|w| format!("{} {w}w", variant_url(url, w))).collect();
    if parts.is_empty() {
        return None;
    }
    parts.push(format!("{url} {width}w"));
    Some(parts.join(", "))
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

    #[tokio::test]
    async fn stores_by_content_hash_and_reads_svg_size() {
        let dir = tempfile::tempdir().expect("tempdir");
        let media = MediaStore::directory(dir.path()).expect("opens");
        let svg = br#"<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="1200" height="675"></svg>"#;
        let stored = store_image(&media, "Harbour View.svg", Bytes::from_static(svg)).await.expect("stored");
        assert!(stored.url.starts_with("/media/harbour-view-") && stored.url.ends_with(".svg"), "{}", stored.url);
        assert_eq!((stored.width, stored.height), (Some(1200), Some(675)));
        assert_eq!(store_image(&media, "Harbour View.svg", Bytes::from_static(svg)).await.expect("again"), stored);
        assert_eq!(file_names(&stored.url, stored.width), [stored.url.trim_start_matches("/media/")]);
    }

    #[tokio::test]
    async fn a_photo_is_stored_with_its_smaller_copies() {
        let dir = tempfile::tempdir().expect("tempdir");
        let media = MediaStore::directory(dir.path()).expect("opens");
        let mut png = Vec::new();
        image::RgbImage::new(1000, 500)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("png");
        let stored = store_image(&media, "quay.png", Bytes::from(png)).await.expect("stored");
        assert_eq!(stored.variants.len(), 2, "480 and 960 px copies of a 1000 px image");
        let names = file_names(&stored.url, stored.width);
        let listed: Vec<String> = media.list().await.expect("list").into_iter().map(|(n, _)| n).collect();
        let mut expected = names.clone();
        expected.sort();
        assert_eq!(listed, expected);
        for (_, url) in &stored.variants {
            assert!(names.iter().any(|n| url.ends_with(n.as_str())), "{url} in {names:?}");
        }
    }

    #[tokio::test]
    async fn refuses_what_is_not_an_image() {
        let dir = tempfile::tempdir().expect("tempdir");
        let media = MediaStore::directory(dir.path()).expect("opens");
        let err = store_image(&media, "photo.jpg", Bytes::from_static(b"#!/bin/sh\necho hi"))
            .await
            .expect_err("not an image");
        assert!(matches!(&err, ImageError::Refused(m) if m.contains("photo.jpg")), "{err:?}");
        assert!(media.list().await.expect("list").is_empty());
    }
}
