# stackd -- a process supervisor that climbs a stack of levels.
#
#   make            build build/stackd and build/stackctl
#   make run        build and run conf/example.ini in the foreground
#   make check      build, then run every test (also under ASan+UBSan)
#   make fuzz       run each libFuzzer target FUZZ_SECONDS (default 60)
#   make bench      build, then stackd against tini, dumb-init, s6, runit and
#                   supervisord (bench/README.md; ~10 min; BENCH_QUICK=1: < 1 min)
#   make soak       the chaos soak, SOAK_SECONDS (default 600) of faults
#   make soak-report  the same, writing the figures to tests/soak/RESULTS.md
#   make valgrind   the memcheck scenario alone (make check runs it too)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        build/stackd_VERSION_ARCH.deb (packaging/make-deb.sh)
#   make clean
#
# The run and check targets install missing Debian packages when run as
# root (packaging/need-debs.sh), else print the apt-get command to run.

PREFIX	?= /usr/local
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DESTDIR	?=

CC	?= cc
PKG_CONFIG ?= pkg-config
PYTHON	?= /usr/bin/python3
B	?= build

CFLAGS	?= -O2 -g
# Not part of CFLAGS, so that `make CFLAGS=...` (the sanitizer build) can
# never drop them.
WFLAGS	= -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow \
	  -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
# libsystemd: its headers only; src/sdlib.c loads the library when needed.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags inih libsystemd 2>/dev/null)
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs inih 2>/dev/null)
LIBS	= $(PKG_LIBS) -lev -lm

BUILD_DEBS = gcc make pkg-config libev-dev libinih-dev libsystemd-dev
CHECK_DEBS = $(BUILD_DEBS) libcmocka-dev python3-pytest cppcheck util-linux \
	     procps prometheus python3-yaml systemd clang libclang-rt-14-dev \
	     valgrind strace
DEB_DEBS = $(BUILD_DEBS) debhelper dpkg-dev

# Shared by both binaries: the configuration and its parsers.
COMMON	= config.c parse.c words.c json.c ctlpath.c
# The pure level state machine: no I/O, unit-tested on a fake clock.
MACHINE	= machine.c climb.c rewind.c restart.c reload.c rollout.c intensity.c \
	  roster.c
# The daemon: libev glue that turns events into calls, actions into syscalls.
DAEMON	= stackd.c events.c log.c spawn.c launcher.c launchmsg.c reap.c probe.c \
	  hook.c relay.c ready.c reconfigure.c control.c request.c notify.c status.c metrics.c sdlib.c
CTL	= stackctl.c
# Readiness from the children (ready.c): the sd_notify parser, the watchdog.
DAEMON	+= notifymsg.c watchdog.c

STACKD_OBJ   = $(addprefix $(B)/,$(COMMON:.c=.o) $(MACHINE:.c=.o) $(DAEMON:.c=.o))
STACKCTL_OBJ = $(addprefix $(B)/,$(COMMON:.c=.o) $(CTL:.c=.o))

UNIT	= test_words test_parse test_intensity test_machine test_metrics \
	  test_notifymsg test_launchmsg test_chaos
UNIT_BIN = $(addprefix $(B)/,$(UNIT))

VERSION	= 0.1.0

.PHONY: all deps check-deps run check unit bb cppcheck fuzz fuzz-build bench \
	install deb clean soak soak-report valgrind chaos

all: $(B)/stackd $(B)/stackctl

deps:
	@sh packaging/need-debs.sh $(BUILD_DEBS)

check-deps:
	@sh packaging/need-debs.sh $(CHECK_DEBS)

$(B)/%.o: src/%.c src/*.h | $(B)
	$(CC) $(WFLAGS) $(CFLAGS) $(PKG_CFLAGS) -DSTACKD_VERSION='"$(VERSION)"' -c -o $@ $<

$(B)/test_%.o: tests/unit/test_%.c src/*.h tests/unit/*.h | $(B)
	$(CC) $(WFLAGS) $(CFLAGS) $(PKG_CFLAGS) -Isrc -c -o $@ $<

$(B):
	mkdir -p $@

$(B)/stackd: $(STACKD_OBJ)
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/stackctl: $(STACKCTL_OBJ)
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(B)/test_words: $(B)/test_words.o $(B)/words.o
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcmocka
$(B)/test_parse: $(B)/test_parse.o $(addprefix $(B)/,$(COMMON:.c=.o))
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka
$(B)/test_intensity: $(B)/test_intensity.o $(B)/intensity.o
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcmocka
$(B)/deadline_scan.o: tests/unit/deadline_scan.c tests/unit/deadline_scan.h \
	    src/*.h | $(B)
	$(CC) $(WFLAGS) $(CFLAGS) $(PKG_CFLAGS) -Isrc -c -o $@ $<
$(B)/test_machine: $(B)/test_machine.o $(B)/deadline_scan.o \
	    $(addprefix $(B)/,$(MACHINE:.c=.o) $(COMMON:.c=.o))
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka
$(B)/test_chaos: $(B)/test_chaos.o $(B)/deadline_scan.o \
	    $(addprefix $(B)/,$(MACHINE:.c=.o) $(COMMON:.c=.o))
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka
$(B)/test_notifymsg: $(B)/test_notifymsg.o $(B)/notifymsg.o
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcmocka
$(B)/test_launchmsg: $(B)/test_launchmsg.o $(B)/launchmsg.o
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcmocka
$(B)/test_metrics: $(B)/test_metrics.o $(B)/metrics.o $(B)/log.o \
	    $(addprefix $(B)/,$(MACHINE:.c=.o) $(COMMON:.c=.o))
	$(CC) $(WFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS) -lcmocka

run: deps
	@$(MAKE) --no-print-directory all
	exec ./$(B)/stackd -f conf/example.ini

# Unit tests, then the black-box suite against the plain and the
# sanitizer build in one pytest session, so its summary line is the last
# thing printed.
check: check-deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@$(MAKE) --no-print-directory B=build-asan \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    LDFLAGS="-fsanitize=address,undefined" all $(UNIT:%=build-asan/%)
	@$(MAKE) --no-print-directory cppcheck
	@for t in $(UNIT); do ./$(B)/$$t || exit 1; ./build-asan/$$t || exit 1; done
	@$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=5 >build-fuzz.log 2>&1 || \
	    { tail -40 build-fuzz.log; exit 1; }
	@$(MAKE) --no-print-directory soak SOAK_SECONDS=60
	@$(MAKE) --no-print-directory bench BENCH_QUICK=1 >build-bench.log 2>&1 || \
	    { tail -40 build-bench.log; exit 1; }
	STACKD_BUILDS="$(B) build-asan" $(PYTHON) -m pytest -q -p no:cacheprovider tests/bb

# The state machine under random events (tests/unit/test_chaos.c) for
# many more seeds than the 200 of `make check`: rare interleavings of
# reloads, restarts and target changes need tens of thousands (a few
# minutes).  CHAOS_SEED=N replays one seed with its whole trace.
CHAOS_SEEDS ?= 20000
chaos: check-deps $(B)/test_chaos
	CHAOS_SEEDS=$(CHAOS_SEEDS) ./$(B)/test_chaos

# The chaos soak (tests/soak/soak.py; its header says what it injects and
# checks) against $(B)/stackd only: under ASan, RSS never returns to a
# baseline (the allocator quarantines freed memory) and every spawn is
# slower, while the sanitizers' findings are what the bb suite is for.
# `make check` runs 60 seconds of it.
SOAK_SECONDS ?= 600
soak: check-deps all
	$(PYTHON) tests/soak/soak.py --build $(B) --seconds $(SOAK_SECONDS) \
	    $(if $(SOAK_REPORT),--report $(SOAK_REPORT))

soak-report:
	@$(MAKE) --no-print-directory soak SOAK_REPORT=tests/soak/RESULTS.md

# valgrind memcheck of a climb-rewind-reload-shutdown scenario; part of
# the bb suite, here on its own.
valgrind: check-deps all
	STACKD_BUILDS="$(B)" $(PYTHON) -m pytest -q -p no:cacheprovider \
	    tests/bb/test_valgrind.py

# libFuzzer targets (tests/fuzz), built with clang into build-fuzz/.  The
# checked-in corpus is only read; new inputs go to a scratch directory, and
# a crash is written to build-fuzz/ -- add it to the corpus once fixed.
FUZZ	= request words parse notify launchmsg
FUZZ_SECONDS ?= 60
FUZZ_CC	= clang
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined \
	      -fno-sanitize-recover=all -Isrc
FUZZ_SRC_request = src/request.c
FUZZ_SRC_words	 = src/words.c
FUZZ_SRC_parse	 = $(addprefix src/,$(COMMON))
FUZZ_SRC_notify	 = src/notifymsg.c
FUZZ_SRC_launchmsg = src/launchmsg.c

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c src/*.c src/*.h
	@mkdir -p build-fuzz
	$(FUZZ_CC) $(WFLAGS) $(FUZZ_CFLAGS) $(PKG_CFLAGS) -o $@ $< \
	    $(FUZZ_SRC_$*) $(LIBS)

fuzz-build: $(FUZZ:%=build-fuzz/fuzz_%)

fuzz: check-deps fuzz-build
	@for t in $(FUZZ); do \
	    mkdir -p build-fuzz/new-$$t; \
	    ./build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) \
		-artifact_prefix=build-fuzz/ -print_final_stats=1 \
		build-fuzz/new-$$t tests/fuzz/corpus/$$t || exit 1; \
	done

cppcheck:
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability,performance \
	    --inline-suppr --std=c11 -D_GNU_SOURCE -DSTACKD_VERSION='"x"' src

# Speed targets live in the benchmark, not in check; check runs only the
# quick mode, which fails when the harness cannot run a scenario, never on
# a figure.  The harness installs the anchors' Debian packages itself (or
# prints the command).
bench: all
	BENCH_COMMAND="make bench$(if $(BENCH_QUICK), BENCH_QUICK=$(BENCH_QUICK))" \
	    $(PYTHON) bench/bench.py $(if $(BENCH_QUICK),--quick) $(BENCH_ARGS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 755 $(B)/stackd $(B)/stackctl $(DESTDIR)$(BINDIR)/
	install -m 644 man/stackctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/stack.ini.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/stackd.8 $(DESTDIR)$(MANDIR)/man8/
	@# systemd units with ExecStart= in BINDIR (/usr/local/lib/systemd/system
	@# is on systemd's path), and the bash completion of stackctl.
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 packaging/completion/stackctl $(DESTDIR)$(COMPLETIONDIR)/
	for u in stackd.service stackd@.service; do \
	    sed 's|/usr/bin/stackd|$(BINDIR)/stackd|g' packaging/systemd/$$u \
	        >$(B)/$$u && install -m 644 $(B)/$$u $(DESTDIR)$(UNITDIR)/ || exit 1; \
	done

# Build the binary Debian package from a copy of the tree; see the script.
deb:
	@sh packaging/need-debs.sh $(DEB_DEBS)
	sh packaging/make-deb.sh

clean:
	rm -rf build build-asan build-fuzz build-fuzz.log build-bench.log
