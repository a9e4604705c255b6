# Junction's developer commands. `make help` lists them.
SHELL := /usr/bin/env bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

# Project-local PostgreSQL clusters (scripts/localpg.sh): one for `make run`, a faster, non-durable one for tests.
DEV_PG_PORT  ?= 54329
TEST_PG_PORT ?= 54330
# PgBouncer in transaction pooling mode in front of the test cluster (scripts/localpgbouncer.sh).
TEST_PGBOUNCER_PORT ?= 6433
TEST_PG_OPTS := -c fsync=off -c synchronous_commit=off -c full_page_writes=off
# A project-local Redis for the tests of the limits shared through it (scripts/localredis.sh); `make run` uses none.
TEST_REDIS_PORT ?= 6390
GRAPHIQL_FILES := node_modules/graphiql/graphiql.min.js node_modules/graphiql/graphiql.min.css \
	node_modules/react/umd/react.production.min.js node_modules/react-dom/umd/react-dom.production.min.js
SWAGGER_UI   := node_modules/swagger-ui-dist
SWAGGER_FILES := swagger-ui-bundle.js swagger-ui-standalone-preset.js swagger-ui.css index.css \
	favicon-16x16.png favicon-32x32.png oauth2-redirect.html oauth2-redirect.js LICENSE NOTICE

.PHONY: help
help: ## List the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-16s %s\n", $$1, $$2}'

.PHONY: run
run: ## Start the service (a project-local PostgreSQL unless DATABASE_URL is set)
	@if [ -z "$${DATABASE_URL:-}" ]; then \
		url=$$(scripts/localpg.sh pgdev $(DEV_PG_PORT) junction) || exit 1; \
		export DATABASE_URL=$$url; \
		export APP_ENV=$${APP_ENV:-development}; \
	fi; \
	go build -o bin/junction ./cmd/junction; \
	echo "Junction: API http://localhost:$${PORT:-8080}/api/users  docs http://localhost:$${PORT:-8080}/docs"; \
	exec bin/junction serve

.PHONY: cluster
cluster: ## Run PostgreSQL, PgBouncer, Redis, three instances and HAProxy on loopback, HAProxy on CLUSTER_PORT (8080)
	scripts/cluster.sh

.PHONY: test
test: ## Run every test against a project-local PostgreSQL, Redis and PgBouncer (or TEST_DATABASE_URL, TEST_REDIS_URL, TEST_PGBOUNCER_URL)
	@if [ -z "$${TEST_DATABASE_URL:-}" ]; then \
		url=$$(PG_EXTRA_OPTS="$(TEST_PG_OPTS)" scripts/localpg.sh pgtest $(TEST_PG_PORT)) || exit 1; \
		export TEST_DATABASE_URL=$$url; \
	fi; \
	if [ -z "$${TEST_REDIS_URL:-}" ]; then \
		url=$$(scripts/localredis.sh redistest $(TEST_REDIS_PORT)) || exit 1; \
		export TEST_REDIS_URL=$$url; \
	fi; \
	if [ -z "$${TEST_PGBOUNCER_URL:-}" ]; then \
		url=$$(scripts/localpgbouncer.sh pgbouncertest $(TEST_PGBOUNCER_PORT) "$$TEST_DATABASE_URL") || exit 1; \
		export TEST_PGBOUNCER_URL=$$url; \
	fi; \
	go test -race -count=1 ./...

.PHONY: generate
generate: node_modules ## Regenerate gen/ from the contracts (openapi.yaml, schema.graphqls, queries/, migrations/)
	go tool oapi-codegen -config oapi-codegen.yaml openapi.yaml
	go tool sqlc generate
	go tool gqlgen generate --config gqlgen.yml
	rm -rf gen/swaggerui && mkdir -p gen/swaggerui/dist
	cp $(addprefix $(SWAGGER_UI)/,$(SWAGGER_FILES)) gen/swaggerui/dist/
	scripts/embedgen.sh gen/swaggerui swaggerui "Swagger UI's assets from the swagger-ui-dist npm package." > gen/swaggerui/embed.gen.go
	rm -rf gen/graphiql && mkdir -p gen/graphiql/dist
	cp $(GRAPHIQL_FILES) gen/graphiql/dist/
	for p in graphiql react react-dom; do cp node_modules/$$p/LICENSE gen/graphiql/dist/LICENSE-$$p; done
	scripts/embedgen.sh gen/graphiql graphiql "GraphiQL's assets from the graphiql, react and react-dom npm packages." > gen/graphiql/embed.gen.go
	cd sdk/typescript && npm ci --no-audit --no-fund --ignore-scripts >/dev/null && npm run -s generate >/dev/null
	cp schema.graphqls sdk/typescript/schema.graphql

node_modules: package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts
	@touch node_modules

.PHONY: check-generated
check-generated: generate ## Fail when gen/ or the SDK differ from what the contracts generate
	@if [ -n "$$(git status --porcelain -- gen sdk)" ]; then \
		echo "generated code is out of date with the contracts; run 'make generate' and commit:"; \
		git status --short -- gen sdk; git --no-pager diff --stat -- gen sdk; exit 1; \
	fi

BENCH_PG_PORT ?= 54331
BENCH_ARGS ?=

.PHONY: bench
bench: ## Load-test a production build with wrk against seeded data; results in docs/benchmarks.md (BENCH_ARGS=-scale 0.1)
	scripts/ensure-wrk.sh
	go build -o bin/junction ./cmd/junction
	go build -o bin/bare ./cmd/bench/bare
	url=$$(scripts/localpg.sh pgbench $(BENCH_PG_PORT)) || exit 1; \
	BENCH_ADMIN_URL=$$url go run ./cmd/bench $(BENCH_ARGS)

FUZZTIME ?= 30s

.PHONY: fuzz
fuzz: ## Fuzz the webhook verifier, the cursor decoder and request decoding, FUZZTIME each (not part of make test)
	go test -run='^$$' -fuzz='^FuzzVerify$$' -fuzztime=$(FUZZTIME) ./impl/webhook
	go test -run='^$$' -fuzz='^FuzzDecodeCursor$$' -fuzztime=$(FUZZTIME) ./impl/service
	go test -run='^$$' -fuzz='^FuzzRequestDecoding$$' -fuzztime=$(FUZZTIME) ./impl/httpapi

.PHONY: browser-test
browser-test: ## Open Swagger UI and GraphiQL in headless Chromium, offline (screenshots in artifacts/)
	scripts/ensure-chromium.sh
	@if [ -z "$${TEST_DATABASE_URL:-}" ]; then \
		url=$$(PG_EXTRA_OPTS="$(TEST_PG_OPTS)" scripts/localpg.sh pgtest $(TEST_PG_PORT)) || exit 1; \
		export TEST_DATABASE_URL=$$url; \
	fi; \
	go test -tags browser -count=1 -run 'InABrowser' ./impl/httpapi/ ./impl/graph/

.PHONY: e2e
e2e: node_modules ## Run the SDK examples and the spec-walking traffic suite through Prism against a fresh server (TEST_DATABASE_URL or the local test cluster)
	scripts/e2e.sh

.PHONY: db-stop
db-stop: ## Stop the project-local PostgreSQL clusters, Redis servers and PgBouncers
	@scripts/localpgbouncer.sh --stop
	@scripts/localpg.sh --stop
	@scripts/localredis.sh --stop

.PHONY: lint
lint: node_modules ## go vet, staticcheck and the OpenAPI lint (Redocly)
	go vet ./...
	go tool staticcheck ./...
	@# The bench runs nowhere in CI: at least its flags must parse (a flag defined twice panics at start).
	go run ./cmd/bench -h >/dev/null 2>&1
	npx --no-install redocly lint openapi.yaml
