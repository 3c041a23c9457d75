# shoal build. `make` builds bin/shoal-node; see README.md for the other targets.
CC      ?= gcc
CSTD    := -std=c11 -D_GNU_SOURCE
WARN    := -Wall -Wextra -Werror
CFLAGS  := $(CSTD) -O2 -g $(WARN) -I. -I/usr/include/lua5.1 -MMD -MP -pthread
LDLIBS  := -lck -lev -lssl -lcrypto -llzf -llua5.1 -l:liblua5.1-cjson.so.0 -l:liblua5.1-bitop.so.0 -lm -pthread
# Hardening of the release build, as Debian's dpkg-buildflags (hardening=+all) builds redis-server:
# stack canaries, fortified libc calls, format-string checks, PIE and full RELRO (GOT read-only
# after start-up). Not used for the sanitizer builds: ASan replaces the checked libc calls.
HARDEN_CFLAGS  := -fstack-protector-strong -D_FORTIFY_SOURCE=2 -Wformat -Wformat-security -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
# Exports our function names to the dynamic symbol table, so that the crash report's
# stack trace (backtrace_symbols_fd, runtime/crash.c) names functions, as redis-server's does.
REL_LDFLAGS    := -rdynamic
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
PY      := /usr/bin/python3
# bash for `set -o pipefail` in the test recipes: a test's exit status must survive `| tee`.
SHELL   := /bin/bash

PROTO_SRC   := $(wildcard proto/*.c)
RUNTIME_SRC := $(wildcard runtime/*.c)
ACTOR_SRC   := $(filter-out actors/main.c,$(wildcard actors/*.c actors/*/*.c))
UNIT_SRC    := $(wildcard tests/unit/*.c)
FUZZ_SRC    := $(wildcard tests/fuzz/fuzz_*.c)

LIB_SRC := $(PROTO_SRC) $(RUNTIME_SRC) $(ACTOR_SRC)
OBJ      := $(patsubst %.c,build/rel/%.o,$(LIB_SRC) actors/main.c)
ASAN_OBJ := $(patsubst %.c,build/asan/%.o,$(LIB_SRC) $(UNIT_SRC))

DEPS_STAMP := build/.deps-ok
DEB_PKGS := libck-dev libev-dev libssl-dev pkg-config redis-tools redis-server \
            python3-pytest python3-pytest-xdist python3-redis python3-pyflakes clang libclang-rt-14-dev gnuplot-nox liblzf-dev \
            liblua5.1-0-dev lua-cjson lua-bitop

.PHONY: all deps test unit integration reference run bench fuzz clean drill test-asan test-tsan deps-graph

# `make test` builds the node and the unit-test binary on every core unless -j was given: CI
# runs a plain `make test` on a fresh clone, whose one-file-at-a-time build needs 167 CPU-s
# (209 s of the ~900). -j gains only what the other cores have free: at load 3-4, -j2 took as
# long. Not with `clean` among the goals (it would race the build).
ifneq ($(filter test,$(MAKECMDGOALS)),)
ifeq ($(filter clean,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(shell nproc)
endif
endif

all: bin/shoal-node

# Installs every Debian package we need that is missing; a no-op when all are there.
deps: $(DEPS_STAMP)
$(DEPS_STAMP): Makefile
	@missing=""; for p in $(DEB_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@mkdir -p build && touch $@

bin/shoal-node: $(OBJ) | $(DEPS_STAMP)
	@mkdir -p bin
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) $(HARDEN_LDFLAGS) $(REL_LDFLAGS) -o $@ $^ $(LDLIBS)

build/rel/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(HARDEN_CFLAGS) -c -o $@ $<

build/asan/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(SANFLAGS) -c -o $@ $<

# The unit tests read the captured vectors by absolute path, so the runner works from any cwd.
build/asan/tests/%.o: CFLAGS += -DSHOAL_VECTORS_DIR='"$(CURDIR)/tests/vectors"'

build/unit-tests: $(ASAN_OBJ)
	$(CC) $(CFLAGS) $(SANFLAGS) -o $@ $^ $(LDLIBS)

# What `unit`, `integration` and `test` run and where they write; overridable so that
# tests/integration/test_make.py can check the exit statuses with a failing test of its own.
UNIT_BIN          ?= build/unit-tests
UNIT_LOG          ?= $(CURDIR)/build/unit.log
INTEGRATION_ARGS  ?= .
INTEGRATION_LOG   ?= $(CURDIR)/build/integration.log
INTEGRATION_XML   ?= $(CURDIR)/build/integration.xml
# The integration suite runs on this many pytest-xdist workers at once (its tests mostly wait
# for nodes, timeouts and failovers, not for the CPU: on 4 workers its processes used 379
# CPU-s in 729 s, half a core); 0 runs every test in one process. 6 rather than 4: 560 s
# rather than 729 s on this 2-core machine at load 3-4 (the cores 65-71 % busy, other
# sessions' work included).
# tests/integration/conftest.py keeps the workers apart (ports, directories, `quiet` tests).
INTEGRATION_JOBS  ?= 6
# `leave` keeps out the parametrizations that start only redis-server (they check a test's
# expectations against the real server and test nothing of shoal): `make reference` runs them.
REFERENCE_RUNS    ?= leave

# Both exit non-zero when a test fails (pipefail keeps the runner's status through tee).
unit: $(UNIT_BIN)
	@mkdir -p build
	@set -o pipefail; ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(UNIT_BIN) | tee $(UNIT_LOG)

integration: bin/shoal-node
	@mkdir -p build
	@rm -f $(INTEGRATION_XML).left
	@set -o pipefail; cd tests/integration && SHOAL_REFERENCE_RUNS=$(REFERENCE_RUNS) \
	  SHOAL_REFERENCE_NOTE=$(INTEGRATION_XML).left \
	  $(PY) -m pytest -q -p no:cacheprovider -n $(INTEGRATION_JOBS) --dist loadgroup --durations=15 \
	    --junitxml=$(INTEGRATION_XML) $(INTEGRATION_ARGS) 2>&1 | tee $(INTEGRATION_LOG)

# Runs unit tests (ASan+UBSan) and integration tests, then one summary line; both halves run
# even when the first fails, and the target fails if either did.
test: deps bin/shoal-node $(UNIT_BIN)
	@rc=0; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory integration || rc=1; \
	$(PY) tests/summary.py $(UNIT_LOG) $(INTEGRATION_XML) || rc=1; \
	exit $$rc

# The integration suite against a node built with ASan+UBSan (slower; not part of `make test`).
bin/shoal-node-asan: $(LIB_SRC) actors/main.c | $(DEPS_STAMP)
	@mkdir -p bin
	$(CC) $(CSTD) -O1 -g $(WARN) -I. -I/usr/include/lua5.1 -pthread $(SANFLAGS) $(REL_LDFLAGS) -o $@ $^ $(LDLIBS)

test-asan: deps bin/shoal-node bin/shoal-node-asan
	@cd tests/integration && ASAN_OPTIONS=detect_leaks=0 SHOAL_NODE=$(CURDIR)/bin/shoal-node-asan \
	  $(PY) -m pytest -q -p no:cacheprovider .

# ThreadSanitizer: the runtime unit tests and a short integration smoke run against a TSan-built
# node, failing on any report. tests/tsan/ck_pr.h makes ck_pr's atomics visible to TSan (see there);
# tests/tsan/suppressions.txt lists the remaining false positives, each with its reason.
TSAN_FLAGS := -fsanitize=thread -fno-omit-frame-pointer -Itests/tsan
# The runtime's unit tests (threads, mailboxes, snapshots, the log) and the shutdown save handshake.
TSAN_UNIT_SRC := $(addprefix tests/unit/,runner.c test_actor.c test_borrow.c test_mailbox.c test_snapshot.c test_log.c \
                   test_state_save.c)
TSAN_OBJ   := $(patsubst %.c,build/tsan/%.o,$(LIB_SRC) $(TSAN_UNIT_SRC))
TSAN_RUN   := TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 suppressions=$(CURDIR)/tests/tsan/suppressions.txt"
TSAN_SMOKE_TESTS ?= test_clients.py test_stats_concurrency.py test_server_commands.py test_bus_meet.py \
                    test_direct_reply.py \
                    test_psync_handover.py

build/tsan/%.o: %.c tests/tsan/ck_pr.h | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -O1 $(TSAN_FLAGS) -c -o $@ $<

build/unit-tests-tsan: $(TSAN_OBJ)
	$(CC) $(CFLAGS) $(TSAN_FLAGS) -o $@ $^ $(LDLIBS)

bin/shoal-node-tsan: $(patsubst %.c,build/tsan/%.o,$(LIB_SRC) actors/main.c)
	@mkdir -p bin
	$(CC) $(CFLAGS) $(TSAN_FLAGS) $(REL_LDFLAGS) -o $@ $^ $(LDLIBS)

# halt_on_error+exitcode make the unit run fail on the first report. A report in a node's log
# fails the test that started it (tests/integration/conftest.py looks for ThreadSanitizer).
test-tsan: deps bin/shoal-node build/unit-tests-tsan bin/shoal-node-tsan
	@$(TSAN_RUN) ./build/unit-tests-tsan
	@cd tests/integration && $(TSAN_RUN) SHOAL_NODE=$(CURDIR)/bin/shoal-node-tsan \
	  $(PY) -m pytest -q -p no:cacheprovider $(TSAN_SMOKE_TESTS)

# Folder -> folder #include edges of actors/, runtime/ and proto/, and any cycle between folders.
# DEPS_ARGS=--modules: the same per module (x.c with x.h); DEPS_ARGS="--root DIR": another checkout.
DEPS_ARGS ?=
deps-graph:
	@$(PY) tests/tools/deps_graph.py $(DEPS_ARGS)

run: deps bin/shoal-node
	@./tests/run-cluster.sh

bench: deps bin/shoal-node build/bench/gossip_flood build/bench/cluster_sim build/bench/pubsub_reader \
		build/bench/tls_handshaker
	@$(PY) bench/run.py

# The reference runs `make test` leaves out: each test's redis-server-only parametrizations,
# which show that the test's expectations are what redis-server 7.0.15 does.
reference: deps bin/shoal-node
	@$(MAKE) --no-print-directory integration REFERENCE_RUNS=only \
	  INTEGRATION_LOG=$(CURDIR)/build/reference.log INTEGRATION_XML=$(CURDIR)/build/reference.xml

# Failover drills (bench/drill.py): kill -9, SIGSTOP, CLUSTER FAILOVER, TAKEOVER on 3+3 clusters of
# shoal and redis-server, node timeouts 1000 and 5000 ms, 5 runs each; table, build/drill.json and
# build/drill-timeline.svg. BENCH_QUICK=1: 1 run each at 1000 ms only.
drill: deps bin/shoal-node
	@$(PY) bench/drill.py

# The bus PING flooder of bench/run.py's gossip section (links proto/ only).
BENCH_COMMON := bench/bench_common.c bench/bench_common.h
build/bench/gossip_flood: bench/gossip_flood.c $(BENCH_COMMON) proto/bus.c proto/bus_build.c proto/bus_light.c proto/bus.h | $(DEPS_STAMP)
	@mkdir -p build/bench
	$(CC) $(CSTD) -O2 -g $(WARN) -I. -pthread -o $@ $< bench/bench_common.c proto/bus.c proto/bus_build.c proto/bus_light.c -lssl -lcrypto

# The subscribers of bench/pubsub_bench.py's fan-out figures (a byte counter on epoll).
build/bench/pubsub_reader: bench/pubsub_reader.c | $(DEPS_STAMP)
	@mkdir -p build/bench
	$(CC) $(CSTD) -O2 -g $(WARN) -o $@ $<

# The client of bench/tls_bench.py's new-TLS-connections figures (OpenSSL on epoll).
build/bench/tls_handshaker: bench/tls_handshaker.c | $(DEPS_STAMP)
	@mkdir -p build/bench
	$(CC) $(CSTD) -O2 -g $(WARN) -o $@ $< -lssl -lcrypto

# Times redis-cli's commands from redis-cli's side (LD_PRELOAD; by hand, bench/README.md reshard).
build/bench/cli_timing.so: bench/cli_timing.c
	@mkdir -p build/bench
	$(CC) $(CSTD) -O2 -g $(WARN) -shared -fPIC -o $@ $< -ldl

# Thread wake-up round trips on one CPU and across two (by hand, bench/README.md reshard).
build/bench/wake_cost: bench/wake_cost.c
	@mkdir -p build/bench
	$(CC) $(CSTD) -O2 -g $(WARN) -pthread -o $@ $<

# The N-node cluster simulator of bench/run.py's cluster_cost section (links proto/ only).
build/bench/cluster_sim: bench/cluster_sim.c bench/cluster_sim_client.c bench/cluster_sim_client.h \
		$(BENCH_COMMON) proto/bus.c proto/bus_build.c proto/bus_light.c proto/bus.h | $(DEPS_STAMP)
	@mkdir -p build/bench
	$(CC) $(CSTD) -O2 -g $(WARN) -I. -o $@ $< bench/cluster_sim_client.c bench/bench_common.c \
		proto/bus.c proto/bus_build.c proto/bus_light.c -lm

FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
build/fuzz/%: tests/fuzz/%.c $(PROTO_SRC) | $(DEPS_STAMP)
	@mkdir -p build/fuzz
	clang $(CSTD) -g -O1 -I. -fsanitize=fuzzer,address,undefined -o $@ $< $(PROTO_SRC) -llzf

# Builds every fuzz target and runs each for FUZZ_SECONDS (default 60).
FUZZ_SECONDS ?= 60
fuzz: deps $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$$(basename $$f); mkdir -p build/corpus/$$n; \
	  seeds=tests/fuzz/corpus/$$n; [ -d $$seeds ] || seeds=; \
	  echo "== $$n"; $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build/corpus/$$n $$seeds 2>&1 | \
	  grep -E "stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY" ; done

clean:
	rm -rf build bin

-include $(shell find build -name '*.d' 2>/dev/null)
