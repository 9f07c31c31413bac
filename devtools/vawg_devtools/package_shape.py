"""Module count, five largest modules and import cycles (strongly connected components of the
import graph, by ast; imports under TYPE_CHECKING count too) of a package folder.

    python3 devtools/vawg_devtools/package_shape.py plugins/vawg_warehouse
"""

import ast
import sys
from pathlib import Path

root = Path(sys.argv[1])  # e.g. plugins/vawg_warehouse
pkg = root.name
mods = {}
for p in sorted(root.rglob("*.py")):
    rel = p.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    is_pkg = parts[-1] == "__init__"
    if is_pkg:
        parts = parts[:-1]
    mods[".".join(parts)] = (p, is_pkg)


def resolve(name):
    while name and name not in mods:
        name = name.rpartition(".")[0]
    return name or None


graph = {}
for m, (p, is_pkg) in mods.items():
    tree = ast.parse(p.read_text())
    base = m.split(".") if is_pkg else m.split(".")[:-1]
    deps = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == pkg:
                    r = resolve(a.name)
                    if r:
                        deps.add(r)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                b = base[: len(base) - (node.level - 1)]
                target = ".".join(b + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != pkg:
                continue
            for a in node.names:
                full = f"{target}.{a.name}"
                r = full if full in mods else resolve(target)
                if r:
                    deps.add(r)
    deps.discard(m)
    graph[m] = deps

# Tarjan
index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)


def strong(v):
    index[v] = low[v] = i[0]
    i[0] += 1
    stack.append(v)
    on.add(v)
    for w in graph[v]:
        if w not in index:
            strong(w)
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
        sccs.append(comp)


for v in graph:
    if v not in index:
        strong(v)

sizes = sorted(((sum(1 for _ in p.open()), m) for m, (p, _) in mods.items()), reverse=True)
print(f"modules: {len(mods)} ({sum(1 for m, (p, k) in mods.items() if not k)} files not __init__)")
print(f"lines: {sum(s for s, _ in sizes)}")
print("five largest:")
for s, m in sizes[:5]:
    print(f"  {s:5d} {m}")
cycles = [sorted(c) for c in sccs if len(c) > 1]
print(f"import cycles (SCCs of size > 1): {len(cycles)}")
for c in cycles:
    print("  " + " <-> ".join(c))
