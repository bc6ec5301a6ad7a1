#!/usr/bin/env bash
# WordPress's own Akismet plugin against Broadsheet, end to end: Debian's
# `wordpress` (which bundles the Akismet plugin), PHP-FPM, MariaDB and nginx
# on loopback, the bridge plugin from integrations/wordpress/, and a
# Broadsheet server; then tests/wordpress/akismet-plugin.mjs drives the site
# in Chromium as its owner and readers would. Everything runs from a
# throwaway folder and is stopped and removed at the end.
#
#   scripts/wordpress-check.sh   (BROADSHEET_BIN: the binary; default target/debug/broadsheet)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BROADSHEET_BIN:-target/debug/broadsheet}"
[ -x "$BIN" ] || cargo build --quiet
BIN=$(realpath "$BIN")

missing=()
for pkg in wordpress php-fpm php-mysql mariadb-server nginx curl; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
if ((${#missing[@]})); then
  echo "installing ${missing[*]}"
  apt-get update -qq
  # php-fpm first, so that WordPress's PHP dependency is met without Apache's module.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends php-fpm >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PHP_FPM=$(ls /usr/sbin/php-fpm* | sort -V | tail -1)
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

WORK=$(mktemp -d /tmp/broadsheet-wordpress.XXXXXX)
chmod 755 "$WORK"
# Debian's wp-config.php reads /etc/wordpress/config-$WORDPRESS_CONFIG.php.
SITE="broadsheet-check-$$"
CONFIG="/etc/wordpress/config-$SITE.php"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WP_PORT=$(free_port)
BS_PORT=$(free_port)
WP_URL="http://127.0.0.1:$WP_PORT"
BS_URL="http://127.0.0.1:$BS_PORT"
stop_all() {
  for pidfile in "$WORK"/*.pid; do [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true; done
  kill "${BROADSHEET:-}" "${MARIADB:-}" "${FPM:-}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -f "$CONFIG"
  rm -rf "$WORK"
}
trap stop_all EXIT
fail() {
  echo "not ok - $*" >&2
  for log in "$WORK"/*.log; do [ -s "$log" ] && { echo "--- $log" >&2; tail -n 20 "$log" >&2; }; done
  exit 1
}
wait_for() { for _ in $(seq 1 150); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; fail "$2"; }

# MariaDB, on a socket only.
mariadb-install-db --no-defaults --datadir="$WORK/db" --user=root >"$WORK/mariadb-install.log" 2>&1 \
  || fail "mariadb-install-db"
mariadbd --no-defaults --datadir="$WORK/db" --socket="$WORK/mysql.sock" --skip-networking --user=root \
  --log-error="$WORK/mariadb.log" & MARIADB=$!
wait_for "mariadb --no-defaults -S '$WORK/mysql.sock' -u root -e 'SELECT 1'" "MariaDB did not start"
DB_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
mariadb --no-defaults -S "$WORK/mysql.sock" -u root -e "CREATE DATABASE wordpress;
  CREATE USER 'wordpress'@'localhost' IDENTIFIED BY '$DB_PASSWORD';
  GRANT ALL ON wordpress.* TO 'wordpress'@'localhost';"

# WordPress's configuration and its own wp-content: Akismet as Debian ships it,
# the bridge plugin copied in as a site owner would, and a must-use plugin for
# this check alone that lifts WordPress's 15-second flood limit (every comment
# here comes from one address) and records what the plugin sends to comment-check.
mkdir -p "$WORK/wp-content/plugins" "$WORK/wp-content/mu-plugins" "$WORK/wp-content/themes" "$WORK/wp-content/uploads"
ln -s /usr/share/wordpress/wp-content/plugins/akismet "$WORK/wp-content/plugins/akismet"
cp integrations/wordpress/broadsheet-akismet-bridge.php "$WORK/wp-content/plugins/"
for theme in /usr/share/wordpress/wp-content/themes/*/; do [ -d "$theme" ] && ln -s "$theme" "$WORK/wp-content/themes/"; done
cat >"$WORK/wp-content/mu-plugins/check-helpers.php" <<PHP
<?php
add_filter( 'comment_flood_filter', '__return_false' );
// Records the body of each comment-check call as the plugin sent it.
add_action( 'http_api_debug', function ( \$response, \$context, \$class, \$args, \$url ) {
	if ( '/1.1/comment-check' === substr( \$url, -18 ) && is_string( \$args['body'] ?? null ) ) {
		file_put_contents( '$WORK/comment-checks.txt', \$args['body'] . "\\n", FILE_APPEND );
	}
}, 10, 5 );
PHP
touch "$WORK/comment-checks.txt"
chmod 666 "$WORK/comment-checks.txt"
salt() { head -c 48 /dev/urandom | base64 | tr -d '/+=\n'; }
cat >"$CONFIG" <<PHP
<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wordpress' );
define( 'DB_PASSWORD', '$DB_PASSWORD' );
define( 'DB_HOST', 'localhost:$WORK/mysql.sock' );
define( 'WP_HOME', '$WP_URL' );
define( 'WP_SITEURL', '$WP_URL' );
define( 'WP_CONTENT_DIR', '$WORK/wp-content' );
define( 'WP_CONTENT_URL', '$WP_URL/wp-content' );
define( 'DISABLE_WP_CRON', true );
// Nothing leaves this machine: a call that the bridge did not redirect fails.
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'AUTH_KEY', '$(salt)' );
define( 'SECURE_AUTH_KEY', '$(salt)' );
define( 'LOGGED_IN_KEY', '$(salt)' );
define( 'NONCE_KEY', '$(salt)' );
define( 'AUTH_SALT', '$(salt)' );
define( 'SECURE_AUTH_SALT', '$(salt)' );
define( 'LOGGED_IN_SALT', '$(salt)' );
define( 'NONCE_SALT', '$(salt)' );
PHP
chmod 644 "$CONFIG"

# PHP-FPM and nginx.
cat >"$WORK/php-fpm.conf" <<CONF
[global]
pid = $WORK/php-fpm.pid
error_log = $WORK/php-fpm.log
daemonize = no
[check]
user = www-data
group = www-data
listen = $WORK/php.sock
listen.mode = 0666
pm = static
pm.max_children = 4
catch_workers_output = yes
php_admin_value[error_log] = $WORK/php-errors.log
php_admin_flag[log_errors] = on
CONF
"$PHP_FPM" --nodaemonize --fpm-config "$WORK/php-fpm.conf" & FPM=$!
mkdir -p "$WORK/nginx-temp"
cat >"$WORK/nginx.conf" <<CONF
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log;
events {}
http {
  include /etc/nginx/mime.types;
  access_log $WORK/nginx-access.log;
  client_body_temp_path $WORK/nginx-temp/body;
  fastcgi_temp_path $WORK/nginx-temp/fastcgi;
  proxy_temp_path $WORK/nginx-temp/proxy;
  uwsgi_temp_path $WORK/nginx-temp/uwsgi;
  scgi_temp_path $WORK/nginx-temp/scgi;
  server {
    listen 127.0.0.1:$WP_PORT;
    root /usr/share/wordpress;
    index index.php;
    location /wp-content/ { alias $WORK/wp-content/; }
    location / { try_files \$uri \$uri/ /index.php?\$args; }
    location ~ \.php\$ {
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME \$document_root\$fastcgi_script_name;
      fastcgi_param WORDPRESS_CONFIG $SITE;
      fastcgi_pass unix:$WORK/php.sock;
    }
  }
}
CONF
"$NGINX" -c "$WORK/nginx.conf" -p "$WORK" & 
wait_for "[ -S '$WORK/php.sock' ]" "PHP-FPM did not start"

# WordPress installed (one admin, the sample post, comments open, no
# "previously approved" rule) and both plugins activated, with PHP's CLI.
WP_PASSWORD="check $(salt)"
WP_CONFIG="$SITE" WP_URL="$WP_URL" WP_PASSWORD="$WP_PASSWORD" php -d error_reporting=E_ALL\&~E_DEPRECATED -r '
  $_SERVER["HTTP_HOST"] = "127.0.0.1";
  $_SERVER["WORDPRESS_CONFIG"] = getenv("WP_CONFIG");
  define( "WP_INSTALLING", true );
  require "/usr/share/wordpress/wp-load.php";
  require_once ABSPATH . "wp-admin/includes/upgrade.php";
  require_once ABSPATH . "wp-admin/includes/plugin.php";
  $done = wp_install( "Bridge Check", "admin", "admin@example.org", false, "", getenv("WP_PASSWORD") );
  update_option( "comment_previously_approved", 0 );
  foreach ( array( "akismet/akismet.php", "broadsheet-akismet-bridge.php" ) as $plugin ) {
    $error = activate_plugin( $plugin );
    if ( is_wp_error( $error ) ) { fwrite( STDERR, $error->get_error_message() ); exit( 1 ); }
  }
  echo "installed\n";
' >"$WORK/install.log" 2>&1 || fail "WordPress did not install"
wait_for "curl -fs '$WP_URL/wp-login.php'" "WordPress does not answer"
echo "ok - WordPress $(php -r 'include "/usr/share/wordpress/wp-includes/version.php"; echo $wp_version;') with Akismet $(sed -n 's/^Version: //p' /usr/share/wordpress/wp-content/plugins/akismet/akismet.php) on nginx, PHP-FPM and MariaDB"

# Broadsheet, with a key made for the WordPress site.
mkdir -p "$WORK/broadsheet"
"$BIN" --data-dir "$WORK/broadsheet" --addr "127.0.0.1:$BS_PORT" serve --no-demo >"$WORK/broadsheet.log" 2>&1 & BROADSHEET=$!
wait_for "curl -fs '$BS_URL/healthz'" "Broadsheet did not start"
KEY=$("$BIN" --data-dir "$WORK/broadsheet" apikey create --site "$WP_URL" 2>/dev/null)

WP_URL="$WP_URL" WP_USER=admin WP_PASSWORD="$WP_PASSWORD" BROADSHEET_URL="$BS_URL" AKISMET_KEY="$KEY" \
  node tests/wordpress/akismet-plugin.mjs || fail "tests/wordpress/akismet-plugin.mjs"
# The moderator's Spam and Not Spam became lessons of this site's filter.
LISTED=$("$BIN" --data-dir "$WORK/broadsheet" apikey list)
echo "$LISTED" | grep -q "1 missed spam, 1 false positives, 2 lessons learnt" \
  || fail "the site's filter did not learn the moderator's two corrections: $LISTED"
echo "ok - the Spam and Not Spam links taught the site's filter two lessons"
# What the plugin sent to comment-check, as the must-use plugin above recorded it:
# WordPress sends a comment's fields with PHP's added slashes (O\'Brien), which
# Broadsheet takes off before scoring (tests/it/akismet_account.rs checks that
# slashed and clean text are read the same).
grep -q "comment_content=The[+ %20]*council%5C%27s" "$WORK/comment-checks.txt" \
  || fail "comment-check did not receive the slashed text: $(head -c 600 "$WORK/comment-checks.txt")"
echo "ok - WordPress sends comment-check its text with PHP's added slashes (council\\'s)"

# The server's address can be set in wp-config.php instead: the constant wins over the setting.
WP_CONFIG="$SITE" BS_URL="$BS_URL" KEY="$KEY" php -d error_reporting=E_ALL\&~E_DEPRECATED -r '
  $_SERVER["HTTP_HOST"] = "127.0.0.1";
  $_SERVER["WORDPRESS_CONFIG"] = getenv("WP_CONFIG");
  define( "BROADSHEET_AKISMET_URL", getenv("BS_URL") );
  require "/usr/share/wordpress/wp-load.php";
  update_option( "broadsheet_akismet_url", "http://127.0.0.1:9" );
  $answer = Akismet::verify_key( getenv("KEY") );
  delete_option( "broadsheet_akismet_url" );
  $without = Akismet::verify_key( getenv("KEY") );
  echo "$answer $without\n";
' >"$WORK/constant.log" 2>&1 || fail "the wp-config.php constant check did not run"
grep -qx "valid valid" "$WORK/constant.log" || fail "BROADSHEET_AKISMET_URL in wp-config.php: $(cat "$WORK/constant.log")"
echo "ok - BROADSHEET_AKISMET_URL in wp-config.php sends Akismet's calls to Broadsheet"
if [ -s "$WORK/php-errors.log" ] && grep -q "broadsheet-akismet-bridge" "$WORK/php-errors.log"; then
  fail "the bridge plugin logged PHP errors"
fi
