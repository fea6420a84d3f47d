#!/usr/bin/env python3
"""Summarises several load.py --json-out files of the same setup (see measure.sh, REPEAT=N).

On a host whose speed drifts by more than the effect being looked for, one run of three rounds says little; this
prints, per concurrency, every run's mean aggregate tokens/s and 16-stream-style TTFT p95, and their medians.
Python 3 standard library only.

Usage: summarize.py load-1.json load-2.json ...
"""
import json
import statistics
import sys


def main(paths):
    runs = [json.load(open(p, encoding="utf-8")) for p in paths]
    concs = sorted({s["conc"] for r in runs for s in r["summary"]})
    print(f"# {len(runs)} runs: {', '.join(paths)}")
    print(f"{'conc':>4} {'median agg_tok/s':>16} {'median ttft_p95_ms':>18}   per run (agg_tok/s, ttft_p95_ms)")
    for c in concs:
        rows = [s for r in runs for s in r["summary"] if s["conc"] == c]
        aggs = [s["agg_tps_mean"] for s in rows]
        p95s = [s["ttft_p95_ms"] for s in rows]
        each = ", ".join(f"{a:.1f}/{p:.0f}" for a, p in zip(aggs, p95s))
        print(f"{c:>4} {statistics.median(aggs):>16.1f} {statistics.median(p95s):>18.0f}   {each}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
