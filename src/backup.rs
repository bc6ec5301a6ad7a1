//! `broadsheet backup FILE` and `broadsheet restore FILE`: the whole site —
//! database and media library — in one gzip-compressed tar archive.
//!
//! The archive holds `manifest.json` first (what it is, from which backend,
//! when, and what it counts), then the database (`broadsheet.db`, a
//! consistent copy SQLite makes with `VACUUM INTO` while the server runs; or
//! `database.pgdump`, `pg_dump`'s custom format), then `media/…`. A backup is
//! written beside its destination and renamed into place when whole, so
//! FILE is never a half-written archive. A restore refuses a database that
//! already has content unless told to replace it, and then keeps the old
//! database file and media folder beside the new ones: nothing is lost.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use chrono::Utc;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::media::MediaStore;
use crate::store::Store;

/// The archive format this version writes and reads.
const FORMAT: u32 = 1;
const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "broadsheet.db";
const PG_FILE: &str = "database.pgdump";
const MEDIA: &str = "media";

/// What a backup says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// `broadsheet-backup`, so that another archive is not taken for one.
    pub kind: String,
    pub format: u32,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub created_at: String,
    pub version: String,
    pub articles: i64,
    pub comments: i64,
    pub media_files: u64,
}

/// Writes the site to `out`.
pub async fn backup(store: &Store, config: &Config, out: &Path) -> anyhow::Result<Manifest> {
    let folder = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let work = tempfile::Builder::new()
        .prefix(".broadsheet-backup-")
        .tempdir_in(folder)
        .with_context(|| format!("cannot write in {}", folder.display()))?;
    let (backend, db_file) = match store.sqlite_file() {
        Some(_) => {
            let copy = work.path().join(SQLITE_FILE);
            store.snapshot_sqlite(&copy).await.context("cannot copy the SQLite database")?;
            ("sqlite", copy)
        }
        None => {
            let dump = work.path().join(PG_FILE);
            let status = Command::new("pg_dump")
                .args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(&dump)
                .arg("--dbname")
                .arg(config.database_url.expose())
                .status()
                .context("cannot run pg_dump (install PostgreSQL's client tools)")?;
            if !status.success() {
                bail!("pg_dump failed ({status})");
            }
            ("postgres", dump)
        }
    };
    let (articles, comments) = store.content_counts().await?;
    // From a bucket, the files are fetched into the work folder first.
    let (media_root, media) = match &config.media_store {
        Some(location) => {
            let fetched = work.path().join(MEDIA);
            let files = fetch_media(&MediaStore::open(location)?, &fetched).await?;
            (fetched, files)
        }
        None => {
            let media_dir = config.media_dir();
            let files = media_files(&media_dir)?;
            (media_dir, files)
        }
    };
    let manifest = Manifest {
        kind: "broadsheet-backup".into(),
        format: FORMAT,
        backend: backend.into(),
        created_at: Utc::now().to_rfc3339(),
        version: env!("CARGO_PKG_VERSION").into(),
        articles,
        comments,
        media_files: media.len() as u64,
    };
    let partial = work.path().join("backup.partial");
    {
        let mut tar =
            tar::Builder::new(GzEncoder::new(BufWriter::new(File::create(&partial)?), Compression::default()));
        let json = serde_json::to_vec_pretty(&manifest)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(json.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(Utc::now().timestamp().max(0) as u64);
        tar.append_data(&mut header, MANIFEST, &json[..])?;
        let name = if backend == "sqlite" { SQLITE_FILE } else { PG_FILE };
        tar.append_path_with_name(&db_file, name)?;
        for file in &media {
            let relative = file.strip_prefix(&media_root).unwrap_or(file);
            tar.append_path_with_name(file, Path::new(MEDIA).join(relative))?;
        }
        tar.into_inner()?.finish()?.into_inner().map_err(|err| err.into_error())?.sync_all()?;
    }
    std::fs::rename(&partial, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(manifest)
}

/// Copies every file of a bucket into `dir`; their paths.
async fn fetch_media(bucket: &MediaStore, dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    for (name, _) in bucket.list().await.map_err(anyhow::Error::msg)? {
        let file = bucket
            .get(&name)
            .await
            .map_err(anyhow::Error::msg)?
            .with_context(|| format!("{name} left the media store during the backup"))?;
        let path = dir.join(&name);
        std::fs::write(&path, &file.bytes)?;
        files.push(path);
    }
    Ok(files)
}

/// Puts the restored files into a bucket. Files already there keep their
/// place (a name holds its content's hash, so the same name is the same file).
pub async fn upload_media(bucket: &MediaStore, dir: &Path) -> anyhow::Result<u64> {
    let mut sent = 0;
    for file in media_files(dir)? {
        let Some(name) = file.file_name().and_then(|n| n.to_str()).filter(|n| crate::media::storage::is_media_name(n))
        else {
            continue;
        };
        let bytes = std::fs::read(&file)?;
        bucket.put(name, bytes.into()).await.map_err(anyhow::Error::msg)?;
        sent += 1;
    }
    Ok(sent)
}

/// Every file under the media folder (none when it does not exist).
fn media_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(folder) = pending.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err).with_context(|| format!("cannot read {}", folder.display())),
        };
        for entry in entries {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Reads the manifest of a backup, or says why the file is not one.
pub fn read_manifest(file: &Path) -> anyhow::Result<Manifest> {
    let mut archive = open(file)?;
    let mut entries = archive.entries().context("not a Broadsheet backup (not a gzip-compressed tar archive)")?;
    let mut first = entries
        .next()
        .context("not a Broadsheet backup: the archive is empty")?
        .context("not a Broadsheet backup (not a gzip-compressed tar archive)")?;
    if first.path()?.as_ref() != Path::new(MANIFEST) {
        bail!("not a Broadsheet backup: {MANIFEST} is not its first entry");
    }
    let mut json = String::new();
    first.read_to_string(&mut json)?;
    let manifest: Manifest =
        serde_json::from_str(&json).context("not a Broadsheet backup: its manifest does not read")?;
    if manifest.kind != "broadsheet-backup" {
        bail!("not a Broadsheet backup: its manifest is of {:?}", manifest.kind);
    }
    if manifest.format != FORMAT {
        bail!("this backup is in format {}; this version of Broadsheet reads format {FORMAT}", manifest.format);
    }
    Ok(manifest)
}

fn open(file: &Path) -> anyhow::Result<tar::Archive<GzDecoder<BufReader<File>>>> {
    let reader = File::open(file).with_context(|| format!("cannot open {}", file.display()))?;
    Ok(tar::Archive::new(GzDecoder::new(BufReader::new(reader))))
}

/// What a restore did.
#[derive(Debug)]
pub struct Restored {
    pub manifest: Manifest,
    /// Where the database and media that were there before now are, when replaced.
    pub kept: Vec<PathBuf>,
}

/// Restores `file` into the configured database and media folder (or media
/// bucket, where the files are added beside those there). The server must
/// be stopped. `replace`: a database with content is replaced (its file and
/// media kept aside); without it, such a database is refused.
/// `has_content` is whether the target database holds any article or comment.
pub async fn restore(config: &Config, file: &Path, replace: bool, has_content: bool) -> anyhow::Result<Restored> {
    let manifest = read_manifest(file)?;
    let target_backend = if config.database_url.sqlite_path().is_some() { "sqlite" } else { "postgres" };
    if manifest.backend != target_backend {
        bail!(
            "this backup is of a {} site and the configured database is {}: restore it into a {} database",
            manifest.backend,
            target_backend,
            manifest.backend
        );
    }
    if has_content && !replace {
        bail!(
            "the configured database already has articles or comments; nothing was changed. To replace it, stop the \
             server and run `broadsheet restore {} --replace` (the current database and media are kept beside them)",
            file.display()
        );
    }
    let media_dir = config.media_dir();
    let parent = media_dir.parent().unwrap_or(Path::new(".")).to_owned();
    std::fs::create_dir_all(&parent)?;
    let work = tempfile::Builder::new().prefix(".broadsheet-restore-").tempdir_in(&parent)?;
    // Unpack everything first: a damaged archive stops here, with nothing changed.
    let mut archive = open(file)?;
    let mut db_file = None;
    for entry in archive.entries().context("the backup cannot be read")? {
        let mut entry = entry.context("the backup is damaged or cut short; nothing was changed")?;
        let path = entry.path()?.into_owned();
        let name = path.to_string_lossy().into_owned();
        if name == MANIFEST {
            continue;
        }
        if name == SQLITE_FILE || name == PG_FILE {
            db_file = Some(work.path().join(&name));
        } else if !path.starts_with(MEDIA) {
            bail!("the backup holds an unexpected entry {name:?}; nothing was changed");
        }
        if !entry.unpack_in(work.path()).context("the backup is damaged or cut short; nothing was changed")? {
            bail!("the backup holds an entry outside its folder ({name:?}); nothing was changed");
        }
    }
    let Some(db_file) = db_file else {
        bail!("the backup holds no database; nothing was changed");
    };
    let stamp = Utc::now().format("%Y%m%d-%H%M%S").to_string();
    let mut kept = Vec::new();
    match config.database_url.sqlite_path() {
        Some(target) => {
            if let Some(dir) = target.parent() {
                std::fs::create_dir_all(dir)?;
            }
            if target.exists() {
                let aside = aside(&target, &stamp);
                std::fs::rename(&target, &aside)?;
                kept.push(aside);
            }
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
            std::fs::rename(&db_file, &target).with_context(|| format!("cannot write {}", target.display()))?;
        }
        None => {
            let status = Command::new("pg_restore")
                .args(["--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction", "--dbname"])
                .arg(config.database_url.expose())
                .arg(&db_file)
                .status()
                .context("cannot run pg_restore (install PostgreSQL's client tools)")?;
            if !status.success() {
                bail!("pg_restore failed ({status}); it ran in one transaction, so the database is as it was");
            }
        }
    }
    let unpacked_media = work.path().join(MEDIA);
    if let Some(location) = &config.media_store {
        // Into the bucket: added beside what is there (names are content
        // hashes, so nothing there is overwritten with something else).
        upload_media(&MediaStore::open(location)?, &unpacked_media).await?;
        return Ok(Restored { manifest, kept });
    }
    if media_dir.exists() {
        let aside = aside(&media_dir, &stamp);
        std::fs::rename(&media_dir, &aside)?;
        kept.push(aside);
    }
    if unpacked_media.exists() {
        std::fs::rename(&unpacked_media, &media_dir)?;
    } else {
        std::fs::create_dir_all(&media_dir)?;
    }
    Ok(Restored { manifest, kept })
}

/// A free name beside `path` for what was there before a restore.
fn aside(path: &Path, stamp: &str) -> PathBuf {
    let base = format!("{}.before-restore-{stamp}", path.display());
    std::iter::once(PathBuf::from(&base))
        .chain((2..).map(|n| PathBuf::from(format!("{base}-{n}"))))
        .find(|candidate| !candidate.exists())
        .unwrap_or_else(|| PathBuf::from(base))
}
