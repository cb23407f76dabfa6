# The two commands a new user needs:
#   make demo   compile the bundled example repository and show the result
#   make test   run every test (builds and caches a kube-apiserver on first use)
GO      ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
BIN     := bin/edgectl

.PHONY: all build demo test vet fuzz bench load clean

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/edgectl

demo: build
	hack/demo.sh

vet:
	@test -z "$$(gofmt -l cmd pkg internal schemas hack)" || { gofmt -l cmd pkg internal schemas hack; echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...

# The Kubernetes tests need a real etcd and kube-apiserver; assets.sh builds
# them once (about 10 CPU-minutes) and caches them under ~/.cache/edgectl.
test: vet
	EDGECTL_KUBE_ASSETS="$$(hack/kube/assets.sh)" EDGECTL_REQUIRE_KUBE=1 $(GO) test -count=1 ./...

# Each fuzz target for a short while; FUZZTIME=5m for a longer run.
FUZZTIME ?= 20s
fuzz:
	$(GO) test ./pkg/schema  -run '^$$' -fuzz '^FuzzAgreesWithCUE$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/compile -run '^$$' -fuzz '^FuzzCompile$$'       -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/bundle  -run '^$$' -fuzz '^FuzzJSONToYAML$$'    -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/bundle  -run '^$$' -fuzz '^FuzzVerifyDelivered$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/bundle  -run '^$$' -fuzz '^FuzzCanonicalJSON$$'  -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/bundle  -run '^$$' -fuzz '^FuzzReadDiscoveryFile$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/intent  -run '^$$' -fuzz '^FuzzParseFile$$'    -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/routesim -run '^$$' -fuzz '^FuzzRoute$$'       -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/routesim -run '^$$' -fuzz '^FuzzCompiledRoutes$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/routecheck -run '^$$' -fuzz '^FuzzParseTests$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/routecheck -run '^$$' -fuzz '^FuzzLoadRoutes$$' -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/gatewayapi -run '^$$' -fuzz '^FuzzLower$$'   -fuzztime $(FUZZTIME)
	$(GO) test ./pkg/yamlfast -run '^$$' -fuzz '^FuzzAgreesWithYAMLv3$$' -fuzztime $(FUZZTIME)

# Wall time, peak memory and allocations of compiles of generated
# repositories: 1k and 10k routes (plain and governed), one virtual host of
# 20k routes, 100k routes over 20 files. LAYOUTS and RUNS choose others.
bench:
	hack/bench.sh

# 1,000 ADS streams on edgectl serve receive a new 10,000-route version:
# time until all have it, and the server's memory (a minute, both cores).
load:
	$(GO) run ./hack/loadxds -streams 1000 -conns 10 -routes 10000

clean:
	rm -rf bin out
