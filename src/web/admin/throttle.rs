//! Sign-in throttling that an attacker cannot turn against the user.
//!
//! A lockout per account lets anyone who knows an editor's email address
//! keep the editor out. So the limits fall on the attacker's side:
//! - per address and account: the first [`FREE_TRIES`] failures cost nothing;
//!   after that each new try waits twice as long as the one before
//!   ([`FIRST_DELAY`], doubling, up to the [`WINDOW`]);
//! - per address, across accounts: [`MAX_PER_ADDRESS`] failures in the
//!   window, then it waits until the oldest one ages out;
//! - per account, from everywhere: past [`UNDER_ATTACK`] failures in the
//!   window every try on the account is slowed by [`SLOWDOWN`], so guessing
//!   from many addresses is slow too; an address that has not been failing
//!   is never refused.
//!
//! Every refusal is logged, and the dashboard names the accounts under attack.

use std::time::Duration;

use crate::store::SignInFailures;

/// How long a failure counts, in seconds.
pub const WINDOW: i64 = 15 * 60;
/// Failures from one address for one account before delays start.
pub const FREE_TRIES: i64 = 3;
/// The first delay, in seconds; each further failure doubles it.
pub const FIRST_DELAY: i64 = 5;
/// Failures from one address, across accounts, before it must wait.
pub const MAX_PER_ADDRESS: i64 = 20;
/// Failures on one account, from everywhere, that make it "under attack".
pub const UNDER_ATTACK: i64 = 10;
/// What each try on an account under attack waits before its password is checked.
pub const SLOWDOWN: Duration = Duration::from_secs(1);

/// What to do with a sign-in attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Check the password, after waiting `slowdown`.
    Check { slowdown: Duration },
    /// Refuse for now: try again in this many seconds.
    Wait(i64),
}

/// The verdict for an attempt at `now`, given the failures that bear on it.
pub fn verdict(failures: &SignInFailures, now: i64) -> Verdict {
    if failures.address >= MAX_PER_ADDRESS {
        let until = failures.address_oldest.map_or(now + WINDOW, |oldest| oldest + WINDOW);
        return Verdict::Wait((until - now).max(1));
    }
    if failures.pair >= FREE_TRIES {
        let doublings = u32::try_from(failures.pair - FREE_TRIES).unwrap_or(u32::MAX).min(20);
        let delay = FIRST_DELAY.saturating_mul(1 << doublings).min(WINDOW);
        let until = failures.pair_last.unwrap_or(now) + delay;
        if until > now {
            return Verdict::Wait(until - now);
        }
    }
    let slowdown = if failures.account >= UNDER_ATTACK { SLOWDOWN } else { Duration::ZERO };
    Verdict::Check { slowdown }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn failures(account: i64, address: i64, pair: i64, pair_last: Option<i64>) -> SignInFailures {
        SignInFailures { account, address, pair, pair_last, address_oldest: pair_last.map(|t| t - 60) }
    }

    #[test]
    fn a_clean_address_is_checked_however_attacked_the_account_is() {
        assert_eq!(verdict(&failures(0, 0, 0, None), NOW), Verdict::Check { slowdown: Duration::ZERO });
        assert_eq!(verdict(&failures(5_000, 0, 0, None), NOW), Verdict::Check { slowdown: SLOWDOWN });
    }

    #[test]
    fn delays_grow_for_the_failing_address_only() {
        assert!(matches!(verdict(&failures(2, 2, 2, Some(NOW)), NOW), Verdict::Check { .. }));
        assert_eq!(verdict(&failures(3, 3, 3, Some(NOW)), NOW), Verdict::Wait(5));
        assert_eq!(verdict(&failures(4, 4, 4, Some(NOW - 2)), NOW), Verdict::Wait(8));
        assert!(matches!(verdict(&failures(4, 4, 4, Some(NOW - 10)), NOW), Verdict::Check { .. }));
        assert_eq!(verdict(&failures(40, 19, 19, Some(NOW)), NOW), Verdict::Wait(WINDOW));
    }

    #[test]
    fn an_address_failing_across_accounts_waits_for_its_oldest_failure_to_age() {
        let f =
            SignInFailures { account: 1, address: 20, pair: 1, pair_last: Some(NOW), address_oldest: Some(NOW - 100) };
        assert_eq!(verdict(&f, NOW), Verdict::Wait(WINDOW - 100));
    }
}
