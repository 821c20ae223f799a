# orgsync: PGXS build of the extension, plus the relay, tests and benchmarks.
#   make          build the extension and the relay
#   make run      the main job: a local cluster with the extension, and the relay
#   make test     every test, on a throwaway cluster
#   make bench    the benchmarks (figures in README)

EXTENSION = orgsync
DATA = $(wildcard orgsync--*.sql)
MODULE_big = orgsync
OBJS = $(patsubst %.cpp,%.o,$(wildcard src/core/*.cpp src/pg/*.cpp))

REGRESS = $(patsubst sql/%.sql,%,$(sort $(wildcard sql/*.sql)))
REGRESS_OPTS = --load-extension=orgsync
ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --load-extension=orgsync

PG_CONFIG ?= pg_config
# Postgres headers as system headers: our warnings are about our code.
PG_CPPFLAGS = -Isrc -isystem $(shell $(PG_CONFIG) --includedir-server)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -Wno-unused-parameter
SHLINK = -lstdc++ -lcrypto
SHLIB_LINK = $(SHLINK)
EXTRA_CLEAN = relay/orgsync-relay test/unit/core_tests results regression.* output_iso

# Bitcode for JIT inlining is not worth a clang++ toolchain for C++ code.
override with_llvm = no

PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

.DEFAULT_GOAL := everything
.PHONY: everything relay deps run demo test unit-tests bench

everything: all relay

relay:
	$(MAKE) -C relay

# Core unit tests link only src/core: no Postgres anywhere in them.
CORE_OBJS = $(patsubst %.cpp,%.o,$(wildcard src/core/*.cpp))
test/unit/core_tests: $(wildcard test/unit/*.cpp) $(CORE_OBJS)
	$(CXX) -std=c++17 -O1 -g -Wall -Wextra -Isrc -o $@ $(filter %.cpp,$^) $(CORE_OBJS) \
		-lgtest -lgtest_main -lcrypto -pthread

unit-tests: test/unit/core_tests
	test/unit/core_tests

deps:
	scripts/install-deps.sh

run: deps everything
	$(MAKE) install
	scripts/run.sh

demo:
	scripts/demo.sh

test: deps everything test/unit/core_tests
	$(MAKE) install
	test/run-all.sh

bench: deps everything
	$(MAKE) install
	bench/run.sh
