//! Newsroom accounts, their sessions and failed sign-ins.

use super::{Store, StoreError, StoreResult};
use crate::domain::role::Role;

/// A newsroom account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub must_change_password: bool,
    pub created_at: i64,
}

type UserRow = (i64, String, String, String, i64, i64);

fn user(row: UserRow) -> User {
    let (id, email, display_name, role, must_change, created_at) = row;
    User {
        id,
        email,
        display_name,
        // The schema allows only the four roles.
        role: Role::parse(&role).unwrap_or(Role::Contributor),
        must_change_password: must_change != 0,
        created_at,
    }
}

const USER_COLUMNS: &str = "SELECT id, email, display_name, role, must_change_password, created_at FROM users";

/// A signed-in browser's session, with its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub csrf_token: String,
    pub last_seen_at: i64,
}

impl Store {
    pub async fn count_users(&self) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
        Ok(n)
    }

    /// Creates an account; the caller has already hashed the password with
    /// Argon2id. An email address already in use is refused.
    pub async fn create_user(
        &self,
        email: &str,
        display_name: &str,
        role: &str,
        password_hash: &str,
        must_change_password: bool,
        now: i64,
    ) -> StoreResult<i64> {
        let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE LOWER(email) = LOWER($1)")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Rejected(format!("there is already a user with the email address {email}")));
        }
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

    /// Every account, oldest first.
    pub async fn users(&self) -> StoreResult<Vec<User>> {
        let sql = format!("{USER_COLUMNS} ORDER BY id");
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        Ok(rows.into_iter().map(user).collect())
    }

    /// An account and its password hash, by email address (any case).
    pub async fn user_for_sign_in(&self, email: &str) -> StoreResult<(User, String)> {
        type Row = (i64, String, String, String, i64, i64, String);
        let row: Option<Row> = sqlx::query_as(
            "SELECT id, email, display_name, role, must_change_password, created_at, password_hash FROM users
             WHERE LOWER(email) = LOWER($1)",
        )
        .bind(email.trim())
        .fetch_optional(&self.pool)
        .await?;
        let (id, email, name, role, must, created, hash) = row.ok_or(StoreError::NotFound)?;
        Ok((user((id, email, name, role, must, created)), hash))
    }

    /// An account's password hash.
    pub async fn password_hash(&self, user_id: i64) -> StoreResult<String> {
        let (hash,): (String,) = sqlx::query_as("SELECT password_hash FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(hash)
    }

    /// Sets a new password (already hashed) and signs out every session of
    /// the account except `keep` (the session that changed it, if any).
    pub async fn set_password(
        &self,
        user_id: i64,
        password_hash: &str,
        must_change: bool,
        keep: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET password_hash = $1, must_change_password = $2 WHERE id = $3")
            .bind(password_hash)
            .bind(i64::from(must_change))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep.unwrap_or(""))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes an account's role, by id or email address.
    pub async fn set_role(&self, who: &str, role: Role) -> StoreResult<User> {
        let sql = format!("{USER_COLUMNS} WHERE CAST(id AS TEXT) = $1 OR LOWER(email) = LOWER($1)");
        let found: Option<UserRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(who).fetch_optional(&self.pool).await?;
        let mut found = user(found.ok_or(StoreError::NotFound)?);
        if found.role == Role::Administrator && role != Role::Administrator {
            let (admins,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = 'administrator'").fetch_one(&self.pool).await?;
            if admins <= 1 {
                return Err(StoreError::Rejected("the site must keep at least one administrator".into()));
            }
        }
        sqlx::query("UPDATE users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(found.id)
            .execute(&self.pool)
            .await?;
        found.role = role;
        Ok(found)
    }

    /// An account by id or email address.
    pub async fn find_user(&self, who: &str) -> StoreResult<User> {
        let sql = format!("{USER_COLUMNS} WHERE CAST(id AS TEXT) = $1 OR LOWER(email) = LOWER($1)");
        let found: Option<UserRow> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(who).fetch_optional(&self.pool).await?;
        found.map(user).ok_or(StoreError::NotFound)
    }

    /// Opens a session; the token's hash is its key.
    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now)
        .bind(expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The live session with this token hash, and its user.
    pub async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Session> {
        type Row = (i64, String, String, String, i64, i64, String, i64);
        let row: Option<Row> = sqlx::query_as(
            "SELECT u.id, u.email, u.display_name, u.role, u.must_change_password, u.created_at, s.csrf_token,
                    s.last_seen_at
             FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let (id, email, name, role, must, created, csrf_token, last_seen_at) = row.ok_or(StoreError::NotFound)?;
        Ok(Session { user: user((id, email, name, role, must, created)), csrf_token, last_seen_at })
    }

    /// Keeps a session alive: seen now, expiring `expires_at`.
    pub async fn touch_session(&self, token_hash: &str, now: i64, expires_at: i64) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(now)
            .bind(expires_at)
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(token_hash).execute(&self.pool).await?;
        Ok(())
    }

    /// Records a failed sign-in.
    pub async fn record_sign_in_failure(&self, email: &str, ip: &str, now: i64) -> StoreResult<()> {
        sqlx::query("INSERT INTO sign_in_failures (email, ip, at) VALUES ($1, $2, $3)")
            .bind(email.trim().to_lowercase())
            .bind(ip)
            .bind(now)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed sign-ins since `since` that concern an attempt on `email` from `ip`.
    pub async fn sign_in_failures(&self, email: &str, ip: &str, since: i64) -> StoreResult<SignInFailures> {
        let row: (i64, i64, i64, Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND at >= $3),
                    (SELECT COUNT(*) FROM sign_in_failures WHERE ip = $2 AND at >= $3),
                    (SELECT COUNT(*) FROM sign_in_failures WHERE email = $1 AND ip = $2 AND at >= $3),
                    (SELECT MAX(at) FROM sign_in_failures WHERE email = $1 AND ip = $2 AND at >= $3),
                    (SELECT MIN(at) FROM sign_in_failures WHERE ip = $2 AND at >= $3)",
        )
        .bind(email.trim().to_lowercase())
        .bind(ip)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        let (account, address, pair, pair_last, address_oldest) = row;
        Ok(SignInFailures { account, address, pair, pair_last, address_oldest })
    }

    /// Forgets one address's failed sign-ins for an account (after it signed
    /// in): an attacker's failures from elsewhere still count.
    pub async fn clear_sign_in_failures(&self, email: &str, ip: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE email = $1 AND ip = $2")
            .bind(email.trim().to_lowercase())
            .bind(ip)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Accounts with at least `least` failed sign-ins since `since`, the most
    /// attacked first: (email, failures, addresses, last failure).
    pub async fn sign_in_attacks(&self, since: i64, least: i64) -> StoreResult<Vec<SignInAttack>> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT email, COUNT(*), COUNT(DISTINCT ip), MAX(at) FROM sign_in_failures WHERE at >= $1
             GROUP BY email HAVING COUNT(*) >= $2 ORDER BY COUNT(*) DESC, email LIMIT 20",
        )
        .bind(since)
        .bind(least)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(email, failures, addresses, last)| SignInAttack { email, failures, addresses, last })
            .collect())
    }

    /// Drops expired sessions and failed sign-ins older than `before`.
    pub async fn prune_sign_in_data(&self, now: i64, before: i64) -> StoreResult<u64> {
        let sessions = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now).execute(&self.pool).await?;
        let failures =
            sqlx::query("DELETE FROM sign_in_failures WHERE at < $1").bind(before).execute(&self.pool).await?;
        Ok(sessions.rows_affected() + failures.rows_affected())
    }
}

/// Failed sign-ins that bear on one attempt (see `web::admin::throttle`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignInFailures {
    /// For the account, from every address.
    pub account: i64,
    /// From the address, for every account.
    pub address: i64,
    /// For the account from the address.
    pub pair: i64,
    /// The latest of those.
    pub pair_last: Option<i64>,
    /// The oldest failure from the address that still counts.
    pub address_oldest: Option<i64>,
}

/// Many failed sign-ins for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInAttack {
    pub email: String,
    pub failures: i64,
    pub addresses: i64,
    pub last: i64,
}
