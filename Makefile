# vecrabitq: PGXS build plus the project's own targets.
#
#   make deps         install the Debian packages the project needs (as root)
#   make / install    build and install the extension (PGXS)
#   make installcheck pg_regress on sql/ + expected/ against a running server
#   make unittest     src/core unit tests under AddressSanitizer + UBSan
#   make bench        micro-benchmarks of the core kernels
#   make test         deps, build, install, throwaway cluster, every suite
#   make demo         deps, build, install, throwaway cluster, a search demo
#   make mutants      deliberate bugs, one at a time: do the tests catch each? (developers)

# vecrabitq: the vector type and the rabitq index, standalone.
# vecrabitq_pgvector: the rabitq index for pgvector's vector and halfvec
# (requires pgvector).  One library serves both.
EXTENSION = vecrabitq vecrabitq_pgvector
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" vecrabitq.control)

MODULE_big = vecrabitq
CORE_SRCS = $(sort $(wildcard src/core/*.c))
OBJS = $(patsubst %.c,%.o,$(sort $(wildcard src/*.c)) $(CORE_SRCS))
# Both install scripts are made from sql/parts/ (the access method's part is
# shared); older install scripts and the upgrade scripts are kept as written.
DATA_built = build/sql/vecrabitq--$(EXTVERSION).sql build/sql/vecrabitq_pgvector--$(EXTVERSION).sql
DATA = $(wildcard sql/vecrabitq--*.sql)

REGRESS = install upgrade vector_input vector_cast vector_functions vector_binary \
	rabitq_options rabitq_scan rabitq_dims rabitq_vacuum \
	rabitq_tenants rabitq_keys rabitq_bad_input rabitq_hostile
REGRESS_OPTS = --load-extension=vecrabitq

# No -march: SIMD code is compiled per function (target attributes) and
# chosen at load time, so one binary runs on any x86-64.
WARNFLAGS = -Wall -Wextra
# SIMD and scalar estimators must round alike: never fuse a*b+c behind our back.
FPFLAGS = -ffp-contract=off
# PostgreSQL's headers are system headers to us: -Wextra would flag their
# macros (fmgr.h's unused fcinfo, array.h's sign compare), not our code.
PG_CPPFLAGS = -I$(CURDIR)/src -isystem $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)
PG_CFLAGS = $(WARNFLAGS) $(FPFLAGS) $(if $(WERROR),-Werror) -MMD -MP
# OpenBLAS is not linked: it is loaded with dlopen when a build first needs
# it, after OPENBLAS_NUM_THREADS=1 is set (src/core/rq_blas.h).  LAPACKE is
# for the tests' dense reference rotation only (test/unit/rq_testrot.c).
SHLIB_LINK = -lm

EXTRA_CLEAN = build $(OBJS:.o=.d)

# JIT bitcode would only inline thin wrappers around dispatched kernels, and
# needs clang at build time; leave it out.
override with_llvm = no

PG_CONFIG ?= pg_config
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(PGXS),)
include $(PGXS)
# Rebuild an object when a header it includes changes (-MMD -MP above).
-include $(OBJS:.o=.d)
else
all install installcheck:
	@echo "pg_config not found: run 'make deps' (as root) first, or set PG_CONFIG" >&2
	@exit 1
endif

build/sql/vecrabitq--$(EXTVERSION).sql: sql/parts/vecrabitq_head.sql sql/parts/vector_type.sql \
		sql/parts/rabitq_am.sql sql/parts/vector_ops.sql
	@mkdir -p $(dir $@)
	cat $^ >$@

build/sql/vecrabitq_pgvector--$(EXTVERSION).sql: sql/parts/pgvector_head.sql sql/parts/rabitq_am.sql \
		sql/parts/pgvector_ops.sql
	@mkdir -p $(dir $@)
	cat $^ >$@

mutants:
	test/tools/mutants.sh

# the regression tests' names, for the test runner's plan
print-regress:
	@echo $(REGRESS)

# ---------------------------------------------------------------------------
# Core unit tests and benchmarks (no server needed)

BUILD = build
CC_CORE ?= gcc
# Referenced only through dlsym (rq_blas.h), so keep them against --as-needed.
BLAS_LIBS = -Wl,--no-as-needed -lopenblas -llapacke -Wl,--as-needed
CORE_CFLAGS = -std=gnu11 -g $(WARNFLAGS) $(FPFLAGS) -Werror -Isrc
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
UNIT_SRCS = $(sort $(wildcard test/unit/*.c))
UNIT_HDRS = $(wildcard test/unit/*.h src/core/*.h)

$(BUILD)/unit/rq_unit: $(UNIT_SRCS) $(CORE_SRCS) $(UNIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC_CORE) $(CORE_CFLAGS) -O1 $(SANITIZE) -o $@ $(UNIT_SRCS) $(CORE_SRCS) $(BLAS_LIBS) -lm

# Same tests without sanitizers, for running under qemu's CPU models.
$(BUILD)/unit/rq_unit_plain: $(UNIT_SRCS) $(CORE_SRCS) $(UNIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC_CORE) $(CORE_CFLAGS) -O2 -o $@ $(UNIT_SRCS) $(CORE_SRCS) $(BLAS_LIBS) -lm

$(BUILD)/bench/bench_kernels: test/bench/bench_kernels.c $(CORE_SRCS) $(UNIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC_CORE) $(CORE_CFLAGS) -O2 -o $@ test/bench/bench_kernels.c $(CORE_SRCS) $(BLAS_LIBS) -lm

$(BUILD)/client/binary_io: test/client/binary_io.c
	@mkdir -p $(dir $@)
	$(CC_CORE) -std=gnu11 -g -O1 $(WARNFLAGS) -Werror -I$(shell $(PG_CONFIG) --includedir) \
		-o $@ $< -L$(shell $(PG_CONFIG) --libdir) -lpq -lm

# libFuzzer harnesses (clang): the text parser and the binary input path
FUZZ_CFLAGS = -std=gnu11 -g -O1 $(WARNFLAGS) $(FPFLAGS) -Werror -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
$(BUILD)/fuzz/fuzz_text: test/fuzz/fuzz_text.c src/core/rq_vector_text.c src/core/rq_vector_text.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_text.c src/core/rq_vector_text.c -lm

$(BUILD)/fuzz/fuzz_binary: test/fuzz/fuzz_binary.c src/core/rq_vector_binary.c src/core/rq_vector_binary.h
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ test/fuzz/fuzz_binary.c src/core/rq_vector_binary.c -lm

$(BUILD)/tools/gen_vectors: test/tools/gen_vectors.c src/core/rq_random.c
	@mkdir -p $(dir $@)
	$(CC_CORE) $(CORE_CFLAGS) -O2 -o $@ test/tools/gen_vectors.c src/core/rq_random.c -lm

$(BUILD)/tools/vecs2pg: test/tools/vecs2pg.c
	@mkdir -p $(dir $@)
	$(CC_CORE) -std=gnu11 -O2 $(WARNFLAGS) -Werror -o $@ $<

$(BUILD)/bench/bench_rabitq: test/bench/bench_rabitq.c test/unit/rq_testblocks.c $(CORE_SRCS) $(UNIT_HDRS)
	@mkdir -p $(dir $@)
	$(CC_CORE) $(CORE_CFLAGS) -Itest -O2 -o $@ test/bench/bench_rabitq.c test/unit/rq_testblocks.c \
		$(CORE_SRCS) $(BLAS_LIBS) -lm

.PHONY: unittest bench deps test demo fuzz print-regress mutants
unittest: $(BUILD)/unit/rq_unit
	$(BUILD)/unit/rq_unit

SIFT100K = $(wildcard ../shared/data/sift100k/base.bvecs)

bench: $(BUILD)/bench/bench_kernels $(BUILD)/bench/bench_rabitq
	$(BUILD)/bench/bench_kernels
	OPENBLAS_NUM_THREADS=1 $(BUILD)/bench/bench_rabitq $(SIFT100K)

# FUZZ_SECONDS (default 20) per harness, from the committed seed corpus
fuzz: $(BUILD)/fuzz/fuzz_text $(BUILD)/fuzz/fuzz_binary
	test/tools/run-fuzz.sh

deps:
	test/tools/deps.sh

# test and demo re-enter make after deps so PGXS is found on a fresh machine.
test:
	test/tools/deps.sh
	$(MAKE) all WERROR=1
	$(MAKE) install
	$(MAKE) $(BUILD)/unit/rq_unit $(BUILD)/unit/rq_unit_plain $(BUILD)/client/binary_io \
		$(BUILD)/tools/gen_vectors $(BUILD)/fuzz/fuzz_text $(BUILD)/fuzz/fuzz_binary
	test/tools/run-tests.sh

demo:
	test/tools/deps.sh
	$(MAKE) all
	$(MAKE) install
	$(MAKE) $(BUILD)/tools/vecs2pg
	test/demo/demo.sh
