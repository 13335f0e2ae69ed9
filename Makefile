# schemaguard: PGXS build.
#
# src/ holds the entry file (schemaguard.c: _PG_init) and one folder per
# subsystem (SG_DIRS); sources, headers and regression tests are found by
# wildcard, so adding a file, a folder or a test needs no edit here.

EXTENSION = schemaguard
MODULE_big = schemaguard
SG_DIRS = $(sort $(patsubst %/,%,$(dir $(wildcard src/*/*.c))))
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c src/*/*.c)))
PG_CPPFLAGS += -I$(srcdir)/src $(addprefix -I$(srcdir)/,$(SG_DIRS))
DATA = $(wildcard schemaguard--*.sql)
SCRIPTS = src/schemaguard-lint
PGFILEDESC = "schemaguard - DDL safety guard for PostgreSQL"

TESTS = $(sort $(wildcard sql/*.sql))
REGRESS = $(patsubst sql/%.sql,%,$(TESTS))
REGRESS_OPTS = --inputdir=. --load-extension=schemaguard

# make installcheck: pg_regress and the isolation tester against a running
# server (PGHOST, PGPORT) that preloads schemaguard.  make prove_installcheck:
# the TAP tests (test/t), each on servers of its own made with the installed
# binaries.  (Not TAP_TESTS = 1, which would run them inside installcheck.)
PROVE_TESTS = $(sort $(wildcard test/t/*.pl))
PROVE_FLAGS += -I test/lib
export SG_SRC ?= $(CURDIR)

ISOLATION = $(patsubst test/isolation/specs/%.spec,%,$(sort $(wildcard test/isolation/specs/*.spec)))
ISOLATION_OPTS = --inputdir=test/isolation --outputdir=test/isolation/output --load-extension=schemaguard

# -Wall -Wextra, as pgvector's CI builds (core headers are not clean under
# -Wunused-parameter and -Wsign-compare).  The test command sets SG_WERROR=1.
PG_CFLAGS += -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare
ifeq ($(SG_WERROR),1)
PG_CFLAGS += -Werror -DSG_WERROR
endif

EXTRA_CLEAN = test/isolation/output regression.diffs regression.out results tmp_check \
	$(wildcard src/*/*.bc)

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs)
include $(PGXS)

$(OBJS): $(wildcard src/*.h src/*/*.h)

.PHONY: prove_installcheck
prove_installcheck:
	rm -rf '$(CURDIR)'/tmp_check
	$(MKDIR_P) '$(CURDIR)'/tmp_check
	$(prove_installcheck)
