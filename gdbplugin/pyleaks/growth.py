"""Looks remembered between py-leaks runs, and the growth since one.

Every py-leaks records its census (a "look") in a state directory, one
file per process: the next py-leaks on the same process shows the change
by type since then.  A look can also be saved under a name (a snapshot)
and compared with later, from another process too.  Looks taken with
--save or --new also keep the identity of every object (address and type
address, sorted, in a compressed side file), for py-leaks --new.

Where: $PYLEAKS_STATE_DIR, else $XDG_STATE_HOME/pyleaks, else
~/.local/state/pyleaks (created 0700).  A process is known by its pid, its
start time (field 22 of /proc/PID/stat) and the boot id, so that a pid
the kernel reuses is never taken for the process that had it before.
Files are written whole to a temporary name and renamed, so a reader
never sees half of one; one that cannot be read is a note, never an
error.  Files of processes not looked at for PRUNE_AFTER_S are removed.

The API other features use: previous(target) -> Look or None, and
record(target, look); a Look's `extra` dict is saved and loaded as it is
(features keep their own data there, under their own key)."""

import json
import os
import re
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Optional, Tuple

from . import session
from .errors import PyleaksError

FORMAT = 1
PRUNE_AFTER_S = 7 * 24 * 3600
SNAPSHOTS = "snapshots"
LOOK_SUFFIX = ".json"
IDS_SUFFIX = ".ids"
IDS_MAGIC = b"pyleaks-ids 1\n"
NAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}")


class StateError(Exception):
    """A state file that cannot be read or written: said in a note."""


# --- what a look is ----------------------------------------------------------

@dataclass
class Look:
    """One census of one process: when, of what, the rows by type name,
    and what other features keep with it."""

    time: float                             # epoch seconds
    python_version: str
    executable: str
    types: Dict[str, Tuple[int, int]]       # type name -> (count, bytes)
    extra: dict = field(default_factory=dict)
    name: Optional[str] = None              # the snapshot's name
    process: Optional[dict] = None          # pid, start_time, boot_id

    def to_json(self):
        return {"format": FORMAT, "time": self.time,
                "python_version": self.python_version,
                "executable": self.executable, "name": self.name,
                "process": self.process,
                "types": [[n, c, b] for n, (c, b) in self.types.items()],
                "extra": self.extra}

    @classmethod
    def from_json(cls, data):
        """A Look from what to_json gave; StateError when it is not."""
        try:
            if data.get("format") != FORMAT:
                raise StateError("format %r, not %d"
                                 % (data.get("format"), FORMAT))
            types = {str(n): (int(c), int(b)) for n, c, b in data["types"]}
            extra = data.get("extra") or {}
            if not isinstance(extra, dict):
                raise StateError("'extra' is not an object")
            return cls(float(data["time"]), str(data["python_version"]),
                       str(data["executable"]), types, extra,
                       data.get("name"), data.get("process"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise StateError("not a look (%s: %s)"
                             % (type(exc).__name__, exc)) from None


def look_of(target, rows, now=None):
    """A Look of the census rows (dicts with name, count, bytes) of a
    target.Target."""
    return Look(time.time() if now is None else now, target.version_str,
                target.exe, {r["name"]: (r["count"], r["bytes"])
                             for r in rows},
                process=process_identity(target.pid))


# --- where looks live ---------------------------------------------------------

def state_dir():
    """The state directory, as the environment says (not created)."""
    explicit = os.environ.get("PYLEAKS_STATE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_STATE_HOME")
    if xdg and os.path.isabs(xdg):
        return Path(xdg) / "pyleaks"
    return Path(os.path.expanduser("~")) / ".local" / "state" / "pyleaks"


def _ensure_dir(path):
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError("cannot create %s (%s)"
                         % (path, exc.strerror or exc)) from None
    return path


def _boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return "unknown-boot"


def process_identity(pid):
    """What tells this process from any other that had or will have its
    pid: {"pid", "start_time", "boot_id"}."""
    return {"pid": pid, "start_time": session.start_time(pid),
            "boot_id": _boot_id()}


def _process_key(identity):
    return "%d-%s-%s" % (identity["pid"], identity["start_time"],
                         identity["boot_id"])


def _look_path(target):
    identity = process_identity(target.pid)
    if identity["start_time"] is None:
        raise StateError("process %d has no start time in /proc"
                         % target.pid)
    return state_dir() / (_process_key(identity) + LOOK_SUFFIX)


def _snapshot_path(name):
    return state_dir() / SNAPSHOTS / (name + LOOK_SUFFIX)


def _ids_path(look_path):
    return look_path.with_suffix(IDS_SUFFIX)


def valid_name(name):
    return bool(NAME_RE.fullmatch(name))


# --- reading and writing files ----------------------------------------------

def _write_atomically(path, data):
    """The whole of data at path, or nothing new there: a reader sees the
    old file or the new one."""
    _ensure_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise StateError("cannot write %s (%s)"
                         % (path, exc.strerror or exc)) from None


def _read_look(path):
    """The Look in the file at path; None when there is no such file."""
    try:
        with open(path, "rb") as f:
            data = json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError("cannot read %s (%s)"
                         % (path, exc.strerror or exc)) from None
    except ValueError as exc:
        raise StateError("%s is not valid JSON (%s)" % (path, exc)) from None
    if not isinstance(data, dict):
        raise StateError("%s does not hold a look" % path)
    try:
        return Look.from_json(data)
    except StateError as exc:
        raise StateError("%s: %s" % (path, exc)) from None


def _write_look(path, look):
    _write_atomically(path, json.dumps(look.to_json(), ensure_ascii=False,
                                       separators=(",", ":")).encode())


def _write_ids(path, look, ids):
    """Identities (bytes of struct pyl_id_row) with the time of their
    look, compressed."""
    head = json.dumps({"time": look.time, "bytes": len(ids),
                       "process": look.process}).encode()
    _write_atomically(path, IDS_MAGIC + head + b"\n" +
                      zlib.compress(ids, 1))


@dataclass
class Identities:
    """The identities a look kept: when, of which process, the rows."""

    time: float
    process: Optional[dict]
    rows: bytes


def _read_ids(path):
    """The Identities in the file at path; None when there is none."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError("cannot read %s (%s)"
                         % (path, exc.strerror or exc)) from None
    try:
        if not data.startswith(IDS_MAGIC):
            raise ValueError("not a pyleaks identities file")
        head_end = data.index(b"\n", len(IDS_MAGIC))
        head = json.loads(data[len(IDS_MAGIC):head_end].decode())
        rows = zlib.decompress(data[head_end + 1:])
        if len(rows) != head["bytes"] or len(rows) % 16:
            raise ValueError("%d bytes of rows" % len(rows))
        return Identities(float(head["time"]), head.get("process"), rows)
    except (ValueError, KeyError, TypeError, zlib.error) as exc:
        raise StateError("%s is damaged (%s)" % (path, exc)) from None


def _prune(directory, now):
    """Remove the files of processes nobody looked at for a week."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return
    for entry in entries:
        if not entry.name.endswith((LOOK_SUFFIX, IDS_SUFFIX)) or \
                not entry.is_file(follow_symlinks=False):
            continue
        try:
            if now - entry.stat(follow_symlinks=False).st_mtime > \
                    PRUNE_AFTER_S:
                os.unlink(entry.path)
        except OSError:
            pass


# --- the API -------------------------------------------------------------------

def previous(target, notes=None):
    """The previous look of the process (a target.Target), or None when
    there is none.  A file that cannot be read counts as none: its
    problem goes to `notes` (a list), when given."""
    try:
        return _read_look(_look_path(target))
    except StateError as exc:
        _note(notes, "the previous look cannot be used: %s; starting afresh"
              % exc)
        return None


def record(target, look, ids=None, notes=None):
    """Remember look as the process's previous look, with its identities
    (bytes of struct pyl_id_row) when given; the identities of an
    earlier look stay otherwise.  Problems go to `notes`."""
    try:
        path = _look_path(target)
        _write_look(path, look)
        if ids is not None:
            _write_ids(_ids_path(path), look, ids)
        _prune(path.parent, look.time)
    except StateError as exc:
        _note(notes, "this look is not remembered: %s" % exc)


def previous_ids(target, notes=None):
    """The identities the last look of the process that kept them
    (--save or --new) kept, or None."""
    try:
        return _read_ids(_ids_path(_look_path(target)))
    except StateError as exc:
        _note(notes, "the identities of the previous look cannot be used: "
              "%s" % exc)
        return None


def snapshot_names():
    try:
        return sorted(p.name[:-len(LOOK_SUFFIX)] for p in
                      (state_dir() / SNAPSHOTS).iterdir()
                      if p.name.endswith(LOOK_SUFFIX)
                      and valid_name(p.name[:-len(LOOK_SUFFIX)]))
    except OSError:
        return []


def snapshot(name):
    """The look saved as `name`; PyleaksError when there is none or it
    cannot be read (said in one line, with the names there are)."""
    try:
        look = _read_look(_snapshot_path(name))
    except StateError as exc:
        raise PyleaksError("snapshot '%s' cannot be read: %s" % (name, exc),
                           "Save it again with py-leaks --save %s" % name)
    if look is None:
        known = snapshot_names()
        raise PyleaksError(
            "no snapshot named '%s' in %s" % (name, state_dir() / SNAPSHOTS),
            "Known snapshots: %s" % ", ".join(known) if known else
            "No snapshot is saved yet: take one with py-leaks --save NAME")
    look.name = name
    return look


def snapshot_ids(name):
    """The identities saved with snapshot `name`, or None."""
    try:
        return _read_ids(_ids_path(_snapshot_path(name)))
    except StateError as exc:
        raise PyleaksError("the identities of snapshot '%s' cannot be read: "
                           "%s" % (name, exc),
                           "Save it again with py-leaks --save %s" % name)


def save_snapshot(name, look, ids):
    """Save look and its identities as snapshot `name` (replacing one of
    that name); PyleaksError when it cannot be written."""
    path = _snapshot_path(name)
    saved = Look(look.time, look.python_version, look.executable, look.types,
                 look.extra, name, look.process)
    try:
        _write_ids(_ids_path(path), saved, ids)
        _write_look(path, saved)
    except StateError as exc:
        raise PyleaksError("cannot save snapshot '%s': %s" % (name, exc))
    return path


def _note(notes, text):
    if notes is not None:
        notes.append(text)


# --- comparing two looks -------------------------------------------------------

@dataclass
class Row:
    """A type now, and its change since the base look (None without
    one).  A type the base had and nothing has now is a row of count 0."""

    name: str
    count: int
    bytes: int
    count_delta: Optional[int] = None
    bytes_delta: Optional[int] = None
    new: bool = False            # absent from the base look

    @property
    def changed(self):
        return bool(self.count_delta or self.bytes_delta)


def compare(current, base):
    """Rows for every type of `current` (a Look) and, when base is a Look,
    every type base had and current has not (count 0)."""
    if base is None:
        return [Row(n, c, b) for n, (c, b) in current.types.items()]
    rows = []
    for name, (count, nbytes) in current.types.items():
        old = base.types.get(name)
        old_count, old_bytes = old if old else (0, 0)
        rows.append(Row(name, count, nbytes, count - old_count,
                        nbytes - old_bytes, new=old is None))
    for name, (old_count, old_bytes) in base.types.items():
        if name not in current.types:
            rows.append(Row(name, 0, 0, -old_count, -old_bytes))
    return rows


SORT_KEYS = {
    "count": lambda r: (-r.count, r.name),
    "bytes": lambda r: (-r.bytes, r.name),
    "growth": lambda r: (-(r.count_delta or 0), -(r.bytes_delta or 0),
                         r.name),
}


def sort_rows(rows, key):
    return sorted(rows, key=SORT_KEYS[key])


def differences(current, base):
    """Notes on what makes base a different program from current (another
    executable, another CPython): compared anyway, as two cores of one
    program must be."""
    notes = []
    if base.executable != current.executable:
        notes.append("the look compared with is of another executable (%s)"
                     % base.executable)
    if base.python_version != current.python_version:
        notes.append("the look compared with is of CPython %s"
                     % base.python_version)
    return notes


def age_text(seconds):
    """35 -> '35 s', 720 -> '12 min', 7200 -> '2.0 h', 3 days -> '3.0
    days'."""
    seconds = max(0.0, seconds)
    if seconds < 120:
        return "%.0f s" % seconds
    if seconds < 7200:
        return "%.0f min" % (seconds / 60)
    if seconds < 2 * 86400:
        return "%.1f h" % (seconds / 3600)
    return "%.1f days" % (seconds / 86400)


def clock_text(when, now):
    """The time of day, with the date when it is not today's."""
    then = time.localtime(when)
    if time.localtime(now)[:3] == then[:3]:
        return time.strftime("%H:%M:%S", then)
    return time.strftime("%Y-%m-%d %H:%M:%S", then)


def since_json(base, now):
    """The `since` field of py-leaks --json."""
    if base is None:
        return None
    return {"kind": "snapshot" if base.name else "previous",
            "name": base.name, "time": round(base.time, 3),
            "age_s": round(now - base.time, 3)}


def since_text(base, now):
    """'since the previous look 35 s ago (12:03:04)'."""
    what = "snapshot '%s'" % base.name if base.name else "the previous look"
    return "since %s %s ago (%s)" % (what, age_text(now - base.time),
                                     clock_text(base.time, now))
