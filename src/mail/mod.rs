//! Outgoing mail: the queue's sender ([`sender`]) and the messages the
//! discussion sends ([`notices`]).
//!
//! Every message is queued in the database first (`mail_outbox`); a
//! background job sends it through SMTP (`lettre`), retrying with backoff,
//! so a slow or unreachable mail server never slows a request or loses a
//! message. Without an SMTP server configured, messages are written to the
//! log: the first start needs no mail set-up.

pub mod notices;
pub mod sender;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::{ContentType, Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use notices::Notifier;

use crate::config::MailConfig;
use crate::store::QueuedMail;

/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Where messages go.
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No mail server configured: each message is written to the log.
    Log,
}

impl Transport {
    pub fn from_config(config: &MailConfig) -> anyhow::Result<Transport> {
        Ok(match &config.smtp_url {
            None => Transport::Log,
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|err| anyhow::anyhow!("the SMTP URL cannot be used: {err}"))?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
        })
    }

    /// Sends one queued message; the error says why it could not be sent.
    pub async fn send(&self, from: &Mailbox, mail: &QueuedMail) -> Result<(), SendError> {
        let message = build(from, mail).map_err(|why| SendError { why, permanent: true })?;
        match self {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(drop)
                .map_err(|err| SendError { permanent: err.is_permanent(), why: err.to_string() }),
            Transport::Log => {
                tracing::info!(
                    mail.id = mail.id,
                    mail.kind = %mail.kind,
                    to = %mail.recipient,
                    subject = %mail.subject,
                    unsubscribe = mail.unsubscribe_url.as_deref().unwrap_or(""),
                    "no SMTP server configured; the message follows:\n{}",
                    mail.text_body
                );
                Ok(())
            }
        }
    }
}

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError {
    pub why: String,
    /// The mail server refused the message itself (a 5xx answer), or it
    /// cannot be written (a recipient that is no address): trying again
    /// soon will not help.
    pub permanent: bool,
}

/// Shared by the sender and whatever queues messages (to wake it at once).
#[derive(Clone, Default)]
pub struct Wake(Arc<tokio::sync::Notify>);

impl Wake {
    /// Tells the sender that a message is waiting.
    pub fn ring(&self) {
        self.0.notify_one();
    }

    async fn rung(&self) {
        self.0.notified().await;
    }
}

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim().trim_start_matches('<').trim_end_matches('>').to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// The message as sent: plain text and HTML alternatives, with the
/// one-click unsubscribe headers when the message has an unsubscribe address.
fn build(from: &Mailbox, mail: &QueuedMail) -> Result<Message, String> {
    let to: Mailbox = mail.recipient.parse().map_err(|err| format!("recipient {:?}: {err}", mail.recipient))?;
    let mut builder = Message::builder().from(from.clone()).to(to).subject(&mail.subject).message_id(None);
    if let Some(url) = &mail.unsubscribe_url {
        builder = builder.header(ListUnsubscribe(url.clone())).header(ListUnsubscribePost);
    }
    builder
        .multipart(
            MultiPart::alternative()
                .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(mail.text_body.clone()))
                .singlepart(SinglePart::builder().header(ContentType::TEXT_HTML).body(mail.html_body.clone())),
        )
        .map_err(|err| err.to_string())
}
