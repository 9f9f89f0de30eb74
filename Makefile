# nfx: the two commands a user needs are `make demo` and `make test`.
# Both install whatever Debian packages are missing, configure, build and run.

CORPUS      ?= $(abspath ../shared/corpus)
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 45
JOBS        ?= $(shell nproc)

DEB_PACKAGES := bison flex cmake ninja-build g++ clang-14 libclang-rt-14-dev llvm-dev \
	libboost-dev libgtest-dev libpcap-dev libcli11-dev libfmt-dev nlohmann-json3-dev \
	libabsl-dev nftables conntrack iproute2 python3-scapy iputils-ping curl python3-pyftpdlib
# Only `make bench` needs these: DPDK's rte_acl as the peer, and the plot.
BENCH_PACKAGES := dpdk dpdk-dev python3-matplotlib python3-numpy

NFX := $(BUILD)/cli/nfx

.PHONY: all deps build build-asan build-fuzz demo test test-unit test-asan fuzz bench conformance ratchet oracle jitdiff clean

all: build

deps:
	@missing=""; for p in $(DEB_PACKAGES) $(EXTRA_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNFX_CORPUS_DIR=$(CORPUS)

$(ASAN_BUILD)/build.ninja:
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DNFX_SANITIZE=ON -DNFX_CORPUS_DIR=$(CORPUS)

$(FUZZ_BUILD)/build.ninja:
	CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DNFX_FUZZ=ON -DNFX_WERROR=OFF -DNFX_CORPUS_DIR=$(CORPUS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps $(ASAN_BUILD)/build.ninja
	cmake --build $(ASAN_BUILD) -j $(JOBS)

build-fuzz: deps $(FUZZ_BUILD)/build.ninja
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_nft_parser fuzz_nft_json fuzz_packet fuzz_conntrack fuzz_nat_path fuzz_router

demo: build
	@./examples/demo.sh $(NFX)

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

fuzz: build-fuzz
	./tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(CORPUS)

test: test-unit test-asan fuzz
	@echo "all test stages passed"

# The classification benchmark (bench/README.md; needs root): nfx against the
# kernel and DPDK rte_acl on the 24 ClassBench sets, e.g.
# `make bench CLASSIFY_ARGS="--sets acl1_1k,acl1_10k"` for fewer.
CLASSIFY_ARGS ?=
bench:
	$(MAKE) deps EXTRA_PACKAGES="$(BENCH_PACKAGES)"
	$(MAKE) build
	./bench/parse_bench.sh $(NFX)
	$(BUILD)/bench/nfx_conntrack_bench
	/usr/bin/python3 bench/classify_bench.py $(NFX) $(BUILD)/bench/nfx_kernel_send $(CORPUS) \
		$(BUILD)/bench $(CLASSIFY_ARGS)
	/usr/bin/python3 bench/classify_report.py $(BUILD)/bench/classify_report.json
	/usr/bin/python3 bench/forward_bench.py $(BUILD)

# The differential test against the kernel at length (needs root): many more
# seeded random rulesets than `make test` runs (ORACLE_SEED picks the batch;
# a failing case is kept with the command that replays it), and the corpus's
# stateless rules with more frames each.
ORACLE_SEED ?= $(shell date +%s)
ORACLE_RULESETS ?= 600
oracle: build
	$(BUILD)/tests/nfx_difftest --oracle $(BUILD)/tests/nfx_kernel_oracle --path all \
		--rulesets $(ORACLE_RULESETS) --frames 10000 --seed $(ORACLE_SEED) --show 3
	/usr/bin/python3 tests/difftest/corpus_feed.py $(NFX) $(BUILD)/tests/nfx_difftest \
		$(BUILD)/tests/nfx_kernel_oracle $(CORPUS) --frames 10000

# The JIT against the interpreter at length (no root): many more seeded
# random rulesets than make test runs (JITDIFF_SEED picks the batch; a
# failing case is kept with the command that replays it), and the corpus
# with more frames per ruleset.
JITDIFF_SEED ?= $(shell date +%s)
JITDIFF_RULESETS ?= 2000
jitdiff: build
	$(BUILD)/tests/nfx_difftest --against jit --path all --rulesets $(JITDIFF_RULESETS) --frames 2000 \
		--seed $(JITDIFF_SEED) --show 3
	/usr/bin/python3 tests/difftest/corpus_feed.py --against jit $(NFX) $(BUILD)/tests/nfx_difftest $(CORPUS) \
		--frames 2000

# Conformance against the nftables corpus: per-group pass counts.
conformance: build
	$(BUILD)/tests/nfx_conformance $(CORPUS) --ratchet tests/conformance/ratchet.txt

# Raise the recorded pass counts to what passes now (commit the result).
ratchet: build
	$(BUILD)/tests/nfx_conformance $(CORPUS) --ratchet tests/conformance/ratchet.txt \
		--update-ratchet tests/conformance/ratchet.txt

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
