# bench/: the speed and memory benchmark (a measurement, never a test: not
# part of check or distcheck).  Included by the top-level Makefile.am.
#
# `make bench` measures this build tree (census, memory); BENCH_FLAGS
# passes options, e.g.
# make bench BENCH_FLAGS='--sizes 1M --python /root/.pyenv/versions/3.12.1/bin/python3.12'
#
# `make bench-chain` measures py-chain against objgraph.find_backref_chain
# on a 10M-object heap (objgraph is capped at 10 minutes a chain);
# BENCH_CHAIN_FLAGS passes options, e.g.
# make bench-chain BENCH_CHAIN_FLAGS='--objects 1M --runs 1'
#
# `make bench-refs` measures py-refs, py-backrefs and py-chain on
# containers of 10k, 100k and 1M entries (linear growth, and py-refs
# against the census); BENCH_REFS_FLAGS passes options, e.g.
# make bench-refs BENCH_REFS_FLAGS='--sizes "10k 100k" --runs 1'
#
# `make bench-analysis` measures what py-leaks' leak analysis (reverse
# index, roots, dominator tree and retained sizes, findings) adds to the
# census on heaps of 1M and 10M objects: time after the walk, helper
# memory per object; BENCH_ANALYSIS_FLAGS passes options, e.g.
# make bench-analysis BENCH_ANALYSIS_FLAGS='--sizes 1M --runs 1'

EXTRA_DIST += bench/local.mk bench/lib.sh bench/run.sh bench/heap_target.py \
	bench/chain.sh bench/chain_target.py bench/refs.sh bench/refs_target.py \
	bench/analysis.sh

BENCH_FLAGS =
BENCH_CHAIN_FLAGS =
BENCH_REFS_FLAGS =
BENCH_ANALYSIS_FLAGS =

.PHONY: bench bench-chain bench-refs bench-analysis
bench: all
	bash '$(srcdir)/bench/run.sh' --builddir '$(abs_top_builddir)' $(BENCH_FLAGS)

bench-chain: all
	bash '$(srcdir)/bench/chain.sh' --builddir '$(abs_top_builddir)' $(BENCH_CHAIN_FLAGS)

bench-refs: all
	bash '$(srcdir)/bench/refs.sh' --builddir '$(abs_top_builddir)' $(BENCH_REFS_FLAGS)

bench-analysis: all
	bash '$(srcdir)/bench/analysis.sh' --builddir '$(abs_top_builddir)' $(BENCH_ANALYSIS_FLAGS)
