# Herald's build and test entry points. `make test` is what CI runs.
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Go test timeout per package; the whole suite stays under 15 minutes.
TEST_TIMEOUT ?= 10m
# Fuzzing per target: a few seconds in `make test`, longer in `make fuzz`.
# `make test` counts executions rather than seconds: with a duration, Go
# 1.26's fuzz coordinator can report "context deadline exceeded" as a
# failure when the time runs out on a loaded machine (go.dev/issue/75804,
# fixed in Go 1.27); a count has no deadline to race.
FUZZ_TIME       ?= 60s
FUZZ_SHORT_TIME ?= 10000x
# The build tag that selects the portable, goroutine-per-connection
# WebSocket transport on Linux (other systems always use it; see
# gateway/ws/doc.go), and the end-to-end tests run once more with it: those
# that exercise the WebSocket layer (frames, close codes, the message cap,
# frame read timeout, lingering close, slow consumers, pings, TLS,
# shutdown) and the basic Pusher flows.
PORTABLE_WS_TAG ?= herald_portable_ws
PORTABLE_E2E    ?= ^Test(Autobahn|OversizedFrameThenMoreFramesGets1009|MessageCapFollowsAppSettings|UnfinishedFrameAttack|ServerPingsIdleClientsAndDropsSilentOnes|BinaryFrameRefused|SlowConsumerIsCutOff|ShutdownClosesWith4200|Connect(Refusals|Established)|PublicChannelDelivery|PrivateChannelAuth|PresenceMembers|ClientEvents|BadInputKeepsConnection|TLSListener|RevokedKeyAndDisabledAppCloseConnections|AckedPublish)$$

.PHONY: chaos soak cluster-test local scale test checks fmt tidy lint vet staticcheck suite gotest gotest-portable gosdktest jsdeps jstest sdktest chat-build browsertest consoletest console-screenshot chat helm fuzz-short fuzz-run fuzz-net build fuzz clean

## test: every check CI runs: formatting, go.mod tidiness, lint (vet and
## staticcheck), all Go tests with -race (fuzz seed corpora included), the
## WebSocket tests again on the portable transport, the Go SDK's vet,
## staticcheck and tests, the JavaScript end-to-end suite, the TypeScript
## SDK's tests, the chat example and the web console in Chromium, then a
## few seconds of each fuzz target.
test: checks suite fuzz-short

## suite: the Go and JavaScript tests, which fail as well when they leave
## a managed PostgreSQL cluster (/var/tmp/herald-pg-*) behind.
suite:
	@.ci/no-litter $(MAKE) --no-print-directory gotest gotest-portable gosdktest jstest sdktest browsertest consoletest

## checks: the fast ones, before any test runs.
checks: fmt tidy lint

## fmt: fails, listing them, when files are not gofmt-formatted.
fmt:
	@files=$$(git ls-files -co --exclude-standard '*.go' 2>/dev/null) || files=.; \
	out=$$("$$($(GO) env GOROOT)/bin/gofmt" -l $$files); \
	if [ -n "$$out" ]; then echo "not gofmt-formatted (run gofmt -w):"; echo "$$out"; exit 1; fi

## tidy: fails, showing the difference, when go.mod or go.sum is not what
## `go mod tidy` would write, at the root or in the Go SDK's module (sdk/go).
tidy:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum drift: run go mod tidy"; exit 1; }
	@cd sdk/go && $(GO) mod tidy -diff || { echo "sdk/go/go.mod/go.sum drift: run go mod tidy in sdk/go"; exit 1; }

## lint: go vet and staticcheck, also over the portable WebSocket transport
## (its files are not in the default Linux build).
lint: vet staticcheck

vet:
	$(GO) vet ./...
	$(GO) vet -tags herald_cluster ./internal/e2e/
	$(GO) vet -tags $(PORTABLE_WS_TAG) ./gateway/ws/...

staticcheck:
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags $(PORTABLE_WS_TAG) ./gateway/ws/...

## gotest: every Go test with -race. The JavaScript suite's packages come
## first: internal/e2e's TestTopologyJSSuite runs that suite through the
## topology's balancer, and fails when they are missing.
gotest: helm jsdeps
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

## helm: the pinned helm (deploy/helm_test.go's helmVersion) that
## go test ./deploy/ lints and renders the chart with, built from its Go
## module into the user cache folder once per machine (3 to 5 minutes cold
## on 2 cores, downloads included; then a second).
helm:
	$(GO) test -count=1 -run '^TestHelmBuilt$$' ./deploy/

## gotest-portable: the WebSocket package and the WebSocket end-to-end tests
## with the portable transport.
gotest-portable:
	$(GO) test -race -timeout $(TEST_TIMEOUT) -tags $(PORTABLE_WS_TAG) ./gateway/ws/...
	$(GO) test -race -timeout $(TEST_TIMEOUT) -tags $(PORTABLE_WS_TAG) -run '$(PORTABLE_E2E)' ./internal/e2e/

## gosdktest: the Go SDK, its own module (sdk/go): go vet, staticcheck and
## the tests with -race, whose integration tests build ./cmd/herald and run
## `herald dev` themselves (sdk/go/internal/heraldtest).
gosdktest:
	cd sdk/go && $(GO) vet ./...
	cd sdk/go && $(GO) run $(STATICCHECK) ./...
	cd sdk/go && $(GO) test -race -timeout $(TEST_TIMEOUT) ./...

## jsdeps: the JavaScript end-to-end suite's packages (npm ci in
## internal/e2e/js), installed again only when package.json or the lockfile
## changed; npm ci writes node_modules/.package-lock.json last.
JS_E2E := internal/e2e/js
jsdeps: $(JS_E2E)/node_modules/.package-lock.json

$(JS_E2E)/node_modules/.package-lock.json: $(JS_E2E)/package.json $(JS_E2E)/package-lock.json
	cd $(JS_E2E) && npm ci --no-audit --no-fund
	@touch $@

## jstest: the end-to-end suite with real, unmodified pusher-js, Laravel Echo
## and the `pusher` server SDK against a freshly built `herald dev`
## (internal/e2e/js; needs Node >= 20.19 and npm). Its files marked
## `e2e-target: any` also run through the production topology's balancer
## in gotest (TestTopologyJSSuite) and cluster-test.
jstest: jsdeps
	cd $(JS_E2E) && GO="$(GO)" npm test

## sdktest: the TypeScript SDK (sdk/js: @herald/client, @herald/testing,
## @herald/react): build (with the size of @herald/client), unit tests (the
## React hooks on React 19, then on React 18 from sdk/js/react/test/react18),
## then integration tests against a freshly built `herald dev` (needs Node
## >= 20.19 and npm).
sdktest:
	cd sdk/js && npm ci --no-audit --no-fund
	cd sdk/js && npm run build
	cd sdk/js && GO="$(GO)" npm test

## chat-build: the SDK's packages (installed once) and the chat example
## (examples/chat) built on them.
chat-build:
	cd sdk/js && if [ ! -d node_modules ]; then npm ci --no-audit --no-fund; fi
	cd sdk/js && npm run build
	cd examples/chat && npm ci --no-audit --no-fund
	cd examples/chat && npm run build

## browsertest: the chat example in Debian's Chromium (/usr/bin/chromium, or
## CHROMIUM), driven by playwright-core, against a freshly built `herald
## dev`: two users chat, type, join and leave, one goes offline and back.
## Screenshots in examples/chat/test-results.
browsertest: chat-build
	cd examples/chat && GO="$(GO)" npm test

## consoletest: the web console (controlplane/console/web): npm ci, then
## `npm run check` (type-check; fails, naming the files, when the committed
## controlplane/console/dist differs from a fresh build, and when the first
## load is over 150 KB gzipped, which it prints), then its browser tests in
## Debian's Chromium (/usr/bin/chromium, or CHROMIUM) against a freshly
## built `herald dev`. Screenshots in controlplane/console/web/test-results;
## the usage page's is docs/console.png.
consoletest:
	cd controlplane/console/web && npm ci --no-audit --no-fund
	cd controlplane/console/web && npm run check
	cd controlplane/console/web && GO="$(GO)" npm test

## console-screenshot: the console's browser tests, then the usage page's
## screenshot copied to docs/console.png (the README's picture).
console-screenshot:
	cd controlplane/console/web && npm ci --no-audit --no-fund
	cd controlplane/console/web && GO="$(GO)" UPDATE_DOCS_SCREENSHOT=1 npm test

## chat: the chat example against a freshly built `herald dev`; open
## http://127.0.0.1:5180/?user=ann and ?user=bo (CHAT_PORT changes the port).
chat: chat-build
	cd examples/chat && GO="$(GO)" npm start

## cluster-test: the long run on the production topology on this machine
## (internal/topology: 3 nats-server processes, PostgreSQL, 2 control
## planes, 2 gateways, HAProxy; needs Debian's haproxy): with clients
## publishing and subscribing through the balancer, a rolling restart of
## both gateways, a NATS node killed and brought back, PostgreSQL stopped
## for CLUSTER_PG_OUTAGE; zero acknowledged messages lost, serials
## gap-free; prints its figures (lines with FIGURES). Then the JavaScript
## suite's external-capable files through the balancer, before and after
## each gateway's restart (TestTopologyClusterJSSuite). Not part of `make
## test`, which runs the short rolling restart (TestTopologyRollingRestart)
## and the suite through the balancer once (TestTopologyJSSuite).
CLUSTER_PG_OUTAGE ?= 60s
cluster-test: jsdeps
	HERALD_CLUSTER_PG_OUTAGE=$(CLUSTER_PG_OUTAGE) $(GO) test -race -count=1 -timeout 20m -tags herald_cluster -run '^TestTopology' -v ./internal/e2e/

## chaos: the long versions of the reliability scenarios
## (docs/reliability.md; internal/e2e/chaos) on the production topology
## (internal/topology; needs Debian's haproxy): thousands of connections
## with a gateway killed, every connection dropped at once, NATS,
## PostgreSQL and disk/memory faults; each checks its invariants and
## prints its figures (lines with FIGURES). Without -race: the figures are
## the servers', not the race detector's. Not part of `make test`, which
## runs the short version of each.
chaos:
	HERALD_CHAOS_LONG=1 $(GO) test -count=1 -timeout 60m -run '^TestChaos' -v ./internal/e2e/chaos/

## soak: connect/subscribe/publish/unsubscribe/disconnect churn with
## presence and client events for SOAK_DURATION on the production
## topology; the gateways' RSS, goroutines and descriptors and the NATS
## subscriptions back to their baseline after, and no growth trend (the
## series is printed). `make test` runs 30 s of it.
SOAK_DURATION ?= 30m
soak:
	HERALD_CHAOS_LONG=1 HERALD_SOAK_DURATION=$(SOAK_DURATION) $(GO) test -count=1 -timeout 90m -run '^TestSoak' -v ./internal/e2e/chaos/

## local: the production topology as processes (deploy/local): prints the
## one URL, the admin token and a demo app; Ctrl-C stops everything.
local:
	$(GO) run ./deploy/local

## scale: 100,000 WebSockets over 6 gateways on one NATS, one broadcast a
## second (deploy/scale); prints loss, latency and every process's RSS and CPU.
scale:
	$(GO) run ./deploy/scale

## build: the herald binary in ./bin. -buildvcs=auto stamps the commit
## that `herald version` prints even where GOFLAGS turns stamping off, and
## builds without it outside a git checkout.
build:
	$(GO) build -buildvcs=auto -o bin/herald ./cmd/herald

## fuzz: longer fuzzing runs than the short ones of `make test`.
fuzz:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_RUN_TIME=$(FUZZ_TIME)

## fuzz-net: the network- and protocol-level fuzzers (internal/netfuzz)
## against a `herald dev` process for NETFUZZ_DURATION, without -race
## (TestNetFuzz; docs/security.md): besides what the short run in `make
## test` checks, the good clients' p99 round trip under attack must stay
## within 2x the quiet one. HERALD_NETFUZZ_SEED=<seed> replays a run. No
## go test timeout: the run lasts NETFUZZ_DURATION plus a fifth of it
## (at least 30 s) of quiet measurement, and every attack is bounded.
NETFUZZ_DURATION ?= 5m
fuzz-net:
	HERALD_NETFUZZ_DURATION=$(NETFUZZ_DURATION) $(GO) test -count=1 -timeout 0 -run '^TestNetFuzz$$' -v ./internal/e2e/

fuzz-short:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_RUN_TIME=$(FUZZ_SHORT_TIME)

fuzz-run:
	@for pkg in $$(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do \
	  for f in $$(grep -h '^func Fuzz' $$pkg/*_test.go | sed 's/func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
	    echo "fuzz $$pkg $$f for $(FUZZ_RUN_TIME)"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZ_RUN_TIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
