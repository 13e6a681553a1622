"""Where the helper library goes so that the target can load it.

The copy must be readable by the target's user and on a file system the
target may map executable, in the target's own view of the file system
(its mount namespace, seen through /proc/PID/root)."""

import hashlib
import os
import time

from .errors import PyleaksError

_TARGET_DIRS = ("tmp", "dev/shm", "var/tmp")


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
    # A name never used before: dlopen() of a path already loaded would
    # only return the old handle.
    digest = hashlib.sha256(content + b"%d:%d:%d" % (os.getpid(), pid,
                                                   time.monotonic_ns()))
    name = "pyleaks-helper-%d-%s.so" % (os.getuid(), digest.hexdigest()[:16])
    errors = []
    for directory in _TARGET_DIRS:
        host_dir = "/proc/%d/root/%s" % (pid, directory)
        host_path = os.path.join(host_dir, name)
        try:
            try:
                os.unlink(host_path)
            except FileNotFoundError:
                pass
            # O_EXCL|O_NOFOLLOW: nobody else's file or symlink is reused.
            fd = os.open(host_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL
                         | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                os.fchmod(fd, 0o644)
                os.write(fd, content)
            finally:
                os.close(fd)
            return host_path, "/" + directory + "/" + name
        except OSError as exc:
            errors.append("/%s: %s" % (directory, exc.strerror))
    raise PyleaksError("cannot place the helper where process %d can read "
                       "it (%s)" % (pid, "; ".join(errors)),
                       "Make /tmp or /dev/shm writable in the target's "
                       "filesystem")


