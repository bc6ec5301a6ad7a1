//! The newsroom admin: sign-in, sessions, CSRF, rate limits, one-time
//! passwords and the `user` command, against the real server.

use broadsheet::domain::role::Role;

use crate::helpers::{TestApp, hidden, location, settings_form};

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("bs_session="))
        .map(str::to_owned)
}

#[tokio::test]
async fn nothing_in_the_admin_is_reached_signed_out() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    for path in ["/admin/", "/admin/password", "/admin/anything-else"] {
        let response = browser.get(app.url(path)).send().await.expect("get");
        assert_eq!(response.status(), 303, "{path}");
        assert!(location(&response).starts_with("/admin/sign-in?next="), "{path}: {}", location(&response));
    }
    for path in ["/admin/sign-out", "/admin/password"] {
        let response = browser.post(app.url(path)).form(&[("csrf", "x")]).send().await.expect("post");
        assert_eq!(response.status(), 303, "{path}");
        assert!(location(&response).starts_with("/admin/sign-in"), "{path}");
    }
    // A made-up session token is no session.
    let forged = browser
        .get(app.url("/admin/"))
        .header("cookie", "bs_session=0000000000000000000000000000000000000000000000000000000000000000")
        .send()
        .await
        .expect("get");
    assert_eq!(forged.status(), 303);
    assert_eq!(app.get("/admin").await.status(), 308, "/admin goes to /admin/");
    app.stop().await;
}

#[tokio::test]
async fn signing_in_and_out() {
    let app = TestApp::spawn().await;
    let password = app.add_user("sam@example.org", Role::Editor).await;
    let browser = app.browser();

    let wrong = app.sign_in(&browser, "sam@example.org", "not the password").await;
    assert_eq!(wrong.status(), 200);
    let page = wrong.text().await.expect("body");
    assert!(page.contains("The email address or password is not right") && page.contains("value=\"sam@example.org\""));
    let unknown = app.sign_in(&browser, "nobody@example.org", "whatever").await;
    assert!(unknown.text().await.expect("body").contains("The email address or password is not right"));

    let response = app.sign_in(&browser, "SAM@example.org", &password).await;
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/admin/");
    let cookie = session_cookie(&response).expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/admin"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let dashboard = browser.get(app.url("/admin/")).send().await.expect("dashboard");
    assert_eq!(dashboard.status(), 200);
    assert_eq!(dashboard.headers()["cache-control"], "private, no-store");
    let html = dashboard.text().await.expect("body");
    assert!(html.contains("Sam Editor") && html.contains("Articles published") && html.contains("<svg"));
    let published = html.split("Articles published</dt><dd>").nth(1).and_then(|rest| rest.split('<').next());
    assert_eq!(published, Some("10"), "the demo's ten articles are counted");

    // Sign out: the session ends for good.
    let csrf = hidden(&html, "csrf");
    let out = browser.post(app.url("/admin/sign-out")).form(&[("csrf", csrf.as_str())]).send().await.expect("out");
    assert_eq!(out.status(), 303);
    assert_eq!(location(&out), "/admin/sign-in?signed-out=1");
    let after = browser.get(app.url("/admin/")).send().await.expect("get");
    assert_eq!(after.status(), 303);
    let stale = app
        .client
        .get(app.url("/admin/"))
        .header("cookie", cookie.split(';').next().expect("name=value"))
        .send()
        .await
        .expect("get");
    assert_eq!(stale.status(), 303, "the old cookie opens nothing");
    app.stop().await;
}

#[tokio::test]
async fn forms_without_the_csrf_token_or_from_another_site_are_refused() {
    let app = TestApp::spawn().await;
    let password = app.add_user("sam@example.org", Role::Administrator).await;
    let browser = app.browser();
    assert_eq!(app.sign_in(&browser, "sam@example.org", &password).await.status(), 303);
    let html = browser.get(app.url("/admin/password")).send().await.expect("page").text().await.expect("body");
    let csrf = hidden(&html, "csrf");
    let change = |csrf: &str| {
        [
            ("csrf", csrf.to_owned()),
            ("current", password.clone()),
            ("new", "a new long password".into()),
            ("repeat", "a new long password".into()),
        ]
    };
    for bad in ["", "not-the-token"] {
        let response = browser.post(app.url("/admin/password")).form(&change(bad)).send().await.expect("post");
        assert_eq!(response.status(), 403, "csrf {bad:?}");
        assert!(response.text().await.expect("body").contains("did not come from this site"));
    }
    let elsewhere = browser
        .post(app.url("/admin/password"))
        .header("origin", "https://evil.example")
        .form(&change(&csrf))
        .send()
        .await
        .expect("post");
    assert_eq!(elsewhere.status(), 403);
    let out = browser.post(app.url("/admin/sign-out")).send().await.expect("post");
    assert_eq!(out.status(), 403, "signing out needs the token too");
    assert_eq!(browser.get(app.url("/admin/")).send().await.expect("get").status(), 200, "still signed in");
    // The sign-in form has its own signed token.
    let forged =
        [("token", "1.abc"), ("next", "/admin/"), ("email", "sam@example.org"), ("password", password.as_str())];
    let response = app.browser().post(app.url("/admin/sign-in")).form(&forged).send().await.expect("post");
    assert_eq!(response.status(), 403);
    assert!(session_cookie(&response).is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_session_planted_before_sign_in_is_never_promoted() {
    let app = TestApp::spawn().await;
    let attacker_password = app.add_user("mallory@example.org", Role::Contributor).await;
    let victim_password = app.add_user("victim@example.org", Role::Administrator).await;
    // The attacker signs in and plants their own session token in the victim's browser.
    let attacker = app.browser();
    let planted = session_cookie(&app.sign_in(&attacker, "mallory@example.org", &attacker_password).await)
        .expect("cookie")
        .split(';')
        .next()
        .expect("name=value")
        .to_owned();
    let victim = app.browser();
    let form = victim.get(app.url("/admin/sign-in")).send().await.expect("form").text().await.expect("body");
    let token = hidden(&form, "token");
    let fields = [
        ("token", token.as_str()),
        ("next", "/admin/"),
        ("email", "victim@example.org"),
        ("password", &victim_password),
    ];
    let response =
        victim.post(app.url("/admin/sign-in")).header("cookie", &planted).form(&fields).send().await.expect("post");
    assert_eq!(response.status(), 303);
    let issued = session_cookie(&response).expect("a new cookie");
    assert!(!issued.starts_with(&planted), "a new token is issued at sign-in");
    let with_planted = app.client.get(app.url("/admin/")).header("cookie", &planted).send().await.expect("get");
    assert_eq!(with_planted.status(), 303, "the planted token was ended, and never became the victim's session");
    app.stop().await;
}

#[tokio::test]
async fn repeated_failed_sign_ins_are_slowed_down_for_the_failing_address() {
    let app = TestApp::spawn().await;
    let password = app.add_user("sam@example.org", Role::Author).await;
    let browser = app.browser();
    for _ in 0..3 {
        assert_eq!(app.sign_in(&browser, "sam@example.org", "guess").await.status(), 200);
    }
    let limited = app.sign_in(&browser, "sam@example.org", &password).await;
    assert_eq!(limited.status(), 429, "from the failing address even the right password waits");
    let wait = limited.headers().get("retry-after").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<i64>().ok());
    assert!(wait.is_some_and(|s| (1..=5).contains(&s)), "a short first delay, not a lockout: {wait:?}");
    assert!(limited.text().await.expect("body").contains("Too many failed sign-ins from your address"));
    // Another account from the same address is not held up by one account's failures.
    let other = app.add_user("ana@example.org", Role::Author).await;
    assert_eq!(app.sign_in(&app.browser(), "ana@example.org", &other).await.status(), 303);
    // And the account itself is not locked: its owner signs in from elsewhere.
    assert_eq!(app.sign_in(&app.browser_from([127, 0, 0, 2]), "sam@example.org", &password).await.status(), 303);
    app.stop().await;
}

#[tokio::test]
async fn the_right_password_from_a_clean_address_signs_in_while_an_attacker_hammers_the_account() {
    let app = TestApp::spawn().await;
    let password = app.add_user("editor@example.org", Role::Editor).await;
    // Attackers on five addresses guess, all at once, until each is held off.
    let mut attacks = Vec::new();
    for host in 10..15u8 {
        let attacker = app.browser_from([127, 0, 0, host]);
        let url = app.url("/admin/sign-in");
        attacks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            for n in 0..8 {
                let form = attacker.get(&url).send().await.expect("form").text().await.expect("body");
                let token = hidden(&form, "token");
                let guess = format!("guess number {n}");
                let fields = [
                    ("token", token.as_str()),
                    ("next", "/admin/"),
                    ("email", "editor@example.org"),
                    ("password", &guess),
                ];
                statuses.push(attacker.post(&url).form(&fields).send().await.expect("post").status().as_u16());
            }
            statuses
        }));
    }
    let mut failed = 0;
    for attack in attacks {
        let statuses = attack.await.expect("attacker");
        // Three free guesses, then the address waits. (The delay runs out after
        // 5 s, so on a slow machine a later guess may get through; at most a few.)
        assert_eq!(&statuses[..4], &[200, 200, 200, 429], "three free guesses per address, then each waits");
        assert!(statuses.iter().all(|s| *s == 200 || *s == 429), "{statuses:?}");
        failed += statuses.iter().filter(|s| **s == 200).count();
    }
    assert!(failed < 20, "{failed} guesses got through");
    // The editor, on an address that has not been failing, signs in.
    let editor = app.browser_from([127, 0, 0, 2]);
    let signed_in = app.sign_in(&editor, "editor@example.org", &password).await;
    assert_eq!(signed_in.status(), 303, "the account under attack is not locked");
    // The dashboard names the attack.
    let dashboard = editor.get(app.url("/admin/")).send().await.expect("get").text().await.expect("body");
    assert!(dashboard.contains("Sign-in attacks in the last 24 hours"), "{dashboard}");
    assert!(dashboard.contains(&format!("{failed} failed sign-ins from 5 addresses")), "{dashboard}");
    // An attacker that has just failed again is held off, even with the right password.
    let attacker = app.browser_from([127, 0, 0, 10]);
    loop {
        match app.sign_in(&attacker, "editor@example.org", "one more guess").await.status().as_u16() {
            200 => break,
            429 => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
            other => panic!("the attacker got {other}"),
        }
    }
    assert_eq!(app.sign_in(&attacker, "editor@example.org", &password).await.status(), 429);
    app.stop().await;
}

#[tokio::test]
async fn one_time_passwords_must_be_changed_and_the_user_command_manages_accounts() {
    let app = TestApp::spawn().await;
    let added = app.cli(&["user", "add", "new@example.org", "--name", "Nina New", "--role", "contributor"]);
    assert!(added.status.success(), "{}", String::from_utf8_lossy(&added.stderr));
    let one_time = String::from_utf8_lossy(&added.stdout).trim().to_owned();
    assert_eq!(one_time.len(), 20);
    let duplicate = app.cli(&["user", "add", "NEW@example.org", "--name", "Again"]);
    assert!(!duplicate.status.success() && String::from_utf8_lossy(&duplicate.stderr).contains("already a user"));
    let bad = app.cli(&["user", "add", "not-an-email", "--name", "X"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("not an email address"));
    let bad_role = app.cli(&["user", "add", "x@example.org", "--name", "X", "--role", "overlord"]);
    assert!(!bad_role.status.success() && String::from_utf8_lossy(&bad_role.stderr).contains("is not administrator"));

    let browser = app.browser();
    let response = app.sign_in(&browser, "new@example.org", &one_time).await;
    assert_eq!(location(&response), "/admin/password", "a one-time password must be changed first");
    let elsewhere = browser.get(app.url("/admin/")).send().await.expect("get");
    assert_eq!(location(&elsewhere), "/admin/password");
    let html = browser.get(app.url("/admin/password")).send().await.expect("get").text().await.expect("body");
    assert!(html.contains("one-time password"));
    let csrf = hidden(&html, "csrf");
    let send = |current: &str, new: &str, repeat: &str| {
        let form =
            [("csrf", csrf.clone()), ("current", current.into()), ("new", new.into()), ("repeat", repeat.into())];
        browser.post(app.url("/admin/password")).form(&form).send()
    };
    for (current, new, repeat, message) in [
        (one_time.as_str(), "short", "short", "at least 12 characters"),
        (one_time.as_str(), "a long new password", "a different one!!", "not the same"),
        ("wrong current password", "a long new password", "a long new password", "current password is not right"),
    ] {
        let response = send(current, new, repeat).await.expect("post");
        assert_eq!(response.status(), 422, "{message}");
        assert!(response.text().await.expect("body").contains(message), "{message}");
    }
    let done = send(&one_time, "a long new password", "a long new password").await.expect("post");
    assert_eq!(done.status(), 200);
    assert!(done.text().await.expect("body").contains("Your password has been changed"));
    assert_eq!(browser.get(app.url("/admin/")).send().await.expect("get").status(), 200);

    let listed = String::from_utf8_lossy(&app.cli(&["user", "list"]).stdout).to_string();
    assert!(listed.contains("contributor") && listed.contains("Nina New") && listed.contains("admin@localhost"));
    let promoted = app.cli(&["user", "role", "new@example.org", "editor"]);
    assert!(String::from_utf8_lossy(&promoted.stdout).contains("is now editor"));
    let last_admin = app.cli(&["user", "role", "admin@localhost", "editor"]);
    assert!(!last_admin.status.success());
    assert!(String::from_utf8_lossy(&last_admin.stderr).contains("at least one administrator"));

    // A reset gives a new one-time password and ends the account's sessions.
    let reset = app.cli(&["user", "reset-password", "new@example.org"]);
    assert!(reset.status.success());
    assert_eq!(browser.get(app.url("/admin/")).send().await.expect("get").status(), 303, "signed out by the reset");
    let fresh = String::from_utf8_lossy(&reset.stdout).trim().to_owned();
    assert_eq!(location(&app.sign_in(&app.browser(), "new@example.org", &fresh).await), "/admin/password");
    let missing = app.cli(&["user", "reset-password", "ghost@example.org"]);
    assert!(!missing.status.success() && String::from_utf8_lossy(&missing.stderr).contains("no user"));
    app.stop().await;
}

#[tokio::test]
async fn editors_moderate_from_the_queue_and_others_may_not() {
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    app.clear_discussion().await;
    let front = app.page("/").await;
    let article = crate::helpers::link_to(&front, "harbour-night-ferry-trial");
    let reader = app.browser();
    for (text, name) in
        [("I saw the ferry last night.", "Ana"), ("The timetable is better now.", "Ben"), ("Me too.", "Cy")]
    {
        let email = format!("{}@example.org", name.to_lowercase());
        let response = app.comment(&reader, &article, &crate::helpers::fields(text, name, &email)).await;
        assert_eq!(response.status(), 303);
    }
    let held = app.store.list_comments(None, 10).await.expect("list");
    assert!(held.iter().all(|c| c.status == "pending"), "first-time commenters are held");

    // An author may not moderate.
    let author_password = app.add_user("author@example.org", Role::Author).await;
    let author = app.browser();
    assert_eq!(app.sign_in(&author, "author@example.org", &author_password).await.status(), 303);
    let dashboard = author.get(app.url("/admin/")).send().await.expect("get").text().await.expect("body");
    assert!(!dashboard.contains("href=\"/admin/comments\""), "no Comments link for an author");
    assert_eq!(author.get(app.url("/admin/comments")).send().await.expect("get").status(), 403);
    let csrf = hidden(&dashboard, "csrf");
    let one = format!("approve:{}", held[0].id);
    let form = [("csrf", csrf.as_str()), ("status", "pending"), ("one", one.as_str())];
    assert_eq!(author.post(app.url("/admin/comments")).form(&form).send().await.expect("post").status(), 403);
    assert_eq!(app.store.comment(held[0].id).await.expect("stored").status, "pending");

    // An editor sees the queue, with the filter's reasons, and moderates.
    let password = app.add_user("editor@example.org", Role::Editor).await;
    let editor = app.browser();
    assert_eq!(app.sign_in(&editor, "editor@example.org", &password).await.status(), 303);
    let queue = editor.get(app.url("/admin/comments")).send().await.expect("get").text().await.expect("body");
    assert!(queue.contains("Pending <span class=\"count\">(3)</span>"));
    assert!(queue.contains("I saw the ferry last night.") && queue.contains("ana@example.org"));
    assert!(queue.contains("spam likelihood") && queue.contains("first"), "the reasons are shown");
    let csrf = hidden(&queue, "csrf");
    let ana = held.iter().find(|c| c.author_name == "Ana").expect("Ana's").id;
    let one = format!("approve:{ana}");
    let approve = [("csrf", csrf.as_str()), ("status", "pending"), ("one", one.as_str())];
    let response = editor.post(app.url("/admin/comments")).form(&approve).send().await.expect("post");
    assert_eq!(response.status(), 303);
    assert_eq!(location(&response), "/admin/comments?status=pending&done=1&action=approve");
    assert!(app.page(&article).await.contains("I saw the ferry last night."), "published at once");

    // Bulk: the other two to spam; the filter learns from each.
    let others: Vec<String> = held.iter().filter(|c| c.id != ana).map(|c| c.id.to_string()).collect();
    let mut bulk = vec![("csrf", csrf.as_str()), ("status", "pending"), ("action", "spam")];
    bulk.extend(others.iter().map(|id| ("ids", id.as_str())));
    let response = editor.post(app.url("/admin/comments")).form(&bulk).send().await.expect("post");
    assert_eq!(location(&response), "/admin/comments?status=pending&done=2&action=spam");
    let notice = editor.get(app.url(&location(&response))).send().await.expect("get").text().await.expect("body");
    assert!(notice.contains("2 comments marked as spam") && notice.contains("No comments here."));
    assert_eq!(app.store.lessons_after(0).await.expect("lessons").len(), 2);
    let spam =
        editor.get(app.url("/admin/comments?status=spam")).send().await.expect("get").text().await.expect("body");
    assert!(spam.contains("Me too.") && spam.contains("Delete for good"));

    // Nothing chosen, or no action: a clear message, nothing changed.
    let empty = [("csrf", csrf.as_str()), ("status", "spam"), ("action", "delete")];
    let response = editor.post(app.url("/admin/comments")).form(&empty).send().await.expect("post");
    assert_eq!(response.status(), 422);
    let no_action = [("csrf", csrf.as_str()), ("status", "spam"), ("action", ""), ("ids", others[0].as_str())];
    let response = editor.post(app.url("/admin/comments")).form(&no_action).send().await.expect("post");
    assert_eq!(response.status(), 422);
    assert!(response.text().await.expect("body").contains("Choose what to do"));
    // Without the CSRF token: refused.
    let forged = [("status", "spam"), ("action", "delete"), ("ids", others[0].as_str())];
    assert_eq!(editor.post(app.url("/admin/comments")).form(&forged).send().await.expect("post").status(), 403);
    assert_eq!(app.store.list_comments(None, 10).await.expect("list").len(), 3, "nothing deleted");
    app.stop().await;
}

#[tokio::test]
async fn administrators_change_the_discussion_settings_and_no_one_else_does() {
    let app = TestApp::spawn().await;
    let editor_password = app.add_user("ed@example.org", Role::Editor).await;
    let editor = app.browser();
    assert_eq!(app.sign_in(&editor, "ed@example.org", &editor_password).await.status(), 303);
    assert_eq!(editor.get(app.url("/admin/settings")).send().await.expect("get").status(), 403);
    let dashboard = editor.get(app.url("/admin/")).send().await.expect("get").text().await.expect("body");
    assert!(!dashboard.contains("href=\"/admin/settings\""));
    let csrf = hidden(&dashboard, "csrf");
    let attempt = [("csrf", csrf.as_str()), ("max_links", "9")];
    assert_eq!(editor.post(app.url("/admin/settings")).form(&attempt).send().await.expect("post").status(), 403);

    let password = app.add_user("admin2@example.org", Role::Administrator).await;
    let admin = app.browser();
    assert_eq!(app.sign_in(&admin, "admin2@example.org", &password).await.status(), 303);
    let page = admin.get(app.url("/admin/settings")).send().await.expect("get").text().await.expect("body");
    assert!(page.contains("Hold comments from first-time commenters") && page.contains("Europe/Madrid"));
    let csrf = hidden(&page, "csrf");
    let mut form = vec![
        ("csrf", csrf.as_str()),
        ("site_name", ""),
        ("tagline", "News from the harbour, every day"),
        ("max_links", "abc"),
        ("hold_words", "casino\nlottery"),
        ("block_words", ""),
        ("close_after_days", "0"),
        ("thread_depth", "99"),
        ("per_page", "50"),
        ("flood_seconds", "0"),
        ("min_seconds_to_submit", "0"),
        ("ip_retention_days", "30"),
        ("feed_summary", "1"),
    ];
    let full_text = app.page("/feed/").await;
    assert!(full_text.contains("<content:encoded>"), "feeds carry the full text by default");
    let refused = admin.post(app.url("/admin/settings")).form(&form).send().await.expect("post");
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.expect("body");
    assert!(page.contains("A whole number from 0 to 1000.") && page.contains("A whole number from 1 to 10."));
    assert!(page.contains("The site&#39;s name is 1 to 100 characters.") || page.contains("The site&#x27;s name is 1"));
    assert!(page.contains("casino\nlottery"), "what was typed is kept");
    assert_eq!(app.store.discussion_settings().await.expect("settings").max_links, 2, "nothing saved");

    form[1].1 = "The Alden Courier";
    form[3].1 = "3";
    form[7].1 = "4";
    let saved = admin.post(app.url("/admin/settings")).form(&form).send().await.expect("post");
    assert_eq!(location(&saved), "/admin/settings?saved=1");
    let settings = app.store.discussion_settings().await.expect("settings");
    assert_eq!((settings.max_links, settings.thread_depth, settings.ip_retention_days), (3, 4, 30));
    assert!(!settings.hold_first_time, "an unticked box is off");
    assert_eq!(settings.hold_words, ["casino", "lottery"]);
    let front = app.page("/").await;
    assert!(
        front.contains("The Alden Courier") && front.contains("News from the harbour, every day"),
        "renamed at once"
    );
    let summaries = app.page("/feed/").await;
    let item = &summaries[summaries.find("<item>").expect("an item")..];
    assert!(!item.contains("<content:encoded>") && item.contains("<description>"), "summaries only");

    // In effect at once: a first-time commenter is no longer held.
    let article = crate::helpers::link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let reader = app.browser();
    let response =
        app.comment(&reader, &article, &crate::helpers::fields("Welcome news.", "Ana", "ana@example.org")).await;
    assert_eq!(response.status(), 303);
    assert!(app.page(&article).await.contains("Welcome news."));
    app.stop().await;
}

#[tokio::test]
async fn staff_reply_from_the_queue_approves_and_answers() {
    let app = TestApp::spawn().await;
    app.relax_timing().await;
    let article = crate::helpers::link_to(&app.page("/").await, "harbour-night-ferry-trial");
    let reader = app.browser();
    let question_fields = crate::helpers::fields("When does the trial end?", "Ana", "ana@example.org");
    assert_eq!(app.comment(&reader, &article, &question_fields).await.status(), 303);
    let question = app.store.list_comments(None, 1).await.expect("list")[0].id;

    let password = app.add_user("ed@example.org", Role::Editor).await;
    let editor = app.browser();
    assert_eq!(app.sign_in(&editor, "ed@example.org", &password).await.status(), 303);
    let queue = editor.get(app.url("/admin/comments")).send().await.expect("get").text().await.expect("body");
    assert!(queue.contains("Approve and reply"));
    let csrf = hidden(&queue, "csrf");
    let one = format!("reply:{question}");
    let field = format!("reply-{question}");
    let empty = [("csrf", csrf.as_str()), ("status", "pending"), ("one", one.as_str()), (field.as_str(), "  ")];
    assert_eq!(editor.post(app.url("/admin/comments")).form(&empty).send().await.expect("post").status(), 422);
    let answer = "It runs for six months, until May.";
    let form = [("csrf", csrf.as_str()), ("status", "pending"), ("one", one.as_str()), (field.as_str(), answer)];
    let response = editor.post(app.url("/admin/comments")).form(&form).send().await.expect("post");
    assert_eq!(location(&response), format!("/admin/comments?status=pending&replied={question}"));
    let page = app.page(&article).await;
    assert!(page.contains("When does the trial end?"), "the question is approved");
    assert!(page.contains(answer) && page.contains("Staff"), "the answer is published as staff");
    assert!(!page.contains("ed@example.org"), "the staff member's email stays private");
    let stored = app.store.list_comments(None, 1).await.expect("list").remove(0);
    assert_eq!(stored.parent_id, Some(question));
    app.stop().await;
}

#[tokio::test]
async fn every_admin_page_checks_the_role_on_the_server() {
    let app = TestApp::spawn().await;
    let demo = app.store.article_by_slug(broadsheet::domain::article::Kind::Article, "harbour-night-ferry-trial").await;
    let demo = demo.expect("demo article").id;
    let (edit, revisions) = (format!("/admin/articles/{demo}"), format!("/admin/articles/{demo}/revisions"));
    // (path, administrator, editor, author, contributor): 200 allowed, 403 refused.
    let table: Vec<(&str, [u16; 4])> = vec![
        ("/admin/", [200, 200, 200, 200]),
        ("/admin/password", [200, 200, 200, 200]),
        ("/admin/articles", [200, 200, 200, 200]),
        ("/admin/articles/new", [200, 200, 200, 200]),
        ("/admin/articles/new?kind=page", [200, 200, 403, 403]),
        (&edit, [200, 200, 403, 403]),
        (&revisions, [200, 200, 403, 403]),
        ("/admin/media", [200, 200, 200, 200]),
        ("/admin/comments", [200, 200, 403, 403]),
        ("/admin/settings", [200, 403, 403, 403]),
        ("/admin/categories", [200, 200, 403, 403]),
        ("/admin/users", [200, 403, 403, 403]),
        ("/admin/api-keys", [200, 403, 403, 403]),
        ("/admin/no-such-page", [404, 404, 404, 404]),
    ];
    let mut browsers = Vec::new();
    for (n, role) in [Role::Administrator, Role::Editor, Role::Author, Role::Contributor].into_iter().enumerate() {
        let email = format!("user{n}@example.org");
        let password = app.add_user(&email, role).await;
        let browser = app.browser();
        assert_eq!(app.sign_in(&browser, &email, &password).await.status(), 303);
        browsers.push((role, browser));
    }
    let anonymous = app.browser();
    for (path, expected) in &table {
        for ((role, browser), status) in browsers.iter().zip(expected) {
            let got = browser.get(app.url(path)).send().await.expect("get").status().as_u16();
            assert_eq!(got, *status, "{role} GET {path}");
        }
        let got = anonymous.get(app.url(path)).send().await.expect("get");
        assert_eq!(got.status(), 303, "signed out GET {path}");
        assert!(location(&got).starts_with("/admin/sign-in"), "signed out GET {path}");
    }
    app.stop().await;
}

#[tokio::test]
async fn editors_manage_categories_and_tags() {
    let app = TestApp::spawn().await;
    let author_password = app.add_user("au@example.org", Role::Author).await;
    let author = app.browser();
    assert_eq!(app.sign_in(&author, "au@example.org", &author_password).await.status(), 303);
    assert_eq!(author.get(app.url("/admin/categories")).send().await.expect("get").status(), 403);

    let password = app.add_user("ed@example.org", Role::Editor).await;
    let editor = app.browser();
    assert_eq!(app.sign_in(&editor, "ed@example.org", &password).await.status(), 303);
    let page = editor.get(app.url("/admin/categories")).send().await.expect("get").text().await.expect("body");
    assert!(page.contains("/category/news/") && page.contains("/tag/harbour/"));
    let csrf = hidden(&page, "csrf");
    let news = app.store.categories().await.expect("categories").into_iter().find(|c| c.slug == "news").expect("News");
    let news_id = news.id.to_string();
    let send = |fields: Vec<(&'static str, String)>| editor.post(app.url("/admin/categories")).form(&fields).send();

    // Add a subcategory; a second one of the same name in the same place is refused.
    let add =
        || vec![("csrf", csrf.clone()), ("do", "add".into()), ("name", "Maritime".into()), ("parent", news_id.clone())];
    let added = send(add()).await.expect("post");
    assert_eq!(location(&added), "/admin/categories?done=added");
    let categories = app.store.categories().await.expect("categories");
    let maritime = categories.iter().find(|c| c.name == "Maritime").expect("added");
    assert_eq!(maritime.parent_id, Some(news.id));
    let again = send(add()).await.expect("post");
    assert_eq!(again.status(), 422);
    assert!(again.text().await.expect("body").contains("already a category called"));
    let empty = send(vec![("csrf", csrf.clone()), ("do", "add".into()), ("name", "  ".into())]).await.expect("post");
    assert_eq!(empty.status(), 422);

    // Rename a tag: the archive shows the new name at the same address.
    let tags = app.store.tags_with_counts().await.expect("tags");
    let harbour = tags.iter().find(|t| t.slug == "harbour").expect("harbour tag");
    assert!(app.page("/tag/harbour/").await.contains("harbour"));
    let rename = vec![
        ("csrf", csrf.clone()),
        ("do", format!("rename-tag:{}", harbour.id)),
        ("rename", "Harbour Zephyrs".into()),
    ];
    assert_eq!(location(&send(rename).await.expect("post")), "/admin/categories?done=renamed");
    assert!(app.page("/tag/harbour/").await.contains("Harbour Zephyrs"), "the cached archive was refreshed");
    // Search finds its articles by the new name.
    let ferry = "night-time ferry trial";
    assert!(crate::search::search(&app, "zephyrs").await.contains(ferry), "found by the tag's new name");

    // Delete it: its archive is gone, the articles stay, no longer found by it.
    let delete = vec![("csrf", csrf.clone()), ("do", format!("delete-tag:{}", harbour.id))];
    assert_eq!(location(&send(delete).await.expect("post")), "/admin/categories?done=deleted");
    assert_eq!(app.get("/tag/harbour/").await.status(), 404);
    let none = crate::search::search(&app, "zephyrs").await;
    assert!(none.contains("No articles match “zephyrs”"), "not found by a deleted tag");
    assert!(app.page("/").await.contains("night-time ferry trial"));
    // Without the CSRF token: refused.
    let forged = vec![("do", format!("delete-category:{}", news.id))];
    assert_eq!(send(forged).await.expect("post").status(), 403);
    assert!(app.store.categories().await.expect("categories").iter().any(|c| c.slug == "news"));
    app.stop().await;
}

#[tokio::test]
async fn every_admin_form_checks_the_role_on_the_server() {
    let app = TestApp::spawn().await;
    let demo = app.store.article_by_slug(broadsheet::domain::article::Kind::Article, "harbour-night-ferry-trial").await;
    let demo = demo.expect("demo article").id;
    let edit_demo = format!("/admin/articles/{demo}");
    let mut users = Vec::new();
    for (n, role) in [Role::Administrator, Role::Editor, Role::Author, Role::Contributor].into_iter().enumerate() {
        users.push((role, app.signed_in(&format!("user{n}@example.org"), role).await));
    }
    // (path, form without the token, allowed for administrator, editor, author, contributor)
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, [bool; 4]);
    let table: Vec<Case> = vec![
        ("/admin/articles/new", vec![("headline", "A"), ("body", "B"), ("intent", "draft")], [true, true, true, true]),
        (
            "/admin/articles/new",
            vec![("headline", "A2"), ("body", "B"), ("intent", "publish")],
            [true, true, true, false],
        ),
        (
            "/admin/articles/new?kind=page",
            vec![("headline", "P"), ("body", "B"), ("intent", "draft")],
            [true, true, false, false],
        ),
        (
            &edit_demo,
            vec![("version", "1"), ("headline", "H"), ("body", "B"), ("intent", "draft")],
            [true, true, false, false],
        ),
        (
            "/admin/comments",
            vec![("status", "pending"), ("action", "approve"), ("ids", "1")],
            [true, true, false, false],
        ),
        ("/admin/categories", vec![("do", "add"), ("name", "Weather")], [true, true, false, false]),
        ("/admin/settings", vec![("site_name", "Gazette"), ("max_links", "2")], [true, false, false, false]),
        ("/admin/preview", vec![("body", "x")], [true, true, true, true]),
    ];
    for (path, form, allowed) in &table {
        for ((role, (browser, csrf)), allowed) in users.iter().zip(allowed) {
            let mut fields = vec![("csrf", csrf.as_str())];
            fields.extend(form.iter().copied());
            let status = browser.post(app.url(path)).form(&fields).send().await.expect("post").status().as_u16();
            if *allowed {
                assert_ne!(status, 403, "{role} POST {path} {form:?} is allowed");
                assert!(status < 500, "{role} POST {path}: {status}");
            } else {
                assert_eq!(status, 403, "{role} POST {path} {form:?} is refused");
            }
        }
    }
    // The media upload (multipart) likewise: contributors may not.
    for ((role, (browser, csrf)), allowed) in users.iter().zip([true, true, true, false]) {
        let form = reqwest::multipart::Form::new().text("csrf", csrf.clone()).text("alt", "x");
        let status = browser.post(app.url("/admin/media")).multipart(form).send().await.expect("post").status();
        assert_eq!(status == 403, !allowed, "{role} POST /admin/media: {status}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_sign_in_form_with_missing_fields_says_so() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let page = browser.get(app.url("/admin/sign-in")).send().await.expect("get").text().await.expect("body");
    let token = hidden(&page, "token");
    for fields in [
        vec![("token", token.as_str()), ("email", "sam@example.org")],
        vec![("token", token.as_str()), ("password", "x")],
    ] {
        let response = browser.post(app.url("/admin/sign-in")).form(&fields).send().await.expect("post");
        assert_eq!(response.status(), 422);
        assert!(response.text().await.expect("body").contains("Please give your email address and your password."));
    }
    let garbage = browser
        .post(app.url("/admin/sign-in"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("%%%")
        .send();
    assert!(garbage.await.expect("post").status().is_client_error());
    app.stop().await;
}

#[tokio::test]
async fn the_time_zone_and_address_are_set_in_the_admin_unless_the_configuration_fixes_them() {
    let app = TestApp::spawn_configured(broadsheet::app::StartOptions { demo: false }, |config| {
        config.pinned = broadsheet::config::Pinned::default();
    })
    .await;
    let (admin, csrf) = app.signed_in("root@example.org", Role::Administrator).await;
    let page = admin.get(app.url("/admin/settings")).send().await.expect("get").text().await.expect("body");
    assert!(page.contains("name=\"time_zone\"") && page.contains("value=\"Europe/Madrid\""));
    let with = |time_zone: &'static str, base_url: &'static str| {
        let mut form = settings_form(&csrf, "Courier");
        form.extend([("time_zone", time_zone), ("base_url", base_url)]);
        form
    };
    let form = with("Mars/Olympus", "ftp://courier");
    let refused = admin.post(app.url("/admin/settings")).form(&form).send().await.expect("post");
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.expect("body");
    assert!(page.contains("Unknown time zone") && page.contains("must start with http"), "both explained");
    assert!(page.contains("Mars/Olympus"), "what was typed is kept");
    let form = with("Asia/Tokyo", "https://courier.example.org/");
    let saved = admin.post(app.url("/admin/settings")).form(&form).send().await.expect("post");
    assert_eq!(location(&saved), "/admin/settings?saved=restart");
    let notice = admin.get(app.url("/admin/settings?saved=restart")).send().await.expect("get").text().await;
    assert!(notice.expect("body").contains("takes effect when the server restarts"));

    // The next start (of the server or of any command) takes them.
    let mut config = app.config.clone();
    config.pinned = broadsheet::config::Pinned::default();
    let store = broadsheet::setup::open_store(&mut config).await.expect("store");
    assert_eq!(config.time_zone, chrono_tz::Asia::Tokyo);
    assert_eq!(config.base_url, "https://courier.example.org");
    store.close().await;
    // Fixed by the configuration, they stay.
    let mut pinned = app.config.clone();
    pinned.pinned = broadsheet::config::Pinned { time_zone: true, base_url: true };
    broadsheet::setup::open_store(&mut pinned).await.expect("store").close().await;
    assert_eq!(pinned.time_zone, chrono_tz::Europe::Madrid);
    app.stop().await;
}

#[tokio::test]
async fn administrators_manage_users_in_the_admin() {
    let app = TestApp::spawn().await;
    let (editor, editor_csrf) = app.signed_in("ed@example.org", Role::Editor).await;
    assert_eq!(editor.get(app.url("/admin/users")).send().await.expect("get").status(), 403);
    let attempt = [
        ("csrf", editor_csrf.as_str()),
        ("do", "add"),
        ("email", "x@example.org"),
        ("name", "X"),
        ("role", "administrator"),
    ];
    assert_eq!(editor.post(app.url("/admin/users")).form(&attempt).send().await.expect("post").status(), 403);

    let (admin, csrf) = app.signed_in("root@example.org", Role::Administrator).await;
    let page = admin.get(app.url("/admin/users")).send().await.expect("get").text().await.expect("body");
    assert!(page.contains("admin@localhost") && page.contains("ed@example.org"));
    // Add: the one-time password is shown once, and works.
    let add = [
        ("csrf", csrf.as_str()),
        ("do", "add"),
        ("email", "nina@example.org"),
        ("name", "Nina New"),
        ("role", "author"),
    ];
    let added = admin.post(app.url("/admin/users")).form(&add).send().await.expect("post");
    assert_eq!(added.status(), 200);
    let page = added.text().await.expect("body");
    let start = page.find("<code class=\"one-time\">").expect("the password") + "<code class=\"one-time\">".len();
    let one_time = page[start..start + 20].to_owned();
    assert_eq!(
        crate::helpers::location(&app.sign_in(&app.browser(), "nina@example.org", &one_time).await),
        "/admin/password"
    );
    let again = admin.post(app.url("/admin/users")).form(&add).send().await.expect("post");
    assert_eq!(again.status(), 422);
    assert!(again.text().await.expect("body").contains("already a user"));
    let bad =
        [("csrf", csrf.as_str()), ("do", "add"), ("email", "not-an-email"), ("name", "Kept Name"), ("role", "author")];
    let refused = admin.post(app.url("/admin/users")).form(&bad).send().await.expect("post");
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.expect("body").contains("Kept Name"), "what was typed is kept");

    // Change a role; the last administrator keeps theirs.
    let nina = app.store.find_user("nina@example.org").await.expect("nina");
    let (role_action, role_field) = (format!("role:{}", nina.id), format!("role-{}", nina.id));
    let promote = [("csrf", csrf.as_str()), ("do", role_action.as_str()), (role_field.as_str(), "editor")];
    let changed = admin.post(app.url("/admin/users")).form(&promote).send().await.expect("post");
    assert_eq!(location(&changed), "/admin/users?done=role");
    assert_eq!(app.store.find_user("nina@example.org").await.expect("nina").role, Role::Editor);
    let first = app.store.find_user("admin@localhost").await.expect("first administrator");
    let root = app.store.find_user("root@example.org").await.expect("root");
    for admin_id in [first.id, root.id] {
        let (action, field) = (format!("role:{admin_id}"), format!("role-{admin_id}"));
        let demote = [("csrf", csrf.as_str()), ("do", action.as_str()), (field.as_str(), "author")];
        let response = admin.post(app.url("/admin/users")).form(&demote).send().await.expect("post");
        if admin_id == first.id {
            assert_eq!(response.status(), 303, "two administrators: one may go");
        } else {
            assert_eq!(response.status(), 422, "the last administrator stays");
            assert!(response.text().await.expect("body").contains("at least one administrator"));
        }
    }

    // A new one-time password ends the account's sessions.
    let nina_browser = app.browser();
    let new_pw = app.sign_in(&nina_browser, "nina@example.org", &one_time).await;
    assert_eq!(location(&new_pw), "/admin/password");
    let reset_action = format!("reset:{}", nina.id);
    let reset = [("csrf", csrf.as_str()), ("do", reset_action.as_str())];
    let response = admin.post(app.url("/admin/users")).form(&reset).send().await.expect("post");
    assert!(response.text().await.expect("body").contains("new one-time password"));
    assert_eq!(nina_browser.get(app.url("/admin/password")).send().await.expect("get").status(), 303, "signed out");
    let own = format!("reset:{}", root.id);
    let response =
        admin.post(app.url("/admin/users")).form(&[("csrf", csrf.as_str()), ("do", own.as_str())]).send().await;
    assert_eq!(response.expect("post").status(), 422, "one's own password is changed on the password page");
    app.stop().await;
}
