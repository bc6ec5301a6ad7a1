# Sourced by the benchmarks that compare Broadsheet with nginx.
#
#   bench_prepare TOOL...
#
# Installs the tools that are missing (Debian packages of the same names),
# builds the release binary, and makes $WORK, a scratch folder nginx's
# workers can read, removed at exit after stopping $OURS_PID and nginx.
#
#   start_nginx WORK PORT [EXTRA_LOCATION...]
#
# nginx serving the files under WORK/www on 127.0.0.1:PORT as the baseline,
# logging every request, using both cores and keeping connections alive,
# like Broadsheet.
#
# Each EXTRA_LOCATION is one more `location` line for the server block.
# Writes WORK/nginx.conf, starts nginx (its pid in WORK/nginx.pid) and
# returns once it answers.

bench_prepare() {
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$tool" ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
      break
    fi
  done
  cargo build --release --quiet
  WORK=$(mktemp -d)
  chmod 755 "$WORK" # nginx workers run as an unprivileged user
  trap bench_cleanup EXIT
}

bench_cleanup() {
  [ -n "${OURS_PID:-}" ] && kill "$OURS_PID" 2>/dev/null || true
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

start_nginx() {
  local work=$1 port=$2
  shift 2
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  {
    cat <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log $work/nginx-access.log;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  default_type text/html;
  client_body_temp_path $work/tmp; proxy_temp_path $work/tmp; fastcgi_temp_path $work/tmp;
  uwsgi_temp_path $work/tmp; scgi_temp_path $work/tmp;
  server {
    listen 127.0.0.1:$port;
    root $work/www;
    location / { add_header Cache-Control "public, max-age=60"; }
CONF
    for location in "$@"; do echo "    $location"; done
    printf '  }\n}\n'
  } >"$work/nginx.conf"
  mkdir -p "$work/tmp"
  "$nginx" -c "$work/nginx.conf"
  # Any answer will do (a site without an index page answers 403 or 404 at /).
  for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.1; done
  echo "nginx did not start on port $port" >&2
  return 1
}
