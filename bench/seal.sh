#!/usr/bin/env bash
# Public delivery-seal check under load from wrk on loopback (issue 8: goal
# ≥ 20k verifications/s at p99 < 10 ms), then heartbeats of a province-scale
# camera fleet (100k cameras, one beat a minute = 1,667 beats/s).
#
#   bench/seal.sh [ROWS]     businesses in the register, default 100000 (a county)
#
# Serves a fresh database with the public rate limit switched off
# (HONGDUN_PUBLIC_RATE_PER_MINUTE=0, else wrk would get 429s); issues 10 batches
# of 1,000 seals, binds half of them to orders (bench/food_setup.py); runs wrk
# over the genuine codes and over forged ones; then registers 100,000 cameras
# straight into the database (setup only) and posts heartbeats as gateways do,
# 500 random cameras a request, with 8 connections.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/hongdun}
DIR=${BENCH_DIR:-target/bench}
ROWS=${1:-100000}
DURATION=${DURATION:-20s}
CONNS=${CONNS:-64}
PORT=18091
mkdir -p "$DIR"
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null  # Debian's wrk when missing
DB="$DIR/seal-$ROWS.db"
CSV="$DIR/entities-$ROWS.csv"
[ -f "$CSV" ] || "$BIN" gen entities --rows "$ROWS" --seed 1 --out "$CSV" >/dev/null
rm -f "$DB" "$DB-wal" "$DB-shm"
"$BIN" --db "sqlite://$DB" --log warn demo --no-serve --entities 0 >/dev/null
"$BIN" --db "sqlite://$DB" --log warn import entities "$CSV" >/dev/null
# 100,000 cameras, one per business (setup, not the product's path).
sqlite3 "$DB" "INSERT INTO camera (device_id, entity_id, unit_id, channel, place, installed_minute, created_at)
  SELECT printf('3310230000131%07d', n), id, unit_id, 1, 'kitchen', 0, '2026-01-01T00:00:00+00:00'
  FROM (SELECT id, unit_id, ROW_NUMBER() OVER (ORDER BY id) AS n FROM entity WHERE unit_id IS NOT NULL) WHERE n <= 100000;"

HONGDUN_PUBLIC_RATE_PER_MINUTE=0 "$BIN" --db "sqlite://$DB" --log warn serve --bind 127.0.0.1:$PORT >"$DIR/seal-server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf http://127.0.0.1:$PORT/healthz >/dev/null && break; sleep 0.2; done
python3 bench/food_setup.py "http://127.0.0.1:$PORT" "$CSV" "$DIR" >&2
# Warm the caches (keys, batches, the camera list) as a server in service is.
curl -s "http://127.0.0.1:$PORT$(head -1 "$DIR/seal-paths.txt")" >/dev/null

run() { # paths file, label, [script, connections]
  PATHS="$1" wrk -t2 -c"${4:-$CONNS}" -d"$DURATION" --latency -s "${3:-bench/lookup.lua}" http://127.0.0.1:$PORT >"$DIR/wrk.out"
  rps=$(grep 'Requests/sec' "$DIR/wrk.out" | awk '{print $2}')
  p50=$(grep -E '^ +50%' "$DIR/wrk.out" | awk '{print $2}')
  p99=$(grep -E '^ +99%' "$DIR/wrk.out" | awk '{print $2}')
  errs=$(grep -E 'Non-2xx|Socket errors' "$DIR/wrk.out" | tr '\n' ' ' || true)
  printf '| %s | %s | %s | %s | %s |\n' "$2" "$rps" "$p50" "$p99" "${errs:-none}"
}
printf '| request | requests/s | p50 | p99 | errors |\n|---|---:|---:|---:|---|\n'
run "$DIR/seal-paths.txt" "GET /api/public/v1/seals/{code}, genuine, first run after setup"
run "$DIR/seal-paths.txt" "GET /api/public/v1/seals/{code}, genuine, second run"
run "$DIR/forged-paths.txt" "GET /api/public/v1/seals/{code}, forged (422 expected)"
TOKEN=$(cat "$DIR/gateway.token") PATHS=/dev/null run /dev/null "POST /api/v1/cameras/heartbeats, 500 beats a request" bench/heartbeat.lua 8
sleep 3 # the last scans are flushed
scans=$(sqlite3 "$DB" "SELECT COALESCE(SUM(scans), 0) FROM seal_use")
words=$(sqlite3 "$DB" "SELECT COUNT(*) FROM camera_beat")
echo "scans written: $scans; camera-hour words: $words" >&2
