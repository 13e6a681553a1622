"""Thread ids across PID namespaces."""

import os


def host_tid(pid, ns_tid):
    """The id, in gdb's PID namespace, of the thread of process `pid`
    whose id in the process's innermost namespace is `ns_tid`."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return ns_tid
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        ids = line.split()[1:]
                        if ids and int(ids[-1]) == ns_tid:
                            return int(tid)
                        break
        except (OSError, ValueError):
            continue
    return ns_tid
