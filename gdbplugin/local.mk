# gdbplugin/: the gdb plugin (Python run by gdb's embedded interpreter) and
# the gdb script that loads it.  Included by the top-level Makefile.am.
#
# The package is installed as data, not with python_PYTHON: gdb's Python is
# not configure's $PYTHON.  Two variants of pyleaks.gdb.in differ only in
# the three paths they fill in:
#   gdbplugin/pyleaks.gdb          build tree: the sources in $(srcdir), the
#                                  helper libtool just built
#   $(pkgdatadir)/pyleaks.gdb      installed: $(pkgdatadir)/gdbplugin,
#                                  $(pkglibdir)/pyleaks_helper.so
# Both are made by make with sed (installation directories are only fully
# expanded here, not in config.status outputs).

# Every module of gdbplugin/pyleaks/ (a missing one breaks the installed
# plugin and the release tree; tests/test_install.py names it).
pyleaks_plugin_files = \
	gdbplugin/pyleaks/__init__.py \
	gdbplugin/pyleaks/abi.py \
	gdbplugin/pyleaks/api.py \
	gdbplugin/pyleaks/dot.py \
	gdbplugin/pyleaks/errors.py \
	gdbplugin/pyleaks/fmt.py \
	gdbplugin/pyleaks/findings.py \
	gdbplugin/pyleaks/growth.py \
	gdbplugin/pyleaks/infcall.py \
	gdbplugin/pyleaks/interrupts.py \
	gdbplugin/pyleaks/inject.py \
	gdbplugin/pyleaks/layout.py \
	gdbplugin/pyleaks/memory.py \
	gdbplugin/pyleaks/native.py \
	gdbplugin/pyleaks/nspid.py \
	gdbplugin/pyleaks/placement.py \
	gdbplugin/pyleaks/ptrace.py \
	gdbplugin/pyleaks/rawcall.py \
	gdbplugin/pyleaks/libpython.py \
	gdbplugin/pyleaks/reprs.py \
	gdbplugin/pyleaks/result.py \
	gdbplugin/pyleaks/safety.py \
	gdbplugin/pyleaks/session.py \
	gdbplugin/pyleaks/stale.py \
	gdbplugin/pyleaks/target.py \
	gdbplugin/pyleaks/watch.py \
	gdbplugin/pyleaks/commands/__init__.py \
	gdbplugin/pyleaks/commands/backrefs.py \
	gdbplugin/pyleaks/commands/chain.py \
	gdbplugin/pyleaks/commands/finish.py \
	gdbplugin/pyleaks/commands/layout_cmd.py \
	gdbplugin/pyleaks/commands/leaks.py \
	gdbplugin/pyleaks/commands/leaks_analysis.py \
	gdbplugin/pyleaks/commands/objects.py \
	gdbplugin/pyleaks/commands/refs.py \
	gdbplugin/pyleaks/commands/watch.py

# $(pkgdatadir)/gdbplugin/pyleaks/... and $(pkgdatadir)/layout_fields.def
nobase_dist_pkgdata_DATA += $(pyleaks_plugin_files)
dist_pkgdata_DATA += helper/layout_fields.def

EXTRA_DIST += gdbplugin/pyleaks.gdb.in gdbplugin/local.mk

# Build tree: `gdb -p PID -x BUILDDIR/gdbplugin/pyleaks.gdb`.
noinst_SCRIPTS += gdbplugin/pyleaks.gdb
CLEANFILES += gdbplugin/pyleaks.gdb

gdbplugin/pyleaks.gdb: $(srcdir)/gdbplugin/pyleaks.gdb.in Makefile
	$(AM_V_GEN)$(MKDIR_P) gdbplugin && rm -f $@ $@.tmp && \
	$(SED) -e 's|@PLUGINDIR[@]|$(abs_srcdir)/gdbplugin|g' \
	  -e 's|@HELPER[@]|$(abs_builddir)/helper/.libs/pyleaks_helper.so|g' \
	  -e 's|@STUB[@]|$(abs_builddir)/helper/pyleaks_stub.bin|g' \
	  -e 's|@LAYOUTDEF[@]|$(abs_srcdir)/helper/layout_fields.def|g' \
	  $(srcdir)/gdbplugin/pyleaks.gdb.in >$@.tmp && \
	mv -f $@.tmp $@

# Installed: $(pkgdatadir)/pyleaks.gdb (installed under its base name).
pyleaksgdbdir = $(pkgdatadir)
pyleaksgdb_DATA = gdbplugin/install/pyleaks.gdb
CLEANFILES += gdbplugin/install/pyleaks.gdb

gdbplugin/install/pyleaks.gdb: $(srcdir)/gdbplugin/pyleaks.gdb.in Makefile
	$(AM_V_GEN)$(MKDIR_P) gdbplugin/install && rm -f $@ $@.tmp && \
	$(SED) -e 's|@PLUGINDIR[@]|$(pkgdatadir)/gdbplugin|g' \
	  -e 's|@HELPER[@]|$(pkglibdir)/pyleaks_helper.so|g' \
	  -e 's|@STUB[@]|$(pkglibdir)/pyleaks_stub.bin|g' \
	  -e 's|@LAYOUTDEF[@]|$(pkgdatadir)/layout_fields.def|g' \
	  $(srcdir)/gdbplugin/pyleaks.gdb.in >$@.tmp && \
	mv -f $@.tmp $@

# The gdb init file that makes every gdb session know pyleaks' commands (no
# `source' line): gdbplugin/gdbinit.py.in, installed as pyleaks.py into
# $(gdbsystemdir), the directory where gdb reads system init files
# (configure --with-gdb-system-dir; none with --without-gdb-system-dir).
# It points at the installed pyleaks.gdb above.
EXTRA_DIST += gdbplugin/gdbinit.py.in
if GDB_SYSTEM_DIR
gdbsystem_DATA = gdbplugin/install/pyleaks.py
endif
CLEANFILES += gdbplugin/install/pyleaks.py

gdbplugin/install/pyleaks.py: $(srcdir)/gdbplugin/gdbinit.py.in Makefile
	$(AM_V_GEN)$(MKDIR_P) gdbplugin/install && rm -f $@ $@.tmp && \
	$(SED) -e 's|@PYLEAKS_GDB_SCRIPT[@]|$(pkgdatadir)/pyleaks.gdb|g' \
	  $(srcdir)/gdbplugin/gdbinit.py.in >$@.tmp && \
	mv -f $@.tmp $@
