#!/usr/bin/env python3
"""Mixed load against a running Broadsheet for a soak test (scripts/soak.sh).

Readers fetch pages, some post comments through the article form, a
WordPress-style client checks comments through the Akismet API, and an
editor edits articles in the admin. Meanwhile the server's resident memory
is sampled every 10 s. At the end: a table of RSS over time, an SVG chart,
5xx count and p50/p99 per route, as Markdown on stdout.

Only the Python standard library: it runs wherever the test script runs.
"""

import argparse
import http.client
import html
import random
import re
import threading
import time
import urllib.parse
from collections import defaultdict
from html.parser import HTMLParser


class Client:
    """One keep-alive connection with a cookie jar."""

    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = None
        self.cookies = {}

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                pair = value.split(";", 1)[0]
                key, _, val = pair.partition("=")
                if "max-age=0" in value.lower() or val == "":
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = val
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        return response.status, response.getheader("Location"), data.decode("utf-8", "replace")

    def form(self, path, fields):
        body = urllib.parse.urlencode(fields)
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})


def hidden(page, name):
    match = re.search(r'name="%s" value="([^"]*)"' % re.escape(name), page)
    return html.unescape(match.group(1)) if match else ""


class FormFields(HTMLParser):
    """Every field of the first form with a given action, as a browser would send it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields, self.textarea, self.select, self.in_form = [], None, None, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and "editor" in (a.get("class") or ""):
            self.in_form = True
        if not self.in_form:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind not in ("submit", "button", "file"):
                self.fields.append([a["name"], a.get("value", "")])
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
            self.fields.append(self.textarea)
        elif tag == "select" and a.get("name"):
            self.select = a["name"]
        elif tag == "option" and self.select and "selected" in a:
            self.fields.append([self.select, a.get("value", "")])

    def handle_endtag(self, tag):
        if tag == "textarea":
            self.textarea = None
        elif tag == "select":
            self.select = None
        elif tag == "form":
            self.in_form = False

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = defaultdict(list)
        self.statuses = defaultdict(lambda: defaultdict(int))
        self.errors = defaultdict(int)
        self.first_refusal = None

    def record(self, route, status, seconds):
        with self.lock:
            self.latency[route].append(seconds)
            self.statuses[route][status] += 1

    def error(self, route):
        with self.lock:
            self.errors[route] += 1


def timed(stats, route, call):
    started = time.perf_counter()
    try:
        result = call()
    except Exception:  # a dropped connection counts against the route, not the driver
        stats.error(route)
        return None
    stats.record(route, result[0], time.perf_counter() - started)
    return result


COMMENTS = [
    "The late ferry will matter most to the island nurses on night shifts.",
    "Does anyone know whether the trial includes the Sunday sailings?",
    "Good to see the board listening to the islanders for once.",
    "I grew up on the islands; the last boat at seven shaped every evening.",
    "Will the fares be the same as the daytime crossings?",
]


def reader(stop, stats, client, articles, pages):
    while not stop.is_set():
        roll = random.random()
        if roll < 0.85:
            path = random.choice(pages)
            route = "GET /static/" if path.startswith("/static/") else (
                "GET article" if path in articles else "GET listing")
            if path == "/no-such-page/":
                route = "GET 404"
            timed(stats, route, lambda: client.request("GET", path))
        else:
            article = random.choice(articles)
            got = timed(stats, "GET article", lambda: client.request("GET", article))
            if not got or got[0] != 200:
                continue
            token = hidden(got[2], "token")
            n = random.randrange(1_000_000)
            fields = {
                "token": token,
                "comment": f"{random.choice(COMMENTS)} ({n})",
                "author": f"Reader {n % 500}",
                "email": f"reader{n % 500}@example.org",
            }
            timed(stats, "POST comment", lambda: client.form(article, fields))


def api_client(stop, stats, client, key):
    while not stop.is_set():
        n = random.randrange(1_000_000)
        fields = {
            "api_key": key, "blog": "https://blog.example.org", "user_ip": f"203.0.113.{n % 250}",
            "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "comment_type": "comment",
            "comment_author": f"Reader {n}", "comment_author_email": f"r{n}@example.org",
            "comment_content": f"{random.choice(COMMENTS)} {n}",
        }
        timed(stats, "POST /1.1/comment-check", lambda: client.form("/1.1/comment-check", fields))


def editor(stop, stats, client, ids):
    while not stop.is_set():
        article = random.choice(ids)
        got = timed(stats, "GET /admin/articles/{id}", lambda: client.request("GET", f"/admin/articles/{article}"))
        if not got or got[0] != 200:
            time.sleep(0.5)
            continue
        parser = FormFields()
        parser.feed(got[2])
        fields = [(k, v) for k, v in parser.fields]
        fields = [(k, v) if k != "standfirst" else (k, re.sub(r" \(edit \d+\)$", "", v) + f" (edit {random.randrange(1000)})")
                  for k, v in fields]
        fields.append(("intent", "publish"))
        saved = timed(stats, "POST /admin/articles/{id}", lambda: client.form(f"/admin/articles/{article}", fields))
        if saved and saved[0] >= 400 and not stats.first_refusal:
            messages = re.findall(r'class="(?:field-error|form-alert)"[^>]*>([^<]*)<', saved[2])
            stats.first_refusal = f"{saved[0]}: {' / '.join(messages) or saved[2][:300]}"
        time.sleep(0.2)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def svg_chart(samples, path):
    width, height, pad = 640, 240, 40
    top = max(kib for _, kib in samples) / 1024 * 1.15
    span = max(samples[-1][0], 1)
    points = " ".join(
        f"{pad + t / span * (width - 2 * pad):.1f},{height - pad - kib / 1024 / top * (height - 2 * pad):.1f}"
        for t, kib in samples)
    ticks = "".join(
        f'<text x="{pad - 6}" y="{height - pad - v / top * (height - 2 * pad) + 4:.1f}" text-anchor="end">{v:.0f}</text>'
        for v in (0, top / 2, top))
    with open(path, "w") as out:
        out.write(
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
            f'<title>Resident memory (MiB) over {span / 60:.0f} minutes of mixed load</title>'
            f'<rect width="{width}" height="{height}" fill="white"/>'
            f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" stroke="#888"/>'
            f'<line x1="{pad}" y1="{pad}" x2="{pad}" y2="{height - pad}" stroke="#888"/>{ticks}'
            f'<text x="{pad}" y="{height - pad + 16}">0 min</text>'
            f'<text x="{width - pad}" y="{height - pad + 16}" text-anchor="end">{span / 60:.0f} min</text>'
            f'<text x="{width / 2}" y="16" text-anchor="middle">Broadsheet RSS, MiB, sampled every 10 s</text>'
            f'<polyline points="{points}" fill="none" stroke="#b3261e" stroke-width="2"/></svg>\n')


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--minutes", type=float, required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--chart", required=True)
    parser.add_argument("--readers", type=int, default=6)
    args = parser.parse_args()
    host = "127.0.0.1"

    # The editor signs in and sets a password of their own.
    admin = Client(host, args.port)
    _, _, page = admin.request("GET", "/admin/sign-in")
    status, location, _ = admin.form("/admin/sign-in", {
        "token": hidden(page, "token"), "next": "/admin/", "email": args.email, "password": args.password})
    assert status == 303, f"sign-in answered {status}"
    if location and location.endswith("/admin/password"):
        _, _, page = admin.request("GET", "/admin/password")
        new = "a soak of thirty minutes 2026"
        status, _, _ = admin.form("/admin/password", {
            "csrf": hidden(page, "csrf"), "current": args.password, "new": new, "repeat": new})
        assert status in (200, 303), f"password change answered {status}"
    _, _, listing = admin.request("GET", "/admin/articles")
    ids = sorted({int(i) for i in re.findall(r'href="/admin/articles/(\d+)"', listing)})
    assert ids, "no articles in the admin"

    front = Client(host, args.port).request("GET", "/")[2]
    links = sorted(set(re.findall(r'href="(/[^"#?]*)"', front)))
    articles = [link for link in links if re.match(r"^/\d{4}/\d{2}/\d{2}/[^/]+/$", link)]
    pages = links + ["/no-such-page/"]
    assert articles, "no articles on the front page"

    stats, stop = Stats(), threading.Event()
    threads = [threading.Thread(target=reader, args=(stop, stats, Client(host, args.port), articles, pages))
               for _ in range(args.readers)]
    threads.append(threading.Thread(target=api_client, args=(stop, stats, Client(host, args.port), args.key)))
    threads.append(threading.Thread(target=editor, args=(stop, stats, admin, ids)))
    for thread in threads:
        thread.start()
    samples, started = [], time.monotonic()
    deadline = started + args.minutes * 60
    while True:
        samples.append((time.monotonic() - started, rss_kib(args.pid)))
        if time.monotonic() >= deadline:
            break
        time.sleep(min(10, max(0, deadline - time.monotonic())))
    stop.set()
    for thread in threads:
        thread.join()
    svg_chart(samples, args.chart)

    print(f"### Resident memory, sampled every 10 s ({len(samples)} samples)\n")
    print("| minute | RSS MiB |\n| --- | --- |")
    for t, kib in samples:
        if int(t) % 120 < 10 or t == samples[-1][0]:
            print(f"| {t / 60:.1f} | {kib / 1024:.1f} |")
    warm = [kib for t, kib in samples if t >= 300] or [kib for _, kib in samples]
    print(f"\nAfter the first 5 minutes: min {min(warm) / 1024:.1f} MiB, max {max(warm) / 1024:.1f} MiB, "
          f"last {warm[-1] / 1024:.1f} MiB.\n")
    print("### Requests\n")
    print("| route | requests | 2xx/3xx | 4xx | 5xx | dropped | p50 ms | p99 ms |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    total_5xx = 0
    for route in sorted(stats.latency):
        codes = stats.statuses[route]
        ok = sum(n for s, n in codes.items() if s < 400)
        client_errors = sum(n for s, n in codes.items() if 400 <= s < 500)
        server_errors = sum(n for s, n in codes.items() if s >= 500)
        total_5xx += server_errors
        lat = stats.latency[route]
        print(f"| {route} | {len(lat)} | {ok} | {client_errors} | {server_errors} | {stats.errors[route]} "
              f"| {percentile(lat, 0.5):.2f} | {percentile(lat, 0.99):.2f} |")
    print(f"\n5xx answers: {total_5xx}; dropped connections: {sum(stats.errors.values())}")
    if stats.first_refusal:
        print(f"First refused edit: {stats.first_refusal}")
    return 1 if total_5xx else 0


if __name__ == "__main__":
    raise SystemExit(main())
