#!/usr/bin/env python3
"""Compares the packages Syft and Bulwark find in the same image.

    compare.py SYFT_JSON BULWARK_JSON [--known docs/syft-differences.md] [--name IMAGE] [--markdown OUT]

SYFT_JSON is `syft scan … -o syft-json`, BULWARK_JSON is `bulwark scan … --format json`.
Packages are compared per ecosystem by (ecosystem, name, version), with names normalised
where the ecosystem does (PyPI: PEP 503; Composer, NuGet: case-insensitive) and Go
versions without their `v`/`go` prefix (Syft: `go1.21.5`, Bulwark: `v1.21.5`).

Every difference must be explained, else the exit status is 1:
- a Go main module that Bulwark reports as `(devel)` (what the build info says) and Syft
  with a version it guessed from `-X main.version` ldflags is reason `go-main-version`;
- a Syft package that Syft itself records as owned by an OS package (an
  `ownership-by-file-overlap` relationship from a deb/apk/rpm) is reason `os-owned`:
  Bulwark reports those files as part of the OS package only;
- otherwise a row of the "Known differences" table in docs/syft-differences.md must match
  it (direction, ecosystem, name and version, `*` globs allowed).
Syft package types Bulwark has no cataloger for (e.g. `binary`, `linux-kernel`) are
counted and listed, not compared.
"""

import argparse
import collections
import fnmatch
import json
import re
import sys

# Syft package type -> Bulwark ecosystem (the purl type Bulwark reports).
SYFT_TYPES = {
    "deb": "deb",
    "apk": "apk",
    "rpm": "rpm",
    "python": "pypi",
    "npm": "npm",
    "gem": "gem",
    "php-composer": "composer",
    "dotnet": "nuget",
    "go-module": "golang",
    "rust-crate": "cargo",
    "java-archive": "maven",
    "jenkins-plugin": "maven",
}
OS_ECOSYSTEMS = {"deb", "apk", "rpm"}
ECOSYSTEM_ORDER = ["deb", "apk", "rpm", "pypi", "npm", "gem", "composer", "nuget", "golang", "cargo", "maven"]


def norm_name(eco, name):
    if eco == "pypi":
        return re.sub(r"[-_.]+", "-", name).lower()
    if eco in ("composer", "nuget"):
        return name.lower()
    return name


def norm_version(eco, version):
    if eco == "golang":
        return re.sub(r"^(go|v)", "", version)
    return version


def maven_name(art):
    """groupId:artifactId from Syft's purl (`pkg:maven/<group>/<artifact>@<version>`)."""
    purl = art.get("purl") or ""
    m = re.match(r"pkg:maven/([^/@?#]+)/([^/@?#]+)", purl)
    if m:
        return f"{m.group(1)}:{m.group(2)}"
    return art["name"]


def load_syft(path):
    doc = json.load(open(path))
    arts = {a["id"]: a for a in doc.get("artifacts", [])}
    os_owned = {}  # child id -> owning OS package
    for r in doc.get("artifactRelationships", []):
        if r.get("type") == "ownership-by-file-overlap":
            parent = arts.get(r.get("parent"))
            if parent and SYFT_TYPES.get(parent["type"]) in OS_ECOSYSTEMS:
                os_owned[r.get("child")] = f"{parent['type']} {parent['name']}"
    packages, unsupported = [], collections.Counter()
    for a in arts.values():
        eco = SYFT_TYPES.get(a["type"])
        if eco is None:
            unsupported[(a["type"], a["name"], a["version"], a.get("foundBy", ""))] += 1
            continue
        name = maven_name(a) if eco == "maven" else a["name"]
        packages.append(
            {
                "eco": eco,
                "name": name,
                "version": a["version"],
                "paths": sorted({l.get("path", "") for l in a.get("locations", [])}),
                "os_owned": os_owned.get(a["id"]),
                "found_by": a.get("foundBy", ""),
                "go_main": eco == "golang" and (a.get("metadata") or {}).get("mainModule") == a["name"],
            }
        )
    return packages, unsupported


def load_bulwark(path):
    doc = json.load(open(path))
    out = []
    for p in doc.get("packages", []):
        if p.get("removed_in") is not None:
            continue  # deleted by a later layer: not in the final image Syft sees
        out.append({"eco": p["ecosystem"], "name": p["name"], "version": p["version"], "paths": p.get("locations", [])})
    return out


def load_known(path):
    """Rows of the table under the '## Known differences' heading of docs/syft-differences.md."""
    rows = []
    if not path:
        return rows
    in_section = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("## "):
            in_section = line.strip().lower() == "## known differences"
            continue
        if not in_section or not line.startswith("|"):
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if len(cells) < 5 or cells[0] in ("direction", "") or set(cells[0]) <= set("-: "):
            continue
        direction, eco, name, version, reason = cells[:5]
        rows.append({"direction": direction, "eco": eco, "name": name, "version": version, "reason": reason})
    return rows


def explain_known(known, direction, pkg):
    for r in known:
        if r["direction"] != direction:
            continue
        if r["eco"] != "*" and r["eco"] != pkg["eco"]:
            continue
        if fnmatch.fnmatchcase(pkg["name"], r["name"]) and fnmatch.fnmatchcase(pkg["version"], r["version"]):
            return r["reason"]
    return None


def key(p):
    return (p["eco"], norm_name(p["eco"], p["name"]), norm_version(p["eco"], p["version"]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("syft")
    ap.add_argument("bulwark")
    ap.add_argument("--known", help="docs/syft-differences.md")
    ap.add_argument("--name", default="image")
    ap.add_argument("--markdown", help="also write the report as Markdown to this file")
    args = ap.parse_args()

    syft, unsupported = load_syft(args.syft)
    bulwark = load_bulwark(args.bulwark)
    known = load_known(args.known)

    s_by = collections.defaultdict(list)
    for p in syft:
        s_by[key(p)].append(p)
    b_by = collections.defaultdict(list)
    for p in bulwark:
        b_by[key(p)].append(p)

    rows = collections.OrderedDict()
    for eco in ECOSYSTEM_ORDER + sorted({p["eco"] for p in syft + bulwark} - set(ECOSYSTEM_ORDER)):
        rows[eco] = collections.Counter()
    diffs = []  # (explained, direction, pkg, reason)
    # Go main modules built without a module version: the build info says `(devel)`, which
    # Bulwark reports; Syft replaces it with a version guessed from `-X main.version=…`
    # ldflags (or VCS settings). Both sides of such a pair are reason `go-main-version`.
    devel = {k[1] for k in b_by if k[0] == "golang" and k[2] == "(devel)"}
    guessed = set()
    for k, ps in s_by.items():
        if k not in b_by and ps[0].get("go_main") and k[1] in devel:
            guessed.add(k[1])
    go_reason = "go-main-version: the build info has `(devel)`; Syft guesses the version from ldflags/VCS"

    for k, ps in s_by.items():
        eco = k[0]
        rows[eco]["syft"] += 1
        if k in b_by:
            rows[eco]["matched"] += 1
            continue
        p = ps[0]
        owners = sorted({q["os_owned"] for q in ps if q["os_owned"]})
        reason = f"os-owned: files owned by {', '.join(owners)} (Syft's ownership-by-file-overlap)" if owners else None
        if reason is None and eco == "golang" and k[1] in guessed:
            reason = go_reason
        reason = reason or explain_known(known, "syft-only", p)
        rows[eco]["syft-only explained" if reason else "syft-only UNEXPLAINED"] += 1
        diffs.append((reason is not None, "syft-only", p, reason))
    for k, ps in b_by.items():
        eco = k[0]
        rows[eco]["bulwark"] += 1
        if k in s_by:
            continue
        p = ps[0]
        reason = go_reason if eco == "golang" and k[2] == "(devel)" and k[1] in guessed else None
        reason = reason or explain_known(known, "bulwark-only", p)
        rows[eco]["bulwark-only explained" if reason else "bulwark-only UNEXPLAINED"] += 1
        diffs.append((reason is not None, "bulwark-only", p, reason))

    lines = []
    w = lines.append
    w(f"### {args.name}: Syft vs Bulwark (distinct ecosystem/name/version)")
    w("")
    cols = ["syft", "bulwark", "matched", "syft-only explained", "syft-only UNEXPLAINED", "bulwark-only explained", "bulwark-only UNEXPLAINED"]
    w("| ecosystem | " + " | ".join(cols) + " |")
    w("|---|" + "---:|" * len(cols))
    for eco, c in rows.items():
        if sum(c.values()) == 0:
            continue
        w(f"| {eco} | " + " | ".join(str(c[x]) for x in cols) + " |")
    total = collections.Counter()
    for c in rows.values():
        total.update(c)
    w("| **total** | " + " | ".join(str(total[x]) for x in cols) + " |")
    w("")
    if diffs:
        w("| | direction | ecosystem | name | version | where | reason |")
        w("|---|---|---|---|---|---|---|")
        for ok, direction, p, reason in sorted(diffs, key=lambda d: (d[0], d[1], d[2]["eco"], d[2]["name"], d[2]["version"])):
            where = ", ".join(p["paths"][:2]) + (" …" if len(p["paths"]) > 2 else "")
            w(f"| {'ok' if ok else '**UNEXPLAINED**'} | {direction} | {p['eco']} | {p['name']} | {p['version']} | {where} | {reason or ''} |")
        w("")
    if unsupported:
        w(f"Not compared (Syft package types Bulwark has no cataloger for): {sum(unsupported.values())}")
        w("")
        for (t, n, v, by), count in sorted(unsupported.items()):
            w(f"- {t} `{n}` {v} ({by}){f' ×{count}' if count > 1 else ''}")
        w("")
    unexplained = sum(1 for d in diffs if not d[0])
    w(f"Result: {'OK' if unexplained == 0 else f'{unexplained} unexplained difference(s)'}.")
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    sys.exit(1 if unexplained else 0)


if __name__ == "__main__":
    main()
