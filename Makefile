# orgsync: PGXS build of the extension, plus the relay, tests and benchmarks.
#   make            build the extension and the relay
#   make install    install both (the extension with PGXS; the relay: relay/Makefile)
#   make run        the main job: a local cluster with the extension, and the relay
#   make demo       sample deliveries, into a database of their own in make run's cluster
#   make test       every test, on throwaway clusters
#   make bench      the benchmarks (figures in docs/performance.md)
#   make deps-run, deps-demo, deps-test    install what each of those needs
#                   (scripts/install-deps.sh; run, demo and test do it first)

.DEFAULT_GOAL := everything

EXTENSION = orgsync
EXTVERSION := $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" orgsync.control)
# The current version's install script is generated (DATA_built): the first
# version's script, then every update script in order, so that a fresh
# install runs what an upgraded one ran. sql/upgrade.sql compares the two.
INSTALL_BASE = orgsync--0.1.0.sql
UPDATE_SCRIPTS = $(wildcard orgsync--*--*.sql)
DATA = $(INSTALL_BASE) $(UPDATE_SCRIPTS)
DATA_built = orgsync--$(EXTVERSION).sql

MODULE_big = orgsync
CORE_OBJS = $(patsubst %.cpp,%.o,$(wildcard src/core/*.cpp))
OBJS = $(CORE_OBJS) $(patsubst %.cpp,%.o,$(wildcard src/pg/*.cpp))
UNIT_OBJS = $(patsubst %.cpp,%.o,$(wildcard test/unit/*.cpp))
# What src/core links against, wherever it goes: the extension, the unit
# tests, the fuzzer.
CORE_LIBS = -lcrypto
SHLIB_LINK = -lstdc++ $(CORE_LIBS)

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=orgsync
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=orgsync

PG_CONFIG ?= pg_config
# Postgres headers as system headers: our warnings are about our code.
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)
# -MMD -MP: each object's header dependencies in a .d file beside it (read
# below). PGXS's own autodepend is off in Debian's build, and names its files
# by stem, where src/core/x.cpp and src/pg/x.cpp would share one.
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter -MMD -MP
EXTRA_CLEAN = test/unit/core_tests test/fuzz/core_fuzzer $(OBJS:.o=.d) $(UNIT_OBJS) $(UNIT_OBJS:.o=.d) \
	results regression.* output_iso

# Bitcode for JIT inlining is not worth a clang++ toolchain for C++ code.
override with_llvm = no

# Without PostgreSQL's server headers only the provisioning targets work;
# run, test, demo and bench install them first, then build in a new make.
PROVISIONING_GOALS = deps deps-run deps-demo deps-test deps-bench run demo test bench
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else ifneq ($(filter-out $(PROVISIONING_GOALS),$(or $(MAKECMDGOALS),$(.DEFAULT_GOAL))),)
$(error PostgreSQL 15's PGXS is missing ($(PG_CONFIG) --pgxs: "$(PGXS)"); `make deps-run` installs it)
endif
-include $(OBJS:.o=.d) $(UNIT_OBJS:.o=.d)

.PHONY: everything relay install-extension install-relay clean-relay deps deps-run deps-demo deps-test \
	run demo test unit-tests bench deps-bench

everything: all relay

# The library refuses to work on another version's SQL objects (src/pg/extension.cpp).
src/pg/extension.o: override CPPFLAGS += -DORGSYNC_VERSION='"$(EXTVERSION)"'
src/pg/extension.o: orgsync.control

orgsync--$(EXTVERSION).sql: scripts/install-script.sh orgsync.control $(INSTALL_BASE) $(UPDATE_SCRIPTS)
	scripts/install-script.sh $(INSTALL_BASE) $(EXTVERSION) >$@

relay:
	$(MAKE) -C relay PG_CONFIG=$(PG_CONFIG)

# `make install` installs the relay too (relay/Makefile: PREFIX, DESTDIR).
# make run and make test use the relay where it was built, and install only
# the extension (into the server that pg_config names).
ifndef extension_only
install: install-relay
endif
install-relay:
	$(MAKE) -C relay install PG_CONFIG=$(PG_CONFIG)
install-extension:
	$(MAKE) install extension_only=1

clean: clean-relay
clean-relay:
	$(MAKE) -C relay clean

# Core unit tests link only src/core: no Postgres anywhere in them.
test/unit/core_tests: $(UNIT_OBJS) $(CORE_OBJS)
	$(CXX) $(CXXFLAGS) -o $@ $^ $(CORE_LIBS) -lgtest -lgtest_main -pthread

unit-tests: test/unit/core_tests
	test/unit/core_tests

# libFuzzer with ASan and UBSan over src/core (test/fuzz/run.sh runs it).
FUZZ_CXX ?= clang++
test/fuzz/core_fuzzer: test/fuzz/core_fuzzer.cpp test/unit/plan_invariants.cpp $(CORE_OBJS:.o=.cpp) \
		$(wildcard src/core/*.hpp) test/unit/plan_invariants.hpp
	$(FUZZ_CXX) -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -Isrc -o $@ $(filter %.cpp,$^) $(CORE_LIBS)

# Installing what the targets below need is explicit and cheap to repeat:
# scripts/install-deps.sh installs only what is missing, and says what to
# run when it is not root.
deps-run deps-demo deps-test deps-bench:
	scripts/install-deps.sh $(patsubst deps-%,%,$@)
deps: deps-test

run: deps-run
	$(MAKE) everything
	$(MAKE) install-extension
	scripts/run.sh

demo: deps-demo
	scripts/demo.sh

test: deps-test
	$(MAKE) everything test/unit/core_tests
	$(MAKE) install-extension
	test/run-all.sh

bench: deps-bench
	$(MAKE) everything
	$(MAKE) install-extension
	bench/run.sh
