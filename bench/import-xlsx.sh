#!/usr/bin/env bash
# Import of an XLSX export: time and peak memory of `hongdun import entities`
# reading a generated workbook (the sheet streamed a cell at a time).
#
#   bench/import-xlsx.sh [ROWS]        default: 1000000 (a sheet holds at most 1,048,575)
#   SHARED=1 bench/import-xlsx.sh [ROWS]
#
# The generator writes text cells inline. With SHARED=1 the workbook is instead
# `hongdun gen entities`'s CSV written as Excel saves it, every text in the
# shared-strings table, which the reader holds whole (bench/csv2xlsx.py; needs
# `pip install xlsxwriter`).
#
# Needs a release build (`cargo build --release -p hongdun`) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/hongdun}
DIR=${BENCH_DIR:-target/bench}
ROWS=${1:-1000000}
mkdir -p "$DIR"

if [ -n "${SHARED:-}" ]; then
  CSV="$DIR/entities-$ROWS.csv"
  [ -f "$CSV" ] || "$BIN" gen entities --rows "$ROWS" --seed 1 --out "$CSV" >/dev/null
  BOOK="$DIR/shared-$ROWS.xlsx"
  [ -f "$BOOK" ] || python3 bench/csv2xlsx.py "$CSV" "$BOOK"
else
  BOOK="$DIR/xlsx-$ROWS/entities.xlsx"
  [ -f "$BOOK" ] || "$BIN" gen --scale "$ROWS" --format xlsx --out "$DIR/xlsx-$ROWS" >/dev/null
fi

field() { grep "$1" "$2" | sed 's/.*: //'; }
secs() { awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }' <<<"$1"; }

rm -f "$DIR"/hx.db*
"$BIN" --db "sqlite://$DIR/hx.db" --log warn demo --no-serve --entities 0 >/dev/null
/usr/bin/time -v "$BIN" --db "sqlite://$DIR/hx.db" --log warn import entities "$BOOK" >"$DIR/xlsx.out" 2>"$DIR/xlsx.time"
t=$(secs "$(field 'Elapsed (wall clock)' "$DIR/xlsx.time")")
rss=$(field 'Maximum resident set size' "$DIR/xlsx.time")
printf '| rows | file (MiB) | seconds | rows/s | peak RSS (MiB) |\n|---:|---:|---:|---:|---:|\n'
printf '| %s | %s | %.1f | %.0f | %d |\n' "$ROWS" "$(du -m "$BOOK" | cut -f1)" "$t" "$(echo "$ROWS/$t" | bc -l)" "$((rss/1024))"
