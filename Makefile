# Hongdun (红盾): the two commands a newcomer needs are `make demo` and `make test`.
CARGO ?= cargo
BIND ?= 127.0.0.1:8080

.PHONY: demo test build lint fmt clean

## Builds everything, creates the demo county (天台县) and serves it, printing the logins.
demo:
	$(CARGO) build --release -p hongdun
	./target/release/hongdun demo --bind $(BIND)

## Every test suite: unit and property tests, the conformance suite on SQLite and
## (when HONGDUN_TEST_PG_URL is set) PostgreSQL, the HTTP API and the CLI.
test: lint
	$(CARGO) test --workspace --no-fail-fast

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

build:
	$(CARGO) build --release -p hongdun

fmt:
	$(CARGO) fmt --all

clean:
	$(CARGO) clean
	rm -f hongdun-demo.db hongdun-demo.db-wal hongdun-demo.db-shm
