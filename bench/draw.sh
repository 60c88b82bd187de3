#!/usr/bin/env bash
# A random-inspection draw over a large register, end to end: a generated
# register of ROWS businesses (default 10,000,000) with four credit-risk classes,
# a plan with per-class ratios and a pool of 20 inspectors, and the time of
# `hongdun draw run --plan ID` (the same code as the API's draw) on a release
# build. Its log line "draw done" splits it into reading the candidates, the
# draw itself (tickets, quotas, teams) and storing it (frozen list, tasks, teams).
# The plan, items and inspectors are set up through the API of a running server.
#
#   RATIOS='{"A":300,"B":500,"C":2000,"D":6000}' (basis points per class) to change the plan.
#
#   bench/draw.sh [ROWS]
#
# Needs a release build (`cargo build --release -p hongdun`), python3 and sqlite3.
# The register is generated and imported once into $BENCH_DIR/draw-ROWS.db
# (10M rows: ~10 minutes); each run copies it, so every draw starts from a plan
# in draft.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/hongdun}
DIR=${BENCH_DIR:-target/bench}
ROWS=${1:-10000000}
PORT=${PORT:-18431}
mkdir -p "$DIR"
BASE="$DIR/draw-$ROWS.db"
if [ ! -f "$BASE" ]; then
  CSV="$DIR/entities-$ROWS.csv"
  [ -f "$CSV" ] || "$BIN" gen entities --rows "$ROWS" --seed 1 --out "$CSV" >/dev/null
  rm -f "$BASE".tmp*
  "$BIN" --db "sqlite://$BASE.tmp" --log warn demo --no-serve --entities 0 >/dev/null
  "$BIN" --db "sqlite://$BASE.tmp" --log warn import entities "$CSV" >/dev/null
  "$BIN" --db "sqlite://$BASE.tmp" --log warn migrate >/dev/null
  # Classes by a fixed rule: A 20%, B 60% (NULL counts as B), C 15%, D 5%.
  sqlite3 "$BASE.tmp" "UPDATE entity SET risk_class = CASE WHEN id % 20 < 4 THEN 'A' WHEN id % 20 < 16 THEN NULL WHEN id % 20 < 19 THEN 'C' ELSE 'D' END; PRAGMA wal_checkpoint(TRUNCATE);"
  mv "$BASE.tmp" "$BASE"
fi
# New migrations (indexes) are applied to the prepared register once, not per run.
"$BIN" --db "sqlite://$BASE" --log warn migrate >/dev/null
sqlite3 "$BASE" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null
RUN="$DIR/draw-run.db"
rm -f "$RUN"*
cp "$BASE" "$RUN"
sync  # the copy written back before timing, so it does not compete with the read
HONGDUN_LOG=info "$BIN" --db "sqlite://$RUN" serve --bind "127.0.0.1:$PORT" >"$DIR/draw-server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done

RATIOS=${RATIOS:-'{"A": 50, "B": 100, "C": 300, "D": 1000}'}
PLAN=$(python3 - "$PORT" "$RATIOS" <<'PY'
import http.cookiejar, json, sys, urllib.request
port, ratios = sys.argv[1], json.loads(sys.argv[2])
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
csrf = None
def call(method, path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"content-type": "application/json", **({"x-csrf-token": csrf} if csrf else {})})
    with op.open(req, timeout=600) as r:
        return json.load(r)
csrf = call("POST", "/api/v1/auth/login", {"username": "admin", "password": "Hongdun@2026"})["csrf_token"]
units = call("GET", "/api/v1/system/units")
units = units.get("items", units)
offices = [u for u in units if u["kind"] == "office"]
section = next(u for u in units if u["kind"] == "section")
users = {u["username"]: u["id"] for u in call("GET", "/api/v1/system/users?per_page=500")["items"]}
pool = []
for i in range(20):
    name = f"bench_ins{i}"
    if name not in users:
        users[name] = call("POST", "/api/v1/system/users", {"username": name, "display_name": f"检查员{i}",
            "unit_id": offices[i % len(offices)]["id"], "cert_no": f"3310239{i:04}",
            "password": "Aa-12345678", "role_codes": ["inspector"]})["id"]
    pool.append(users[name])
item = call("POST", "/api/v1/inspection/items", {"code": "BENCH-1", "name": "营业执照及许可证公示",
    "department_id": section["id"], "legal_basis": "《市场主体登记管理条例》第三十六条"})
plan = call("POST", "/api/v1/inspection/plans", {"name": "全省双随机抽查（基准）", "items": [item["id"]],
    "sampling": {"mode": "ratio", "ratios": ratios}, "team_size": 2, "pool": pool})
print(plan["id"])
PY
)
kill $SERVER; wait $SERVER 2>/dev/null || true
/usr/bin/time -v ${WRAP:-} "$BIN" --db "sqlite://$RUN" --log "${DRAW_LOG:-info}" draw run --plan "$PLAN" --seed 20261123 >"$DIR/draw-run.out" 2>"$DIR/draw-run.err"
sed 's/\x1b\[[0-9;]*m//g' "$DIR/draw-run.err" | grep -o 'candidates=[0-9]* picks=[0-9]* read_ms=[0-9]* draw_ms=[0-9]* store_ms=[0-9]*' || cat "$DIR/draw-run.err"
grep '抽取完成' "$DIR/draw-run.out"
echo "peak RSS $(( $(grep 'Maximum resident' "$DIR/draw-run.err" | sed 's/.*: //') / 1024 )) MiB; ratios $RATIOS"
