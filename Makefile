# Thin wrapper around CMake: `make` builds everything into build/.
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all test clean deps run golden-regen bench-bgp

all: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

deps:
	scripts/deps

# Installs what the tests need, builds (plain and ASan+UBSan) and runs everything.
test:
	scripts/deps
	scripts/test

run:
	scripts/deps
	scripts/run

# The BGP benchmark: tabbyd, BIRD, FRR and GoBGP side by side (about an hour); the
# table is printed and kept in build/bgp-bench.txt.
bench-bgp:
	scripts/deps bench
	BENCH_OUT=$(BUILD)/bgp-bench.txt bench/bgp_bench.sh

golden-regen: all
	tests/golden/run --regen

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
