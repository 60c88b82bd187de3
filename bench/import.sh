#!/usr/bin/env bash
# Import throughput and peak memory: `hongdun import entities` against the
# sqlite3 shell's `.import` of the same CSV into a bare table, in the same run.
#
#   bench/import.sh [ROWS ...]        default: 1000000
#
# Needs a release build (`cargo build --release -p hongdun`), sqlite3 and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/hongdun}
DIR=${BENCH_DIR:-target/bench}
mkdir -p "$DIR"
[ $# -gt 0 ] || set -- 1000000

field() { grep "$1" "$2" | sed 's/.*: //'; }
secs() { # "m:ss.cc" or "h:mm:ss" → seconds
  awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"
}

printf '| rows | tool | seconds | rows/s | peak RSS (MiB) | database (MiB) |\n|---:|---|---:|---:|---:|---:|\n'
for ROWS in "$@"; do
  CSV="$DIR/entities-$ROWS.csv"
  [ -f "$CSV" ] || "$BIN" gen entities --rows "$ROWS" --seed 1 --out "$CSV" >/dev/null

  rm -f "$DIR"/h.db*
  # The demo county gives the importer units to route entities to.
  "$BIN" --db "sqlite://$DIR/h.db" --log warn demo --no-serve --entities 0 >/dev/null
  /usr/bin/time -v "$BIN" --db "sqlite://$DIR/h.db" --log warn import entities "$CSV" >"$DIR/hongdun.out" 2>"$DIR/hongdun.time"
  t=$(secs "$(field 'Elapsed (wall clock)' "$DIR/hongdun.time")")
  rss=$(field 'Maximum resident set size' "$DIR/hongdun.time")
  size=$(du -m "$DIR/h.db" | cut -f1)
  printf '| %s | hongdun import (validated, indexed, history) | %.1f | %.0f | %d | %s |\n' "$ROWS" "$t" "$(echo "$ROWS/$t" | bc -l)" "$((rss/1024))" "$size"

  rm -f "$DIR"/bare.db*
  /usr/bin/time -v sqlite3 "$DIR/bare.db" ".mode csv" ".import $CSV bare" 2>"$DIR/sqlite3.time"
  t2=$(secs "$(field 'Elapsed (wall clock)' "$DIR/sqlite3.time")")
  rss2=$(field 'Maximum resident set size' "$DIR/sqlite3.time")
  size2=$(du -m "$DIR/bare.db" | cut -f1)
  printf '| %s | sqlite3 .import (bare table) | %.1f | %.0f | %d | %s |\n' "$ROWS" "$t2" "$(echo "$ROWS/$t2" | bc -l)" "$((rss2/1024))" "$size2"
  printf '| %s | ratio hongdun / sqlite3 | %.2f× | | | |\n' "$ROWS" "$(echo "$t/$t2" | bc -l)"
done
