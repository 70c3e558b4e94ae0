#!/usr/bin/env bash
# One-shot GPU check: on a machine with a CUDA GPU, run the CUDA-marked tests, the renderer
# benchmark, the step benchmark in every precision and the large-frame piece end to end, then
# print one summary table. Meant to finish in under 8 minutes on one GPU.
#
#   bench/device_check.sh [--dry-run]
#
# Environment: PYTHON (default .venv/bin/python, else python3), OUT (default
# /tmp/penspec-device-check): every step's full output lands in $OUT/<step>.log, the summary in
# $OUT/summary.md. Without a CUDA GPU the script says so and exits 2 before running anything;
# --dry-run prints the steps it would run and whether a GPU is present, and exits 0.
set -u
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$([ -x .venv/bin/python ] && echo .venv/bin/python || echo python3)}
OUT=${OUT:-/tmp/penspec-device-check}
DRY=0
[ "${1:-}" = "--dry-run" ] && DRY=1
export OMP_WAIT_POLICY=PASSIVE

# name | time limit (s) | command
STEPS=(
  "cuda tests|120|$PYTHON -m pytest -q -m cuda tests/runtime/test_precision.py"
  "render bench|90|$PYTHON bench/render.py --device cuda --repeat 5"
  "step bench|180|$PYTHON bench/step.py --device cuda --precision fp32,auto,bf16,fp16 --repeat 5 --warmup 2 --quality-steps 20"
  "large-frame auto|150|$PYTHON -m penspec.runtime.cli build gallery/large-frame/spec.yaml --device cuda --precision auto -o $OUT/large-frame-auto"
  "large-frame fp32|150|$PYTHON -m penspec.runtime.cli build gallery/large-frame/spec.yaml --device cuda --precision fp32 -o $OUT/large-frame-fp32"
)

GPU=$("$PYTHON" - <<'EOF' 2>/dev/null
import torch
if torch.cuda.is_available():
    d = torch.device("cuda")
    print(f"{torch.cuda.get_device_name(d)}, torch {torch.__version__}, CUDA {torch.version.cuda}, "
          f"bf16: {'yes' if torch.cuda.is_bf16_supported(including_emulation=False) else 'no'}")
EOF
)

if [ -z "$GPU" ]; then
  echo "NO CUDA GPU PRESENT: torch.cuda.is_available() is False on $(hostname) (python: $PYTHON)."
  echo "The device check needs a CUDA GPU; nothing was run."
else
  echo "GPU: $GPU"
fi
if [ "$DRY" = 1 ]; then
  echo "dry run: the steps, with their time limits:"
  for step in "${STEPS[@]}"; do
    IFS='|' read -r name limit cmd <<<"$step"
    printf '  %-18s %4ss  %s\n' "$name" "$limit" "$cmd"
  done
  exit 0
fi
[ -z "$GPU" ] && exit 2

mkdir -p "$OUT"
SUMMARY="$OUT/summary.md"
{
  echo "# penspec device check"
  echo
  echo "GPU: $GPU"
  echo
  echo "| step | result | seconds | key figures |"
  echo "|---|---|---|---|"
} >"$SUMMARY"

key_figures() {  # the lines of a step's log worth a place in the table
  case "$1" in
    "cuda tests") tail -n 1 "$2" ;;
    "render bench") grep -E "^(224|512|1024|16 views)" "$2" | awk '{print $1, $2, $3, $4, $5}' | paste -sd ';' ;;
    "step bench") sed -n '/^per precision/,$p' "$2" | grep -E "step ms|/ fp32|held-out" | tr -s ' ' | paste -sd ';' ;;
    large-frame*) grep -E "objective on held-out|nets in" "$2" | tr -s ' ' | paste -sd ';' ;;
  esac
}

status=0
for step in "${STEPS[@]}"; do
  IFS='|' read -r name limit cmd <<<"$step"
  log="$OUT/$(echo "$name" | tr ' ' '-').log"
  echo "== $name (limit ${limit}s): $cmd"
  start=$(date +%s%N)
  timeout "$limit" bash -c "$cmd" >"$log" 2>&1
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  secs="$((ms / 1000)).$(printf '%03d' $((ms % 1000)) | cut -c1)"
  case $rc in
    0) result=ok ;;
    124) result="timed out"; status=1 ;;
    *) result="failed (exit $rc)"; status=1 ;;
  esac
  tail -n 5 "$log"
  printf '| %s | %s | %s | %s |\n' "$name" "$result" "$secs" "$(key_figures "$name" "$log" | tr '|' '/')" >>"$SUMMARY"
done

echo
cat "$SUMMARY"
if [ -f "$OUT/step-bench.log" ]; then
  echo
  sed -n '/^per precision/,$p' "$OUT/step-bench.log"
fi
exit $status
