//! The site's secret key and what it signs: comment-form tokens (which
//! article, and when the form was shown) and the cookies readers keep.

use axum_extra::extract::cookie::Key;

/// Forms older than this must be sent again.
pub const FORM_TOKEN_MAX_AGE: i64 = 3 * 24 * 3600;

/// Signs and checks with the site's secret key.
#[derive(Clone)]
pub struct Signer {
    mac_key: [u8; 32],
    cookie_key: Key,
}

impl Signer {
    /// From the site's 64-byte secret.
    pub fn new(secret: &[u8; 64]) -> Signer {
        let mac_key = blake3::derive_key("broadsheet 2026-11 form tokens", secret);
        Signer { mac_key, cookie_key: Key::from(secret) }
    }

    pub fn cookie_key(&self) -> &Key {
        &self.cookie_key
    }

    /// A token binding a comment form to an article and the time it was shown.
    pub fn form_token(&self, article_id: i64, issued_at: i64) -> String {
        let payload = format!("{article_id}.{issued_at}");
        let mac = blake3::keyed_hash(&self.mac_key, payload.as_bytes()).to_hex();
        format!("{payload}.{}", &mac[..32])
    }

    /// The time a valid token for `article_id` was issued; `None` when the token
    /// is forged, for another article, from the future or too old.
    pub fn check_form_token(&self, token: &str, article_id: i64, now: i64) -> Option<i64> {
        let mut parts = token.trim().splitn(3, '.');
        let (id, issued, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let expected = self.form_token(id.parse().ok()?, issued.parse().ok()?);
        let matches: bool =
            subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), format!("{id}.{issued}.{mac}").as_bytes()).into();
        let issued: i64 = issued.parse().ok()?;
        (matches && id.parse() == Ok(article_id) && issued <= now + 60 && now - issued <= FORM_TOKEN_MAX_AGE)
            .then_some(issued)
    }
}

impl Signer {
    /// A token for the sign-in form: shown by this site, at `issued_at`.
    pub fn sign_in_token(&self, issued_at: i64) -> String {
        let payload = format!("sign-in.{issued_at}");
        let mac = blake3::keyed_hash(&self.mac_key, payload.as_bytes()).to_hex();
        format!("{issued_at}.{}", &mac[..32])
    }

    /// True for a sign-in token this site issued within the last day.
    pub fn check_sign_in_token(&self, token: &str, now: i64) -> bool {
        let Some(issued) = token.trim().split('.').next().and_then(|t| t.parse::<i64>().ok()) else { return false };
        let expected = self.sign_in_token(issued);
        let matches: bool = subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), token.trim().as_bytes()).into();
        matches && issued <= now + 60 && now - issued <= 24 * 3600
    }
}

/// A new random 64-byte secret.
pub fn generate_secret() -> [u8; 64] {
    let mut secret = [0u8; 64];
    rand::fill(&mut secret);
    secret
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_tokens_bind_article_and_time() {
        let signer = Signer::new(&[7; 64]);
        let token = signer.form_token(42, 1_000);
        assert_eq!(signer.check_form_token(&token, 42, 1_010), Some(1_000));
        assert_eq!(signer.check_form_token(&token, 43, 1_010), None, "another article");
        assert_eq!(signer.check_form_token(&token, 42, 1_000 + FORM_TOKEN_MAX_AGE + 1), None, "too old");
        assert_eq!(signer.check_form_token(&token.replace("42.1000", "42.1001"), 42, 1_010), None, "tampered");
        assert_eq!(signer.check_form_token("garbage", 42, 1_010), None);
        assert_eq!(Signer::new(&[8; 64]).check_form_token(&token, 42, 1_010), None, "another site's key");
    }
}
