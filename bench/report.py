#!/usr/bin/env python3
"""Turns the table bench/run.sh prints into bench/results.md and bench/chart.svg.

Usage: python3 bench/report.py RUN_OUTPUT [OUT_DIR]

The chart has one bar per throughput row (module req/s over native req/s, the median of the per-round
ratios, with a whisker over the range of the rounds) and one per memory row (native bytes over module bytes,
so that longer is better in both), a line at 1.0 (as fast or as lean as native), and a mark at the ratio the
original C module measured for the same command on this kind of machine, where one is known (REFERENCE).
Plain SVG written by hand: no plotting library needed.
"""

import datetime
import html
import os
import re
import subprocess
import sys

# Ratios of the original C modules (module/native, throughput) measured on this kind of machine; the README's
# "For reference" paragraph gives the same figures. Keys are (module command, native command).
REFERENCE = {
    ("EXGET", "GET"): 0.74,
    ("EXSET", "SET"): 0.63,
    ("EXZADD", "ZADD"): 0.74,
}

ROW = re.compile(r"^\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|\s*([^|]*?)\s*\|")
RATIO = re.compile(r"([0-9.]+)\s*\(([0-9.]+)-([0-9.]+)\)")


def parse(text):
    """Rows of the run's table: dicts with group, label, native, module, ratio, lo, hi, kind."""
    rows = []
    for line in text.splitlines():
        m = ROW.match(line)
        if not m or m.group(1) in ("group", "---"):
            continue
        group, label, native, module, ratio = m.groups()
        if group.startswith("-"):
            continue
        r = RATIO.match(ratio)
        try:
            if r:
                value, lo, hi = (float(x) for x in r.groups())
            else:
                value = float(ratio)
                lo = hi = value
        except ValueError:
            continue
        kind = "mem" if group.endswith("-mem") else "rps"
        if kind == "mem":
            # bytes: module / native; the chart shows native / module so that longer is better.
            value = 1.0 / value if value else 0.0
            lo = hi = value
        rows.append(dict(group=group, label=label, native=native, module=module,
                         ratio=value, lo=lo, hi=hi, kind=kind))
    return rows


def reference(label):
    words = label.replace(",", " ").split()
    if len(words) >= 3 and words[1] == "vs":
        return REFERENCE.get((words[0].upper(), words[2].upper()))
    return None


def svg(rows, title):
    bar_h, gap, left, right, top = 18, 6, 430, 40, 50
    width = 1100
    scale_max = max([2.0] + [min(r["hi"], 4.0) for r in rows])
    plot_w = width - left - right
    height = top + len(rows) * (bar_h + gap) + 60

    def x(v):
        return left + plot_w * min(v, scale_max) / scale_max

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="10" y="20" font-size="14" font-weight="bold">{html.escape(title)}</text>',
        f'<text x="10" y="38" fill="#555">module / native (throughput: req/s; memory: native bytes / '
        f'module bytes). Longer is better; the line at 1.0 is parity.</text>',
    ]
    # grid
    step = 0.25 if scale_max <= 2.0 else 0.5
    v = 0.0
    while v <= scale_max + 1e-9:
        gx = x(v)
        out.append(f'<line x1="{gx:.1f}" y1="{top - 4}" x2="{gx:.1f}" y2="{height - 50}" '
                   f'stroke="{"#333" if abs(v - 1.0) < 1e-9 else "#ddd"}" '
                   f'stroke-width="{2 if abs(v - 1.0) < 1e-9 else 1}"/>')
        out.append(f'<text x="{gx:.1f}" y="{height - 36}" text-anchor="middle" fill="#555">{v:g}</text>')
        v += step
    for i, r in enumerate(rows):
        y = top + i * (bar_h + gap)
        color = "#4c78a8" if r["kind"] == "rps" else "#59a14f"
        if r["ratio"] < 0.85:
            color = "#e15759"
        label = f'{r["group"]}: {r["label"]}'
        if len(label) > 68:
            label = label[:66] + "…"
        out.append(f'<text x="{left - 8}" y="{y + bar_h - 5}" text-anchor="end">{html.escape(label)}</text>')
        out.append(f'<rect x="{left}" y="{y}" width="{x(r["ratio"]) - left:.1f}" height="{bar_h}" '
                   f'fill="{color}"/>')
        if r["hi"] > r["lo"]:
            cy = y + bar_h / 2
            out.append(f'<line x1="{x(r["lo"]):.1f}" y1="{cy}" x2="{x(r["hi"]):.1f}" y2="{cy}" '
                       f'stroke="black" stroke-width="1"/>')
        out.append(f'<text x="{x(max(r["ratio"], r["hi"])) + 4:.1f}" y="{y + bar_h - 5}" fill="#222">'
                   f'{r["ratio"]:.2f}</text>')
        ref = reference(r["label"]) if r["kind"] == "rps" else None
        if ref is not None:
            rx = x(ref)
            out.append(f'<path d="M{rx:.1f},{y - 2} l-5,-6 h10 z" fill="#f28e2b"/>')
            out.append(f'<line x1="{rx:.1f}" y1="{y}" x2="{rx:.1f}" y2="{y + bar_h}" stroke="#f28e2b" '
                       f'stroke-width="3"/>')
    ly = height - 18
    left = 10
    out.append(f'<rect x="{left}" y="{ly - 10}" width="12" height="12" fill="#4c78a8"/>'
               f'<text x="{left + 16}" y="{ly}">throughput</text>')
    out.append(f'<rect x="{left + 100}" y="{ly - 10}" width="12" height="12" fill="#59a14f"/>'
               f'<text x="{left + 116}" y="{ly}">memory</text>')
    out.append(f'<rect x="{left + 190}" y="{ly - 10}" width="12" height="12" fill="#e15759"/>'
               f'<text x="{left + 206}" y="{ly}">below 0.85</text>')
    out.append(f'<line x1="{left + 300}" y1="{ly - 10}" x2="{left + 300}" y2="{ly + 2}" stroke="#f28e2b" '
               f'stroke-width="3"/><text x="{left + 308}" y="{ly}">original C module</text>')
    out.append(f'<line x1="{left + 440}" y1="{ly - 4}" x2="{left + 470}" y2="{ly - 4}" stroke="black"/>'
               f'<text x="{left + 476}" y="{ly}">range of rounds</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    text = open(sys.argv[1], encoding="utf-8").read()
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.dirname(os.path.abspath(__file__))
    rows = parse(text)
    if not rows:
        print(f"no table rows in {sys.argv[1]}", file=sys.stderr)
        return 1
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=False).stdout.strip()
    except OSError:
        commit = ""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    title = f"tair-modules vs native Valkey commands ({when}{', ' + commit if commit else ''})"
    with open(os.path.join(out_dir, "chart.svg"), "w", encoding="utf-8") as f:
        f.write(svg(rows, title))
    refs = ", ".join(f"{m} {v:.2f}" for (m, _), v in REFERENCE.items())
    with open(os.path.join(out_dir, "results.md"), "w", encoding="utf-8") as f:
        f.write(f"# Benchmark results\n\nWritten by `make bench` ({when}, commit {commit or 'unknown'}, "
                f"{os.cpu_count()} cores). The chart: `chart.svg`. Original C modules' ratios on this kind of "
                f"machine, for reference: {refs}.\n\n")
        f.write("![module / native](chart.svg)\n\n")
        f.write(text.strip() + "\n")
    print(f"wrote {out_dir}/results.md and {out_dir}/chart.svg ({len(rows)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
