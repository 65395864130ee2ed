# Thin wrapper around CMake: `make` builds everything into build/.
BUILD ?= build
ASAN_BUILD ?= build-asan
# make install PREFIX=/usr DESTDIR=/tmp/stage: where the files go, and under what root.
PREFIX ?= /usr/local

.PHONY: all test clean deps run install deb golden-regen bench-bgp

all: $(BUILD)/Makefile
	@cmake --build $(BUILD) -j

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

deps:
	scripts/deps

# The programs, man pages, bash and zsh completion, systemd units and /etc/default files.
# (Not through "all": that would reset the build type of an existing BUILD=build-asan.)
install:
	@cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

# A Debian package, built with Debian's tools (debian/), into $(BUILD)/deb/.
deb:
	scripts/deb

# Installs what the tests need, builds (plain and ASan+UBSan) and runs everything.
test:
	scripts/deps
	scripts/test

# The demo: installs only what it needs (scripts/deps run); Ctrl-C stops it cleanly.
# On a terminal it runs in a process group of its own, so that Ctrl-C reaches the demo
# (which stops its daemons and exits 0) and not make (which would report "Error 130").
run:
	scripts/deps run
	@if [ -t 0 ]; then bash -mc 'scripts/run' ; else scripts/run; fi

# The BGP benchmark: tabbyd, BIRD, FRR and OpenBGPD side by side (about an hour;
# BENCH_QUICK=1 for one run each, IPv4 only); the table is printed and kept in
# build/bgp-bench.txt, its chart in build/bgp-bench.svg and docs/bgp-bench.svg (the README's).
# GoBGP is left out unless named (BENCH_DAEMONS="tabbyd bird frr gobgp openbgpd"): never
# the fastest, it alone takes more than an hour (300 s timeouts at 1x1000000 and 1000x100).
BENCH_DAEMONS ?= tabbyd bird frr openbgpd
# From a clean clone: the packages, the build, then the benchmark.
bench-bgp:
	scripts/deps bench
	@$(MAKE) --no-print-directory all
	BENCH_OUT=$(BUILD)/bgp-bench.txt bash bench/bgp_bench.sh "$(BENCH_DAEMONS)"
	cp $(BUILD)/bgp-bench.svg docs/bgp-bench.svg

golden-regen: all
	tests/golden/run --regen

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
