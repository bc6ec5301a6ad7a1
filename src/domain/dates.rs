//! How dates read on the page, always in the site's time zone.

use chrono::{DateTime, Datelike, TimeZone, Utc};
use chrono_tz::Tz;

/// The date bar at the top of every page: "Fri. Feb 7th, 2025".
pub fn date_bar(now: DateTime<Utc>, tz: Tz) -> String {
    let local = now.with_timezone(&tz);
    format!(
        "{}. {} {}{}, {}",
        local.format("%a"),
        local.format("%b"),
        local.day(),
        ordinal_suffix(local.day()),
        local.year()
    )
}

/// A dateline: "7 February 2025, 09:30".
pub fn dateline(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%-d %B %Y, %H:%M").to_string()
}

/// A short date for listings: "7 Feb 2025".
pub fn short_date(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%-d %b %Y").to_string()
}

/// RFC 3339 with the site's offset, for `<time datetime>`.
pub fn machine(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).to_rfc3339()
}

/// A Unix second as UTC RFC 3339 to the second (`2026-12-03T21:50:02Z`): the
/// W3C date-time sitemaps, JSON-LD and Open Graph want.
pub fn utc_seconds(at: i64) -> String {
    DateTime::<Utc>::from_timestamp(at, 0).unwrap_or_default().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The next local midnight after `now`, when the date bar changes.
pub fn next_midnight(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let tomorrow = now.with_timezone(&tz).date_naive().succ_opt().unwrap_or(chrono::NaiveDate::MAX);
    let midnight = tomorrow.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A zone may skip midnight on a DST change; then the first valid instant after it.
    (0..=3)
        .find_map(|hour| tz.from_local_datetime(&(midnight + chrono::Duration::hours(hour))).earliest())
        .map(|at| at.with_timezone(&Utc))
        .unwrap_or(now + chrono::Duration::hours(24))
}

fn ordinal_suffix(day: u32) -> &'static str {
    match (day % 10, day % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn date_bar_reads_like_a_newspaper() {
        let at = Utc.with_ymd_and_hms(2025, 2, 7, 12, 0, 0).single().expect("date");
        assert_eq!(date_bar(at, chrono_tz::UTC), "Fri. Feb 7th, 2025");
        let late = Utc.with_ymd_and_hms(2025, 2, 7, 23, 30, 0).single().expect("date");
        assert_eq!(date_bar(late, chrono_tz::Europe::Madrid), "Sat. Feb 8th, 2025");
    }

    #[test]
    fn ordinals() {
        let cases = [
            (1, "st"),
            (2, "nd"),
            (3, "rd"),
            (4, "th"),
            (11, "th"),
            (12, "th"),
            (13, "th"),
            (21, "st"),
            (22, "nd"),
            (23, "rd"),
            (31, "st"),
        ];
        for (day, suffix) in cases {
            assert_eq!(ordinal_suffix(day), suffix, "day {day}");
        }
    }

    #[test]
    fn next_midnight_is_local() {
        let at = Utc.with_ymd_and_hms(2025, 2, 7, 12, 0, 0).single().expect("date");
        let next = next_midnight(at, chrono_tz::Europe::Madrid);
        assert_eq!(next, Utc.with_ymd_and_hms(2025, 2, 7, 23, 0, 0).single().expect("date"));
    }
}
