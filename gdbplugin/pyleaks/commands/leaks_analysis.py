"""py-leaks' sections about who holds the heap and why it is not freed:
the biggest holders, the named causes with their chains and fix hints,
and how the objects of the types concerned are held (path patterns).

The data comes from findings.analyse(); these functions only put it in
words (text) or in the JSON object."""

from .. import fmt


def previous_containers(look, base):
    """{address: (type, length)} of the look compared with, when it is of
    this very process (addresses mean nothing in another one)."""
    if base is None or not isinstance(base.extra, dict) or \
            base.process is None or base.process != look.process:
        return {}
    out = {}
    for item in base.extra.get("containers") or []:
        try:
            address, name, length = item
            out[int(address)] = (str(name), int(length))
        except (TypeError, ValueError):
            continue
    return out


def remember_containers(look, analysis):
    """Keep this look's big containers, for the next look's growth."""
    if analysis is not None and isinstance(look.extra, dict):
        look.extra["containers"] = analysis.containers


# --- text ---------------------------------------------------------------------

def suspects_text(analysis):
    if analysis is None:
        return []
    if not analysis.suspects:
        return ["biggest holders: none retains 5% of the heap"]
    lines = ["biggest holders (what each retains: would be freed with it):"]
    for s in analysis.suspects:
        lines.append("  %s" % s["summary"])
    return lines


def findings_text(analysis):
    if analysis is None:
        return []
    if not analysis.findings:
        return ["findings: none (no growing container, mutable default, "
                "lru_cache on instances, kept traceback, observer leak, "
                "cyclic garbage or unexplained references)"]
    lines = ["findings (%d):" % len(analysis.findings)]
    for i, f in enumerate(analysis.findings, 1):
        lines.append("  %d. %s: %s" % (i, f["kind"], f["summary"]))
        if f["objects"] and not f["chain"]:
            lines.append("     objects: %s%s"
                         % (" ".join(f["objects"][:5]),
                            " ..." if len(f["objects"]) > 5 else ""))
        lines.append("     fix: %s" % f["hint"])
    return lines


def holders_text(analysis):
    if analysis is None or not analysis.holders:
        return []
    lines = ["how they are held (chains from the roots, indices and keys "
             "as [*]):"]
    for h in analysis.holders:
        total = sum(p["count"] for p in h["patterns"])
        for p in h["patterns"]:
            share = 100.0 * p["count"] / total if total else 0.0
            lines.append("  %s  %s objects, %s (%.0f%%), e.g. %s"
                         % (p["pattern"] or "(no root reaches them) "
                            + h["type"], fmt.count(p["count"]),
                            fmt.size(p["bytes"]), share, p["example"]))
    return lines


# --- JSON ---------------------------------------------------------------------

def analysis_json(analysis):
    if analysis is None:
        return {}
    info = analysis.info
    return {
        "analysis": {
            "elapsed_s": round(analysis.elapsed_s, 6),
            "dominators_s": round(info.get("dom_ns", 0) / 1e9, 6),
            "findings_s": round(info.get("find_ns", 0) / 1e9, 6),
            "reverse_s": round(info.get("rev_ns", 0) / 1e9, 6),
            "roots_s": round(info.get("roots_ns", 0) / 1e9, 6),
            "dominators_reused": bool(info.get("dom_reused")),
            "reachable_objects": info.get("reachable_objects"),
            "reachable_bytes": info.get("reachable_bytes"),
            "garbage_objects": info.get("garbage_objects"),
            "garbage_bytes": info.get("garbage_bytes"),
            "gc_enabled": {0: False, 1: True}.get(info.get("gc_enabled")),
            "helper_peak_bytes": analysis.peak_bytes,
        },
        "suspects": analysis.suspects,
        "findings": analysis.findings,
        "holders": analysis.holders,
    }
