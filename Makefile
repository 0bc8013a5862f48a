# Two commands matter to a new user: `make run` and `make test`. Everything else is what they call.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PROTOS := $(wildcard protos/booking/v1/*.proto)
GEN    := clients/booking/v1
# The descriptor set with source info (comments): reflection serves it, docs/api.md is made from it.
DESCRIPTORS := $(GEN)/booking.binpb
TS     := clients/ts
TS_GEN := $(TS)/src/gen
# `npm ci` writes this file; it is newer than package-lock.json once the dependencies are installed.
NODE_STAMP := $(TS)/node_modules/.package-lock.json
# Where the pinned googleapis-common-protos keeps google/rpc/*.proto (read once the venv exists).
RPC_PROTOS = $(shell $(BIN)/python -c 'import google.rpc, pathlib; print(pathlib.Path(google.rpc.__path__[0]).parents[1])')

.PHONY: install run test unit lint generate check-generated bench bench-smoke chaos clean credentials

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The TypeScript client's pinned dependencies (Node >= 20): code generator, compiler, runtime.
$(NODE_STAMP): $(TS)/package-lock.json $(TS)/package.json
	cd $(TS) && npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

## Serve both services; with no BOOKING_DATABASE_URL an embedded PostgreSQL under ./.booking-data.
run: $(STAMP)
	$(BIN)/booking-service serve

## Throwaway CA, server and client certificates, JWT key, JWKS and env files under ./.credentials,
## for trying the jwt and mtls modes locally (README: Authentication). Never for production.
CREDENTIALS ?= .credentials
credentials: $(STAMP)
	$(BIN)/python -m tools.credentials make $(CREDENTIALS)

## Regenerate from the protos: Python code and mypy stubs, the descriptor set, the TypeScript
## client (buf generate with protoc-gen-es), and docs/api.md from the descriptor set's comments.
generate: $(STAMP) $(NODE_STAMP)
	rm -rf $(GEN) && mkdir -p $(GEN)
	$(BIN)/python -m grpc_tools.protoc -I protos \
	  --plugin=protoc-gen-mypy=$(BIN)/protoc-gen-mypy --plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc \
	  --python_out=clients --grpc_python_out=clients \
	  --mypy_out=clients --mypy_grpc_out=clients \
	  --descriptor_set_out=$(DESCRIPTORS) --include_source_info --include_imports $(PROTOS)
	touch clients/booking/__init__.py $(GEN)/__init__.py $(GEN)/py.typed
	rm -rf $(TS_GEN)
	$(BIN)/buf generate --template buf.gen.yaml
	# google.rpc error details (ErrorInfo, BadRequest) from the pinned googleapis-common-protos.
	$(BIN)/buf generate $(RPC_PROTOS) --template buf.gen.yaml --path $(RPC_PROTOS)/google/rpc/error_details.proto
	$(BIN)/python tools/api_reference.py $(DESCRIPTORS) > docs/api.md

## Fails when the committed generated code differs from what the protos produce.
GENERATED := clients/booking $(TS_GEN) docs/api.md
check-generated: generate
	git diff --exit-code --stat -- $(GENERATED)
	test -z "$$(git status --porcelain -- $(GENERATED))"

lint: $(STAMP) $(NODE_STAMP)
	$(BIN)/hadolint Dockerfile
	$(BIN)/buf lint
	$(BIN)/buf format --diff --exit-code
	$(BIN)/buf breaking --against '.git#branch=main'
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy server clients/booking_client tools
	$(BIN)/lint-imports
	$(BIN)/kubernetes-validate --quiet --strict --kubernetes-version 1.30.0 deploy/kubernetes/*.yaml
	cd $(TS) && npm run --silent build

## The whole suite: lint, generated-code drift, unit, integration, api and e2e tests.
test: $(STAMP) $(NODE_STAMP) check-generated lint
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

## About 4 minutes: floors, 2,000-trainer world, 500/5,000 scale runs, on the default configuration
## (directory cache off). BENCH_ARGS="--directory-cache-ttl 5" measures a cache, BENCH_ARGS=--profile adds py-spy.
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

## About 40 s: 50 trainers, 3 s at 4 callers (also run by `make test`, tests/e2e/test_bench_smoke.py).
bench-smoke: $(STAMP)
	$(BIN)/python -m bench.run --smoke

## About 5 minutes: overload waves, backends terminated, PostgreSQL restarted, kill -9 of a replica,
## against two real replicas on an embedded PostgreSQL; prints a table and fails on any finding.
chaos: $(STAMP)
	$(BIN)/python -m chaos.run

clean:
	rm -rf $(VENV) .booking-data .credentials .pytest_cache .mypy_cache .ruff_cache $(TS)/node_modules $(TS)/dist
