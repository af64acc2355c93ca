#!/usr/bin/env bash
# Benchmark: the reference-incident replay loaded at a given scale (default 1: 14,012,784
# messages in the window) into PostgreSQL and into SQLite, then the reference impact query on
# each. Prints rows/s of each load, and the impact query's time against a baseline measured in
# the same run: `impact` over a one-minute window, which is the fixed cost of starting the
# process, connecting and checking the schema. Targets: the PostgreSQL load under 180 s, the
# PostgreSQL impact under 1 s. Figures go to BENCHMARKS.md.
#
#   bench/replay.sh                  SCALE=1 RUNS=5 BACKENDS="postgres sqlite"
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"

SCALE="${SCALE:-1}"
RUNS="${RUNS:-5}"
BACKENDS="${BACKENDS:-postgres sqlite}"
PG_SERVER="${PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
FROM=2021-02-24T21:00:00+09:00
TO=2021-03-01T17:35:00+09:00

cargo build --release --locked -p statusdesk
bin=target/release/statusdesk
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Median wall-clock seconds of RUNS runs of a command.
median() {
  local times=()
  for _ in $(seq 1 "$RUNS"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null
    end=$(date +%s.%N)
    times+=("$(awk -v a="$end" -v b="$start" 'BEGIN { print a - b }')")
  done
  printf '%s\n' "${times[@]}" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

for backend in $BACKENDS; do
  case "$backend" in
    postgres)
      psql "$PG_SERVER/postgres" -qc "DROP DATABASE IF EXISTS statusdesk_bench" 2>/dev/null
      psql "$PG_SERVER/postgres" -qc "CREATE DATABASE statusdesk_bench"
      url="$PG_SERVER/statusdesk_bench" ;;
    sqlite) url="sqlite://$work/bench.db" ;;
    *) echo "unknown backend $backend" >&2; exit 2 ;;
  esac
  echo "== $backend: loading the replay at scale $SCALE" >&2
  start=$(date +%s.%N)
  report=$("$bin" demo-data --scale "$SCALE" --database-url "$url" 2>&1 | tail -n 1)
  load_seconds=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { print a - b }')
  echo "$report" >&2
  "$bin" impact --database-url "$url" --from "$FROM" --to "$TO" --error-class sender_domain_unverified | head -n 5 >&2
  impact=$(median "$bin" impact --database-url "$url" --from "$FROM" --to "$TO" --error-class sender_domain_unverified --format json)
  baseline=$(median "$bin" impact --database-url "$url" --from "$FROM" --to 2021-02-24T21:01:00+09:00 --format json)
  printf '%-9s load %7.1f s (%s)  impact %.3f s  baseline %.3f s  impact/baseline %.1f\n' \
    "$backend" "$load_seconds" "$(echo "$report" | grep -o '[0-9]* rows/s')" "$impact" "$baseline" "$(awk -v a="$impact" -v b="$baseline" 'BEGIN { print a / b }')"
  [ "$backend" = postgres ] && psql "$PG_SERVER/postgres" -qc "DROP DATABASE statusdesk_bench"
done
