#!/usr/bin/env bash
# Benchmark: redelivery of MESSAGES messages (default 100,000) from PostgreSQL to a local SMTP
# sink (`examples/smtp_sink.rs`), by 1 and by 4 `statusdesk dispatch` processes, each against
# the ceiling measured in the same run: `examples/send_loop.rs`, the dispatcher's own sending
# path (the same messages, the same number of pooled connections, as many messages going at
# once) with no database. Prints messages/s and the ratio dispatch/ceiling (target: 0.7), and
# how many connections the sink saw. Figures go to BENCHMARKS.md.
#
# Two placements: everything sharing the machine's cores, then (as root, with taskset) the
# database's processes on CPU 1 and the sending side — the sink with the dispatchers, or with
# the ceiling — on CPU 0, as when the database has a server of its own. PIN=0 skips the second.
#
#   bench/redelivery.sh      MESSAGES=100000 CONNECTIONS=4 IN_FLIGHT=16 PG_SERVER=postgres://postgres@127.0.0.1:5432 PIN=1
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

MESSAGES="${MESSAGES:-100000}"
CONNECTIONS="${CONNECTIONS:-4}"   # SMTP connections of each dispatcher (its default)
IN_FLIGHT="${IN_FLIGHT:-16}"      # messages each dispatcher keeps going at once (its default)
PORT="${PORT:-12525}"
PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
PIN="${PIN:-$([ "$(id -u)" = 0 ] && echo 1 || echo 0)}"
DB=statusdesk_redelivery_bench
url="$PG_SERVER/$DB"

cargo build --release --locked -p statusdesk --bin statusdesk --example smtp_sink --example send_loop
bin=target/release/statusdesk
work="$(mktemp -d)"
all_cpus="0-$(($(nproc) - 1))"
# Moves every process of the local PostgreSQL server (new backends inherit the postmaster's).
pin_database() { for pid in $(pgrep -x postgres); do taskset -a -p -c "$1" "$pid" >/dev/null; done; }
cleanup() {
  [ "$PIN" = 1 ] && pin_database "$all_cpus" 2>/dev/null || true
  [ -n "${sink_pid:-}" ] && kill "$sink_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

target/release/examples/smtp_sink "$PORT" >"$work/sink.out" &
sink_pid=$!
sleep 0.5

# A fresh database holding one release of MESSAGES unsent messages and one request for all.
prepare() {
  psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB" 2>/dev/null
  psql "$PG_SERVER/postgres" -qc "CREATE DATABASE $DB"
  "$bin" migrate --database-url "$url" 2>/dev/null
  psql "$url" -q <<SQL
INSERT INTO companies (id, slug, name, language, created_at) VALUES (1, 'acme', 'Acme', 'ja', now());
INSERT INTO releases (id, company_id, title, sender_address, sender_is_default, recipient_source, created_at, sent_at)
  VALUES (1, 1, 'Spring launch', 'press@acme.bench', false, 'import_list', now(), now());
INSERT INTO release_contents VALUES (1, 'Spring launch', 'Spring launch

This release was sent by press@acme.bench.');
INSERT INTO messages (id, company_id, release_id, recipient, route, status, error_class, attempts, generation, queued_at)
  SELECT n, 1, 1, 'reader' || n || '@media.bench', 'cloud', 'not_sent', 'sender_domain_unverified', 1, 0, now()
  FROM generate_series(1, $MESSAGES) n;
INSERT INTO redelivery_requests (id, company_id, release_id, idempotency_key, status, created_at)
  VALUES (1, 1, 1, 'bench', 'pending', now());
INSERT INTO redelivery_items (request_id, message_id, generation, status, attempts, next_attempt_at, updated_at)
  SELECT 1, n, 1, 'queued', 0, now(), now() FROM generate_series(1, $MESSAGES) n;
ANALYZE;
SQL
}

seconds_since() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN { print a - b }'; }

# One placement: 1 and then 4 dispatchers, each against its ceiling. $1 names the placement;
# $sending prefixes the commands of the sending side.
measure() {
  for dispatchers in 1 4; do
    prepare
    start=$(date +%s.%N)
    for _ in $(seq 1 "$dispatchers"); do
      RUST_LOG=warn $sending "$bin" dispatch --database-url "$url" --smtp-url "smtp://127.0.0.1:$PORT" \
        --smtp-connections "$CONNECTIONS" --in-flight "$IN_FLIGHT" --until-idle 2>>"$work/dispatch.log" &
    done
    wait $(jobs -p | grep -v "^$sink_pid$")
    elapsed=$(seconds_since "$start")
    sent=$(psql "$url" -qAtc "SELECT COUNT(*) FROM redelivery_items WHERE status = 'sent'")
    [ "$sent" -eq "$MESSAGES" ] || { echo "only $sent of $MESSAGES sent" >&2; exit 1; }
    connections=$((dispatchers * CONNECTIONS))
    read -r _ _ ceiling < <($sending target/release/examples/send_loop "smtp://127.0.0.1:$PORT" "$MESSAGES" "$connections" "$((dispatchers * IN_FLIGHT))")
    rate=$(awk -v n="$MESSAGES" -v s="$elapsed" 'BEGIN { printf "%.0f", n / s }')
    printf '%s, %d dispatcher(s): %6d messages in %7.2f s = %6d msg/s; ceiling, sending alone (%d connection(s)): %6d msg/s; ratio %.2f\n' \
      "$1" "$dispatchers" "$MESSAGES" "$elapsed" "$rate" "$connections" "$ceiling" "$(awk -v a="$rate" -v b="$ceiling" 'BEGIN { print a / b }')"
  done
}

sending=""
measure "cores shared"
if [ "$PIN" = 1 ]; then
  pin_database 1
  taskset -a -p -c 0 "$sink_pid" >/dev/null
  sending="taskset -c 0"
  measure "database on CPU 1, sending on CPU 0"
  pin_database "$all_cpus"
fi
psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS $DB"
kill "$sink_pid" && wait "$sink_pid" || true
sink_pid=
read -r accepted connections <"$work/sink.out"
echo "the sink accepted $accepted messages over $connections connections in all"
