SHELL := /bin/bash
# rproc-tee entry points. `make test` works on a fresh Debian machine with Swift installed:
# it installs the C libraries it needs (as root, or through sudo) and runs every test.
SWIFT        ?= swift
# The build refuses a module imported without a declared dependency (DESIGN.md's layering).
CHECK_FLAGS  := --explicit-target-dependency-import-check error
APT_PACKAGES := libmbedtls-dev libssl-dev libunicorn-dev pkg-config make gcc binutils
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
LOG_DIR      := .build-logs

.PHONY: all deps build test test-tsan test-asan soak bench demo clean help install uninstall

all: build

help:
	@echo "make demo          sign, authenticate, load, run, crash, recover, dump, release (both boards)"
	@echo "make build         build everything (debug)"
	@echo "make test          install missing system packages, build with checks, run swift test (the daemon suites also against the release build)"
	@echo "make test-tsan     every test under ThreadSanitizer (make test-asan: AddressSanitizer)"
	@echo "make soak          1,000 TA panics while 4 clients invoke a healthy TA (SOAK=N for another count)"
	@echo "make bench-crypto  one suite (crypto, image, invoke, load, files, daemon, native, core, storage): release build, figures and ratios"
	@echo "make bench         every benchmark suite"
	@echo "make fuzz          each libFuzzer harness for FUZZ_SECONDS (default 60)"
	@echo "make install       PREFIX=DIR: bin/rproc-tee, include/tee_client_api*.h + tee_plugin_method.h, lib/libteec.so.2, lib/pkgconfig/teec.pc,"
	@echo "                   lib/swift (the Swift runtime: the prefix runs without Swift), share/rproc-tee (demo firmware, dev keys),"
	@echo "                   export-ta_x86_64 (the C TA dev kit) and lib/optee_armtz (where the daemon finds C TAs by default)"

# Installs only what is missing, so a machine that has everything is not touched.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build $(CHECK_FLAGS)

# The whole story on both boards: example firmware built with the clang beside swift.
demo: deps
	$(SWIFT) build $(CHECK_FLAGS) --product rproc-tee
	$(MAKE) -s -C Examples/firmware
	.build/debug/rproc-tee demo --board mp15
	.build/debug/rproc-tee demo --board mp25

# The build log is kept and searched: a warning in our own code fails the target.
test: deps
	@mkdir -p $(LOG_DIR)
	$(SWIFT) build --build-tests $(CHECK_FLAGS) 2>&1 | tee $(LOG_DIR)/build.log; test $${PIPESTATUS[0]} -eq 0
	$(SWIFT) build --product teec $(CHECK_FLAGS) 2>&1 | tee -a $(LOG_DIR)/build.log; test $${PIPESTATUS[0]} -eq 0
	$(SWIFT) build -c release --product rproc-tee $(CHECK_FLAGS) 2>&1 | tee -a $(LOG_DIR)/build.log; test $${PIPESTATUS[0]} -eq 0
	@if grep -E "^$(CURDIR)/(Sources|Tests|Benchmarks|TA|Examples)/.*warning:" $(LOG_DIR)/build.log; then \
	  echo "error: the build has warnings (listed above)"; exit 1; fi
	$(SWIFT) test $(CHECK_FLAGS)
	@# The daemon suites again against the release daemon and TA hosts (what make install ships).
	RPROC_TEE_TEST_TOOL=$(CURDIR)/.build/release/rproc-tee $(SWIFT) test --skip-build $(CHECK_FLAGS) --filter "^DaemonTests\."

# make bench-crypto, bench-image, bench-invoke, bench-load: one suite each.
# Every test under ThreadSanitizer / AddressSanitizer (separate build folders; XCTest itself
# leaks, hence detect_leaks=0). Locks are pthread-based so TSan sees them (see Locked.swift).
# The C client tests compile their programs with the clang beside swift and the same sanitizer
# (the installed libteec is instrumented).
TEST_CLANG = $(dir $(realpath $(shell command -v $(SWIFT))))clang
# clang's TSan runtime intercepts libdispatch, which the program must then link.
TSAN_C_FLAGS = -fsanitize=thread -L$(dir $(TEST_CLANG))../lib/swift/linux -ldispatch -lBlocksRuntime -Wl,-rpath,$(dir $(TEST_CLANG))../lib/swift/linux
test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	RPROC_TEE_SANITIZER=thread RPROC_TEE_TA_DATA_ALLOWANCE=1024 RPROC_TEE_TEST_CC=$(TEST_CLANG) RPROC_TEE_TEST_CFLAGS="$(TSAN_C_FLAGS)" $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan

test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0:handle_segv=0 RPROC_TEE_SANITIZER=address RPROC_TEE_TA_DATA_ALLOWANCE=1024 RPROC_TEE_TEST_CC=$(TEST_CLANG) RPROC_TEE_TEST_CFLAGS=-fsanitize=address $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

# TA isolation under load: SOAK TA panics in a row against the real daemon while four clients
# keep calling a healthy TA; prints the counts and the daemon's descriptors, children and RSS.
SOAK ?= 1000
soak: deps
	$(SWIFT) build --build-tests $(CHECK_FLAGS)
	RPROC_TEE_SOAK=$(SOAK) $(SWIFT) test --skip-build --filter IsolationTests/soak 2>&1 | grep -E "soak:|passed|failed|Expectation"

bench-%: deps
	$(SWIFT) build -c release --product rproc-tee-bench
	$(SWIFT) build -c release --product rproc-tee
	$(SWIFT) build -c release --product teec
	.build/release/rproc-tee-bench $*

bench: deps
	$(SWIFT) build -c release --product rproc-tee-bench
	$(SWIFT) build -c release --product rproc-tee
	$(SWIFT) build -c release --product teec
	.build/release/rproc-tee-bench crypto image invoke load files daemon native core storage

# The C client library and the tool for C developers: PREFIX/{bin,include,lib,lib/pkgconfig}.
PREFIX ?= /usr/local
install: deps
	$(SWIFT) build -c release --product rproc-tee
	$(SWIFT) build -c release --product teec
	$(MAKE) -s -C Examples/firmware
	scripts/install.sh install $(PREFIX) .build/release

uninstall:
	scripts/install.sh uninstall $(PREFIX)

clean:
	rm -rf .build .build-tsan .build-asan $(LOG_DIR)

# Fuzzing: Tests/Fuzz is its own package (libFuzzer needs -sanitize=fuzzer and no main).
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= FuzzContainer FuzzResigned FuzzRemoteProcTA FuzzDaemon FuzzELF FuzzResourceTable FuzzWire FuzzHostFrame FuzzPlatform FuzzCryptAttributes FuzzCoreDump FuzzArithmetic FuzzStoredObject FuzzSignedTA FuzzSanitizerLine FuzzStorageDirectory FuzzStorageObject
FUZZ_DIR     := Tests/Fuzz

.PHONY: fuzz
fuzz: deps
	@set -e; failed=; for t in $(FUZZ_TARGETS); do dict=; \
	  case $$t in FuzzContainer) name=container;; FuzzResigned) name=resigned; dict=container;; FuzzRemoteProcTA) name=remoteproc-ta; dict=container;; FuzzDaemon) name=daemon;; FuzzELF) name=elf;; FuzzResourceTable) name=resource-table;; FuzzWire) name=wire;; FuzzHostFrame) name=host-frame;; FuzzPlatform) name=platform;; FuzzCryptAttributes) name=crypt-attributes;; FuzzCoreDump) name=core-dump;; FuzzArithmetic) name=arithmetic;; FuzzStoredObject) name=stored-object;; FuzzSignedTA) name=signed-ta;; FuzzSanitizerLine) name=sanitizer-line;; FuzzStorageDirectory) name=storage-directory;; FuzzStorageObject) name=storage-object;; *) echo "unknown harness $$t"; exit 2;; esac; \
	  swift build --package-path $(FUZZ_DIR) -c release --product $$t --sanitize=fuzzer >/dev/null; \
	  dict=$${dict:-$$name}; \
	  mkdir -p $(FUZZ_DIR)/corpus-$$name $(FUZZ_DIR)/FailCases/$$name; \
	  echo "== $$t: $(FUZZ_SECONDS) s"; \
	  log=$$(mktemp); status=0; \
	  SWIFT_BACKTRACE=enable=no $(FUZZ_DIR)/.build/release/$$t $(FUZZ_DIR)/corpus-$$name $(FUZZ_DIR)/Seeds/$$name \
	    -dict=$(FUZZ_DIR)/Dictionaries/$$dict.dict -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_DIR)/FailCases/$$name/ -close_fd_mask=3 > $$log 2>&1 || status=$$?; \
	  awk '/stat::number_of_executed_units/ {n=$$2} /stat::average_exec_per_sec/ {r=$$2} /ERROR|SUMMARY|Test unit written|ParseDictionaryFile/ {print} END {print "   executions: " n ", per second: " r}' $$log; \
	  rm -f $$log; \
	  if [ $$status -ne 0 ]; then echo "   $$t FAILED (exit status $$status)"; failed="$$failed $$t"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi
