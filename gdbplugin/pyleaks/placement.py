"""Where the helper library goes so that the target can load it.

dlopen() in the target maps the file executable, as the target's user, in
the target's view of the file system: its mount namespace and root, which
gdb sees through /proc/PID/root.  A container often differs from the
host there: a private /tmp, a read-only root, /tmp or /dev/shm mounted
noexec (Docker's /dev/shm is), a user the copy must be readable by.  So
each candidate directory is checked in the target's own view, and when
none fits the user learns which were tried and why each was refused.

Not tried: the target's working directory or home (an application's own
directory is no place for a stray .so if gdb dies before the copy is
removed, and in the containers where /tmp and /dev/shm are unusable they
are usually on the same read-only root), and a memfd (it would need code
running in the target to create it before the helper is loaded)."""

import hashlib
import os
import stat
import time

from .errors import PyleaksError

# Preference order: /tmp and /dev/shm are tmpfs on most systems (the copy
# never reaches a disk); /var/tmp is the writable directory a read-only
# image still tends to have.
CANDIDATES = ("/tmp", "/dev/shm", "/var/tmp")

_ST_NOEXEC = getattr(os, "ST_NOEXEC", 8)
_MAX_SYMLINKS = 40


class _Refused(Exception):
    """Why one candidate directory cannot hold the copy."""


def _target_ids(pid):
    """(fsuid, fsgid, supplementary groups) of the target: the ids the
    kernel checks when the target opens the copy."""
    uid = gid = None
    groups = set()
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("Uid:"):
                    uid = int(line.split()[4])
                elif line.startswith("Gid:"):
                    gid = int(line.split()[4])
                elif line.startswith("Groups:"):
                    groups = {int(g) for g in line.split()[1:]}
    except (OSError, ValueError, IndexError):
        pass
    return uid, gid, groups


def _unescape(field):
    """Mount points in mountinfo escape space, tab, newline and backslash
    as octal (\\040)."""
    out, i = "", 0
    while i < len(field):
        if field[i] == "\\" and field[i + 1:i + 4].isdigit():
            out += chr(int(field[i + 1:i + 4], 8))
            i += 4
        else:
            out += field[i]
            i += 1
    return out


def _mounts(pid):
    """[(mount point, fs type, per-mount options)] in the target's view,
    in mount order."""
    mounts = []
    try:
        with open("/proc/%d/mountinfo" % pid) as f:
            for line in f:
                left, _, right = line.partition(" - ")
                fields = left.split()
                if len(fields) < 6 or not right:
                    continue
                mounts.append((_unescape(fields[4]), right.split()[0],
                               fields[5].split(",")))
    except OSError:
        pass
    return mounts


def _mount_of(mounts, path):
    """The mount that holds `path`: the longest mount point above it, the
    last one mounted when several share it (it covers the others)."""
    best = None
    for entry in mounts:
        point = entry[0]
        if path == point or point == "/" or path.startswith(point + "/"):
            if best is None or len(point) >= len(best[0]):
                best = entry
    return best


def _resolve(root, path):
    """`path` with its symbolic links followed inside the target's root
    (an absolute link such as /dev/shm -> /run/shm means the target's
    /run/shm, not gdb's).  Returns the target's absolute path."""
    todo = [c for c in path.split("/") if c]
    done = []
    hops = 0
    while todo:
        part = todo.pop(0)
        if part == ".":
            continue
        if part == "..":
            if done:
                done.pop()
            continue
        here = root + "/" + "/".join(done + [part])
        try:
            st = os.lstat(here)
        except FileNotFoundError:
            raise _Refused("does not exist")
        except OSError as exc:
            raise _Refused(exc.strerror)
        if stat.S_ISLNK(st.st_mode):
            hops += 1
            if hops > _MAX_SYMLINKS:
                raise _Refused("too many levels of symbolic links")
            link = os.readlink(here)
            if link.startswith("/"):
                done = []
            todo = [c for c in link.split("/") if c] + todo
            continue
        done.append(part)
    return "/" + "/".join(done)


def _may_search(st, uid, gid, groups):
    if uid is None or uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & stat.S_IXUSR)
    if st.st_gid == gid or st.st_gid in groups:
        return bool(st.st_mode & stat.S_IXGRP)
    return bool(st.st_mode & stat.S_IXOTH)


def _check_reachable(root, path, ids):
    """The target's user must be able to walk down to the copy."""
    uid, gid, groups = ids
    parts = [c for c in path.split("/") if c]
    for n in range(len(parts) + 1):
        sub = "/" + "/".join(parts[:n])
        st = os.stat(root + sub)
        if not _may_search(st, uid, gid, groups):
            raise _Refused("the target's user (uid %d) may not enter %s "
                           "(mode %04o, owner uid %d)"
                           % (uid, sub, stat.S_IMODE(st.st_mode), st.st_uid))


def _where(mount):
    return " (%s at %s)" % (mount[1], mount[0]) if mount else ""


def _write_all(fd, content):
    view = memoryview(content)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _copy_into(root, directory, name, content, ids, mounts):
    path = _resolve(root, directory)
    mount = _mount_of(mounts, path)
    dfd = os.open(root + path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        # The flags of the mount the directory really is on, as the target
        # sees it (mountinfo only names it for the message).
        flags = os.fstatvfs(dfd).f_flag
        if flags & os.ST_RDONLY:
            raise _Refused("read-only" + _where(mount))
        if flags & _ST_NOEXEC:
            raise _Refused("mounted noexec" + _where(mount))
        _check_reachable(root, path, ids)
        # O_EXCL|O_NOFOLLOW: nobody else's file or symlink is reused.
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dfd)
        except OSError as exc:
            raise _Refused(exc.strerror + _where(mount))
        try:
            try:
                os.fchmod(fd, 0o644)
                uid, gid, _ = ids
                if os.geteuid() == 0 and uid is not None:
                    # The target's own file: its user can remove it should
                    # gdb die before pyleaks removes it.
                    try:
                        os.fchown(fd, uid, gid if gid is not None else -1)
                    except OSError:
                        pass    # 0644: readable by the target anyway
                _write_all(fd, content)
            finally:
                os.close(fd)
        except OSError as exc:
            try:
                os.unlink(name, dir_fd=dfd)
            except OSError:
                pass
            raise _Refused(exc.strerror + _where(mount))
    finally:
        os.close(dfd)
    target_path = path.rstrip("/") + "/" + name
    return root + target_path, target_path


def _try_dir(root, directory, name, content, ids, mounts):
    """Create the copy in `directory` (the target's path); returns (path as
    gdb sees it, path as the target sees it), or raises _Refused saying
    why not."""
    try:
        return _copy_into(root, directory, name, content, ids, mounts)
    except _Refused as refused:
        reason = str(refused)
    except OSError as exc:
        reason = exc.strerror or str(exc)
    raise _Refused("%s: %s" % (directory, reason))


STALE_COPY_AGE = 60


def _remove_old_copies(root):
    """Copies left by a pyleaks killed between copying and removing one (a
    copy is needed for milliseconds, until dlopen() has mapped it)."""
    prefix = "pyleaks-helper-%d-" % os.getuid()
    for directory in CANDIDATES:
        host_dir = root + directory
        try:
            names = os.listdir(host_dir)
        except OSError:
            continue
        for name in names:
            if not (name.startswith(prefix) and name.endswith(".so")):
                continue
            path = os.path.join(host_dir, name)
            try:
                if time.time() - os.lstat(path).st_mtime > STALE_COPY_AGE:
                    os.unlink(path)
            except OSError:
                pass


def place(pid, helper_path):
    """Copy the helper into a directory of the target's filesystem view.
    Returns (path as gdb sees it, path as the target sees it)."""
    try:
        with open(helper_path, "rb") as f:
            content = f.read()
    except OSError as exc:
        raise PyleaksError("cannot read the helper library %s (%s)"
                           % (helper_path, exc.strerror),
                           "Build it with 'make', or reinstall pyleaks")
    root = "/proc/%d/root" % pid
    try:
        os.stat(root + "/")
    except OSError as exc:
        raise PyleaksError("cannot see process %d's file system through %s "
                           "(%s)" % (pid, root, exc.strerror),
                           "Run pyleaks as root or as the target's user")
    # A name never used before: dlopen() of a path already loaded would
    # only return the old handle.
    digest = hashlib.sha256(content + b"%d:%d:%d" % (os.getpid(), pid,
                                                   time.monotonic_ns()))
    name = "pyleaks-helper-%d-%s.so" % (os.getuid(), digest.hexdigest()[:16])
    ids = _target_ids(pid)
    mounts = _mounts(pid)
    _remove_old_copies(root)
    refusals = []
    for directory in CANDIDATES:
        try:
            return _try_dir(root, directory, name, content, ids, mounts)
        except _Refused as refused:
            refusals.append(str(refused))
    raise PyleaksError("no directory where process %d can load the helper "
                       "library from: %s" % (pid, "; ".join(refusals)),
                       "Give the target one of %s (in its own mount "
                       "namespace) writable, not mounted noexec, and open "
                       "to its user" % ", ".join(CANDIDATES))
