#!/usr/bin/env python3
"""Turns bench/run.sh's hyperfine JSON, sizes and RSS files into a Markdown results table.

    report.py RESULTS_DIR IMAGE...
"""

import json
import os
import statistics
import sys

# Targets from the issue.
MAX_VS_GZIP = 0.60  # bulwark full read / (gzip -dc | tar -t)
MAX_VS_INFLATE = 1.15  # bulwark full read / decompress-only with its own decoder
MAX_RSS_MB = 100
MAX_VS_INSPECT = 1.10  # bulwark scan (cataloguing) / bulwark inspect (layer reading only)
MIN_SYFT_VS_SCAN = 8.0  # syft scan / bulwark scan
MAX_VULN_VS_GZIP = 0.70  # bulwark scan with vulnerability matching / gzip-tar (issue 4)
MAX_ALL_VS_GZIP = 1.50  # bulwark scan with every scanner / gzip-tar (issue 5)
MAX_ALL_RSS_MB = 200


def main():
    out, images = sys.argv[1], sys.argv[2:]
    lines = []
    w = lines.append

    def read(name):
        p = os.path.join(out, name)
        return open(p).read().strip() if os.path.exists(p) else ""

    w(f"Run {read('when.txt')}, median of each command's runs (hyperfine, 1 warmup, page cache warm).")
    w("")
    w("```")
    w(read("machine.txt"))
    w("```")
    w("")
    summary = {}
    for img in images:
        with open(os.path.join(out, f"{img}.json")) as f:
            results = {r["command"]: r for r in json.load(f)["results"]}
        med = {k: statistics.median(r["times"]) for k, r in results.items()}
        # CPU time (user + sys): less sensitive than wall time to other load on the machine.
        # Debian's hyperfine exports only its mean, so this column is a mean, not a median.
        cpu = {k: r["user"] + r["system"] for k, r in results.items()}
        runs = {k: len(r["times"]) for k, r in results.items()}
        sizes = [tuple(map(int, l.split())) for l in read(f"{img}.sizes").splitlines()]
        rss_kb = [int(x) for x in read(f"{img}.rss").split()]
        comp = sum(s[0] for s in sizes)
        raw = sum(s[1] for s in sizes)
        summary[img] = {"median_s": med, "median_cpu_s": cpu, "runs": runs, "rss_kb": rss_kb, "compressed": comp, "uncompressed": raw}

        w(f"### {img}: {len(sizes)} layer(s), {comp / 1e6:.1f} MB gzip, {raw / 1e6:.1f} MB tar")
        w("")
        w("| command | median wall s | min s | max s | mean CPU s (user+sys) | MB/s (tar bytes / wall) |")
        w("|---|---:|---:|---:|---:|---:|")
        for k, r in results.items():
            w(
                f"| {k} | {med[k]:.3f} | {min(r['times']):.3f} | {max(r['times']):.3f} | {cpu[k]:.3f} "
                f"| {raw / med[k] / 1e6:.0f} |"
            )
        w("")
        vs_gzip = med["bulwark-scan"] / med["gzip-tar"]
        vs_inflate = med["bulwark-scan"] / med["inflate"]
        peak = max(rss_kb) / 1024 if rss_kb else float("nan")

        def verdict(ok, v, target):
            if ok:
                return "met"
            return f"**missed** by {v / target:.2f}x ({(v / target - 1) * 100:.0f}% over)"

        w("| target | measured | limit | verdict |")
        w("|---|---:|---:|---|")
        w(f"| bulwark-scan / gzip-tar | {vs_gzip:.2f} | ≤ {MAX_VS_GZIP:.2f} | {verdict(vs_gzip <= MAX_VS_GZIP, vs_gzip, MAX_VS_GZIP)} |")
        w(
            f"| bulwark-scan / inflate | {vs_inflate:.2f} | ≤ {MAX_VS_INFLATE:.2f} | "
            f"{verdict(vs_inflate <= MAX_VS_INFLATE, vs_inflate, MAX_VS_INFLATE)} |"
        )
        if "bulwark-inspect" in med:
            vs_inspect = med["bulwark-scan"] / med["bulwark-inspect"]
            summary[img]["scan_vs_inspect"] = vs_inspect
            w(
                f"| bulwark-scan / bulwark-inspect (cataloguing cost) | {vs_inspect:.2f} | ≤ {MAX_VS_INSPECT:.2f} | "
                f"{verdict(vs_inspect <= MAX_VS_INSPECT, vs_inspect, MAX_VS_INSPECT)} |"
            )
        if "syft" in med:
            syft_x = med["syft"] / med["bulwark-scan"]
            summary[img]["syft_vs_scan"] = syft_x
            ok = syft_x >= MIN_SYFT_VS_SCAN
            v = "met" if ok else f"**missed**: {syft_x:.1f}x instead of {MIN_SYFT_VS_SCAN:.0f}x"
            w(f"| syft / bulwark-scan (speed-up) | {syft_x:.2f} | ≥ {MIN_SYFT_VS_SCAN:.1f} | {v} |")
        w(f"| peak RSS (max of {len(rss_kb)} runs) | {peak:.1f} MB | < {MAX_RSS_MB} MB | {verdict(peak < MAX_RSS_MB, peak, MAX_RSS_MB)} |")
        if "bulwark-scan-vuln" in med:
            v = med["bulwark-scan-vuln"] / med["gzip-tar"]
            summary[img]["vuln_vs_gzip"] = v
            w(f"| bulwark-scan-vuln / gzip-tar (with matching) | {v:.2f} | ≤ {MAX_VULN_VS_GZIP:.2f} | {verdict(v <= MAX_VULN_VS_GZIP, v, MAX_VULN_VS_GZIP)} |")
        if "bulwark-scan-all" in med:
            v = med["bulwark-scan-all"] / med["gzip-tar"]
            summary[img]["all_vs_gzip"] = v
            w(f"| bulwark-scan-all / gzip-tar (every scanner) | {v:.2f} | ≤ {MAX_ALL_VS_GZIP:.2f} | {verdict(v <= MAX_ALL_VS_GZIP, v, MAX_ALL_VS_GZIP)} |")
            all_rss = [int(x) for x in read(f"{img}-all.rss").split()]
            summary[img]["all_rss_kb"] = all_rss
            p = max(all_rss) / 1024 if all_rss else float("nan")
            w(f"| peak RSS, every scanner | {p:.1f} MB | < {MAX_ALL_RSS_MB} MB | {verdict(p < MAX_ALL_RSS_MB, p, MAX_ALL_RSS_MB)} |")
        if "bulwark-scan-all-sigbase" in med:
            v = med["bulwark-scan-all-sigbase"] / med["gzip-tar"]
            sig_rss = [int(x) for x in read(f"{img}-all-sigbase.rss").split()]
            summary[img]["sigbase_vs_gzip"] = v
            summary[img]["sigbase_rss_kb"] = sig_rss
            p = max(sig_rss) / 1024 if sig_rss else float("nan")
            w(f"| bulwark-scan-all-sigbase / gzip-tar (for information) | {v:.2f} | — | peak RSS {p:.1f} MB |")
        w("")
        w(
            f"For information: bulwark-scan-j1 / inflate-j1 = {med['bulwark-scan-j1'] / med['inflate-j1']:.2f}, "
            f"bulwark-scan / pigz-tar = {med['bulwark-scan'] / med['pigz-tar']:.2f}, "
            f"inflate-j1 / gzip-tar = {med['inflate-j1'] / med['gzip-tar']:.2f}; "
            f"by CPU time: bulwark-scan / gzip-tar = {cpu['bulwark-scan'] / cpu['gzip-tar']:.2f}, "
            f"bulwark-scan / inflate = {cpu['bulwark-scan'] / cpu['inflate']:.2f}"
            + (f", bulwark-scan / bulwark-inspect = {cpu['bulwark-scan'] / cpu['bulwark-inspect']:.2f}" if "bulwark-inspect" in cpu else "")
            + (f", syft / bulwark-scan = {cpu['syft'] / cpu['bulwark-scan']:.2f}" if "syft" in cpu else "")
            + (f"; syft / gzip-tar (wall) = {med['syft'] / med['gzip-tar']:.2f}" if "syft" in med else "")
            + "."
        )
        w("")
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
