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

.PHONY: test vet staticcheck gotest jstest fuzz-short fuzz-run build fuzz clean

## test: every check CI runs: vet, staticcheck, all Go tests with -race
## (fuzz seed corpora included), the JavaScript end-to-end suite, then a few
## seconds of each fuzz target.
test: vet staticcheck gotest jstest fuzz-short

vet:
	$(GO) vet ./...

staticcheck:
	$(GO) run $(STATICCHECK) ./...

gotest:
	$(GO) test -race -timeout $(TEST_TIMEOUT) ./...

## jstest: the end-to-end suite with real, unmodified pusher-js, Laravel Echo
## and the `pusher` server SDK against a freshly built `herald dev`
## (internal/e2e/js; needs Node >= 20.19 and npm).
jstest:
	cd internal/e2e/js && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
	cd internal/e2e/js && GO="$(GO)" npm test

## build: the herald binary in ./bin.
build:
	$(GO) build -o bin/herald ./cmd/herald

## fuzz: longer fuzzing runs than the short ones of `make test`.
fuzz:
	@$(MAKE) --no-print-directory fuzz-run FUZZ_RUN_TIME=$(FUZZ_TIME)

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
