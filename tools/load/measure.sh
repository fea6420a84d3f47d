#!/usr/bin/env bash
# The measurements of docs/performance.md, in one go: builds the random-weight 110m Q8_0 model if missing, serves it
# with 2 threads on port 18080, runs the shared load generator (1, 4 and 16 streams) and the prefix-cache TTFT
# script, and prints the load average before and after each. Extra arguments go to `quill serve`.
#   tools/load/measure.sh                       # defaults
#   tools/load/measure.sh --max-batch-tokens 256
#   REPEAT=5 tools/load/measure.sh              # the load generator 5 times against one server, then the medians
# (repeats measure cold prompts too: load.py sends cache_prompt false, which Quill honours)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MODEL="${MODEL:-/tmp/110m-q8_0.gguf}"
PORT="${PORT:-18080}"
LOAD_PY="${LOAD_PY:-$ROOT/../shared/bench/load.py}"
[ -f "$LOAD_PY" ] || LOAD_PY=/work/shared/bench/load.py
OUT="${OUT:-/tmp/quill-measure}"
mkdir -p "$OUT"

[ -f "$MODEL" ] || "$ROOT/quill" make-model --arch llama --shape 110m --type q8_0 -o "$MODEL"

echo "commit $(git -C "$ROOT" rev-parse --short HEAD)  model $MODEL  $(nproc) cores"
"$ROOT/quill" serve -m "$MODEL" --name bench --threads 2 --port "$PORT" "$@" > "$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health" > /dev/null && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$OUT/serve.log"; exit 1; }
  sleep 1
done

REPEAT="${REPEAT:-1}"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
RUNS=()
for i in $(seq 1 "$REPEAT"); do
  JSON="$OUT/load.json"; [ "$REPEAT" -gt 1 ] && JSON="$OUT/load-$i.json"
  python3 "$LOAD_PY" --port "$PORT" --prompt-file "$ROOT/tools/load/prompt.txt" --distinct --concurrency 1,4,16 \
      --rounds 3 --max-tokens 64 --label quill-110m-q8_0 --json-out "$JSON"
  RUNS+=("$JSON")
done
echo "load after streams: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$REPEAT" -gt 1 ] && python3 "$ROOT/tools/load/summarize.py" "${RUNS[@]}"
python3 "$ROOT/tools/load/prefix_ttft.py" --port "$PORT" --trials 5
echo "load after prefix: $(cut -d' ' -f1-3 /proc/loadavg)"
