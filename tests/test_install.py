"""Installing pyleaks (README "Building and installing"): `make install`
also puts a gdb init file where gdb reads system init files, so that a
plain `gdb -p PID` knows pyleaks' commands; `make uninstall` takes
everything back; the Debian package (debian/) builds from the release tree
and holds the same at Debian's paths.

The installed files run from where they are installed, not relocated: gdb
runs in a mount namespace of its own in which the staged files are laid
over the machine's directories (read-only overlays), so that it reads the
staged init file from its own system init directory and the plugin from
its installed paths, as after a real installation, while nothing on the
machine changes.  That needs root (like tests/test_containers.py); the
file checks run without it.

Each test runs once, on the primary interpreter: installing does not
depend on the target's version."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import harness

# A release tree's configure, make and dpkg-buildpackage on 2 shared cores
# take about two minutes.
BUILD_TIMEOUT = 900

TRIPLET = "x86_64-linux-gnu"


# ---------------------------------------------------------------------------
# Helpers

def _make_env():
    """No make state of an enclosing `make check` (its jobserver is not
    ours); C messages, for the checks on their output."""
    env = harness.clean_env()
    for k in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "GNUMAKEFLAGS"):
        env.pop(k, None)
    return env


def _ok(argv, timeout=BUILD_TIMEOUT, env=None, cwd=None):
    proc = subprocess.run([str(a) for a in argv], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          env=env or _make_env(), cwd=cwd, timeout=timeout)
    out = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, "%s: exit %d\n%s" % (
        " ".join(str(a) for a in argv), proc.returncode, out[-6000:])
    return out


def make_vars(*names):
    """Installation directories of the build tree under test, expanded as
    its make expands them (a value may name other variables)."""
    rules = "pyleaks-print-vars:\n" + "".join(
        "\t@echo '%s=$(%s)'\n" % (n, n) for n in names)
    proc = subprocess.run(["make", "-s", "--no-print-directory", "-C", str(harness.build_dir()),
                           "-f", "Makefile", "-f", "-", "pyleaks-print-vars"],
                          input=rules.encode(), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=_make_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    values = dict(line.split("=", 1) for line in
                  proc.stdout.decode().splitlines() if "=" in line)
    return {n: values[n] for n in names}


def gdb_system_dir():
    """Where this machine's gdb reads system init files (None: nowhere)."""
    out = subprocess.run(["gdb", "--configuration"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, timeout=60).stdout.decode()
    m = re.search(r"--with-system-gdbinit-dir=(\S+)", out)
    return m.group(1) if m else None


def files_under(root: Path):
    return sorted("/" + str(p.relative_to(root)) for p in root.rglob("*")
                  if not p.is_dir() or p.is_symlink())


def _need_overlay():
    if os.geteuid() != 0:
        pytest.skip("running the installed files where they belong needs a mount "
                    "namespace, so root (running as uid %d)" % os.geteuid())
    if shutil.which("unshare") is None:
        pytest.skip("util-linux's unshare is missing")


def overlay_points(root: Path):
    """Where to lay root's files over the machine's: for each file, the
    deepest directory on its installed path that exists here (the outermost
    of nested ones)."""
    points = set()
    for f in files_under(root):
        where = Path(f).parent
        while not where.is_dir():
            where = where.parent
        points.add(where)
    return sorted(p for p in points if not any(q in p.parents for q in points))


def run_installed(root: Path, argv, home: Path, init_dir=None, timeout=harness.GDB_TIMEOUT):
    """argv in a mount namespace where root's files are laid over the
    machine's directories (read-only overlays); init_dir, a directory of
    root, is also laid over gdb's own system init directory (when the
    build installs its init file elsewhere, as distcheck's does).  HOME is
    an empty directory: gdb reads the system init files, and no user's."""
    mounts = [(str(root) + str(p), str(p)) for p in overlay_points(root)]
    system_dir = gdb_system_dir()
    if init_dir is not None and system_dir and str(init_dir) != str(root) + system_dir:
        assert os.path.isdir(system_dir), "gdb's system init directory %s is missing" % system_dir
        mounts.append((str(init_dir), system_dir))
    for lower, on in mounts:
        # An overlay cannot take its files from below its own mount point.
        if lower.startswith(on.rstrip("/") + "/"):
            pytest.skip("the staging directory %s is under %s, where the files are "
                        "installed" % (root, on))
    script = " && ".join("mount -t overlay pyleaks-test -o lowerdir=%s:%s %s" % (lower, on, on)
                         for lower, on in mounts)
    r = harness.run(["unshare", "--mount", "--propagation", "private", "--",
                     "sh", "-c", script + ' && exec "$@"', "sh"] + [str(a) for a in argv],
                    timeout=timeout, env=harness.clean_env(HOME=str(home),
                                                            XDG_CONFIG_HOME=str(home)))
    assert "mount:" not in r.stderr, "could not lay the staged files over /:\n" + r.describe()
    return r


STUB_HELP = ["help " + c for c in ("py-leaks", "py-objects", "py-chain", "py-refs", "py-backrefs")]


def check_installed_session(target, root, home, wrapper, init_dir=None):
    """A plain `gdb -p PID` (system init files read) knows the commands and
    gives the census; the installed wrapper gives it too; the target is
    as it was.  Returns the gdb run."""
    before = target.maps()
    cmds = [harness.marker("help")] + STUB_HELP + harness.commands_with_markers([
        ("census", "py-leaks --json"),
        ("dicts", "py-objects dict --json"),
        ("help_loaded", "help py-leaks"),
    ])
    argv = ["gdb", "--batch", "-q", "-p", target.pid]
    for c in cmds:
        argv += ["-ex", c]
    r = run_installed(root, argv, home, init_dir)
    w = run_installed(root, [wrapper, "--pid", target.pid, "-c", "py-leaks --json"], home, init_dir)
    state, tracer = target.settled_state(), harness.tracer_pid(target.pid)
    problems = harness.maps_problems(before, target.maps())
    out = harness.sections(r.stdout)
    report = target.wake()
    for run in (r, w):
        harness.assert_no_traceback(run)
        assert not run.error_lines(), "pyleaks errors:\n" + run.describe()
    assert w.returncode == 0, w.describe()
    assert state == "S" and tracer == 0, (state, tracer)
    assert not problems, "\n".join(problems)
    harness.assert_untouched(report)
    # Before the first command: the init file's commands, each naming itself.
    for c in STUB_HELP:
        name = c.split()[1]
        assert "`%s --help'" % name in out.get("help", ""), (name, r.describe())
    for name, run, text in (("gdb", r, out.get("census", "")), ("wrapper", w, w.stdout)):
        census = harness.one_json(text, "py-leaks --json (%s)" % name)
        bad = harness.census_mismatches(census, report)
        assert not bad, "%s census:\n%s" % (name, "\n".join(bad))
    assert harness.one_json(out.get("dicts", ""), "py-objects dict")["objects"]
    # After it: the plugin's own help replaced the init file's.
    assert "usage: py-leaks" in out.get("help_loaded", ""), r.describe()
    return r


def check_other_sessions(root, home, init_dir=None):
    """gdb with the init file on a program that is not Python: nothing
    said at start-up, the program runs to its end, a pyleaks command
    refuses it in one line."""
    r = run_installed(root, ["gdb", "--batch", "-q", "-ex", "starti", "-ex", "py-leaks",
                             "-ex", "continue", "/bin/true"], home, init_dir)
    harness.assert_no_traceback(r)
    assert "exited normally" in r.stdout, r.describe()
    said = [ln for ln in r.output.splitlines() if "pyleaks" in ln or "Python" in ln]
    assert len(said) == 1 and "not a CPython process" in said[0], r.describe()


# ---------------------------------------------------------------------------
# make install / make uninstall

def test_make_install_plain_gdb(primary, make_target, tmp_path):
    v = make_vars("bindir", "pkgdatadir", "pkglibdir", "gdbsystemdir")
    if not v["gdbsystemdir"]:
        pytest.skip("the build under test installs no gdb init file "
                    "(configured --without-gdb-system-dir, or gdb named no directory)")
    stage = tmp_path / "stage"
    build = str(harness.build_dir())
    _ok(["make", "-C", build, "install", "DESTDIR=%s" % stage])
    snippet = Path(str(stage) + v["gdbsystemdir"]) / "pyleaks.py"
    installed = set(files_under(stage))
    for f in (v["bindir"] + "/pyleaks", v["pkgdatadir"] + "/pyleaks.gdb",
              v["pkglibdir"] + "/pyleaks_helper.so", v["pkglibdir"] + "/pyleaks_stub.bin",
              v["gdbsystemdir"] + "/pyleaks.py"):
        assert f in installed, "%s not installed:\n%s" % (f, "\n".join(sorted(installed)))
    # Every module of the plugin package (a new one is easily missed).
    plugin = harness.TESTS_DIR.parent / "gdbplugin"
    modules = ["%s/gdbplugin/%s" % (v["pkgdatadir"], p.relative_to(plugin))
               for p in (plugin / "pyleaks").rglob("*.py") if "__pycache__" not in p.parts]
    missing = sorted(set(modules) - installed)
    assert not missing, ("plugin modules not installed (list them in pyleaks_plugin_files, "
                         "gdbplugin/local.mk):\n" + "\n".join(missing))
    assert '"%s/pyleaks.gdb"' % v["pkgdatadir"] in snippet.read_text()
    try:
        _need_overlay()
        home = tmp_path / "home"
        home.mkdir()
        target = make_target(primary.path)
        check_installed_session(target, stage, home, v["bindir"] + "/pyleaks",
                                init_dir=snippet.parent)
        check_other_sessions(stage, home, init_dir=snippet.parent)
    finally:
        _ok(["make", "-C", build, "uninstall", "DESTDIR=%s" % stage])
        left = files_under(stage)
        assert not left, "make uninstall left:\n" + "\n".join(left)


# ---------------------------------------------------------------------------
# The Debian package

def _missing_build_deps(tree: Path):
    """What dpkg-checkbuilddeps says is missing for debian/control."""
    r = subprocess.run(["dpkg-checkbuilddeps"], cwd=str(tree), stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    if r.returncode == 0:
        return []
    m = re.search(r"Unmet build dependencies: (.*)", r.stdout.decode())
    return re.sub(r"\([^)]*\)", "", m.group(1)).split() if m else ["(%s)" % r.stdout.decode()]


def _install_build_deps(packages):
    """As quickstart/lib.sh would: only as root, on Debian."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip("Debian packaging tools missing: %s (apt-get install %s; "
                    "quickstart/test.sh installs them)" % (" ".join(packages), " ".join(packages)))
    r = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends"] + list(packages),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600,
                       env=dict(harness.clean_env(), DEBIAN_FRONTEND="noninteractive"))
    if r.returncode != 0:
        pytest.skip("Debian packaging tools missing and apt-get cannot install them (%s):\n%s"
                    % (" ".join(packages), r.stdout.decode("utf-8", "replace")[-2000:]))


@pytest.fixture(scope="module")
def deb(built, tmp_path_factory):
    """The .deb built with dpkg-buildpackage from the release tree of the
    build under test (`make distdir`: what `make dist` would pack), in a
    temporary directory -- never in the source tree, which it would leave
    full of debian/ build products.  nocheck: the C unit tests it would
    run are make check's own (TESTS), run before this suite."""
    if shutil.which("dpkg-buildpackage") is None or shutil.which("dh") is None:
        _install_build_deps(["dpkg-dev", "debhelper", "fakeroot"])
    v = make_vars("PACKAGE", "VERSION")
    work = tmp_path_factory.mktemp("deb")
    tree = work / ("%s-%s" % (v["PACKAGE"], v["VERSION"]))
    _ok(["make", "-C", str(harness.build_dir()), "distdir", "distdir=%s" % tree])
    missing = _missing_build_deps(tree)
    if missing:
        _install_build_deps(missing)
    changelog = (tree / "debian" / "changelog").read_text()
    m = re.match(r"(\S+) \(([^)]+)\)", changelog)
    assert m and m.group(1) == v["PACKAGE"] and m.group(2) == v["VERSION"], (
        "debian/changelog's first entry is %s, configure.ac says %s %s: add a changelog entry"
        % (m and m.group(0), v["PACKAGE"], v["VERSION"]))
    env = _make_env()
    # noautodbgsym: the -dbgsym package is not looked at, building it is time.
    env["DEB_BUILD_OPTIONS"] = "nocheck noautodbgsym parallel=%d" % (os.cpu_count() or 2)
    _ok(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=str(tree), env=env)
    debs = sorted(work.glob("%s_%s_*.deb" % (v["PACKAGE"], v["VERSION"])))
    assert len(debs) == 1, list(work.iterdir())
    root = work / "root"
    _ok(["dpkg-deb", "-x", debs[0], root])
    return dict(deb=debs[0], root=root, work=work,
                changes=next(work.glob("%s_%s_*.changes" % (v["PACKAGE"], v["VERSION"]))))


def test_deb_contents(deb):
    files = set(files_under(deb["root"]))
    for f in ("/usr/bin/pyleaks",
              "/usr/lib/%s/pyleaks/pyleaks_helper.so" % TRIPLET,
              "/usr/lib/%s/pyleaks/pyleaks_stub.bin" % TRIPLET,
              "/usr/share/pyleaks/pyleaks.gdb",
              "/usr/share/pyleaks/gdbplugin/pyleaks/__init__.py",
              "/etc/gdb/gdbinit.d/pyleaks.py",
              "/usr/share/man/man1/pyleaks.1.gz",
              "/usr/share/doc/pyleaks/copyright"):
        assert f in files, "%s not in the package:\n%s" % (f, "\n".join(sorted(files)))
    assert not [f for f in files if f.endswith(".la")], files
    # Where Debian's gdb reads system init files (checked against this gdb).
    system_dir = gdb_system_dir()
    if system_dir:
        assert "%s/pyleaks.py" % system_dir in files, system_dir
    assert "/usr/share/pyleaks/pyleaks.gdb" in \
        (deb["root"] / "etc/gdb/gdbinit.d/pyleaks.py").read_text()
    assert "/usr/lib/%s/pyleaks/pyleaks_helper.so" % TRIPLET in \
        (deb["root"] / "usr/share/pyleaks/pyleaks.gdb").read_text()
    fields = _ok(["dpkg-deb", "-f", deb["deb"], "Depends", "Architecture"])
    assert re.search(r"^Depends:.*\bgdb\b", fields, re.M), fields
    # dpkg keeps the init file when the package is removed (not purged):
    # it must then do nothing, which test_deb_removed_not_purged checks.
    conffiles = _ok(["sh", "-c", 'dpkg-deb --ctrl-tarfile "$1" | tar -xO ./conffiles',
                     "sh", deb["deb"]])
    assert "/etc/gdb/gdbinit.d/pyleaks.py" in conffiles.split(), conffiles


def test_deb_lintian(deb):
    if shutil.which("lintian") is None:
        pytest.skip("lintian is not installed (apt-get install lintian)")
    # Every tag is fixed or overridden with its reason (debian/*lintian-overrides).
    r = harness.run(["lintian", "--fail-on", "error,warning", "--info", deb["changes"]],
                    timeout=600)
    tags = [ln for ln in r.stdout.splitlines() if re.match(r"^[EW]: ", ln)]
    assert r.returncode == 0 and not tags, r.describe()


def test_deb_runs(deb, primary, make_target, tmp_path):
    """The package's files, where dpkg would put them: a plain gdb reads
    /etc/gdb/gdbinit.d/pyleaks.py, /usr/bin/pyleaks runs.  (Not `dpkg -i`:
    a test does not install packages on the machine it runs on.)"""
    _need_overlay()
    home = tmp_path / "home"
    home.mkdir()
    target = make_target(primary.path)
    check_installed_session(target, deb["root"], home, "/usr/bin/pyleaks")
    check_other_sessions(deb["root"], home)


def test_deb_removed_not_purged(deb, tmp_path):
    """After `apt-get remove pyleaks` only /etc/gdb/gdbinit.d/pyleaks.py
    stays: gdb starts as without pyleaks, silently."""
    _need_overlay()
    home = tmp_path / "home"
    home.mkdir()
    root = tmp_path / "removed"
    shutil.copytree(str(deb["root"] / "etc"), str(root / "etc"))
    r = run_installed(root, ["gdb", "--batch", "-q", "-ex", "echo started\\n", "-ex", "py-leaks"],
                      home)
    assert r.stdout.strip() == "started", r.describe()
    assert r.stderr.strip() == 'Undefined command: "py-leaks".  Try "help".', r.describe()
