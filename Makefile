# Hongdun (红盾): the two commands a newcomer needs are `make demo` and `make test`.
CARGO ?= cargo
BIND ?= 127.0.0.1:8080
NPM ?= npm
CHROMIUM ?= /usr/bin/chromium

.PHONY: demo test build lint fmt clean web web-check e2e chromium

## Builds everything (console included), creates the demo county (天台县) and
## serves it, printing the logins.
demo: web
	$(CARGO) build --release -p hongdun
	./target/release/hongdun demo --bind $(BIND)

## Every test suite: Rust (unit, property, the conformance suite on SQLite and —
## with HONGDUN_TEST_PG_URL — PostgreSQL, the HTTP API, the CLI), the console's
## type check, lint and unit tests, and the end-to-end tests in headless Chromium.
test: lint web web-check
	$(CARGO) test --workspace --no-fail-fast
	$(MAKE) e2e

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

## The console: installs the locked npm packages when the lock file changed,
## type-checks and builds into web/dist (embedded by release builds).
web: web/node_modules/.installed
	cd web && $(NPM) run build

web/node_modules/.installed: web/package.json web/package-lock.json
	cd web && $(NPM) ci --no-audit --no-fund
	touch $@

web-check: web/node_modules/.installed
	cd web && npx vue-tsc --noEmit && npx eslint src e2e && npx vitest run

## End-to-end: the debug `hongdun` binary (built by cargo test) and Debian's Chromium.
e2e: chromium
	$(CARGO) build -p hongdun
	cd web && CHROMIUM=$(CHROMIUM) node e2e/run.mjs

## Debian's Chromium for the browser tests (no browser downloads from a CDN), and
## CJK fonts so the screenshots show Chinese text.
chromium:
	@{ test -x $(CHROMIUM) && fc-list 2>/dev/null | grep -q "CJK"; } || { \
	  echo "installing Debian's chromium and fonts-noto-cjk for the e2e tests"; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-cjk >/dev/null || \
	  { echo "cannot install them: run 'apt-get install chromium fonts-noto-cjk' as root" >&2; exit 1; }; }

build: web
	$(CARGO) build --release -p hongdun

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -rf web/dist web/node_modules
	rm -f hongdun-demo.db hongdun-demo.db-wal hongdun-demo.db-shm
