"""Target of the findings tests (tests/test_findings.py): one planted leak
per scenario, one of the causes the design ("Finding the leak") names,
and the answers `py-leaks --json` must give about it in its "findings",
computed here by the target itself.

Run by the interpreter under test (3.8+ syntax only):

    findings_target.py SCENARIO [PATH-OF-leaky_ext.so]

SCENARIO is one of SCENARIOS below (unexplained_refs needs the leaky_ext
extension compiled for this interpreter, tests/chain_harness.py).  The
clean program, which must yield no finding, is findings_clean.py.

Protocol, one JSON line each way (findings_harness.py):

1. builds the scenario, prints {"ready": true, "pid", "python_version",
   "scenario", "looks": 1 or 2, "addresses": {name: "0x..."} (the
   planted containers, or one member of what has no container)} and
   blocks in protocol.request(), GIL released, nothing else running;
2. the test runs pyleaks;  with "looks": 2 (growing_container) it then
   writes {"op": "grow"}: the target grows its containers by known
   numbers, answers {"grown": {name: n}} and blocks again for the second
   pyleaks run;
3. {"op": "oracle"}: the target answers, then exits 0:

   {"scenario", "python_version",
    "expected": [ one entry per finding the scenario plants:
        {"name":      what it is, in words,
         "kind":      the finding's kind,
         "object":    "0x..." the finding's objects[0], or null when the
                      finding is matched by its members instead,
         "members":   null, or ["0x..."]: the finding's objects must all
                      be among these (cyclic_garbage, uncollectable,
                      unexplained_refs),
         "count":     the finding's count,
         "growth":    (growing_container only) its growth,
         "type":      the finding's type exactly, or null when the
                      contract does not fix it; then "types_ok": [...]
                      lists what it may be besides null,
         "bytes_min": a lower bound of the finding's bytes: the
                      sys.getsizeof of the leaked items, summed,
         "chain":     null (not checked: the object is reachable from no
                      root), or {"root_kinds": [...],
                      "root_description": str or null,
                      "label_contains": str or null (some hop's label
                      contains it)}}],
    "planted": ["0x..."]   every object the scenario planted (containers
                           and what they hold): no finding of another
                           kind may name one,
    "controls": ["0x..."]  look-alikes that are no leak (bounded caches,
                           small defaults, objects held normally): no
                           finding may name one,
    "info": {...}          what the target measured besides, for the
                           failure messages}

Nothing runs between the ready line (or the "grow" answer) and the next
request but the blocking read, so the heap pyleaks looked at is the heap
the oracle describes.  Ids are kept as ints (never as references, which
would explain the objects' references).  Sizes are summed while the
objects are built, or read from the containers that hold them when the
oracle is asked.  Every scenario's module-level names exist in every
scenario's process, empty or small where the scenario is another's.
"""

import collections
import functools
import gc
import json
import os
import platform
import sys

import protocol
from typenames import type_name


def hx(obj):
    return hex(id(obj))


def hexes(ids):
    return [hex(i) for i in sorted(ids)]


def _default_items(container):
    """The items of a container (a dict's keys and values).  The str keys
    of a dict whose keys are all str are left out: the cycle collector's
    tp_traverse does not visit them, so pyleaks' graph does not have them
    yet (the decoder layer will add them)."""
    if isinstance(container, dict):
        str_keys = all(type(k) is str for k in container)
        return [x for k, v in container.items()
                for x in ((v,) if str_keys else (k, v))]
    return list(container)


MODULE_ROOT = {"root_kinds": ["module"], "root_description": "module " + __name__,
               "label_contains": None}


def module_chain(label_contains=None):
    return dict(MODULE_ROOT, label_contains=label_contains)


# ---------------------------------------------------------------------------
# growing_container: module- and class-level containers that grow between
# two looks (a job queue nobody drains, a session store nobody expires, a
# set of seen tokens, an audit trail reached through a module-level
# object), next to look-alikes that do not grow.

class Job:
    def __init__(self, n):
        self.n = n
        self.payload = "job-%07d" % n


class Session:
    def __init__(self, n):
        self.user = "user-%07d" % n
        self.cart = None


class AuditEntry:
    def __init__(self, n):
        self.what = "login-%07d" % n


class SessionStore:
    sessions = {}            # class-level: every session ever opened


class Auditor:
    def __init__(self):
        self.trail = collections.deque()   # no maxlen


PENDING_JOBS = []            # module-level list: jobs queued, never drained
SEEN_TOKENS = set()          # module-level set of request tokens
AUDIT = Auditor()

# Look-alikes: as big, or busy, but bounded.
STATIC_TABLE = {"code-%05d" % i: i * 3 for i in range(5000)}
RECENT = collections.deque(maxlen=1000)
BOUNDED = {}
BOUNDED_MAX = 1500

GROW_SIZES = {  # name: (size at the first look, growth until the second)
    "PENDING_JOBS": (2000, 2000),
    "SessionStore.sessions": (2100, 2500),
    "SEEN_TOKENS": (2200, 3000),
    "AUDIT.trail": (2300, 2200),
}

# Only counters here: no bookkeeping container of the target's own grows
# (it would be a growing container too).  What the oracle needs of the
# items it reads from the containers themselves, at the end.
_counters = collections.Counter()


def _add(name, n):
    for _ in range(n):
        i = _counters[name]
        _counters[name] += 1
        if name == "PENDING_JOBS":
            PENDING_JOBS.append(Job(i))
        elif name == "SessionStore.sessions":
            SessionStore.sessions["sid-%08x" % (0x5e55000 + i)] = Session(i)
        elif name == "SEEN_TOKENS":
            SEEN_TOKENS.add("tok-%09d" % (i * 7919))
        else:
            AUDIT.trail.append(AuditEntry(i))


def _churn_bounded(n):
    """Work on the look-alikes: as much traffic, no growth."""
    for _ in range(n):
        i = _counters["bounded"]
        _counters["bounded"] += 1
        RECENT.append(("event", i))
        BOUNDED["req-%08d" % i] = [i]
        while len(BOUNDED) > BOUNDED_MAX:
            del BOUNDED[next(iter(BOUNDED))]


WHERE = {"PENDING_JOBS": "module-level", "SessionStore.sessions": "class-level",
         "SEEN_TOKENS": "module-level", "AUDIT.trail": "a module-level object's"}


def _growing_containers():
    return {"PENDING_JOBS": PENDING_JOBS, "SessionStore.sessions": SessionStore.sessions,
            "SEEN_TOKENS": SEEN_TOKENS, "AUDIT.trail": AUDIT.trail}


class Growing:
    looks = 2

    def build(self):
        for name, (first, _) in GROW_SIZES.items():
            _add(name, first)
        _churn_bounded(3000)
        self.first = {name: len(c) for name, c in _growing_containers().items()}

    def grow(self):
        for name, (_, growth) in GROW_SIZES.items():
            _add(name, growth)
        _churn_bounded(3000)
        return {name: growth for name, (_, growth) in GROW_SIZES.items()}

    def addresses(self):
        return {name: hx(c) for name, c in _growing_containers().items()}

    def oracle(self):
        expected = []
        planted = set()
        for name, c in _growing_containers().items():
            items = _default_items(c)   # a dict's keys and values
            planted.add(id(c))
            planted.update(id(x) for x in items)
            item_type = {"PENDING_JOBS": Job, "SessionStore.sessions": Session,
                         "SEEN_TOKENS": str, "AUDIT.trail": AuditEntry}[name]
            expected.append({
                "name": "%s %s %s" % (WHERE[name], type_name(type(c)), name),
                "kind": "growing_container", "object": hx(c), "members": None,
                "count": len(c), "growth": len(c) - self.first[name],
                "type": None, "types_ok": [type_name(type(c)), type_name(item_type)],
                "bytes_min": sys.getsizeof(c) + sum(sys.getsizeof(x) for x in items),
                "chain": module_chain(),
            })
            del items
        controls = {id(STATIC_TABLE), id(RECENT), id(BOUNDED)}
        return expected, planted, controls, {
            "first_look": self.first,
            "controls": {"STATIC_TABLE": len(STATIC_TABLE), "RECENT": len(RECENT),
                         "BOUNDED": len(BOUNDED)}}


# ---------------------------------------------------------------------------
# mutable_default: functions whose default list/dict/set accumulates
# (`def f(x, seen=[])`), through __defaults__ and __kwdefaults__, a
# method's among them; next to a default that stays small.

class Visit:
    def __init__(self, n):
        self.page = "/page/%07d" % n


def record_visit(user, visits=[]):
    visits.append(Visit(user))
    return len(visits)


def lookup_price(sku, currency="EUR", _memo={}):
    if sku not in _memo:
        _memo[sku] = [float(len(sku)), currency]
    return _memo[sku]


def tag_item(item, *, _seen=set()):
    _seen.add(item)
    return item


class Report:
    def add_row(self, row, rows=[]):
        rows.append(row)
        return rows


def configure(name, options=["verbose", "color"]):
    """A mutable default nobody mutates: no leak."""
    return name, options


class MutableDefault:
    looks = 1
    N = {"record_visit": 2400, "lookup_price": 2600, "tag_item": 2800, "Report.add_row": 2200}

    def build(self):
        self.bytes = collections.Counter()
        for n in range(self.N["record_visit"]):
            record_visit(n)
        for n in range(self.N["lookup_price"]):
            lookup_price("SKU-%08d" % n)
        for n in range(self.N["tag_item"]):
            tag_item("tag-%08d" % n)
        report = Report()
        for n in range(self.N["Report.add_row"]):
            report.add_row(("row", n, "r-%07d" % n))
        configure("x")
        for name, c in self._containers().items():
            # The items of the default container (a dict's keys and values;
            # lookup_price's values are lists, its keys strings).
            self.bytes[name] = sum(sys.getsizeof(x) for x in _default_items(c))

    @staticmethod
    def _containers():
        return {"record_visit": record_visit.__defaults__[0],
                "lookup_price": lookup_price.__defaults__[1],
                "tag_item": tag_item.__kwdefaults__["_seen"],
                "Report.add_row": Report.add_row.__defaults__[0]}

    def addresses(self):
        return {name: hx(c) for name, c in self._containers().items()}

    def oracle(self):
        expected = []
        planted = set()
        labels = {"record_visit": "__defaults__", "lookup_price": "__defaults__",
                  "tag_item": "__kwdefaults__", "Report.add_row": "__defaults__"}
        for name, c in self._containers().items():
            expected.append({
                "name": "%s of %s()" % (labels[name], name), "kind": "mutable_default",
                "object": hx(c), "members": None, "count": len(c),
                "type": type_name(type(c)),
                "bytes_min": sys.getsizeof(c) + self.bytes[name],
                "chain": module_chain(labels[name]),
            })
            planted.add(id(c))
            planted.update(id(x) for x in _default_items(c)
                           if not isinstance(x, (int, float)))
        controls = {id(configure.__defaults__[0])}
        return expected, planted, controls, {}


# ---------------------------------------------------------------------------
# lru_cache_instances: functools.lru_cache(maxsize=None) on a method (self
# in every key) called on many instances, each with two arguments; and
# functools.cache on another method.  Next to a bounded lru_cache of a
# plain function, full.

_cache = getattr(functools, "cache", None) or functools.lru_cache(maxsize=None)  # 3.8: no cache


class PriceModel:
    def __init__(self, n):
        self.sku = "SKU-%07d" % n
        self.table = [1.5, 2.5, float(n)]

    @functools.lru_cache(maxsize=None)
    def price(self, qty):
        return self.table[-1] * qty


class Geocoder:
    def __init__(self, n):
        self.region = "region-%06d" % n

    @_cache
    def locate(self, address):
        return (self.region, address)


@functools.lru_cache(maxsize=128)
def parse_unit(text):
    return text.upper()


class LruCacheInstances:
    looks = 1
    N = {"PriceModel.price": 2500, "Geocoder.locate": 2200}

    def build(self):
        self.ids = collections.defaultdict(set)
        self.bytes = collections.Counter()
        for n in range(self.N["PriceModel.price"]):
            m = PriceModel(n)
            m.price(1)
            m.price(2)
            self.ids["PriceModel.price"].add(id(m))
            self.bytes["PriceModel.price"] += sys.getsizeof(m)
        for n in range(self.N["Geocoder.locate"]):
            g = Geocoder(n)
            g.locate("Main Street %d" % n)
            self.ids["Geocoder.locate"].add(id(g))
            self.bytes["Geocoder.locate"] += sys.getsizeof(g)
        del m, g
        for n in range(1000):
            parse_unit("unit-%d" % n)

    def addresses(self):
        return {"PriceModel.price": hx(PriceModel.__dict__["price"]),
                "Geocoder.locate": hx(Geocoder.__dict__["locate"])}

    def oracle(self):
        expected = []
        planted = set()
        for name, cls, method in (("PriceModel.price", PriceModel, "price"),
                                  ("Geocoder.locate", Geocoder, "locate")):
            wrapper = cls.__dict__[method]
            expected.append({
                "name": "%s cache on %s" % (
                    "functools.cache" if method == "locate" else "lru_cache(maxsize=None)", name),
                "kind": "lru_cache_instances", "object": hx(wrapper), "members": None,
                "count": len(self.ids[name]), "type": type_name(cls),
                "bytes_min": self.bytes[name],
                "chain": module_chain(),
            })
            planted.add(id(wrapper))
            planted.update(self.ids[name])
        info = {"cache_entries": {"PriceModel.price": PriceModel.price.cache_info().currsize,
                                  "Geocoder.locate": Geocoder.locate.cache_info().currsize,
                                  "parse_unit": parse_unit.cache_info().currsize},
                "functools_cache": hasattr(functools, "cache")}
        return expected, planted, {id(parse_unit)}, info


# ---------------------------------------------------------------------------
# retained_traceback: exceptions kept in a module-level list, each
# traceback keeping the failed call's frame alive with its big local; as
# many more raised and caught, not kept.

class ParseError(ValueError):
    pass


ERRORS = []


def parse_record(n):
    raw = bytearray(2048)       # the big local every kept traceback keeps
    raw[0] = n & 0xFF
    raise ParseError("record %d: bad checksum" % n)


def ingest(n, keep):
    try:
        parse_record(n)
    except ParseError as e:
        if keep:
            ERRORS.append(e)
        return None


class RetainedTraceback:
    looks = 1
    N = 2000

    def build(self):
        for n in range(self.N):
            ingest(n, keep=False)
        for n in range(self.N):
            ingest(n, keep=True)
        # Not read through the frames' f_locals: on 3.8-3.12 that would
        # give every kept frame a locals dict of its own.
        raw_size = sys.getsizeof(bytearray(2048))
        self.bytes = sum(sys.getsizeof(e) + raw_size for e in ERRORS)

    def addresses(self):
        return {"ERRORS": hx(ERRORS), "ERRORS[0]": hx(ERRORS[0])}

    def oracle(self):
        planted = {id(ERRORS)} | {id(e) for e in ERRORS}
        return [{
            "name": "module-level list ERRORS of exceptions with their tracebacks",
            "kind": "retained_traceback", "object": hx(ERRORS), "members": None,
            "count": len(ERRORS), "type": type_name(ParseError),
            "bytes_min": sys.getsizeof(ERRORS) + self.bytes,
            "chain": module_chain(),
        }], planted, set(), {}


# The interactive interpreter keeps the last uncaught exception in
# sys.last_type / last_value / last_traceback (and 3.12+ sys.last_exc):
# its traceback keeps every frame of the failed call, and their locals.

class ReportError(Exception):
    pass


class Row:
    def __init__(self, n):
        self.cells = "cell-%07d" % n


def render_report(n, seen):
    rows = [Row(i) for i in range(n)]     # kept by the traceback's frame
    seen.update(rows=id(rows), row_ids={id(r) for r in rows},
                bytes=sys.getsizeof(rows) + sum(sys.getsizeof(r) for r in rows))
    raise ReportError("template error after %d rows" % len(rows))


class LastTraceback:
    looks = 1
    N = 3000

    def build(self):
        seen = {}
        try:
            render_report(self.N, seen)
        except ReportError as e:
            # What the interactive interpreter does with an uncaught error.
            sys.last_type, sys.last_value, sys.last_traceback = type(e), e, e.__traceback__
            if sys.version_info >= (3, 12):
                sys.last_exc = e
            self.bytes = sys.getsizeof(e) + seen["bytes"]
        self.rows = seen["rows"]
        self.row_ids = seen["row_ids"]

    def addresses(self):
        return {"sys.last_value": hx(sys.last_value)}

    def oracle(self):
        e = sys.last_value
        return [{
            "name": "sys.last_value (and sys.last_traceback) after an uncaught error",
            "kind": "retained_traceback", "object": hx(e), "members": None,
            "count": 1, "type": type_name(type(e)),
            "bytes_min": self.bytes,
            "chain": {"root_kinds": ["interpreter", "module"], "root_description": None,
                      "label_contains": None},
        }], {id(e), self.rows} | self.row_ids, set(), {}


# ---------------------------------------------------------------------------
# observer_leak: a module-level event bus (a list of listeners) to which
# every widget adds its own bound method and never removes it; three
# plain functions listen too.  Next to a small bus of long-lived
# services.

BUS = []
SERVICE_BUS = []


def log_event(evt):
    return evt


def count_event(evt):
    return 1


def audit_event(evt):
    return None


class Widget:
    def __init__(self, n):
        self.n = n
        self.label = "widget-%06d" % n
        BUS.append(self.on_event)          # never removed

    def on_event(self, evt):
        return (self.label, evt)


class Service:
    def __init__(self, name):
        self.name = name
        SERVICE_BUS.append(self.on_event)

    def on_event(self, evt):
        return self.name


SERVICES = [Service("svc-%d" % i) for i in range(4)]


class ObserverLeak:
    looks = 1
    N = 2500

    def build(self):
        BUS.extend((log_event, count_event, audit_event))
        self.bytes = 0
        for n in range(self.N):
            w = Widget(n)
            self.bytes += sys.getsizeof(w) + sys.getsizeof(BUS[-1])
        del w
        for listener in list(BUS) + list(SERVICE_BUS):
            listener("startup")

    def addresses(self):
        return {"BUS": hx(BUS), "BUS[-1]": hx(BUS[-1])}

    def oracle(self):
        methods = [m for m in BUS if hasattr(m, "__self__")]
        planted = {id(BUS)} | {id(m) for m in methods} | {id(m.__self__) for m in methods}
        controls = {id(SERVICE_BUS)} | {id(m) for m in SERVICE_BUS}
        return [{
            "name": "module-level event bus BUS of bound methods",
            "kind": "observer_leak", "object": hx(BUS), "members": None,
            "count": len(methods), "type": type_name(type(methods[0].__self__)),
            "bytes_min": sys.getsizeof(BUS) + self.bytes,
            "chain": module_chain(),
        }], planted, controls, {"listeners": len(BUS)}


# ---------------------------------------------------------------------------
# cyclic_garbage: the collector disabled, then connections and channels
# that point at each other, dropped.  The count is what gc.collect()
# frees once pyleaks has looked.

class Connection:
    def __init__(self, n):
        self.peer_name = "conn-%06d" % n
        self.channel = None


class Channel:
    def __init__(self, conn):
        self.conn = conn            # back-reference: the cycle


def _make_pairs(n, ids):
    """n dropped Connection <-> Channel cycles; ids gets the ids of their
    members (and of their instance dicts where those are objects of their
    own, 3.8-3.10); returns the getsizeof of the instances, summed."""
    total = 0
    for i in range(n):
        conn = Connection(i)
        chan = Channel(conn)
        conn.channel = chan
        ids.update((id(conn), id(chan)))
        if sys.version_info < (3, 11):
            ids.update((id(conn.__dict__), id(chan.__dict__)))
        total += sys.getsizeof(conn) + sys.getsizeof(chan)
    return total


class CyclicGarbage:
    looks = 1
    N = 2000

    def build(self):
        gc.collect()
        gc.disable()
        self.ids = set()
        self.bytes = _make_pairs(self.N, self.ids)

    def addresses(self):
        return {"member": hex(min(self.ids))}

    def oracle(self):
        # First thing after the request: nothing has made or freed a
        # cycle since pyleaks looked.
        freed = gc.collect()
        return [{
            "name": "%d dropped Connection <-> Channel cycles, collector disabled" % self.N,
            "kind": "cyclic_garbage", "object": None, "members": hexes(self.ids),
            "count": freed, "type": None,
            "types_ok": [type_name(Connection), type_name(Channel), "dict"],
            "bytes_min": self.bytes, "chain": None,
        }], set(self.ids), set(), {"gc_collect": freed, "created": len(self.ids),
                                   "gc_enabled": gc.isenabled()}


# ---------------------------------------------------------------------------
# uncollectable: gc.DEBUG_SAVEALL left on (a debugging session's
# leftover): every cycle collected goes to gc.garbage and stays.

class Resource:
    def __init__(self, n):
        self.name = "res-%06d" % n
        self.handle = None


class Handle:
    def __init__(self, res):
        self.res = res


class Uncollectable:
    looks = 1
    N = 2000

    def build(self):
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        for i in range(self.N):
            res = Resource(i)
            res.handle = Handle(res)
        del res
        gc.collect()
        gc.set_debug(0)
        self.bytes = sum(sys.getsizeof(o) for o in gc.garbage)

    def addresses(self):
        return {"gc.garbage": hx(gc.garbage), "gc.garbage[0]": hx(gc.garbage[0])}

    def oracle(self):
        ids = {id(o) for o in gc.garbage}
        types = sorted({type_name(type(o)) for o in gc.garbage})
        return [{
            "name": "gc.garbage filled by gc.DEBUG_SAVEALL",
            "kind": "uncollectable", "object": None, "members": hexes(ids),
            "count": len(gc.garbage), "type": None, "types_ok": types,
            "bytes_min": self.bytes, "chain": None,
        }], ids, set(), {"garbage": len(gc.garbage)}


# ---------------------------------------------------------------------------
# unexplained_refs: an extension function that forgets Py_DECREF
# (leaky_ext.leak) called on every upload, which is otherwise dropped.
# As many uploads of the same class are held normally.

class Upload:
    def __init__(self, n):
        self.n = n
        self.name = "upload-%06d.bin" % n
        self.data = bytearray(512)


KEPT_UPLOADS = []


def load_ext(path):
    import importlib.machinery
    import importlib.util
    loader = importlib.machinery.ExtensionFileLoader("leaky_ext", path)
    spec = importlib.util.spec_from_file_location("leaky_ext", path, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class UnexplainedRefs:
    looks = 1
    N = 2000
    KEPT = 300

    def build(self):
        if len(sys.argv) < 3:
            raise SystemExit("unexplained_refs: give the path of leaky_ext.so")
        ext = load_ext(sys.argv[2])
        self.ids = set()
        self.bytes = 0
        for n in range(self.N):
            u = Upload(n)
            ext.leak(u)                 # the extension's bug
            self.ids.add(id(u))
            self.bytes += sys.getsizeof(u)
        for n in range(self.KEPT):
            KEPT_UPLOADS.append(Upload(self.N + n))
        del u, ext

    def addresses(self):
        return {"upload": hex(min(self.ids))}

    def oracle(self):
        return [{
            "name": "%d uploads leaked by leaky_ext.leak (a forgotten Py_DECREF)" % self.N,
            "kind": "unexplained_refs", "object": None, "members": hexes(self.ids),
            "count": len(self.ids), "type": type_name(Upload),
            "bytes_min": self.bytes, "chain": None,
        }], set(self.ids), {id(u) for u in KEPT_UPLOADS}, {}


SCENARIOS = {
    "growing_container": Growing,
    "mutable_default": MutableDefault,
    "lru_cache_instances": LruCacheInstances,
    "retained_traceback": RetainedTraceback,
    "last_traceback": LastTraceback,
    "observer_leak": ObserverLeak,
    "cyclic_garbage": CyclicGarbage,
    "uncollectable": Uncollectable,
    "unexplained_refs": UnexplainedRefs,
}


def serve(scn, name):
    while True:
        data = protocol.request()  # blocks here, GIL released
        req = json.loads(data) if data.strip() else {"op": "oracle"}
        del data
        op = req.get("op")
        if op == "oracle":
            expected, planted, controls, info = scn.oracle()
            answer = {"scenario": name, "python_version": platform.python_version(),
                      "expected": expected, "planted": hexes(planted),
                      "controls": hexes(controls), "info": info}
            protocol.send(answer)
            return
        if op == "grow" and hasattr(scn, "grow"):
            protocol.send({"grown": scn.grow()})
        else:
            protocol.send({"error": "unknown request %r for scenario %s" % (req, name)})
        del req


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in SCENARIOS:
        raise SystemExit("usage: findings_target.py {%s} [leaky_ext.so]" % "|".join(SCENARIOS))
    name = sys.argv[1]
    scn = SCENARIOS[name]()
    scn.build()
    protocol.send({"ready": True, "pid": os.getpid(),
                   "python_version": platform.python_version(),
                   "executable": sys.executable, "scenario": name, "looks": scn.looks,
                   "addresses": scn.addresses()})
    serve(scn, name)


if __name__ == "__main__":
    main()
