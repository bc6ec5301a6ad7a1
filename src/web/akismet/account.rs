//! The calls around the filter that Akismet's WordPress plugin and client
//! libraries make: the key's subscription (`get-subscription`), its figures
//! (`get-stats`, and the 1.2 `key-sites` and `usage-limit`), and
//! `deactivate`. Broadsheet has no plans or limits: every key is an active
//! subscription with no monthly limit.

use std::collections::HashMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Months, Utc};
use serde_json::{Map, Value, json};

use super::traffic::{month_name, this_month};
use super::{KeySite, invalid};
use crate::store::{ApiTraffic, MonthTraffic, StoreError};
use crate::web::AppState;

/// What Akismet's plugin shows as the subscription's name.
const ACCOUNT_NAME: &str = "Broadsheet (self-hosted)";

fn json_answer(value: &Value) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "application/json; charset=utf-8")], value.to_string()).into_response()
}

fn unavailable(err: impl std::fmt::Display) -> Response {
    tracing::error!(error = %err, "cannot read the API's traffic");
    invalid(StatusCode::SERVICE_UNAVAILABLE, "Try again shortly.")
}

/// `get-subscription`: the key's account, as an active subscription.
pub fn subscription(site: &KeySite) -> Response {
    json_answer(&json!({
        "ID": site.id,
        "account_id": site.id,
        "account_name": ACCOUNT_NAME,
        "account_type": "self-hosted",
        "status": "active",
        "next_billing_date": null,
        "limit_reached": false,
    }))
}

/// `deactivate`: nothing to release on this server; Akismet's answer.
pub fn deactivate() -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "deactivated").into_response()
}

/// The first month `from` covers: `all`, `6-months` (this month and the five
/// before), `60-days`, or a date `YYYY-MM-DD` (its month). Figures are kept by
/// month, so a period starts at the start of its first month.
fn first_month(from: Option<&str>) -> Result<String, &'static str> {
    let today = Utc::now().date_naive();
    let start = match from.unwrap_or("all") {
        "all" => return Ok(String::new()),
        "6-months" => today.checked_sub_months(Months::new(5)),
        "60-days" => today.checked_sub_signed(Duration::days(60)),
        date => Some(
            chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d")
                .map_err(|_| "\"from\" is all, 6-months, 60-days or a date YYYY-MM-DD.")?,
        ),
    };
    Ok(start.map(|d| d.format("%Y-%m").to_string()).unwrap_or_default())
}

fn figures(t: &ApiTraffic) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("spam".into(), t.spam.into());
    fields.insert("ham".into(), t.ham.into());
    fields.insert("missed_spam".into(), t.missed_spam.into());
    fields.insert("false_positives".into(), t.false_positives.into());
    fields.insert("accuracy".into(), t.accuracy().into());
    fields
}

/// `get-stats`: the totals over the period named by `from`, and a breakdown by
/// month, in the fields Akismet's plugin renders (`spam`, `missed_spam`,
/// `false_positives`, `accuracy`).
pub async fn stats(state: &AppState, site: &KeySite, params: &HashMap<String, String>) -> Response {
    let from = match first_month(params.get("from").map(|v| v.trim()).filter(|v| !v.is_empty())) {
        Ok(from) => from,
        Err(help) => return invalid(StatusCode::OK, help),
    };
    let months = match read(state, site.id, &from).await {
        Ok(months) => months,
        Err(err) => return unavailable(err),
    };
    let mut total = ApiTraffic::default();
    let mut breakdown = Map::new();
    for m in &months {
        total.add(&m.traffic);
        breakdown.insert(m.month.clone(), Value::Object(figures(&m.traffic)));
    }
    let mut answer = figures(&total);
    answer.insert("breakdown".into(), Value::Object(breakdown));
    json_answer(&Value::Object(answer))
}

/// The site's months from `from` on, after adding this server's counts in hand.
async fn read(state: &AppState, site: i64, from: &str) -> Result<Vec<MonthTraffic>, StoreError> {
    state.akismet_traffic.flush(&state.store).await?;
    state.store.api_traffic(site, from).await
}

/// `usage-limit` (1.2): this month's checks; there is no limit.
pub async fn usage_limit(state: &AppState, site: &KeySite) -> Response {
    let month = month_name(this_month());
    let months = match read(state, site.id, &month).await {
        Ok(months) => months,
        Err(err) => return unavailable(err),
    };
    let usage: i64 = months.iter().map(|m| m.traffic.spam + m.traffic.ham).sum();
    json_answer(&json!({ "limit": "none", "usage": usage, "percentage": "0.00", "throttled": false }))
}

/// `key-sites` (1.2): the sites using the key in a month (`month`,
/// `YYYY-MM`, this one by default), as JSON or, with `format=csv`, CSV.
/// A Broadsheet key belongs to one site, so the list has one row at most;
/// `filter`, `limit` and `offset` work as documented.
pub async fn key_sites(state: &AppState, site: &KeySite, params: &HashMap<String, String>) -> Response {
    let get = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let month = match get("month") {
        None => month_name(this_month()),
        Some(m) if chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").is_ok() && m.len() == 7 => {
            m.to_owned()
        }
        Some(_) => return invalid(StatusCode::OK, "\"month\" is a month YYYY-MM."),
    };
    let number = |name: &'static str, default: usize| match get(name) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| name),
    };
    let (limit, offset) = match (number("limit", 500), number("offset", 0)) {
        (Ok(limit), Ok(offset)) => (limit, offset),
        (Err(name), _) | (_, Err(name)) => {
            return invalid(StatusCode::OK, &format!("\"{name}\" is a whole number."));
        }
    };
    let csv = match get("format") {
        None | Some("json") => false,
        Some("csv") => true,
        Some(_) => return invalid(StatusCode::OK, "\"format\" is json or csv."),
    };
    let months = match read(state, site.id, &month).await {
        Ok(months) => months,
        Err(err) => return unavailable(err),
    };
    let traffic = months.iter().find(|m| m.month == month).map(|m| m.traffic).unwrap_or_default();
    let filter = get("filter").map(str::to_ascii_lowercase);
    let listed = traffic.calls() > 0 && filter.as_deref().is_none_or(|f| site.host.contains(f));
    let rows: Vec<(&str, ApiTraffic)> = if listed { vec![(site.host.as_str(), traffic)] } else { Vec::new() };
    let total = rows.len();
    let page: Vec<_> = rows.into_iter().skip(offset).take(limit).collect();
    if csv {
        let mut body = format!(
            "Active sites for {} during {month} (limit: {limit}, offset: {offset}, total: {total}).\n\
             Site,Total API Calls,Spam,Ham,Missed Spam,False Positives,Is Revoked\n",
            site.key
        );
        for (host, t) in &page {
            body.push_str(&format!(
                "{host},{},{},{},{},{},false\n",
                t.calls(),
                t.spam,
                t.ham,
                t.missed_spam,
                t.false_positives
            ));
        }
        return (StatusCode::OK, [(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    }
    let list: Vec<Value> = page
        .iter()
        .map(|(host, t)| {
            json!({
                "site": host,
                "api_calls": t.calls().to_string(),
                "spam": t.spam.to_string(),
                "ham": t.ham.to_string(),
                "missed_spam": t.missed_spam.to_string(),
                "false_positives": t.false_positives.to_string(),
                "is_revoked": false,
            })
        })
        .collect();
    let mut answer = Map::new();
    answer.insert(month, Value::Array(list));
    answer.insert("limit".into(), limit.into());
    answer.insert("offset".into(), offset.into());
    answer.insert("total".into(), total.into());
    json_answer(&Value::Object(answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_start_at_their_first_month() {
        assert_eq!(first_month(None).as_deref(), Ok(""));
        assert_eq!(first_month(Some("all")).as_deref(), Ok(""));
        assert_eq!(first_month(Some("2026-03-17")).as_deref(), Ok("2026-03"));
        let six = first_month(Some("6-months")).expect("a period");
        let five_months_ago = Utc::now().date_naive().checked_sub_months(Months::new(5)).expect("a date");
        let expected = five_months_ago.format("%Y-%m").to_string();
        assert_eq!(six, expected);
        assert!(first_month(Some("last week")).is_err());
    }
}
