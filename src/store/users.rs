//! Newsroom accounts.

use super::{Store, StoreResult};

impl Store {
    pub async fn count_users(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Creates an account; the caller has already hashed the password with Argon2id.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        role: &str,
        password_hash: &str,
        must_change_password: bool,
        now: i64,
    ) -> StoreResult<i64> {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO users (email, display_name, role, password_hash, must_change_password, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(email)
        .bind(display_name)
        .bind(role)
        .bind(password_hash)
        .bind(i64::from(must_change_password))
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }
}
