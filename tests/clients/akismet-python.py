"""An existing Akismet client library (`akismet` from PyPI, unchanged),
pointed at a real Broadsheet server: verify_key, comment_check (ham, spam,
discard), submit_spam, submit_ham, and the 1.2 calls usage_limit and
key_sites (JSON and CSV).

    python3 tests/clients/akismet-python.py   (after `cargo build`; scripts/test.sh installs akismet)

BROADSHEET_BIN overrides the server binary (default target/debug/broadsheet).
The library always calls https://rest.akismet.com; an httpx transport sends
its requests to the Broadsheet server instead, as a proxy would.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile

import akismet
import httpx

BIN = os.environ.get("BROADSHEET_BIN", "target/debug/broadsheet")
SITE = "https://blog.example.org"
failures = []


def expect(what, ok):
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    if not ok:
        failures.append(what)


class ToBroadsheet(httpx.HTTPTransport):
    """Sends every request to the Broadsheet server, path and all."""

    def __init__(self, addr):
        super().__init__()
        self.host, self.port = addr.rsplit(":", 1)

    def handle_request(self, request):
        request.url = request.url.copy_with(scheme="http", host=self.host, port=int(self.port))
        request.headers["host"] = f"{self.host}:{self.port}"
        return super().handle_request(request)


data_dir = tempfile.mkdtemp(prefix="broadsheet-akismet-py-")
cli = lambda *args: subprocess.run([BIN, "--data-dir", data_dir, *args], check=True, capture_output=True, text=True).stdout.strip()
key = cli("apikey", "create", "--site", SITE)
server = subprocess.Popen(
    [BIN, "--data-dir", data_dir, "--addr", "127.0.0.1:0", "--log-format", "json", "serve", "--no-demo"],
    stdout=subprocess.PIPE,
    text=True,
)
try:
    addr = None
    for line in server.stdout:
        try:
            entry = json.loads(line)
        except ValueError:
            continue  # the first-start banner is not JSON
        if entry.get("fields", {}).get("message") == "serving":
            addr = entry["fields"]["addr"]
            break
    if addr is None:
        sys.exit("the server did not start")

    # This version of the library leaves api_key out of key_sites() (Akismet
    # documents it as required), so the HTTP client adds it to every call.
    http = httpx.Client(transport=ToBroadsheet(addr), params={"api_key": key})
    client = akismet.SyncClient.validated_client(config=akismet.Config(key=key, url=SITE), http_client=http)
    expect("validated_client() with a valid key", isinstance(client, akismet.SyncClient))
    expect("verify_key() with an unknown key", client.verify_key("0123456789ab", SITE) is False)

    reader = {"user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "comment_type": "comment", "comment_author": "Sam"}
    ham = "The council should publish the ferry timetable before the trial starts next month."
    spam = "Buy cheap viagra and cialis online without prescription at http://cheap-pills.example.com best prices guaranteed"
    blatant = "Check out my new video on my channel, please subscribe and like it!"
    check = lambda text: client.comment_check("203.0.113.9", comment_content=text, **reader)
    expect("comment_check(): a reader's comment is HAM", check(ham) == akismet.CheckResponse.HAM)
    expect("comment_check(): pharma spam is SPAM", check(spam) == akismet.CheckResponse.SPAM)
    expect("comment_check(): channel spam is DISCARD (X-akismet-pro-tip: discard)", check(blatant) == akismet.CheckResponse.DISCARD)
    expect("submit_spam() is thanked", client.submit_spam("203.0.113.9", comment_content=ham, **reader) is True)
    expect("submit_ham() is thanked", client.submit_ham("203.0.113.9", comment_content=spam, **reader) is True)

    usage = client.usage_limit()
    expect(f"usage_limit(): no limit, 3 checks ({usage})", usage == {"limit": "none", "usage": 3, "percentage": "0.00", "throttled": False})
    month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
    sites = client.key_sites()
    row = {"site": "blog.example.org", "api_calls": "5", "spam": "2", "ham": "1", "missed_spam": "1", "false_positives": "1", "is_revoked": False}
    expect(f"key_sites(): this month's row ({sites})", sites == {month: [row], "limit": 500, "offset": 0, "total": 1})
    csv = client.key_sites(result_format="csv")
    expect("key_sites(result_format='csv')", csv.splitlines()[-1] == "blog.example.org,5,2,1,1,1,false")
    http.close()
finally:
    server.terminate()
    server.wait()
    shutil.rmtree(data_dir, ignore_errors=True)

if failures:
    sys.exit(f"{len(failures)} check(s) failed")
