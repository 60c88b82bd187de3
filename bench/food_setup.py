"""Sets up the food-safety benchmarks against a running server (stdlib only).

    python3 bench/food_setup.py URL CSV OUTDIR

Signs in as the demo admin, issues ten batches of 1,000 seals to catering
businesses taken from the generated CSV, binds every other seal to an order
through an API token (as a delivery platform would), and writes:
  OUTDIR/seal-paths.txt    /api/public/v1/seals/{code} for every seal
  OUTDIR/forged-paths.txt  the same codes with the last symbol changed
  OUTDIR/gateway.token     an API token allowed to post camera heartbeats
"""
import csv, http.cookiejar, json, sys, urllib.request

url, csv_path, out = sys.argv[1], sys.argv[2], sys.argv[3]
jar = http.cookiejar.CookieJar()
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
csrf = None


def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if csrf and not token:
        headers["X-CSRF-Token"] = csrf
    if token:
        headers["Authorization"] = "Bearer " + token
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method, headers=headers)
    o = urllib.request.build_opener() if token else opener
    with o.open(req) as r:
        return json.loads(r.read() or b"null")


csrf = call("POST", "/api/v1/auth/login", {"username": "admin", "password": "Hongdun@2026"})["csrf_token"]
firms = []
with open(csv_path, encoding="utf-8") as f:
    for row in csv.DictReader(f):
        if row["行业代码"].startswith("H62") and row["登记状态"] == "存续" and row["统一社会信用代码"]:
            firms.append(row["统一社会信用代码"])
        if len(firms) == 10:
            break
platform = call("POST", "/api/v1/system/tokens",
                {"name": "外卖平台（压测）", "permissions": ["food:seal:bind"], "expires_in_days": 1})["secret"]
gateway = call("POST", "/api/v1/system/tokens",
               {"name": "视频网关（压测）", "permissions": ["food:camera:heartbeat"], "expires_in_days": 1})["secret"]
codes = []
for uscc in firms:
    b = call("POST", "/api/v1/seal-batches", {"uscc": uscc, "count": 1000})
    seals = call("GET", "/api/v1/seal-batches/%d" % b["id"])["seals"]
    for s in seals:
        codes.append(s["code"])
        if s["serial"] % 2 == 0:
            call("POST", "/api/v1/seals/%s/bind" % s["code"],
                 {"order_no": "MT%d%05d" % (b["id"], s["serial"]), "platform": "美团外卖"}, token=platform)
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
with open(out + "/seal-paths.txt", "w") as f:
    for c in codes:
        f.write("/api/public/v1/seals/%s\n" % c)
with open(out + "/forged-paths.txt", "w") as f:
    for c in codes:
        # Change a symbol of the tag (the last one also holds a padding bit).
        sym = alphabet[(alphabet.index(c[15]) + 1) % 32]
        f.write("/api/public/v1/seals/%s%s%s\n" % (c[:15], sym, c[16:]))
with open(out + "/gateway.token", "w") as f:
    f.write(gateway)
print("%d seals, %d bound" % (len(codes), len(codes) // 2))
