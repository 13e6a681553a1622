# bench/: the speed and memory benchmark (a measurement, never a test: not
# part of check or distcheck).  Included by the top-level Makefile.am.
#
# `make bench` measures this build tree; BENCH_FLAGS passes options, e.g.
# make bench BENCH_FLAGS='--sizes 1M --python /root/.pyenv/versions/3.12.1/bin/python3.12'

EXTRA_DIST += bench/local.mk bench/run.sh bench/heap_target.py

BENCH_FLAGS =

.PHONY: bench
bench: all
	bash '$(srcdir)/bench/run.sh' --builddir '$(abs_top_builddir)' $(BENCH_FLAGS)
