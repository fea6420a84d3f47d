#!/usr/bin/env python3
"""Time to first token of a long prompt, cold and with its prefix cached.

Python 3 standard library only; loopback only. Each trial sends one streaming POST /v1/completions with a ~1,000-token
prompt that no earlier request shared (a fresh first line), then the very same request again, whose prompt blocks
the server now has cached. TTFT is measured as in ../../../shared/bench/load.py: from sending the request to the first
SSE event carrying a choice. The server's usage (prompt_tokens, prompt_tokens_details.cached_tokens) is printed too.

Usage:
  python3 tools/load/prefix_ttft.py --port 18080 --model bench --trials 5
"""
import argparse
import http.client
import json
import os
import statistics
import sys
import time
import uuid


def first_token(host, port, body, timeout):
    """Returns (ttft seconds, usage) of one streaming request."""
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    conn.request("POST", "/v1/completions", body=body,
                 headers={"Content-Type": "application/json", "extra-parameters": "pass-through"})
    resp = conn.getresponse()
    if resp.status != 200:
        raise RuntimeError(f"HTTP {resp.status}: {resp.read()[:500]!r}")
    ttft = None
    usage = {}
    while True:
        line = resp.readline()
        if not line:
            break
        line = line.strip()
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            break
        event = json.loads(data)
        if "error" in event:
            raise RuntimeError(f"error event: {event['error']}")
        if event.get("choices") and ttft is None:
            ttft = time.perf_counter() - t0
        if event.get("usage"):
            usage = event["usage"]
    conn.close()
    return ttft, usage


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=18080)
    ap.add_argument("--model", default="bench")
    ap.add_argument("--prompt-file", default=os.path.join(here, "prompt.txt"),
                    help="a paragraph repeated --repeats times (numbered) to make the long prompt")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=600)
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("loopback only")
    paragraph = open(args.prompt_file, encoding="utf-8").read().strip()
    long_text = "\n".join(f"Part {k + 1}. {paragraph}" for k in range(args.repeats))

    # One untimed request first, so that neither side is measured while still warming up.
    warm = dict(model=args.model, prompt=f"Warm-up {uuid.uuid4().hex}.\n" + long_text, max_tokens=1, temperature=0,
                stream=True, stream_options={"include_usage": True})
    first_token(args.host, args.port, json.dumps(warm).encode(), args.timeout)

    print(f"{'trial':>5} {'prompt_tok':>10} {'cold_ttft_ms':>12} {'cached_tok':>10} {'warm_ttft_ms':>12} {'ratio':>6}")
    colds, warms = [], []
    for trial in range(args.trials):
        request = dict(model=args.model, prompt=f"Session {uuid.uuid4().hex}.\n" + long_text, max_tokens=1,
                       temperature=0, stream=True, stream_options={"include_usage": True})
        body = json.dumps(request).encode()
        cold, cold_usage = first_token(args.host, args.port, body, args.timeout)
        warm, warm_usage = first_token(args.host, args.port, body, args.timeout)
        cached = (warm_usage.get("prompt_tokens_details") or {}).get("cached_tokens")
        colds.append(cold)
        warms.append(warm)
        print(f"{trial:>5} {cold_usage.get('prompt_tokens')!s:>10} {cold * 1000:>12.0f} {cached!s:>10} "
              f"{warm * 1000:>12.0f} {warm / cold:>6.3f}", flush=True)
    cold_median, warm_median = statistics.median(colds), statistics.median(warms)
    print(f"\nmedian cold TTFT {cold_median * 1000:.0f} ms, median cached TTFT {warm_median * 1000:.0f} ms, "
          f"ratio {warm_median / cold_median:.3f} (target <= 0.200)")


if __name__ == "__main__":
    main()
