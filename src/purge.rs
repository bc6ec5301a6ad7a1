//! The CDN purge webhook: the cache tags each change makes stale are POSTed
//! to the configured address as `{"keys": ["article:12", "front", …]}`, the
//! same names cached responses carry in `Surrogate-Key` and `Cache-Tag`, so
//! that a CDN (or a small relay in front of its purge API) drops exactly
//! those pages. Every server runs the job; each change is sent by the one
//! that claims its log row, and sent again at the next try if the call
//! failed. With a secret, each call carries `X-Broadsheet-Signature:
//! sha256=<HMAC-SHA256 of the body, hex>`.

use std::collections::BTreeSet;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::config::PurgeWebhook;
use crate::store::{Store, StoreResult};

/// Rows sent in one call at most.
const BATCH: i64 = 500;
/// How long the webhook may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

pub struct Purger {
    webhook: PurgeWebhook,
    client: reqwest::Client,
}

impl Purger {
    pub fn new(webhook: PurgeWebhook) -> anyhow::Result<Purger> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .user_agent(concat!("Broadsheet/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Purger { webhook, client })
    }

    /// Sends what is due and not yet sent; how many keys went out.
    pub async fn run(&self, store: &Store, now: i64) -> StoreResult<usize> {
        let mut sent = 0;
        loop {
            let rows = store.claim_purges(now, BATCH).await?;
            if rows.is_empty() {
                return Ok(sent);
            }
            let keys: BTreeSet<&str> = rows.iter().flat_map(|(_, tags)| tags.split_whitespace()).collect();
            if let Err(err) = self.call(&keys).await {
                tracing::warn!(error = %err, keys = keys.len(), "the CDN purge webhook failed; trying again shortly");
                let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
                store.unclaim_purges(&ids).await?;
                return Ok(sent);
            }
            tracing::debug!(keys = keys.len(), "CDN purge sent");
            sent += keys.len();
            if (rows.len() as i64) < BATCH {
                return Ok(sent);
            }
        }
    }

    async fn call(&self, keys: &BTreeSet<&str>) -> anyhow::Result<()> {
        let body = serde_json::to_vec(&serde_json::json!({ "keys": keys }))?;
        let mut request = self.client.post(&self.webhook.url).header("content-type", "application/json");
        if let Some(secret) = &self.webhook.secret {
            request = request.header("x-broadsheet-signature", signature(secret, &body));
        }
        let response = request.body(body).send().await?;
        anyhow::ensure!(response.status().is_success(), "the webhook answered {}", response.status());
        Ok(())
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `body` under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length: this never fails.
    let Ok(mut mac) = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) else { return String::new() };
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    format!("sha256={}", digest.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_in_hex() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
