"""Thread ids across PID namespaces.

CPython records a thread's id as the thread itself sees it (gettid() in
PyThreadState.native_thread_id, 3.11+): in a container, an id in the
container's PID namespace.  gdb knows threads by their ids in the
namespace of its own /proc.  /proc/PID/task/TID/status has both: its
NSpid line lists the thread's id in every namespace from /proc's one
(TID, first) down to the thread's own (last)."""

import os


def tid_map(pid):
    """{id in the target's own PID namespace: id in gdb's /proc} for every
    thread of process `pid`; None when the kernel does not say (no NSpid
    line before Linux 4.1) or the process is gone."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    out = {}
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                ids = next((line.split()[1:] for line in f
                            if line.startswith("NSpid:")), None)
        except OSError:
            continue        # the thread exited meanwhile
        if not ids:
            return None
        out[int(ids[-1])] = int(tid)
    return out


def host_tid(pid, ns_tid):
    """The id, in gdb's PID namespace, of the thread of process `pid`
    whose id in the process's own namespace is `ns_tid`; None when no
    thread of the process has that id (it exited, or the id is stale).

    Without NSpid, namespaces cannot be told apart and the id is returned
    unchanged: right whenever gdb and the target share a namespace."""
    ids = tid_map(pid)
    if ids is None:
        return ns_tid
    return ids.get(ns_tid)



def own_ids(pid, tid):
    """(process id, thread id) of thread `tid` of process `pid` (both as
    gdb knows them) as the target itself sees them: what getpid() and
    gettid() return in it, and what a system call the target makes (a
    tgkill to itself) must be given."""
    return _innermost("/proc/%d/status" % pid, pid), \
        _innermost("/proc/%d/task/%d/status" % (pid, tid), tid)


def _innermost(path, default):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith("NSpid:"):
                    return int(line.split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    return default
