# helper/: the C engine gdb injects into the target (pyleaks_helper.so),
# and its unit tests.  Included by the top-level Makefile.am.

pyl_engine_sources = \
	helper/graph/addrset.c helper/graph/addrset.h \
	helper/common/arena.c helper/common/arena.h \
	helper/backend/control.c helper/backend/control.h \
	helper/query/analysis.h helper/query/analyze.c \
	helper/query/find_containers.c helper/query/find_defaults.c \
	helper/query/find_lru.c helper/query/find_state.c \
	helper/query/patterns.c helper/query/patterns.h \
	helper/query/census.c \
	helper/graph/chain.c helper/graph/chain.h \
	helper/graph/dominators.c helper/graph/dominators.h \
	helper/graph/csr.c helper/graph/csr.h helper/graph/heap.c helper/graph/heap.h \
	helper/pyobj/code.c helper/pyobj/code.h \
	helper/pyobj/decode.c helper/pyobj/decode.h \
	helper/query/engine.c helper/query/engine.h \
	helper/pyobj/facts.c helper/pyobj/facts.h helper/pyobj/facts_attrs.c helper/pyobj/facts_frames.c \
	helper/pyobj/facts_sink.c helper/pyobj/attrs.h \
	helper/roots/frames.c helper/roots/frames.h \
	helper/pyobj/keyrepr.c helper/pyobj/keyrepr.h \
	helper/pyobj/kinds.c helper/pyobj/kinds.h \
	helper/include/pyleaks_abi.h helper/include/pyleaks_ctl.h \
	helper/graph/labels.c helper/graph/labels.h \
	helper/pyobj/layout.c helper/pyobj/layout.h \
	helper/roots/linetable.c helper/roots/linetable.h \
	helper/backend/maps.c helper/backend/maps.h \
	helper/backend/mem.h \
	helper/pyobj/names.c helper/pyobj/names.h \
	helper/query/objects.c \
	helper/query/identity.c \
	helper/graph/objtab.c helper/graph/objtab.h \
	helper/pyobj/peek.h helper/pyobj/view.h \
	helper/pyobj/pydict.c helper/pyobj/pydict.h \
	helper/pyobj/pystr.c helper/pyobj/pystr.h \
	helper/query/queries.c helper/query/query.h helper/query/query_backrefs.c \
	helper/query/query_chain.c helper/query/query_pick.c \
	helper/pyobj/referents.h helper/pyobj/referents_live.c \
	helper/graph/rev.c helper/graph/rev.h \
	helper/roots/roots.c helper/roots/roots.h helper/roots/roots_build.h \
	helper/roots/roots_residue.c helper/roots/roots_rows.c helper/roots/roots_state.c \
	helper/roots/roots_types.c helper/roots/threadnames.c \
	helper/pyobj/sizes.c helper/pyobj/sizes.h \
	helper/common/sort.c helper/common/sort.h \
	helper/pyobj/types.c helper/pyobj/types.h \
	helper/pyobj/validate.c helper/pyobj/validate.h \
	helper/common/util.c helper/common/util.h \
	helper/common/vec.c helper/common/vec.h \
	helper/graph/walk.c helper/graph/walk.h

pyl_engine_cppflags = -DPYL_BACKEND_LIVE \
	-I$(srcdir)/helper/include -I$(srcdir)/helper/common \
	-I$(srcdir)/helper/backend -I$(srcdir)/helper/graph \
	-I$(srcdir)/helper/pyobj -I$(srcdir)/helper/roots -I$(srcdir)/helper/query

pkglib_LTLIBRARIES += helper/pyleaks_helper.la
helper_pyleaks_helper_la_SOURCES = $(pyl_engine_sources)
helper_pyleaks_helper_la_CPPFLAGS = $(pyl_engine_cppflags)
helper_pyleaks_helper_la_LIBADD = $(LIBIBERTY_A)
# -z now: no lazy PLT binding, so nothing runs the dynamic loader while gdb
# calls into the stopped target.  Only pyl_* entry points are exported and
# libiberty stays private to the helper.
helper_pyleaks_helper_la_LDFLAGS = -module -avoid-version -shared \
	-Wl,--exclude-libs,ALL -Wl,-z,now -Wl,-z,defs \
	-Wl,--version-script=$(srcdir)/helper/exports.map
EXTRA_helper_pyleaks_helper_la_DEPENDENCIES = $(srcdir)/helper/exports.map
EXTRA_DIST += helper/exports.map helper/layout_fields.def

check_PROGRAMS += helper/tests/unit
TESTS += helper/tests/unit
helper_tests_unit_SOURCES = $(pyl_engine_sources) \
	helper/tests/check.h \
	helper/tests/fakepy.c helper/tests/fakepy.h \
	helper/tests/unit.c \
	helper/tests/test_arena.c \
	helper/tests/test_chain.c \
	helper/tests/test_dominators.c \
	helper/tests/test_queries.c \
	helper/tests/test_csr.c \
	helper/tests/test_engine.c \
	helper/tests/test_linetable.c \
	helper/tests/test_maps.c \
	helper/tests/test_nomalloc.c \
	helper/tests/test_objtab.c \
	helper/tests/test_roots.c \
	helper/tests/test_sort.c \
	helper/tests/test_validate.c \
	helper/tests/test_vec.c
helper_tests_unit_CPPFLAGS = $(pyl_engine_cppflags)
# --enable-asan/--enable-ubsan instrument the tests (never the .so).
helper_tests_unit_CFLAGS = $(AM_CFLAGS) $(SANITIZE_CFLAGS)
helper_tests_unit_LDFLAGS = $(SANITIZE_CFLAGS)
helper_tests_unit_LDADD = $(LIBIBERTY_A)

# A benchmark on a synthetic heap, built by `make check` but not run.
check_PROGRAMS += helper/tests/bench_walk
helper_tests_bench_walk_SOURCES = $(pyl_engine_sources) \
	helper/tests/fakepy.c helper/tests/fakepy.h \
	helper/tests/bench_walk.c
helper_tests_bench_walk_CPPFLAGS = $(pyl_engine_cppflags)
helper_tests_bench_walk_LDADD = $(LIBIBERTY_A)

# The call stub (helper/include/pyleaks_ctl.h): raw machine code that gdb
# copies into the target before anything else, so it is a flat binary, not
# a library.
pyleaksstubdir = $(pkglibdir)
pyleaksstub_DATA = helper/pyleaks_stub.bin
CLEANFILES += helper/pyleaks_stub.bin helper/stub/stub.o
EXTRA_DIST += helper/stub/stub.S

helper/pyleaks_stub.bin: $(srcdir)/helper/stub/stub.S $(srcdir)/helper/include/pyleaks_ctl.h
	$(AM_V_GEN)$(MKDIR_P) helper/stub && \
	$(CCAS) -c -I$(srcdir)/helper/include -o helper/stub/stub.o $(srcdir)/helper/stub/stub.S && \
	$(OBJCOPY) -O binary -j .text helper/stub/stub.o $@
