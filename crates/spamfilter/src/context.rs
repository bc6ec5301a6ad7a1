//! What the web app knows about a comment besides its text.
//!
//! Every field is optional and defaults to "unknown"; an unknown field adds no
//! feature, so a caller (or a data set) without context scores exactly as the
//! text alone. Training data rarely carries context, so each context feature
//! starts from a documented prior weight ([`Slot::prior`]) that a site's
//! [`Overlay`](crate::Overlay) then corrects from its moderators' decisions.

/// Context of one comment, supplied by the caller. All fields default to unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Context<'a> {
    /// Number of links the app found in the comment (e.g. `<a>` elements); `None` if not counted.
    pub links: Option<u32>,
    /// The URL the commenter gave for themselves, if any.
    pub author_url: Option<&'a str>,
    /// The name the commenter gave, if any.
    pub author_name: Option<&'a str>,
    /// The commenter's e-mail address, if any (only its domain is used).
    pub email: Option<&'a str>,
    /// `true` if the request carried no `User-Agent` header.
    pub user_agent_missing: bool,
    /// Seconds between rendering the comment form and its submission, if measured.
    pub seconds_to_submit: Option<f32>,
    /// `true` if the hidden honeypot field was filled in (only bots do that).
    pub honeypot_filled: bool,
    /// How many earlier comments of this commenter were approved, if known.
    pub author_approved: Option<u32>,
    /// How many earlier comments of this commenter were marked as spam, if known.
    pub author_spam: Option<u32>,
    /// How many comments from this IP address were marked as spam recently, if known.
    pub ip_recent_spam: Option<u32>,
}

/// A fixed (not hashed) context feature. Its weight lives after the hashed table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Slot {
    /// Always on: the intercept.
    Bias,
    /// The honeypot field was filled.
    Honeypot,
    /// Submitted less than 3 s after the form was rendered.
    SubmitUnder3s,
    /// Submitted less than 10 s after the form was rendered.
    SubmitUnder10s,
    /// Submitted more than a day after the form was rendered (replayed form).
    SubmitAfterADay,
    /// No user agent.
    NoUserAgent,
    /// The author gave a URL.
    AuthorUrl,
    /// The author name looks stuffed with keywords or a link.
    AuthorNameStuffed,
    /// One link (as counted by the app).
    Links1,
    /// Two links.
    Links2,
    /// Three or more links.
    Links3Plus,
    /// At least one earlier comment of the author was approved.
    Approved1,
    /// At least five earlier comments of the author were approved.
    Approved5,
    /// At least one earlier comment of the author was spam.
    AuthorSpam1,
    /// At least three earlier comments of the author were spam.
    AuthorSpam3,
    /// At least one recent spam from this IP.
    IpSpam1,
    /// At least five recent spams from this IP.
    IpSpam5,
}

impl Slot {
    /// Number of fixed slots.
    pub const COUNT: u32 = 17;

    /// All slots, in index order.
    pub const ALL: [Slot; Self::COUNT as usize] = [
        Slot::Bias,
        Slot::Honeypot,
        Slot::SubmitUnder3s,
        Slot::SubmitUnder10s,
        Slot::SubmitAfterADay,
        Slot::NoUserAgent,
        Slot::AuthorUrl,
        Slot::AuthorNameStuffed,
        Slot::Links1,
        Slot::Links2,
        Slot::Links3Plus,
        Slot::Approved1,
        Slot::Approved5,
        Slot::AuthorSpam1,
        Slot::AuthorSpam3,
        Slot::IpSpam1,
        Slot::IpSpam5,
    ];

    /// Prior weight (log-odds) before any site has taught the model otherwise.
    ///
    /// These are expert priors, not fitted: public comment corpora carry no
    /// context. Cumulative slots add up (`Approved1` + `Approved5`).
    pub fn prior(self) -> f32 {
        match self {
            Slot::Bias => 0.0,
            Slot::Honeypot => 6.0,
            Slot::SubmitUnder3s => 2.0,
            Slot::SubmitUnder10s => 1.0,
            Slot::SubmitAfterADay => 0.5,
            Slot::NoUserAgent => 1.5,
            Slot::AuthorUrl => 0.5,
            Slot::AuthorNameStuffed => 1.5,
            Slot::Links1 => 0.3,
            Slot::Links2 => 0.7,
            Slot::Links3Plus => 1.5,
            Slot::Approved1 => -1.5,
            Slot::Approved5 => -1.5,
            Slot::AuthorSpam1 => 1.5,
            Slot::AuthorSpam3 => 1.5,
            Slot::IpSpam1 => 1.0,
            Slot::IpSpam5 => 1.5,
        }
    }

    /// Human-readable reason text.
    pub fn describe(self) -> &'static str {
        match self {
            Slot::Bias => "base rate",
            Slot::Honeypot => "honeypot filled",
            Slot::SubmitUnder3s => "submitted within 3 s of loading the form",
            Slot::SubmitUnder10s => "submitted within 10 s of loading the form",
            Slot::SubmitAfterADay => "form submitted more than a day after loading",
            Slot::NoUserAgent => "no user agent",
            Slot::AuthorUrl => "author gave a URL",
            Slot::AuthorNameStuffed => "author name stuffed with keywords or a link",
            Slot::Links1 => "1 link",
            Slot::Links2 => "2 links",
            Slot::Links3Plus => "3 or more links",
            Slot::Approved1 => "author has approved comments",
            Slot::Approved5 => "author has 5+ approved comments",
            Slot::AuthorSpam1 => "author has earlier spam",
            Slot::AuthorSpam3 => "author has 3+ earlier spams",
            Slot::IpSpam1 => "IP sent spam recently",
            Slot::IpSpam5 => "IP sent 5+ spams recently",
        }
    }
}

/// Words that make an author name look like an advert.
const NAME_KEYWORDS: &[&str] = &[
    "buy",
    "cheap",
    "casino",
    "loan",
    "seo",
    "viagra",
    "cialis",
    "discount",
    "free",
    "online",
    "bitcoin",
    "crypto",
    "porn",
    "sex",
    "dating",
    "pharmacy",
    "replica",
    "shop",
    "store",
    "best",
    "deal",
    "insurance",
    "followers",
];

impl Context<'_> {
    /// Calls `emit` for every fixed slot that this context switches on (the bias included).
    pub fn for_each_slot(&self, mut emit: impl FnMut(Slot)) {
        emit(Slot::Bias);
        if self.honeypot_filled {
            emit(Slot::Honeypot);
        }
        if let Some(s) = self.seconds_to_submit.filter(|s| s.is_finite() && *s >= 0.0) {
            if s < 3.0 {
                emit(Slot::SubmitUnder3s);
            }
            if s < 10.0 {
                emit(Slot::SubmitUnder10s);
            }
            if s > 86_400.0 {
                emit(Slot::SubmitAfterADay);
            }
        }
        if self.user_agent_missing {
            emit(Slot::NoUserAgent);
        }
        if self.author_url.is_some_and(|u| !u.trim().is_empty()) {
            emit(Slot::AuthorUrl);
        }
        if self.author_name.is_some_and(name_is_stuffed) {
            emit(Slot::AuthorNameStuffed);
        }
        match self.links {
            Some(1) => emit(Slot::Links1),
            Some(2) => emit(Slot::Links2),
            Some(n) if n >= 3 => emit(Slot::Links3Plus),
            _ => {}
        }
        cumulative(self.author_approved, 1, 5, Slot::Approved1, Slot::Approved5, &mut emit);
        cumulative(self.author_spam, 1, 3, Slot::AuthorSpam1, Slot::AuthorSpam3, &mut emit);
        cumulative(self.ip_recent_spam, 1, 5, Slot::IpSpam1, Slot::IpSpam5, &mut emit);
    }

    /// The domain of [`email`](Self::email), if it has one.
    pub fn email_domain(&self) -> Option<&str> {
        let (_, domain) = self.email?.rsplit_once('@')?;
        let domain = domain.trim();
        (!domain.is_empty()).then_some(domain)
    }
}

fn cumulative(n: Option<u32>, low: u32, high: u32, a: Slot, b: Slot, emit: &mut impl FnMut(Slot)) {
    if let Some(n) = n {
        if n >= low {
            emit(a);
        }
        if n >= high {
            emit(b);
        }
    }
}

/// An author name with many words, a link, or advertising keywords.
pub fn name_is_stuffed(name: &str) -> bool {
    let lower = name.to_lowercase();
    let words = lower.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty());
    let mut count = 0;
    for w in words {
        count += 1;
        if NAME_KEYWORDS.contains(&w) {
            return true;
        }
    }
    count >= 5 || lower.contains("http") || lower.contains("www.") || lower.contains(".com")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(ctx: &Context) -> Vec<Slot> {
        let mut v = Vec::new();
        ctx.for_each_slot(|s| v.push(s));
        v
    }

    #[test]
    fn default_context_is_only_the_bias() {
        assert_eq!(slots(&Context::default()), vec![Slot::Bias]);
    }

    #[test]
    fn slots_follow_the_context() {
        let ctx = Context {
            honeypot_filled: true,
            seconds_to_submit: Some(2.0),
            links: Some(4),
            author_approved: Some(7),
            ..Context::default()
        };
        let s = slots(&ctx);
        for want in [Slot::Honeypot, Slot::SubmitUnder3s, Slot::SubmitUnder10s, Slot::Links3Plus, Slot::Approved5] {
            assert!(s.contains(&want), "{want:?} missing from {s:?}");
        }
        assert_eq!(Slot::ALL.iter().enumerate().filter(|(i, s)| **s as usize != *i).count(), 0);
    }

    #[test]
    fn stuffed_names() {
        assert!(name_is_stuffed("Cheap Viagra Online"));
        assert!(name_is_stuffed("best-seo-services.com"));
        assert!(!name_is_stuffed("Jane Doe"));
        let ctx = Context { email: Some("a@Mail.example"), ..Context::default() };
        assert_eq!(ctx.email_domain(), Some("Mail.example"));
    }
}
