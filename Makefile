# Two commands matter to a new user: `make run` and `make test`. Everything else is what they call.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTOS := $(wildcard protos/booking/v1/*.proto)
GEN    := clients/booking/v1

.PHONY: install run test unit lint generate check-generated bench bench-smoke clean credentials

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Serve both services; with no BOOKING_DATABASE_URL an embedded PostgreSQL under ./.booking-data.
run: $(STAMP)
	$(BIN)/booking-service serve

## Throwaway CA, server and client certificates, JWT key, JWKS and env files under ./.credentials,
## for trying the jwt and mtls modes locally (README: Authentication). Never for production.
CREDENTIALS ?= .credentials
credentials: $(STAMP)
	$(BIN)/python -m tools.credentials make $(CREDENTIALS)

## Regenerate Python code and mypy stubs from the protos.
generate: $(STAMP)
	rm -rf $(GEN) && mkdir -p $(GEN)
	$(BIN)/python -m grpc_tools.protoc -I protos \
	  --plugin=protoc-gen-mypy=$(BIN)/protoc-gen-mypy --plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc \
	  --python_out=clients --grpc_python_out=clients \
	  --mypy_out=clients --mypy_grpc_out=clients $(PROTOS)
	touch clients/booking/__init__.py $(GEN)/__init__.py $(GEN)/py.typed

## Fails when the committed generated code differs from what the protos produce.
check-generated: generate
	git diff --exit-code --stat -- clients/booking
	test -z "$$(git status --porcelain -- clients/booking)"

lint: $(STAMP)
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code
	$(BIN)/buf breaking --against '.git#branch=main'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy server clients/booking_client
	$(BIN)/lint-imports
	$(BIN)/kubernetes-validate --quiet --strict --kubernetes-version 1.30.0 deploy/kubernetes/*.yaml

## The whole suite: lint, generated-code drift, unit, integration, api and e2e tests.
test: $(STAMP) check-generated lint
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

## About 3 minutes: floors, 2,000-trainer world, 500/5,000 scale runs. Runs with the recommended
## directory cache TTL (5 s); BENCH_ARGS= measures the default (cache off), BENCH_ARGS=--profile adds py-spy.
BENCH_ARGS ?= --directory-cache-ttl 5
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## A few seconds: 50 trainers, 3 s at 4 callers (also run by `make test`, tests/e2e/test_bench_smoke.py).
bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke

clean:
	rm -rf $(VENV) .booking-data .credentials .pytest_cache .mypy_cache .ruff_cache
