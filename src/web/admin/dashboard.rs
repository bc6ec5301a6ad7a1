//! The dashboard: the newsroom's totals and the last 30 days as a chart.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Offset, Utc};

use super::{Admin, AdminChrome, page};
use crate::domain::role::Capability;
use crate::store::{Day, Totals};
use crate::web::AppState;
use crate::web::error::AppError;

const DAYS: i64 = 30;
/// Failed sign-ins on one account in a day that the dashboard reports as an attack.
const ATTACK_FAILURES: i64 = 5;
const CHART_WIDTH: i64 = 720;
const CHART_HEIGHT: i64 = 160;

/// One bar of the chart, in SVG user units.
struct Bar {
    x: i64,
    y: i64,
    height: i64,
    class: &'static str,
    label: String,
}

/// An account many failed sign-ins were aimed at in the last day.
struct Attack {
    /// The account's email address, for those who manage users; "an account" for others.
    account: String,
    failures: i64,
    addresses: i64,
    last: String,
}

struct Row {
    date: String,
    day: Day,
}

#[derive(Template)]
#[template(path = "admin/dashboard.html")]
struct DashboardPage {
    chrome: AdminChrome,
    totals: Totals,
    bars: Vec<Bar>,
    rows: Vec<Row>,
    attacks: Vec<Attack>,
    peak: i64,
    first_date: String,
    last_date: String,
    width: i64,
    height: i64,
}

pub async fn show(State(state): State<AppState>, admin: Admin) -> Response {
    let now = Utc::now();
    let tz = state.config.time_zone;
    let offset = i64::from(now.with_timezone(&tz).offset().fix().local_minus_utc());
    let today = (now.timestamp() + offset).div_euclid(86_400);
    let (totals, days, attacks) = match tokio::try_join!(
        state.store.totals(now.timestamp()),
        state.store.activity(today, DAYS, offset),
        state.store.sign_in_attacks(now.timestamp() - 86_400, ATTACK_FAILURES)
    ) {
        Ok(found) => found,
        Err(err) => return AppError::from(err).into_response(),
    };
    let sees_accounts = admin.user.role.can(Capability::ManageUsers);
    let attacks = attacks
        .into_iter()
        .map(|a| Attack {
            account: if sees_accounts { a.email } else { "an account".to_owned() },
            failures: a.failures,
            addresses: a.addresses,
            last: DateTime::<Utc>::from_timestamp(a.last, 0)
                .map(|t| t.with_timezone(&tz).format("%-d %b %H:%M").to_string())
                .unwrap_or_default(),
        })
        .collect();
    let peak = days.iter().map(|d| d.published.max(d.comments).max(d.spam)).max().unwrap_or(0).max(1);
    let slot = CHART_WIDTH / DAYS;
    let mut bars = Vec::new();
    let date_of = |day: i64| {
        DateTime::<Utc>::from_timestamp(day * 86_400, 0).map(|d| d.format("%-d %b").to_string()).unwrap_or_default()
    };
    for (n, day) in (0i64..).zip(&days) {
        let series = [
            (day.published, "bar-published", "published"),
            (day.comments, "bar-comments", "comments"),
            (day.spam, "bar-spam", "spam"),
        ];
        for (k, (value, class, what)) in (0i64..).zip(series) {
            let height = value * CHART_HEIGHT / peak;
            bars.push(Bar {
                x: n * slot + 2 + k * 7,
                y: CHART_HEIGHT - height,
                height,
                class,
                label: format!("{}: {value} {what}", date_of(day.day)),
            });
        }
    }
    let rows = days.iter().rev().map(|&day| Row { date: date_of(day.day), day }).collect();
    let template = DashboardPage {
        chrome: AdminChrome::new(&state, &admin, "Dashboard", "dashboard").await,
        totals,
        bars,
        rows,
        attacks,
        peak,
        first_date: days.first().map(|d| date_of(d.day)).unwrap_or_default(),
        last_date: days.last().map(|d| date_of(d.day)).unwrap_or_default(),
        width: CHART_WIDTH,
        height: CHART_HEIGHT,
    };
    page(StatusCode::OK, &template)
}
