"""py-leaks-watch: sample a running process SECONDS apart, letting it run
between the samples, and tell steady growth from a sawtooth; then the
analysis of py-leaks on the last sample (pyleaks/watch.py does the
sampling and the verdicts; this module parses and prints)."""

import argparse
import math
import os

import gdb

from .. import fmt, interrupts, watch
from ..errors import PyleaksError
from . import (ArgumentParser, add_common_options, command, leaks_analysis,
               positive_int)

DEFAULT_SAMPLES = 5
DEFAULT_TOP = 10
MIN_SECONDS = 0.1
BAR_WIDTH = 30
MAX_DELTAS = 12             # per-interval changes shown per type
SAWTOOTH_SHOWN = 3
# Progress lines on stderr between samples when they are this far apart.
PROGRESS_FROM_S = 1.0


def seconds_value(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a number of seconds"
                                         % text)
    if not math.isfinite(value) or value < MIN_SECONDS:
        raise argparse.ArgumentTypeError(
            "%r must be at least %s (seconds between samples)"
            % (text, MIN_SECONDS))
    return value


def samples_value(text):
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError("%r is not a whole number" % text)
    if value < 2:
        raise argparse.ArgumentTypeError("%r must be at least 2 (a trend "
                                         "needs two samples)" % text)
    return value


parser = ArgumentParser(
    prog="py-leaks-watch",
    usage="py-leaks-watch SECONDS [--samples N] [--top K] [--no-analysis] "
          "[--json] [--force]",
    description="Sample the target SECONDS apart, letting it run between "
                "the samples (pyleaks detaches, waits, attaches again): its "
                "RSS and a census at each, and the verdict: steady growth, "
                "a sawtooth (garbage that is freed again) or flat; the "
                "types that grew in every interval (the leak candidates); "
                "then the analysis of py-leaks on the last sample.",
    epilog="Example: py-leaks-watch 10 --samples 6. Ctrl-C between samples "
           "ends the watch with the target running, not traced, and shows "
           "what was sampled.")
parser.add_argument("seconds", metavar="SECONDS", type=seconds_value,
                    help="seconds the target runs between two samples (at "
                         "least %s; fractions allowed)" % MIN_SECONDS)
parser.add_argument("--samples", type=samples_value, metavar="N",
                    default=DEFAULT_SAMPLES,
                    help="how many samples (at least 2; default %d)"
                         % DEFAULT_SAMPLES)
parser.add_argument("--top", type=positive_int, metavar="K",
                    help="show the K types that grew most (default %d; with "
                         "--json all unless given)" % DEFAULT_TOP)
parser.add_argument("--no-analysis", action="store_true",
                    help="the samples and the verdict alone: no biggest "
                         "holders, findings or path patterns (shorter "
                         "pauses at the first and the last sample)")
add_common_options(parser)


# --- text -----------------------------------------------------------------------

def _top(args):
    if args.top is not None:
        return args.top
    return 0 if args.json else DEFAULT_TOP


def _signed_size(delta):
    return ("+" if delta >= 0 else "-") + fmt.size(abs(delta))


def _signed(n):
    return "{:+,}".format(n)


def _elapsed(w, sample):
    return sample.time - w.samples[0].time


def header_text(w):
    t = w.target
    version = "CPython %s, " % t.version_str if t is not None else ""
    samples = w.samples
    pauses = [s.pause_s for s in samples]
    span = _elapsed(w, samples[-1]) if samples else 0.0
    text = ("pyleaks: %slive process %d: %d of %d samples %s s apart over "
            "%.1f s" % (version, w.pid, len(samples), w.asked,
                        _number(w.interval), span))
    if pauses:
        text += ("; paused %.2f s per sample (the longest %.2f s)"
                 % (sum(pauses) / len(pauses), max(pauses)))
    return [text]


def _number(value):
    return ("%.3f" % value).rstrip("0").rstrip(".")


def _bar(value, low, high):
    if value is None:
        return ""
    if high <= low:
        return "#"
    return "#" * (1 + int(round((BAR_WIDTH - 1) * (value - low)
                                / float(high - low))))


def samples_text(w):
    known = [s.rss for s in w.samples if s.rss is not None]
    low, high = (min(known), max(known)) if known else (0, 0)
    bar_head = "RSS from %s to %s" % (fmt.size(low), fmt.size(high)) \
        if known else "RSS"
    cells = []
    for i, s in enumerate(w.samples, 1):
        cells.append([str(i), "%.1f s" % _elapsed(w, s), "%.2f s" % s.pause_s,
                      fmt.size(s.rss) if s.rss is not None else "?",
                      fmt.count(s.total_objects), fmt.size(s.total_bytes),
                      _bar(s.rss, low, high)])
    return fmt.table(["sample", "at", "pause", "RSS", "objects",
                      "Python bytes", bar_head], cells,
                     right=(0, 1, 2, 3, 4, 5)).splitlines()


def _deltas_text(deltas):
    shown = [_signed(d) for d in deltas]
    if len(shown) > MAX_DELTAS:
        shown = shown[:3] + ["..."] + shown[-(MAX_DELTAS - 4):]
    return " ".join(shown)


def growing_text(w, args):
    if len(w.samples) < 2:
        return []
    grown = w.growing_types()
    if not grown:
        return ["types that grew in every interval: none"]
    top = _top(args)
    shown = grown[:top] if top else grown
    cells = [[fmt.count(s.counts[0]), fmt.count(s.counts[-1]),
              _signed(s.growth), _signed_size(s.bytes[-1] - s.bytes[0]),
              _deltas_text(s.deltas), s.name] for s in shown]
    lines = ["types that grew in every interval (the leak candidates), "
             "most growth first:"]
    lines += fmt.table(["first", "last", "+count", "+bytes", "per interval",
                        "type"], cells, right=(0, 1, 2, 3)).splitlines()
    if len(shown) < len(grown):
        lines.append("(%s of %s types shown; --top K for more)"
                     % (fmt.count(len(shown)), fmt.count(len(grown))))
    return lines


def sawtooth_text(w):
    saw = w.sawtooth_types()
    if not saw:
        return []
    parts = ["%s (%s to %s)" % (s.name, fmt.count(min(s.counts)),
                                fmt.count(max(s.counts)))
             for s in saw[:SAWTOOTH_SHOWN]]
    more = " and %s more" % fmt.count(len(saw) - SAWTOOTH_SHOWN) \
        if len(saw) > SAWTOOTH_SHOWN else ""
    return ["rose and fell without growing (made and freed again): %s%s"
            % (", ".join(parts), more)]


VERDICT_WORDS = {
    watch.GROWING: "growing (rose in every interval, or nearly, well above "
                   "its falls)",
    watch.RISING: "rising (grew, but not steadily)",
    watch.SAWTOOTH: "sawtooth (rose and fell, no net growth)",
    watch.SHRINKING: "shrinking",
    watch.FLAT: "flat",
}


def _series_text(name, verdict, values):
    if verdict is None:
        return "%s unknown" % name
    return "%s %s, %s from %s" % (name, verdict, _signed_size(
        values[-1] - values[0]), fmt.size(values[0]))


def verdict_text(w):
    if len(w.samples) < 2:
        return ["verdict: none (one sample: nothing to compare with)"]
    v = w.verdicts()
    return ["verdict: %s: %s; %s" % (
        VERDICT_WORDS[v["overall"]],
        _series_text("Python objects", v["python"], w.python_values()),
        _series_text("RSS", v["rss"], w.rss_values()))]


def stopped_text(w):
    if w.complete:
        return []
    return ["(the watch ended early: %d of %d samples)"
            % (len(w.samples), w.asked)]


def _first_sample_wording(analysis):
    """A growing_container finding compares with the first sample, not
    with an earlier look."""
    if analysis is None:
        return
    for f in analysis.findings:
        if f["kind"] == "growing_container":
            f["summary"] = f["summary"].replace("since the last look",
                                                "since the first sample")


def analysis_text(w):
    a = w.analysis
    return (leaks_analysis.suspects_text(a) + leaks_analysis.findings_text(a)
            + leaks_analysis.holders_text(a))


# --- JSON --------------------------------------------------------------------------

def watch_json(w, args):
    top = _top(args)
    grown = w.growing_types()
    saw = w.sawtooth_types()
    out = {
        "python_version": w.target.version_str if w.target else None,
        "mode": "live",
        "pid": w.pid,
        "interval_s": w.interval,
        "samples_asked": w.asked,
        "complete": w.complete,
        "stopped": w.stopped,
        "samples": [{"time": round(s.time, 3),
                     "elapsed_s": round(_elapsed(w, s), 3),
                     "rss": s.rss,
                     "total_objects": s.total_objects,
                     "total_bytes": s.total_bytes,
                     "pause_s": round(s.pause_s, 6),
                     "census_s": round(s.census_s, 6)} for s in w.samples],
        "verdict": w.verdicts() if len(w.samples) >= 2 else
        {"rss": None, "python": None, "overall": None},
        "growing_types": [{"type": s.name, "counts": s.counts,
                           "bytes": s.bytes}
                          for s in (grown[:top] if top else grown)],
        "sawtooth_types": [{"type": s.name, "counts": s.counts,
                            "bytes": s.bytes}
                           for s in (saw[:top] if top else saw)],
    }
    if w.analysis is not None:
        out["analysis_s"] = round(w.analysis_s, 6)
    out.update(leaks_analysis.analysis_json(w.analysis))
    return out


# --- the command ---------------------------------------------------------------------

def _progress(w, sample):
    if w.interval < PROGRESS_FROM_S:
        return
    os.write(2, ("(pyleaks: sample %d of %d: %s objects, %s, RSS %s, paused "
                 "%.2f s; the next in %s s; Ctrl-C ends the watch)\n"
                 % (len(w.samples), w.asked, fmt.count(sample.total_objects),
                    fmt.size(sample.total_bytes),
                    fmt.size(sample.rss) if sample.rss is not None else "?",
                    sample.pause_s, _number(w.interval))).encode())


def _ending_error(w):
    """The one line that says why the watch ended early."""
    kept = "the watch ended with %d of %d samples%s" % (
        len(w.samples), w.asked, " (shown above)" if w.samples else "")
    if w.stopped.startswith("interrupted"):
        where = ("process %d carries on, not traced (pyleaks detached after "
                 "sample %d)" % (w.pid, len(w.samples))) if w.detached else \
            "gdb is still attached to process %d" % w.pid
        return PyleaksError("%s; %s; %s" % (w.stopped, kept, where))
    if w.error is None:
        return PyleaksError("%s; %s" % (w.stopped, kept))
    text = watch.plain(w.error)
    if w.stopped != text:
        text = "%s: %s" % (w.stopped, text)
    return PyleaksError("%s; %s" % (text, kept))


@command(parser)
def py_leaks_watch(args):
    pid = gdb.selected_inferior().pid
    if args.seconds >= PROGRESS_FROM_S:
        os.write(2, ("(pyleaks: watching process %d: %d samples, %s s apart;"
                     " Ctrl-C ends the watch and shows what was sampled)\n"
                     % (pid, args.samples, _number(args.seconds))).encode())
    w = watch.run(pid, args.seconds, args.samples, args.force,
                  not args.no_analysis, _progress)
    if not w.samples:
        raise w.error or _ending_error(w)
    _first_sample_wording(w.analysis)
    fmt.write_notes(w.notes, args.json)
    if args.json:
        fmt.write_json(watch_json(w, args))
    else:
        for section in (header_text(w), samples_text(w), growing_text(w, args),
                        sawtooth_text(w), verdict_text(w), stopped_text(w),
                        analysis_text(w)):
            for line in section:
                fmt.gdb_write_line(line)
    if not w.complete:
        if w.stopped.startswith("interrupted"):
            interrupts.mark_reported()
        raise _ending_error(w)
