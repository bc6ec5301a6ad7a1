#!/usr/bin/env bash
# Checks the deployment examples in deploy/ by starting them: the systemd
# unit is verified with systemd-analyze and its command line and environment
# run as systemd would run them (this machine's systemd is not booted, so the
# unit itself is not started); nginx runs the example configuration, with a
# self-signed certificate and high ports, in front of that server.
#
#   scripts/deploy-check.sh     (BROADSHEET_BIN: the binary; default target/release/broadsheet)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BROADSHEET_BIN:-target/release/broadsheet}"
[ -x "$BIN" ] || cargo build --release --quiet
BIN=$(realpath "$BIN")
for tool in nginx openssl curl systemd-analyze; do
  if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx openssl curl systemd >/dev/null
    break
  fi
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WORK=$(mktemp -d)
APP_PORT=18181 HTTP_PORT=18180 TLS_PORT=18443
trap 'kill "${APP:-}" 2>/dev/null || true; [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
fail() { echo "not ok - $*" >&2; [ -f "$WORK/app.log" ] && tail -n 5 "$WORK/app.log" >&2; exit 1; }

# 1. The unit: systemd reads it without a complaint.
sed "s#/usr/local/bin/broadsheet#$BIN#" deploy/broadsheet.service >"$WORK/broadsheet.service"
systemd-analyze verify "$WORK/broadsheet.service" 2>"$WORK/verify.txt" || true
if grep -v "^$" "$WORK/verify.txt" | grep -v "Cannot find user\|No such process\|Failed to" | grep -q .; then
  cat "$WORK/verify.txt"; fail "systemd-analyze verify found problems in deploy/broadsheet.service"
fi
echo "ok - systemd-analyze verify deploy/broadsheet.service"

# 2. Its command line and environment, as systemd would run them (own data folder and port).
mkdir -p "$WORK/state"
env_args=()
while IFS= read -r line; do env_args+=("${line#Environment=}"); done < <(grep '^Environment=' deploy/broadsheet.service)
exec_args=$(sed -n 's#^ExecStart=/usr/local/bin/broadsheet ##p' deploy/broadsheet.service)
(cd "$WORK/state" && exec env -i PATH="$PATH" "${env_args[@]}" BROADSHEET_DATA_DIR="$WORK/state" \
  BROADSHEET_ADDR="127.0.0.1:$APP_PORT" "$BIN" $exec_args >"$WORK/app.log" 2>&1) & APP=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$APP_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$APP_PORT/healthz" >/dev/null || { cat "$WORK/app.log"; fail "the unit's command did not start"; }
for _ in $(seq 1 50); do grep -q '"message":"serving"' "$WORK/app.log" && break; sleep 0.1; done
grep -q '"message":"serving"' "$WORK/app.log" || fail "no JSON 'serving' line: the unit's environment was not read"
echo "ok - the unit's command line serves, with the unit's environment (JSON logs)"

# 3. nginx with the example server blocks, on high ports with a self-signed certificate.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=news.example.org" \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
sed -e "s#server 127.0.0.1:8080;#server 127.0.0.1:$APP_PORT;#" \
    -e "s#listen 80;#listen 127.0.0.1:$HTTP_PORT;#" -e "s#listen 443 ssl http2;#listen 127.0.0.1:$TLS_PORT ssl http2;#" \
    -e "/listen \[::\]/d" \
    -e "s#/etc/letsencrypt/live/news.example.org/fullchain.pem#$WORK/cert.pem#" \
    -e "s#/etc/letsencrypt/live/news.example.org/privkey.pem#$WORK/key.pem#" \
    deploy/nginx.conf >"$WORK/site.conf"
cat >"$WORK/nginx.conf" <<NGINX
daemon on;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events {}
http {
  access_log $WORK/nginx-access.log;
  client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy; fastcgi_temp_path $WORK/fcgi;
  uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
  include $WORK/site.conf;
}
NGINX
"$NGINX" -t -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" 2>"$WORK/nginx-test.txt" \
  || { cat "$WORK/nginx-test.txt"; fail "nginx rejects deploy/nginx.conf"; }
"$NGINX" -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log"
for _ in $(seq 1 50); do [ -f "$WORK/nginx.pid" ] && break; sleep 0.1; done
echo "ok - nginx accepts deploy/nginx.conf and starts"

https() { curl -sk --resolve "news.example.org:$TLS_PORT:127.0.0.1" "$@"; }
redirect=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' -H 'Host: news.example.org' "http://127.0.0.1:$HTTP_PORT/x/")
[[ "$redirect" == "301 https://news.example.org/x/" ]] || fail "plain HTTP answered $redirect"
echo "ok - plain HTTP is sent to HTTPS"
headers=$(https -D - -o /dev/null "https://news.example.org:$TLS_PORT/")
grep -q "^HTTP/2 200" <<<"$headers" || { echo "$headers"; fail "the front page through nginx"; }
grep -qi "^strict-transport-security: max-age=31536000" <<<"$headers" || fail "no HSTS through nginx"
echo "ok - the site answers through nginx over HTTP/2 with TLS, with HSTS"
sign_in=$(https -o /dev/null -w '%{http_code}' "https://news.example.org:$TLS_PORT/admin/sign-in")
[ "$sign_in" = 200 ] || fail "the admin's sign-in page through nginx: $sign_in"
etag=$(https -D - -o /dev/null "https://news.example.org:$TLS_PORT/" | sed -n 's/^etag: *//Ip' | tr -d '\r')
again=$(https -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "https://news.example.org:$TLS_PORT/")
[ "$again" = 304 ] || fail "a revalidation through nginx answered $again"
echo "ok - the admin and 304 revalidation work through nginx"

# 4. systemd's stop: SIGTERM, and the server ends cleanly.
kill -TERM "$APP"
status=0; wait "$APP" || status=$?
[ "$status" = 0 ] || fail "the server ended with $status on SIGTERM"
sleep 0.2
grep -q '"message":"stopped"' "$WORK/app.log" || fail "no 'stopped' line after SIGTERM"
APP=
echo "ok - SIGTERM stops the server cleanly"
echo "PASS deploy/broadsheet.service and deploy/nginx.conf"
