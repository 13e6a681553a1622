# helper/: the C engine gdb injects into the target (pyleaks_helper.so),
# and its unit tests.  Included by the top-level Makefile.am.

pyl_engine_sources = \
	helper/addrset.c helper/addrset.h \
	helper/arena.c helper/arena.h \
	helper/census.c \
	helper/chain.c helper/chain.h \
	helper/csr.c helper/csr.h \
	helper/decode.c helper/decode.h \
	helper/engine.c helper/engine.h \
	helper/facts.c helper/facts.h helper/facts_attrs.c helper/facts_frames.c \
	helper/frames.c helper/frames.h \
	helper/keyrepr.c helper/keyrepr.h \
	helper/include/pyleaks_abi.h \
	helper/labels.c helper/labels.h \
	helper/layout.c helper/layout.h \
	helper/linetable.c helper/linetable.h \
	helper/maps.c helper/maps.h \
	helper/mem.h \
	helper/names.c helper/names.h \
	helper/objects.c \
	helper/objtab.c helper/objtab.h \
	helper/peek.h \
	helper/pydict.c helper/pydict.h \
	helper/pystr.c helper/pystr.h \
	helper/queries.c helper/query.h helper/query_backrefs.c \
	helper/query_chain.c helper/query_pick.c \
	helper/referents.h helper/referents_live.c \
	helper/rev.c helper/rev.h \
	helper/roots.c helper/roots.h helper/roots_build.h \
	helper/roots_residue.c helper/roots_state.c helper/roots_types.c \
	helper/sizes.c helper/sizes.h \
	helper/sort.c helper/sort.h \
	helper/types.c helper/types.h \
	helper/util.c helper/util.h \
	helper/walk.c helper/walk.h

pyl_engine_cppflags = -DPYL_BACKEND_LIVE \
	-I$(srcdir)/helper -I$(srcdir)/helper/include

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
	helper/tests/test_queries.c \
	helper/tests/test_csr.c \
	helper/tests/test_engine.c \
	helper/tests/test_linetable.c \
	helper/tests/test_maps.c \
	helper/tests/test_nomalloc.c \
	helper/tests/test_objtab.c \
	helper/tests/test_roots.c \
	helper/tests/test_sort.c
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
