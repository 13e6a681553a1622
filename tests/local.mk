# The pytest suite: real gdb attached to real Python processes of every
# supported interpreter on the machine (tests/conftest.py finds them).
#
# It runs from check-local, after the C unit tests (TESTS), writing
# straight to the terminal so that pytest's summary line is the last line
# of a successful `make check` (hence --no-print-directory: no "Leaving
# directory" line after it) and make's exit status is pytest's.  Tests and
# targets are read from $(srcdir) (VPATH builds; for distcheck's read-only
# source tree nothing is written there: no cache, no bytecode); the build
# tree under test is passed as PYLEAKS_BUILDDIR.
#
# `make check-pytest` runs the suite alone; PYTEST_FLAGS passes options,
# e.g. make check-pytest PYTEST_FLAGS='-k census -x'.

PYTEST_FILES = \
	tests/pytest.ini \
	tests/conftest.py \
	tests/harness.py \
	tests/test_census.py \
	tests/test_ctl_abi.py \
	tests/test_layers.py \
	tests/test_errors.py \
	tests/test_messages.py \
	tests/test_objects.py \
	tests/test_plain_gdb.py \
	tests/test_install.py \
	tests/test_safety.py \
	tests/test_untouched.py \
	tests/test_wrapper.py \
	tests/chain_harness.py \
	tests/test_chain.py \
	tests/test_chain_errors.py \
	tests/test_refs.py \
	tests/test_bounded.py \
	tests/targets/bounded_target.py \
	tests/test_corrupt.py \
	tests/test_containers.py \
	tests/test_faults.py \
	tests/targets/fault_target.py \
	tests/targets/heap_target.py \
	tests/targets/malloc_target.py \
	tests/targets/busy_target.py \
	tests/targets/chain_app.py \
	tests/targets/chain_oracle.py \
	tests/targets/chain_target.py \
	tests/targets/corrupt_target.py \
	tests/targets/typenames.py \
	tests/targets/protocol.py \
	tests/targets/gc_census.py \
	tests/targets/container_target.py \
	tests/targets/leaky_ext.c \
	tests/test_analysis.py \
	tests/targets/analysis_target.py \
	tests/test_findings.py \
	tests/findings_harness.py \
	tests/targets/findings_target.py \
	tests/targets/findings_clean.py \
	tests/test_growth.py \
	tests/targets/growth_target.py \
	tests/test_memory.py \
	tests/targets/memory_target.py \
	tests/test_native.py \
	tests/targets/native_target.py \
	tests/test_watch.py \
	tests/targets/watch_target.py

EXTRA_DIST += $(PYTEST_FILES) tests/local.mk

AM_MAKEFLAGS = --no-print-directory
PYTEST_FLAGS =

run_pytest = \
	if test "x$(PYTHON3)" = xno || test -z "$(PYTHON3)"; then \
	  echo "pytest suite: no python3 with pytest (configure found none): install python3-pytest" >&2; \
	  exit 1; \
	fi; \
	PYLEAKS_BUILDDIR="$(abs_top_builddir)" PYTHONDONTWRITEBYTECODE=1 \
	  $(PYTHON3) -m pytest -p no:cacheprovider \
	  -c "$(srcdir)/tests/pytest.ini" --rootdir="$(srcdir)/tests" \
	  $(PYTEST_FLAGS) "$(srcdir)/tests"

# After check-TESTS even under make -j, so that its summary comes first.
check-local: check-TESTS
	@$(run_pytest)

check-pytest: all
	@$(run_pytest)

.PHONY: check-pytest
