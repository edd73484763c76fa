# gatehouse: build, run, test, bench, fuzz.  `make run` and `make test` install what they need.
CC       ?= cc
VERSION  := 0.1.0
PKGS     := libsodium jansson sqlite3 libcurl libpq hiredis libcrypto libargon2
# libmicrohttpd 1.0, linked statically: scripts/build-libmicrohttpd.sh builds it from Debian's
# source archive (Debian 12 packages only 0.9.75; docs/architecture.md says why that is not
# enough). scripts/install-deps.sh runs it for the build, test and fuzz groups.
MHD_PREFIX ?= $(CURDIR)/.deps/libmicrohttpd
MHD_LIB  := $(MHD_PREFIX)/lib/libmicrohttpd.a
# Objects are recompiled and binaries relinked when it is rebuilt (a prerequisite only once it
# exists: before that, pkg-check names it).
MHD_DEP   = $(wildcard $(MHD_LIB))
WARN     := -Wall -Wextra -Werror -Wshadow -Wconversion -Wno-sign-conversion \
            -Wstrict-prototypes -Wmissing-prototypes -Wformat -Wformat-security
CFLAGS   ?= -O2 -g
ALL_CFLAGS = -std=c17 -D_DEFAULT_SOURCE -DGATEHOUSE_VERSION='"$(VERSION)"' $(WARN) $(CFLAGS) \
             -I$(MHD_PREFIX)/include $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LIBS      = $(MHD_LIB) $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

SRC      := $(shell find src -name '*.c' | sort)
LIB_SRC  := $(filter-out src/main.c,$(SRC))
EMBEDDED := $(wildcard src/store/migrations/sqlite/*.sql src/store/migrations/postgres/*.sql \
                       src/mail/templates/*) \
            assets/common-passwords.txt docs/openapi.yaml
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_HDR := $(wildcard tests/unit/*.h)
# What unit tests share besides headers (the fake store): every other .c file of tests/unit/.
UNIT_HELPER_SRC := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
WEB      := $(shell find web -type f ! -name '.*' 2>/dev/null | sort)

# Objects of a variant: $(call objs,DIR,SOURCES)
objs = $(patsubst %.c,$(1)/%.o,$(2))

BUILD    ?= build
OBJ      := $(BUILD)/obj
ASAN_OBJ := $(BUILD)/asan/obj

.PHONY: all run test test-unit test-api asan valgrind fuzz fuzz-build format format-check \
        bench bench-million deps deps-test deps-bench deps-fuzz clean pkg-check image image-test

all: $(BUILD)/gatehouse

deps:
	@scripts/install-deps.sh build

deps-test:
	@scripts/install-deps.sh test node

# Names the pkg-config packages that are missing, and libmicrohttpd if it is not built. Every
# compile and link rule waits for it (order-only, so it never forces a rebuild): the pkg-config
# calls in ALL_CFLAGS and LIBS are silent, and without this check a missing library shows up as
# a puzzling compiler error.
# Nothing else runs it, so `make run` and `make test` still install the packages first.
pkg-check:
	@command -v pkg-config >/dev/null 2>&1 || { \
	  echo "gatehouse: pkg-config is not installed; run scripts/install-deps.sh (or make deps)" >&2; \
	  exit 1; }
	@missing=""; for p in $(PKGS); do pkg-config --exists $$p || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "gatehouse: missing pkg-config package(s):$$missing" >&2; \
	  echo "gatehouse: install them with scripts/install-deps.sh (or make deps)" >&2; \
	  exit 1; fi
	@[ -f $(MHD_LIB) ] || { \
	  echo "gatehouse: missing libmicrohttpd: no $(MHD_LIB)" >&2; \
	  echo "gatehouse: build it with scripts/install-deps.sh (or make deps)" >&2; \
	  exit 1; }

# ---- normal build ----
$(OBJ)/%.o: %.c $(MHD_DEP) | pkg-check
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OBJ)/embed.o: src/embed.S $(EMBEDDED)
	@mkdir -p $(dir $@)
	$(CC) -c $< -o $@

# The web UI: every file under web/ embedded, with a generated table. One run of the script
# writes both files (a grouped target: with two plain targets, make -j runs it twice at once).
$(BUILD)/gen/web_files.S $(BUILD)/gen/web_files.c &: $(WEB) scripts/embed-web.sh
	@scripts/embed-web.sh $(BUILD)/gen

$(OBJ)/web_files_data.o: $(BUILD)/gen/web_files.S
	@mkdir -p $(dir $@)
	@$(CC) -c $< -o $@

$(OBJ)/web_files_table.o: $(BUILD)/gen/web_files.c | pkg-check
	@mkdir -p $(dir $@)
	@$(CC) $(ALL_CFLAGS) -Isrc -c $< -o $@

WEB_OBJS = $(OBJ)/web_files_data.o $(OBJ)/web_files_table.o

$(BUILD)/libgatehouse.a: $(call objs,$(OBJ),$(LIB_SRC)) $(OBJ)/embed.o $(WEB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/gatehouse: $(OBJ)/src/main.o $(BUILD)/libgatehouse.a $(MHD_DEP) | pkg-check
	@echo "LD $@"
	@$(CC) $(CFLAGS) -o $@ $(filter-out $(MHD_DEP),$^) $(LIBS)

# Per-test link flags: test_wipe watches every free() of the library.
UNIT_LDFLAGS_test_wipe := -Wl,--wrap=free

# The unit-test helpers, in an archive: a test links only the ones it uses.
$(OBJ)/tests/unit/%.o: tests/unit/%.c $(MHD_DEP) | pkg-check
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(ALL_CFLAGS) -Isrc -c $< -o $@

$(BUILD)/libunithelpers.a: $(call objs,$(OBJ),$(UNIT_HELPER_SRC))
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/libunithelpers.a $(BUILD)/libgatehouse.a $(MHD_DEP) \
  | pkg-check
	@mkdir -p $(dir $@)
	@echo "CCLD $@"
	@$(CC) $(ALL_CFLAGS) -Isrc -o $@ $< $(BUILD)/libunithelpers.a $(BUILD)/libgatehouse.a $(LIBS) \
	  -lcmocka $(UNIT_LDFLAGS_$*)

# ---- sanitizer build ----
$(ASAN_OBJ)/%.o: %.c $(MHD_DEP) | pkg-check
	@mkdir -p $(dir $@)
	@echo "CC (asan) $<"
	@$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/asan/libgatehouse.a: $(call objs,$(ASAN_OBJ),$(LIB_SRC)) $(OBJ)/embed.o $(WEB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/asan/gatehouse: $(ASAN_OBJ)/src/main.o $(BUILD)/asan/libgatehouse.a $(MHD_DEP) | pkg-check
	@echo "LD $@"
	@$(CC) $(CFLAGS) $(SAN) -o $@ $(filter-out $(MHD_DEP),$^) $(LIBS)

$(ASAN_OBJ)/tests/unit/%.o: tests/unit/%.c $(MHD_DEP) | pkg-check
	@mkdir -p $(dir $@)
	@echo "CC (asan) $<"
	@$(CC) $(ALL_CFLAGS) $(SAN) -Isrc -c $< -o $@

$(BUILD)/asan/libunithelpers.a: $(call objs,$(ASAN_OBJ),$(UNIT_HELPER_SRC))
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/asan/unit/%: tests/unit/%.c $(BUILD)/asan/libunithelpers.a $(BUILD)/asan/libgatehouse.a \
  $(MHD_DEP) | pkg-check
	@mkdir -p $(dir $@)
	@echo "CCLD $@"
	@$(CC) $(ALL_CFLAGS) $(SAN) -Isrc -o $@ $< $(BUILD)/asan/libunithelpers.a \
	  $(BUILD)/asan/libgatehouse.a $(LIBS) -lcmocka $(UNIT_LDFLAGS_$*)

UNIT_BINS      := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
ASAN_UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/asan/unit/%,$(UNIT_SRC))

# ---- the two commands ----
run: deps
	@$(MAKE) --no-print-directory all
	./$(BUILD)/gatehouse serve

# The whole suite: unit tests, then the API suite on SQLite, PostgreSQL and PostgreSQL + Redis,
# the cluster suite and the browser suite. The last line is the total over all of them.
test: deps-test
	@$(MAKE) --no-print-directory all $(UNIT_BINS)
	@scripts/run-unit-tests.sh $(UNIT_BINS) | tee $(BUILD)/unit-summary.txt
	@GATEHOUSE_BIN=$(BUILD)/gatehouse GATEHOUSE_UNIT_SUMMARY=$(BUILD)/unit-summary.txt \
	  node tests/run-node-tests.js

test-unit: $(UNIT_BINS)
	@scripts/run-unit-tests.sh $(UNIT_BINS)

# GATEHOUSE_TEST_BACKENDS / GATEHOUSE_TEST_EXTRA narrow it down (see tests/run-node-tests.js).
test-api: $(BUILD)/gatehouse
	GATEHOUSE_BIN=$(BUILD)/gatehouse node tests/run-node-tests.js

# The same suite against an ASan + UBSan build.
asan: deps-test
	@$(MAKE) --no-print-directory $(BUILD)/asan/gatehouse $(ASAN_UNIT_BINS)
	@scripts/run-unit-tests.sh $(ASAN_UNIT_BINS) | tee $(BUILD)/asan-unit-summary.txt
	@GATEHOUSE_BIN=$(BUILD)/asan/gatehouse GATEHOUSE_UNIT_SUMMARY=$(BUILD)/asan-unit-summary.txt \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  node tests/run-node-tests.js

valgrind: deps-test
	@$(MAKE) --no-print-directory $(UNIT_BINS)
	@scripts/run-unit-tests.sh --valgrind $(UNIT_BINS)

# node: npm jose for the Node example service the bench measures
deps-bench:
	@scripts/install-deps.sh bench node

# `make bench` measures $(BUILD)/gatehouse against the targets (bench/README.md). BENCH_USERS
# sets the users and live sessions seeded per mode (default 100000; `make bench-million` or
# `make bench BENCH_USERS=1000000` for the 1M-user mode).
bench: all deps-bench
	GATEHOUSE_BIN=$(BUILD)/gatehouse BENCH_BUILD=$(BUILD) $(if $(BENCH_USERS),BENCH_USERS=$(BENCH_USERS)) \
	  bash bench/run.sh

bench-million: all deps-bench
	GATEHOUSE_BIN=$(BUILD)/gatehouse BENCH_BUILD=$(BUILD) BENCH_USERS=1000000 \
	  BENCH_MODES="$(or $(BENCH_MODES),sqlite)" bash bench/run.sh

# ---- fuzzing: libFuzzer harnesses (fuzz/*.c) built with clang, ASan and UBSan ----
# The library objects get coverage instrumentation (fuzzer-no-link); each harness links the
# fuzzer runtime. `make fuzz` runs every harness for FUZZ_SECONDS on a working copy of its seed
# corpus in $(BUILD)/fuzz/corpus and fails on any crash, leak or sanitizer report.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
                -fno-omit-frame-pointer
# clang's heuristic for a missing comma flags SQL split over lines in statement tables
FUZZ_WARN    := -Wno-string-concatenation
FUZZ_OBJ     := $(BUILD)/fuzz/obj
FUZZ_SRC     := $(wildcard fuzz/*.c)
FUZZ_BINS    := $(patsubst fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

$(FUZZ_OBJ)/%.o: %.c $(MHD_DEP)
	@mkdir -p $(dir $@)
	@echo "CC (fuzz) $<"
	@$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_WARN) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/libgatehouse.a: $(call objs,$(FUZZ_OBJ),$(LIB_SRC)) $(OBJ)/embed.o $(WEB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

$(FUZZ_BINS): $(BUILD)/fuzz/%: fuzz/%.c $(BUILD)/fuzz/libgatehouse.a $(MHD_DEP)
	@echo "CCLD $@"
	@$(FUZZ_CC) $(ALL_CFLAGS) $(FUZZ_WARN) $(FUZZ_SAN) -fsanitize=fuzzer -Isrc -o $@ $< \
	  $(BUILD)/fuzz/libgatehouse.a $(LIBS)

fuzz-build: $(FUZZ_BINS)

deps-fuzz:
	@scripts/install-deps.sh fuzz

fuzz: deps-fuzz
	@$(MAKE) --no-print-directory fuzz-build
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BINS)

# ---- the container image (Dockerfile), built and tested with podman ----
# `make image` builds gatehouse:latest in a podman store of this checkout (build/podman/, see
# scripts/podman.sh), on a local stand-in for debian:bookworm-slim made with mmdebstrap when
# the store has none (scripts/build-image.sh): no container registry is needed. Cached layers
# make a rebuild with nothing changed take seconds. `make image-test` runs the image as its
# users would (tests/image/) and prints the build and start-up figures.
image:
	@scripts/install-deps.sh image
	@scripts/build-image.sh

image-test: image
	@scripts/install-deps.sh image-test
	@tests/image/image-test.sh

format:
	clang-format -i $(SRC) $(shell find src -name '*.h') $(UNIT_SRC) $(UNIT_HELPER_SRC) \
	  $(UNIT_HDR) $(FUZZ_SRC)

format-check:
	clang-format --dry-run --Werror $(SRC) $(shell find src -name '*.h') $(UNIT_SRC) \
	  $(UNIT_HELPER_SRC) $(UNIT_HDR) $(FUZZ_SRC)

clean:
	rm -rf $(BUILD)

# The compilers' dependency files; build/podman (the image store, whose trees hold directories
# such as etc/*.d) is not searched.
-include $(shell find $(BUILD) -path $(BUILD)/podman -prune -o -name '*.d' -type f -print 2>/dev/null)
