//! The real binary: `serve` with no configuration creates its database, an
//! administrator and the demo site, serves them, and stops cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Lines};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `broadsheet serve` and what it printed before "serving".
struct Served {
    child: Child,
    addr: String,
    printed: String,
    lines: Lines<BufReader<ChildStdout>>,
}

fn serve(dir: &Path) -> Served {
    let mut child = Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .args(["--addr", "127.0.0.1:0", "--log-format", "json", "serve"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("broadsheet starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let started = Instant::now();
    let mut printed = Vec::new();
    loop {
        let line = match lines.next() {
            Some(Ok(line)) if started.elapsed() < Duration::from_secs(30) => line,
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no 'serving' line: {printed:#?}");
            }
        };
        if line.contains("\"message\":\"serving\"") {
            let start = line.find("\"addr\":\"").expect("addr field") + 8;
            let addr = line[start..start + line[start..].find('"').expect("end")].to_owned();
            return Served { child, addr, printed: printed.join("\n"), lines };
        }
        printed.push(line);
    }
}

/// Sends SIGTERM and checks the server drains and exits cleanly; returns
/// the lines it printed since.
fn stop(mut served: Served) -> Vec<String> {
    let kill = Command::new("kill").args(["-TERM", &served.child.id().to_string()]).status().expect("kill");
    assert!(kill.success());
    let status = served.child.wait().expect("exits");
    assert!(status.success(), "clean exit on SIGTERM: {status}");
    let rest: Vec<String> = served.lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l.contains("\"message\":\"stopped\"")), "{rest:#?}");
    rest
}

#[tokio::test]
async fn serve_needs_no_configuration_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = serve(dir.path());
    assert!(first.printed.contains("email:      admin@localhost"), "{}", first.printed);
    assert!(first.printed.contains("password:"), "the one-time password is printed");
    assert!(dir.path().join("data/broadsheet.db").exists(), "./data/broadsheet.db is created");

    let client = reqwest::Client::new();
    let health = client.get(format!("http://{}/healthz", first.addr)).send().await.expect("healthz");
    assert_eq!(health.status(), 200);
    let front = client.get(format!("http://{}/", first.addr)).send().await.expect("front");
    assert!(front.text().await.expect("body").contains("Harbour board approves a night-time ferry trial"));
    let _ = stop(first);

    // A second start keeps the site and prints no password again.
    let mut second = serve(dir.path());
    assert!(!second.printed.contains("password:"), "{}", second.printed);
    // It renders what a crowd reads first before anyone asks: the front page,
    // the sections, the feed and the newest articles.
    let warmed = std::iter::once(second.printed.clone())
        .chain(second.lines.by_ref().map_while(Result::ok))
        .flat_map(|text| text.lines().map(str::to_owned).collect::<Vec<_>>())
        .find(|line| line.contains("\"message\":\"page cache warmed\""))
        .expect("the page cache is warmed");
    let pages: u32 =
        warmed.split("\"pages\":").nth(1).and_then(|r| r.split([',', '}']).next()?.parse().ok()).expect("count");
    assert!(pages >= 8, "front page, sections, feed and articles: {warmed}");
    let front = client.get(format!("http://{}/", second.addr)).send().await.expect("front");
    assert_eq!(front.text().await.expect("body").matches("Harbour board approves a night-time ferry trial").count(), 1);
    // Each request is logged, in the format asked for; the front page came
    // from the cache.
    let rest = stop(second);
    let logged: serde_json::Value = rest
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["fields"]["message"] == "request")
        .expect("a request line");
    assert_eq!(logged["fields"]["http.method"], "GET", "{logged}");
    assert_eq!(logged["fields"]["http.path"], "/", "{logged}");
    assert_eq!(logged["fields"]["http.status"], 200, "{logged}");
    assert!(logged["fields"]["latency_us"].is_u64(), "{logged}");
    assert_eq!(logged["level"], "INFO", "{logged}");
    assert_eq!(logged["target"], "broadsheet::web::logging", "{logged}");
}

#[test]
fn a_missing_or_damaged_spam_model_stops_the_start_with_a_clear_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let damaged = dir.path().join("damaged.bin");
    let mut bytes = broadsheet::spam::SHIPPED_MODEL.to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&damaged, &bytes).expect("write");
    let truncated = dir.path().join("truncated.bin");
    std::fs::write(&truncated, &broadsheet::spam::SHIPPED_MODEL[..1000]).expect("write");
    for (model, expected) in [
        ("missing.bin", "cannot read the spam model"),
        ("damaged.bin", "is unusable"),
        ("truncated.bin", "is unusable"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_broadsheet"))
            .args(["--addr", "127.0.0.1:0", "--spam-model", model, "serve"])
            .current_dir(dir.path())
            .output()
            .expect("runs");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{model}: the server must not start");
        assert!(stderr.contains(expected) && stderr.contains(model), "{model}: {stderr}");
        assert!(!stderr.contains("panicked"), "{model}: {stderr}");
    }
}

/// `broadsheet ARGS` in `dir`, given `stdin` (then closed), its output piped.
fn fed(dir: &Path, args: &[&str], stdin: &str) -> Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_broadsheet"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("runs");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), stdin.as_bytes()).expect("write");
    child
}

#[test]
fn spam_check_shows_the_verdict_and_its_reasons() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str], stdin: &str| fed(dir.path(), args, stdin).wait_with_output().expect("output");
    let spam = "Subscribe to my channel!!! http://bit.ly/freemoney";
    let ham = "The council should publish the ferry timetable before the trial starts next month.";
    for output in [run(&["spam", "check", spam, ham], ""), run(&["spam", "check"], &format!("{spam}\n\n{ham}\n"))] {
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(lines.len(), 4, "{stdout}");
        assert_eq!(lines[0], spam);
        assert!(lines[1].contains("spam (p = ") && lines[1].contains("call to action"), "{}", lines[1]);
        assert_eq!(lines[2], ham);
        assert!(lines[3].trim_start().starts_with("ham (p = 0."), "{}", lines[3]);
    }
    let output = run(&["--spam-model", "missing.bin", "spam", "check", ham], "");
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot read the spam model"));
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    // `broadsheet spam check < comments.txt | head -1`: the pipe closes while
    // the command still has verdicts to print.
    let dir = tempfile::tempdir().expect("temp dir");
    let comments: String = (0..3000)
        .map(|i| format!("Comment {i}: the ferry timetable should be published before the trial.\n"))
        .collect();
    let mut child = fed(dir.path(), &["spam", "check"], &comments);
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    stdout.read_line(&mut first).expect("first line");
    assert!(first.starts_with("Comment 0:"), "{first}");
    drop(stdout);
    let output = child.wait_with_output().expect("exits");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{}: {stderr}", output.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn settings_out_of_their_bounds_are_refused_on_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &[&str]| fed(dir.path(), args, "").wait_with_output().expect("output");
    for (name, value, bounds) in [
        ("flood_seconds", "-5", "from 0 to 86400"),
        ("per_page", "1", "from 5 to 500"),
        ("thread_depth", "99", "from 1 to 10"),
        ("max_links", "two", "from 0 to 1000"),
    ] {
        let output = run(&["settings", "set", name, "--", value]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{name} {value} was accepted");
        assert!(stderr.contains(name) && stderr.contains(bounds), "{name} {value}: {stderr}");
    }
    assert!(run(&["settings", "set", "flood_seconds", "0"]).status.success());
    let listed = String::from_utf8_lossy(&run(&["settings", "list"]).stdout).into_owned();
    for kept in ["flood_seconds 0", "per_page 50", "thread_depth 5", "max_links 2", "hold_words \"\""] {
        assert!(listed.lines().any(|line| line == kept), "{kept} in {listed}");
    }
}
