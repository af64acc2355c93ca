#!/usr/bin/env bash
# Benchmark: the company portal on PostgreSQL with the replay at a given scale (default 1).
# Logs in as a user of the company that owns the largest release, then loads with wrk at 32
# connections on loopback, for the same fixed time each: `/portal`, `/portal/releases/{id}` of
# that release, and `/healthz` (the baseline: the same server, session-less, no database).
# Then downloads that release's CSV export, sampling the server's resident memory meanwhile,
# and compares its rate with PostgreSQL's own `COPY ... TO STDOUT (FORMAT csv)` of the same rows
# (the ceiling). Targets: p99 under 50 ms for both pages; the export at least 100,000 rows/s
# with flat memory. Figures go to BENCHMARKS.md.
#
#   bench/portal.sh                  SCALE=1 DURATION=20s CONNECTIONS=32
#   REUSE=1 bench/portal.sh          keep the database loaded by an earlier run
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

SCALE="${SCALE:-1}"
DURATION="${DURATION:-20s}"
CONNECTIONS="${CONNECTIONS:-32}"
THREADS="${THREADS:-2}"
PORT="${PORT:-18090}"
PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
DB=statusdesk_portal_bench
url="$PG_SERVER/$DB"
base="http://127.0.0.1:$PORT"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
command -v wrk >/dev/null || {
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
}

cargo build --release --locked -p statusdesk
bin=target/release/statusdesk
work="$(mktemp -d)"
cleanup() {
  [ -n "${server_pid:-}" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "${sampler_pid:-}" ] && kill "$sampler_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

if [ "${REUSE:-0}" != 1 ] || ! psql "$url" -qAtc "SELECT 1 FROM releases LIMIT 1" >/dev/null 2>&1; then
  psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB" 2>/dev/null
  psql "$PG_SERVER/postgres" -qc "CREATE DATABASE $DB"
  echo "== loading the replay at scale $SCALE" >&2
  "$bin" demo-data --scale "$SCALE" --database-url "$url" 2>&1 | tail -n 1 >&2
fi

# The largest release, its company, and how many releases that company has.
read -r company release recipients < <(psql "$url" -qAt -F ' ' -c "
  SELECT c.slug, r.id, t.n
  FROM (SELECT release_id, SUM(messages) AS n FROM release_counts GROUP BY release_id
        ORDER BY n DESC, release_id LIMIT 1) t
  JOIN releases r ON r.id = t.release_id JOIN companies c ON c.id = r.company_id")
company_releases=$(psql "$url" -qAt -c "SELECT COUNT(*) FROM releases r JOIN companies c ON c.id = r.company_id WHERE c.slug = '$company'")
echo "== company $company: $company_releases releases; release $release: $recipients recipients" >&2

email="bench@$company.example"
password="portal benchmark password"
echo "$password" | "$bin" user add --email "$email" --company "$company" --password-stdin \
  --database-url "$url" 2>/dev/null || true

RUST_LOG=warn "$bin" serve --addr "127.0.0.1:$PORT" --content content --database-url "$url" \
  >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf "$base/readyz" | grep -q '"reachable":true' && break
  sleep 0.2
done

# Log in like a browser: the form's token, then the POST; keep the session cookie.
csrf=$(curl -s -c "$work/jar" "$base/login" | grep -o 'name="csrf" value="[0-9a-f]*"' | head -n 1 | sed 's/.*value="//; s/"//')
curl -s -b "$work/jar" -c "$work/jar" -o /dev/null -H "Origin: $base" \
  --data-urlencode "email=$email" --data-urlencode "password=$password" --data-urlencode "csrf=$csrf" "$base/login"
session=$(awk '$6 == "statusdesk-session" { print $7 }' "$work/jar")
[ -n "$session" ] || { echo "login failed" >&2; exit 1; }
cookie="Cookie: statusdesk-session=$session"
curl -sf -H "$cookie" "$base/portal" -o /dev/null
curl -sf -H "$cookie" "$base/portal/releases/$release" -o /dev/null

# wrk's 99th percentile in milliseconds, and requests/s.
load() {
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "$cookie" "$base$1")
  local p99 rps
  p99=$(echo "$out" | awk '$1 == "99%" { v = $2; if (v ~ /us$/) { sub(/us$/, "", v); v /= 1000 } else if (v ~ /ms$/) { sub(/ms$/, "", v) } else if (v ~ /s$/) { sub(/s$/, "", v); v *= 1000 } print v }')
  rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
  local errors
  errors=$(echo "$out" | awk '/Non-2xx/ { print $5 }')
  [ -z "$errors" ] || { echo "$1: $errors non-2xx answers" >&2; exit 1; }
  echo "$p99 $rps"
}
read -r base_p99 base_rps < <(load /healthz)
read -r home_p99 home_rps < <(load /portal)
read -r release_p99 release_rps < <(load "/portal/releases/$release")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
printf '%-34s p99 %7.2f ms  %9.0f req/s\n' "/healthz (baseline)" "$base_p99" "$base_rps"
printf '%-34s p99 %7.2f ms  %9.0f req/s  p99/baseline %s\n' "/portal" "$home_p99" "$home_rps" "$(ratio "$home_p99" "$base_p99")"
printf '%-34s p99 %7.2f ms  %9.0f req/s  p99/baseline %s\n' "/portal/releases/$release" "$release_p99" "$release_rps" "$(ratio "$release_p99" "$base_p99")"

# The export, with the server's resident memory sampled every 20 ms.
rss() { awk '/VmRSS/ { print $2 }' "/proc/$server_pid/status"; }
rss_before=$(rss)
(while kill -0 "$server_pid" 2>/dev/null; do rss; sleep 0.02; done) >"$work/rss" &
sampler_pid=$!
start=$(date +%s.%N)
curl -sf -H "$cookie" "$base/portal/releases/$release/recipients.csv" -o "$work/export.csv"
export_seconds=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')
kill "$sampler_pid"; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=
rows=$(( $(wc -l <"$work/export.csv") - 1 ))
rss_peak=$(sort -n "$work/rss" | tail -n 1)
start=$(date +%s.%N)
psql "$url" -qc "COPY (SELECT m.recipient, m.status, m.generation, m.attempts, m.last_attempt_at, m.error_class,
  m.smtp_code, m.enhanced_code, m.smtp_reply FROM messages m WHERE m.release_id = $release AND m.company_id =
  (SELECT company_id FROM releases WHERE id = $release) ORDER BY m.recipient) TO STDOUT (FORMAT csv)" >"$work/copy.csv"
copy_seconds=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')
printf 'CSV export      %d rows in %.3f s: %.0f rows/s; %s MiB of body\n' "$rows" "$export_seconds" \
  "$(awk -v r="$rows" -v s="$export_seconds" 'BEGIN { print r / s }')" "$(awk -v b="$(wc -c <"$work/export.csv")" 'BEGIN { printf "%.1f", b / 1048576 }')"
printf 'COPY (ceiling)  %d rows in %.3f s: %.0f rows/s; export/ceiling %s\n' "$(wc -l <"$work/copy.csv")" "$copy_seconds" \
  "$(awk -v r="$rows" -v s="$copy_seconds" 'BEGIN { print r / s }')" "$(ratio "$copy_seconds" "$export_seconds")"
printf 'server memory   %d KiB before, %d KiB peak during the export (+%d KiB)\n' "$rss_before" "$rss_peak" "$((rss_peak - rss_before))"
