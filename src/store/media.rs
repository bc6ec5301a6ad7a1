//! The media library's records.

use super::{Store, StoreResult};

/// An uploaded image.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaItem {
    pub id: i64,
    pub url: String,
    pub original_name: String,
    pub content_type: String,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub created_at: i64,
}

/// A new upload, already stored on disk.
#[derive(Debug, Clone)]
pub struct NewMedia<'a> {
    pub url: &'a str,
    pub original_name: &'a str,
    pub content_type: &'a str,
    pub bytes: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub alt: &'a str,
    pub caption: &'a str,
    pub credit: &'a str,
    pub uploaded_by: Option<i64>,
    pub now: i64,
}

const COLUMNS: &str =
    "SELECT id, url, original_name, content_type, bytes, width, height, alt, caption, credit, created_at FROM media";

impl Store {
    /// Files an upload; the same image uploaded again keeps one record, with
    /// the newest words.
    pub async fn add_media(&self, media: &NewMedia<'_>) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO media (url, original_name, content_type, bytes, width, height, alt, caption, credit,
                uploaded_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (url) DO UPDATE SET alt = excluded.alt, caption = excluded.caption, credit = excluded.credit
             RETURNING id",
        )
        .bind(media.url)
        .bind(media.original_name)
        .bind(media.content_type)
        .bind(media.bytes)
        .bind(media.width)
        .bind(media.height)
        .bind(media.alt)
        .bind(media.caption)
        .bind(media.credit)
        .bind(media.uploaded_by)
        .bind(media.now)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// The library, newest first.
    pub async fn media(&self, limit: u32, offset: u32) -> StoreResult<Vec<MediaItem>> {
        let sql = format!("{COLUMNS} ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?)
    }

    /// A library image by its address.
    pub async fn media_by_url(&self, url: &str) -> StoreResult<Option<MediaItem>> {
        let sql = format!("{COLUMNS} WHERE url = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(url).fetch_optional(&self.pool).await?)
    }

    /// A library image by its id.
    pub async fn media_by_id(&self, id: i64) -> StoreResult<Option<MediaItem>> {
        let sql = format!("{COLUMNS} WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?)
    }

    /// The headlines of the articles and pages (drafts too) that show an image
    /// of the library: as their picture or in their text.
    pub async fn media_used_by(&self, url: &str) -> StoreResult<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT headline FROM articles WHERE image_src = $1 OR body_markdown LIKE $2 ESCAPE '\\' ORDER BY id LIMIT 5",
        )
        .bind(url)
        .bind(format!("%{}%", url.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(headline,)| headline).collect())
    }

    /// Removes a library record (its files are the caller's to remove).
    pub async fn delete_media(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM media WHERE id = $1").bind(id).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(super::StoreError::NotFound);
        }
        Ok(())
    }
}
