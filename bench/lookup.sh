#!/usr/bin/env bash
# Public lookup under load from wrk on loopback: by credit code, and by name.
#
#   bench/lookup.sh [ROWS]      default 1000000; the issue's figure is for 10000000
#
# Builds (or reuses) a database of ROWS generated entities, serves it with the
# public rate limit switched off (HONGDUN_PUBLIC_RATE_PER_MINUTE=0: the limit
# would otherwise answer 429 to the load generator), and runs wrk twice.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/hongdun}
DIR=${BENCH_DIR:-target/bench}
ROWS=${1:-1000000}
DURATION=${DURATION:-20s}
CONNS=${CONNS:-64}
mkdir -p "$DIR"
DB="$DIR/lookup-$ROWS.db"
CSV="$DIR/entities-$ROWS.csv"
[ -f "$CSV" ] || "$BIN" gen entities --rows "$ROWS" --seed 1 --out "$CSV" >/dev/null
if [ ! -f "$DB" ]; then
  "$BIN" --db "sqlite://$DB" --log warn demo --no-serve --entities 0 >/dev/null
  "$BIN" --db "sqlite://$DB" --log warn import entities "$CSV" >/dev/null
fi
# 100k random credit codes, and two-character trade words as name queries.
tail -n +2 "$CSV" | cut -d, -f1 | shuf -n 100000 --random-source=<(yes) | sed 's|^|/api/public/v1/merchants/|' >"$DIR/codes.txt"
# wrk sends the path as given: percent-encode the Chinese query words.
python3 -c '
import urllib.parse
for q in "面馆 超市 饭店 便利店 理发 药店 水果 服装 手机 维修 奶茶 小吃 鑫达 恒丰 阿强 老王 机械 货运 咨询 食品".split():
    print("/api/public/v1/merchants?q=" + urllib.parse.quote(q))
' >"$DIR/names.txt"

HONGDUN_PUBLIC_RATE_PER_MINUTE=0 "$BIN" --db "sqlite://$DB" --log warn serve --bind 127.0.0.1:18090 >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:18090/healthz >/dev/null && break; sleep 0.2; done

run() { # label, paths file
  PATHS="$1" wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s bench/lookup.lua http://127.0.0.1:18090 >"$DIR/wrk.out"
  rps=$(grep 'Requests/sec' "$DIR/wrk.out" | awk '{print $2}')
  p50=$(grep -E '^ +50%' "$DIR/wrk.out" | awk '{print $2}')
  p99=$(grep -E '^ +99%' "$DIR/wrk.out" | awk '{print $2}')
  errs=$(grep -E 'Non-2xx|Socket errors' "$DIR/wrk.out" | tr '\n' ' ' || true)
  printf '| %s | %s | %s | %s | %s | %s |\n' "$ROWS" "$2" "$rps" "$p50" "$p99" "${errs:-none}"
}
printf '| entities | request | requests/s | p50 | p99 | errors |\n|---:|---|---:|---:|---:|---|\n'
run "$DIR/codes.txt" "GET /api/public/v1/merchants/{uscc}"
run "$DIR/names.txt" "GET /api/public/v1/merchants?q=<two characters>"
