#!/usr/bin/env python3
"""Fail on any import cycle between the modules of the wscope library (stdlib only).

Stands in for `cargo modules dependencies --lib --acyclic`, which takes too long to install in CI.

How the graph is built:
- A module is a file: `src/a/b.rs` is `a::b`, `src/a/mod.rs` is `a`, `src/lib.rs` is the crate root.
  `src/main.rs` (the binary) is not part of the library and is skipped. Inline `mod x { .. }` blocks
  (unit tests) belong to their file.
- Every path that names a module counts, wherever it sits (a `use` line, a call inside a function,
  a test): `crate::x::y`, `super::..`, `self::..`, grouped `use crate::{a, b::c}` trees, and a bare
  `child::item` in a parent that declares `mod child;`. A path resolves to the deepest file-module it
  names; when that module only re-exports the item (`pub use child::Item`), the path resolves to the
  child that defines it.
- A child is part of its parent: a path from a module up to one of its ancestors (`super::Type`,
  `crate::parent::Type` in parent/child.rs) adds no edge. A parent using or re-exporting its children
  does add one (`mod child;` alone does not), and so does every path between siblings or across the
  tree. So a parent simply declaring its children is not a cycle, a child taking its parent's types is
  not a cycle, but parent -> other module -> parent's child is. `lib.rs`, the crate root, only
  declares the modules and runs the commands: its paths add no edge (it is the edge of the graph).

Prints each cycle (a strongly connected component of more than one module, with one closed path
through it) and exits 1; prints the module count and "no import cycles" when clean.
"""

import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def module_of(rel):
    """'a/b.rs' -> ('a','b'); 'a/mod.rs' -> ('a',); 'lib.rs' -> ()."""
    parts = rel[:-3].split(os.sep)
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts == ["lib"]:
        return ()
    return tuple(parts)


def strip_comments_and_strings(text):
    """Blank out comments, strings and char literals, keeping line structure."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and not re.match(r"[A-Za-z0-9_]", text[i - 1:i] or " "):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:  # a lifetime
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use_tree(text):
    """'a::{b, c::{d, e}}' -> ['a::b', 'a::c::d', 'a::c::e'] (aliases and globs dropped)."""
    text = re.sub(r"\s+as\s+" + IDENT, "", text)
    text = re.sub(r"\s+", "", text)

    def parse(s, pos, prefix):
        paths = []
        cur = ""
        while pos < len(s):
            ch = s[pos]
            if ch == "{":
                inner, pos = parse(s, pos + 1, prefix + cur)
                paths.extend(inner)
                cur = None
                continue
            if ch == "}":
                if cur:
                    paths.append(prefix + cur)
                return paths, pos + 1
            if ch == ",":
                if cur:
                    paths.append(prefix + cur)
                cur = ""
                pos += 1
                continue
            if cur is None:
                cur = ""
            cur += ch
            pos += 1
        if cur:
            paths.append(prefix + cur)
        return paths, pos

    paths, _ = parse(text, 0, "")
    return paths


class File:
    def __init__(self, rel, text):
        self.rel = rel
        self.module = module_of(rel)
        self.code = strip_comments_and_strings(text)
        self.children = set(re.findall(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+(" + IDENT + r")\s*;", self.code, re.M))
        self.refs = []  # (absolute path tuple)
        self.reexports = {}  # item name -> absolute path tuple of its source

    def inline_depth_at(self, pos, inline_spans):
        return sum(1 for (a, b) in inline_spans if a <= pos < b)


def inline_module_spans(code):
    """Byte spans of `mod name { ... }` blocks."""
    spans = []
    for m in re.finditer(r"\bmod\s+" + IDENT + r"\s*\{", code):
        depth, j = 1, m.end()
        while j < len(code) and depth:
            if code[j] == "{":
                depth += 1
            elif code[j] == "}":
                depth -= 1
            j += 1
        spans.append((m.start(), j))
    return spans


def absolute(f, segs, inline):
    """Turn a path as written in file f (at inline module depth `inline`) into an absolute tuple."""
    base = list(f.module)
    if segs[0] == "crate":
        return tuple(segs[1:])
    if segs[0] in ("self", "super"):
        cur = base + ["<inline>"] * inline
        i = 0
        while i < len(segs) and segs[i] in ("self", "super"):
            if segs[i] == "super":
                cur = cur[:-1]
            i += 1
        cur = [c for c in cur if c != "<inline>"]
        return tuple(cur + segs[i:])
    if inline == 0 and segs[0] in f.children:
        return tuple(base + segs)
    return None


def collect(files):
    path_re = re.compile(r"(?<![A-Za-z0-9_:])((?:crate|super|self|" + IDENT + r")(?:\s*::\s*(?:" + IDENT + r"|\{))+)")
    for f in files.values():
        code = f.code
        spans = inline_module_spans(code)
        # use trees (may span lines and hold groups)
        for m in re.finditer(r"\b(pub(?:\([a-z]+\))?\s+)?use\s+([^;]+);", code):
            inline = f.inline_depth_at(m.start(), spans)
            for p in expand_use_tree(m.group(2)):
                segs = [s for s in p.split("::") if s]
                if not segs or segs[-1] == "*":
                    segs = segs[:-1]
                if not segs:
                    continue
                a = absolute(f, segs, inline)
                if a is None:
                    continue
                if m.group(1) and inline == 0:
                    f.reexports[a[-1]] = a
                f.refs.append(a)
        # paths anywhere else (calls inside functions, types in signatures)
        blanked = re.sub(r"\buse\s+[^;]+;", lambda m: " " * len(m.group(0)), code)
        for m in path_re.finditer(blanked):
            segs = [s for s in re.split(r"\s*::\s*", m.group(1)) if s and s != "{"]
            if len(segs) < 2:
                continue
            a = absolute(f, segs, f.inline_depth_at(m.start(), spans))
            if a is not None:
                f.refs.append(a)


def resolve(path, modules, files, seen=None):
    """The deepest file-module a path names, following re-exports out of a mod.rs."""
    seen = seen or set()
    best = None
    for k in range(len(path), -1, -1):
        if path[:k] in modules:
            best = path[:k]
            break
    if best is None:
        return None
    rest = path[len(best):]
    if rest and (best, rest[0]) not in seen:
        src = files[modules[best]].reexports.get(rest[0])
        if src is not None and src != path:
            seen.add((best, rest[0]))
            return resolve(src + rest[1:], modules, files, seen) or best
    return best


def is_ancestor(a, b):
    """Whether module a is b or one of b's ancestors."""
    return b[:len(a)] == a


def sccs(graph):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(comp)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def closed_path(graph, comp):
    """One cycle through the component, by breadth-first search back to its first module."""
    members = set(comp)
    start = min(comp)
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return [start] + path[::-1][1:] + [start] if path[-1] == start else path[::-1] + [start]
            if w in members and w not in prev:
                prev[w] = v
                queue.append(w)
    return [start]


def name(m):
    return "crate" if not m else "::".join(m)


def main():
    files = {}
    for dirpath, _, names in os.walk(ROOT):
        for n in names:
            if not n.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, n), ROOT)
            if rel == "main.rs":
                continue
            with open(os.path.join(dirpath, n), encoding="utf-8") as fh:
                files[rel] = File(rel, fh.read())
    modules = {f.module: rel for rel, f in files.items()}
    collect(files)
    graph = {m: set() for m in modules}
    why = {}
    for f in files.values():
        for p in f.refs:
            target = resolve(p, modules, files)
            if target is None or f.module == () or is_ancestor(target, f.module):
                continue
            graph[f.module].add(target)
            why.setdefault((f.module, target), "::".join(p))
    cycles = [sorted(c) for c in sccs(graph) if len(c) > 1]
    if not cycles:
        print(f"{len(modules)} modules, no import cycles")
        return 0
    for comp in sorted(cycles, key=len, reverse=True):
        print(f"import cycle through {len(comp)} modules (files):")
        for m in comp:
            deps = sorted(name(t) for t in graph[m] if t in comp)
            print(f"  src/{modules[m]} -> {', '.join(deps)}")
        path = closed_path(graph, comp)
        steps = []
        for a, b in zip(path, path[1:]):
            steps.append(f"{name(a)} --[{why[(a, b)]}]-->")
        print("  one closed path: " + " ".join(steps) + f" {name(path[-1])}")
    print(f"{len(modules)} modules, {len(cycles)} import cycle(s)")
    return 1


if __name__ == "__main__":
    sys.exit(main())
