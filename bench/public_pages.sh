#!/usr/bin/env bash
# Benchmark: one public notice page served by statusdesk, against the same exported file served
# by nginx, both loaded with wrk on loopback for the same fixed time. Prints requests/s of each
# and the ratio server/nginx (target: 0.9 or better). Figures go to BENCHMARKS.md.
#
#   bench/public_pages.sh            DURATION=10s CONNECTIONS=64 by default
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
PAGE="${PAGE:-/en/notices/2021-02-unsent-import-list-mail}"
SERVER_PORT="${SERVER_PORT:-18080}"
NGINX_PORT="${NGINX_PORT:-18081}"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v wrk >/dev/null || missing+=(wrk)
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

cargo build --release --locked -p statusdesk
work="$(mktemp -d)"
chmod 755 "$work"  # nginx workers run unprivileged
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/statusdesk export --out "$work/site" --content content 2>/dev/null

RUST_LOG=warn target/release/statusdesk serve --addr "127.0.0.1:$SERVER_PORT" --content content \
  --database-url "sqlite://$work/bench.db" >"$work/server.log" 2>&1 &
server_pid=$!

cat >"$work/nginx.conf" <<NGINX
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 100000;
  client_body_temp_path $work/nginx-tmp;
  proxy_temp_path $work/nginx-tmp;
  fastcgi_temp_path $work/nginx-tmp;
  uwsgi_temp_path $work/nginx-tmp;
  scgi_temp_path $work/nginx-tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $work/site;
    location / { try_files \$uri \$uri/index.html =404; }
  }
}
NGINX
mkdir -p "$work/nginx-tmp"
"$NGINX" -c "$work/nginx.conf"

for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$SERVER_PORT/healthz" >/dev/null && curl -fs "http://127.0.0.1:$NGINX_PORT$PAGE" >/dev/null && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$SERVER_PORT$PAGE" >"$work/from-server.html"
curl -fs "http://127.0.0.1:$NGINX_PORT$PAGE" >"$work/from-nginx.html"
cmp -s "$work/from-server.html" "$work/from-nginx.html" || { echo "the two servers send different pages" >&2; exit 1; }

rps() {
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$1" | tee "$work/wrk.out" >&2
  awk '/^Requests\/sec/ { print $2 }' "$work/wrk.out"
}
echo "== statusdesk: $PAGE ($(wc -c <"$work/from-server.html") bytes)" >&2
server_rps="$(rps "http://127.0.0.1:$SERVER_PORT$PAGE")"
echo "== nginx: the exported file" >&2
nginx_rps="$(rps "http://127.0.0.1:$NGINX_PORT$PAGE")"

printf '\n%-12s %12s\n' "server" "requests/s"
printf '%-12s %12.0f\n' "statusdesk" "$server_rps" "nginx" "$nginx_rps"
awk -v s="$server_rps" -v n="$nginx_rps" 'BEGIN { printf "ratio statusdesk/nginx: %.2f (target >= 0.90)\n", s / n }'
