//! Where media files live: the data directory (the default) or an
//! S3-compatible bucket, both behind the `object_store` crate, so that
//! uploads, smaller copies, deletes, backups and serving work the same on
//! either. Names carry a content hash: a file, once written, never changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// A media file's name is one path segment of these characters (what
/// `store_image` makes: a slug, a hash, a width and an extension).
pub fn is_media_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Where the media live, as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaLocation {
    /// A directory on this machine (`DATA_DIR/media`).
    Directory(PathBuf),
    /// A bucket (and key prefix) on S3 or an S3-compatible server. Credentials,
    /// region and endpoint come from the usual `AWS_*` environment variables.
    S3 { bucket: String, prefix: String },
}

impl MediaLocation {
    /// Reads `s3://bucket[/prefix]`.
    pub fn parse_s3(url: &str) -> Result<MediaLocation, String> {
        let rest = url
            .trim()
            .strip_prefix("s3://")
            .ok_or_else(|| format!("media store {url:?} must be s3://bucket or s3://bucket/prefix"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid_bucket = (3..=63).contains(&bucket.len())
            && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.'));
        if !valid_bucket {
            return Err(format!("media store {url:?}: {bucket:?} is not an S3 bucket name"));
        }
        let prefix = prefix.trim_matches('/');
        if !prefix.split('/').all(|segment| prefix.is_empty() || is_media_name(segment)) {
            return Err(format!("media store {url:?}: the prefix may hold letters, digits, '-', '_' and '.' only"));
        }
        Ok(MediaLocation::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
    }
}

impl std::fmt::Display for MediaLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MediaLocation::Directory(dir) => write!(f, "{}", dir.display()),
            MediaLocation::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            MediaLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// A stored file, as read back.
#[derive(Debug, Clone)]
pub struct MediaFile {
    pub bytes: Bytes,
    /// Unix seconds.
    pub modified: i64,
}

/// The media files of a site.
#[derive(Clone)]
pub struct MediaStore {
    location: MediaLocation,
    store: Arc<dyn ObjectStore>,
    prefix: Option<ObjectPath>,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaStore").field("location", &self.location).finish()
    }
}

impl MediaStore {
    /// Opens the configured location (a directory is made if missing).
    pub fn open(location: &MediaLocation) -> anyhow::Result<MediaStore> {
        let (store, prefix): (Arc<dyn ObjectStore>, Option<ObjectPath>) = match location {
            MediaLocation::Directory(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| anyhow::anyhow!("cannot create the media directory {}: {e}", dir.display()))?;
                (Arc::new(LocalFileSystem::new_with_prefix(dir)?), None)
            }
            MediaLocation::S3 { bucket, prefix } => {
                let s3 = AmazonS3Builder::from_env().with_bucket_name(bucket).build().map_err(|e| {
                    anyhow::anyhow!("media store s3://{bucket}: {e} (set AWS_REGION, AWS_ACCESS_KEY_ID, …)")
                })?;
                (Arc::new(s3), (!prefix.is_empty()).then(|| ObjectPath::from(prefix.as_str())))
            }
        };
        Ok(MediaStore { location: location.clone(), store, prefix })
    }

    /// A directory of files, for tests and tools.
    pub fn directory(dir: &Path) -> anyhow::Result<MediaStore> {
        MediaStore::open(&MediaLocation::Directory(dir.to_owned()))
    }

    pub fn location(&self) -> &MediaLocation {
        &self.location
    }

    /// The directory the files are in, when they are on this machine.
    pub fn local_dir(&self) -> Option<&Path> {
        match &self.location {
            MediaLocation::Directory(dir) => Some(dir),
            MediaLocation::S3 { .. } => None,
        }
    }

    fn path(&self, name: &str) -> Result<ObjectPath, String> {
        if !is_media_name(name) {
            return Err(format!("{name:?} is not a media file name"));
        }
        Ok(match &self.prefix {
            Some(prefix) => prefix.clone().join(name),
            None => ObjectPath::from(name),
        })
    }

    /// Whether `name` is stored.
    pub async fn exists(&self, name: &str) -> Result<bool, String> {
        match self.store.head(&self.path(name)?).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(format!("cannot read the media store: {e}")),
        }
    }

    /// Writes `name` whole (readers never see part of it).
    pub async fn put(&self, name: &str, bytes: Bytes) -> Result<(), String> {
        self.store
            .put(&self.path(name)?, PutPayload::from_bytes(bytes))
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot write {name} to the media store: {e}"))
    }

    /// Reads `name`; `None` when it is not there.
    pub async fn get(&self, name: &str) -> Result<Option<MediaFile>, String> {
        let got = match self.store.get(&self.path(name)?).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(format!("cannot read {name} from the media store: {e}")),
        };
        let modified = got.meta.last_modified.timestamp();
        let bytes = got.bytes().await.map_err(|e| format!("cannot read {name} from the media store: {e}"))?;
        Ok(Some(MediaFile { bytes, modified }))
    }

    /// Removes `name`; removing what is not there is not an error.
    pub async fn delete(&self, name: &str) -> Result<(), String> {
        match self.store.delete(&self.path(name)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(format!("cannot delete {name} from the media store: {e}")),
        }
    }

    /// Every stored file's name and size, sorted by name.
    pub async fn list(&self) -> Result<Vec<(String, u64)>, String> {
        let listed: Vec<_> = self
            .store
            .list(self.prefix.as_ref())
            .try_collect()
            .await
            .map_err(|e| format!("cannot list the media store: {e}"))?;
        let mut files: Vec<(String, u64)> = listed
            .into_iter()
            .filter_map(|meta| {
                let name = meta.location.filename()?.to_owned();
                is_media_name(&name).then_some((name, meta.size))
            })
            .collect();
        files.sort();
        Ok(files)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_locations() {
        assert_eq!(
            MediaLocation::parse_s3("s3://news-media/site-a/").expect("valid"),
            MediaLocation::S3 { bucket: "news-media".into(), prefix: "site-a".into() }
        );
        assert_eq!(
            MediaLocation::parse_s3("s3://news-media").expect("valid"),
            MediaLocation::S3 { bucket: "news-media".into(), prefix: String::new() }
        );
        for bad in ["news-media", "s3://", "s3://Bad_Bucket", "s3://ok-bucket/../x", "https://x/y"] {
            assert!(MediaLocation::parse_s3(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_one_safe_segment() {
        assert!(is_media_name("harbour-view-0123456789ab-480w.jpg"));
        for bad in ["", "../x.jpg", "a/b.jpg", ".hidden", "a b.jpg", "a\\b.jpg"] {
            assert!(!is_media_name(bad), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_directory_keeps_lists_and_deletes_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let media = MediaStore::directory(&dir.path().join("media")).expect("opens");
        assert!(!media.exists("a-1.png").await.expect("head"));
        media.put("a-1.png", Bytes::from_static(b"png")).await.expect("put");
        assert!(media.exists("a-1.png").await.expect("head"));
        assert_eq!(media.get("a-1.png").await.expect("get").expect("there").bytes, Bytes::from_static(b"png"));
        assert_eq!(std::fs::read(dir.path().join("media/a-1.png")).expect("a plain file"), b"png");
        assert_eq!(media.list().await.expect("list"), vec![("a-1.png".to_owned(), 3)]);
        media.delete("a-1.png").await.expect("delete");
        media.delete("a-1.png").await.expect("deleting twice is fine");
        assert!(media.get("a-1.png").await.expect("get").is_none());
        assert!(media.put("../escape.png", Bytes::new()).await.is_err());
    }
}
