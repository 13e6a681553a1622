"""Graphviz output of --dot FILE: chains, referents and referrers as a
digraph, rendered to .svg/.png when the name asks for it and graphviz's
`dot` is installed.

Nodes are objects (type, address, short repr), edges say how one refers to
the other with the label the text output shows; a root that is not an
object (a frame local, an interpreter slot, C code) is a node of its own,
drawn differently."""

import os
import shutil
import subprocess

from .errors import PyleaksError

RENDER_FORMATS = {".svg": "svg", ".png": "png"}
RENDER_TIMEOUT_S = 120

_STYLES = {
    "root": 'style="rounded,filled", fillcolor="#ffe9a8"',
    "target": 'style="filled,bold", fillcolor="#f4c2c2"',
    "object": "",
}


def quote(text):
    """A graphviz double-quoted string holding text literally: quotes and
    backslashes escaped (a backslash would otherwise start an escape such
    as \\N), line breaks as graphviz's centred line break, other control
    characters shown as \\xNN."""
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\\\x%02x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


class Graph:
    """A digraph being built: nodes by key in insertion order, each edge
    once."""

    def __init__(self, title):
        self.title = title
        self.nodes = {}             # key -> [label, role]
        self.edges = {}             # (tail, head, label) -> None, ordered
        self._roots = {}            # description -> key

    def object_node(self, address, type_name, repr_text, role="object"):
        """The node of an object; meeting it again as the target keeps
        the target's colour."""
        key = "o%x" % address
        node = self.nodes.setdefault(
            key, ["%s\n%#x\n%s" % (type_name, address, repr_text), role])
        if role == "target":
            node[1] = role
        return key

    def root_node(self, description):
        """A node for a root that is not an object (or to name the root
        above its object)."""
        if description not in self._roots:
            key = "r%d" % len(self._roots)
            self._roots[description] = key
            self.nodes[key] = [description, "root"]
        return self._roots[description]

    def edge(self, tail, head, label=""):
        self.edges[(tail, head, label)] = None

    def source(self):
        lines = ["digraph pyleaks {",
                 "  label=%s;" % quote(self.title),
                 '  labelloc="t";',
                 '  node [shape=box, fontname="monospace", fontsize=10];',
                 '  edge [fontname="monospace", fontsize=10];']
        for key, (label, role) in self.nodes.items():
            style = _STYLES[role]
            lines.append("  %s [label=%s%s];"
                         % (key, quote(label), ", " + style if style else ""))
        for tail, head, label in self.edges:
            lines.append("  %s -> %s%s;" % (tail, head, " [label=%s]"
                                           % quote(label) if label else ""))
        lines.append("}")
        return "\n".join(lines) + "\n"


def write(graph, path):
    """Write the graph to path; for a .svg or .png name write the source
    to the same name with .dot and render path with graphviz.  Returns the
    line to tell the user: what was written, or why nothing was
    rendered."""
    path = os.path.expanduser(path)
    base, ext = os.path.splitext(path)
    fmt_name = RENDER_FORMATS.get(ext.lower())
    source_path = base + ".dot" if fmt_name else path
    try:
        with open(source_path, "wb") as f:
            f.write(graph.source().encode("utf-8", "backslashreplace"))
    except OSError as exc:
        raise PyleaksError("cannot write %s (%s)"
                           % (source_path, exc.strerror or exc),
                           "Give --dot a file in a writable directory")
    if not fmt_name:
        return ("wrote the graph to %s (render it: dot -Tsvg -O %s)"
                % (source_path, source_path))
    dot_prog = shutil.which("dot")
    if dot_prog is None:
        return ("graphviz's dot is not on PATH, so %s was not rendered; "
                "the graph is in %s (apt-get install graphviz)"
                % (path, source_path))
    try:
        proc = subprocess.run([dot_prog, "-T" + fmt_name, "-o", path,
                               source_path], stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=RENDER_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise PyleaksError("dot did not render %s within %d s"
                           % (path, RENDER_TIMEOUT_S),
                           "The graph source is in %s" % source_path)
    except OSError as exc:
        raise PyleaksError("cannot run %s (%s)" % (dot_prog, exc.strerror),
                           "The graph source is in %s" % source_path)
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise PyleaksError("dot failed to render %s (%s)"
                           % (path, err[0] if err else
                              "exit status %d" % proc.returncode),
                           "The graph source is in %s" % source_path)
    return "wrote the graph to %s (source: %s)" % (path, source_path)
