# Thin wrapper around CMake/CTest and the scripts.  `make` builds
# build/hapair; `make test` runs unit tests (plain and ASan+UBSan) and
# system tests in network namespaces (needs root); `make demo` shows a
# failover; `make bench` compares hapair with keepalived (failover) and
# with Redis Sentinel (Redis failover, planned switchover).
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

TRIALS ?= 20
SEED ?=

.PHONY: all build asan test unit sys demo bench chaos fuzz model clean

all: build

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/CMakeCache.txt:
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DHAPAIR_SANITIZE=ON

asan: $(ASAN_BUILD)/CMakeCache.txt
	cmake --build $(ASAN_BUILD) -j $(JOBS)

test: build asan
	scripts/run-tests

unit: build asan
	scripts/run-tests --unit

sys: build asan
	scripts/run-tests --sys

demo: build
	scripts/demo

bench: build
	bench/failover.sh
	bench/redis_failover.sh
	bench/switchover.sh
	bench/pg_failover.sh
	bench/mariadb_failover.sh

# Randomized faults on a Redis pair (STORE=postgresql or mariadb: that
# pair instead), histories checked against the invariants; report in $(BUILD)/chaos/report.md (SEED empty: random,
# printed).  Needs root.
chaos: build
	BUILD=$(abspath $(BUILD)) CHAOS_OUT=$(abspath $(BUILD))/chaos \
		CHAOS_STORE=$(STORE) tests/chaos/run $(TRIALS) $(SEED)

# The Promela model of the election/lease protocol, checked with spin
# (model/README.md); `model/run --mutants` shows it catches broken rules.
model:
	model/run

fuzz:
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang \
		-DHAPAIR_SANITIZE=ON -DHAPAIR_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS)
	scripts/run-fuzz build-fuzz

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
