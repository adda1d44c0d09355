#!/usr/bin/env bash
# On a GPU machine: train htlm_base in bf16 for a few minutes on a data-bin made from the real
# test pages and print target tokens/s per GPU and MFU (FAIRSEQ_NOTES: ~6 x parameters FLOP per
# target token; H100/H200 dense bf16 peak 989 TFLOP/s, override with PEAK_TFLOPS).
#   bash bench/train_gpu.sh [MAX_UPDATES]
set -euo pipefail
UPDATES=${1:-300}
PEAK_TFLOPS=${PEAK_TFLOPS:-989}
WORK=$(mktemp -d)
python - "$WORK" <<'PY'
import sys
from pathlib import Path
sys.path.insert(0, str(Path("bench").resolve()))
from train_cpu import make_databin
make_databin(Path(sys.argv[1]), 32000)
PY
htlm-train "$WORK/data-bin/shard0" --arch htlm_base --bf16 --criterion cross_entropy \
    --optimizer adam --adam-betas '(0.9, 0.98)' --lr 4e-4 --lr-scheduler inverse_sqrt --warmup-updates 100 \
    --tokens-per-sample 512 --max-tokens 32768 --max-update "$UPDATES" --log-interval 20 --log-format simple \
    --num-workers 4 --disable-validation --no-save --save-dir "$WORK/ck" 2>&1 | tee "$WORK/log"
python - "$WORK/log" "$PEAK_TFLOPS" <<'PY'
import re, statistics, sys
import torch
log = open(sys.argv[1]).read()
wps = [float(x) for x in re.findall(r"train_inner\W.*? wps=([0-9.]+)", log)][1:]
params = float(re.search(r"num. model params: ([0-9,]+)", log).group(1).replace(",", ""))
per_gpu = statistics.mean(wps) / max(1, torch.cuda.device_count())
mfu = per_gpu * 6 * params / (float(sys.argv[2]) * 1e12)
print(f"htlm_base bf16: {per_gpu:,.0f} target tokens/s per GPU, {params/1e6:.0f}M parameters, MFU {mfu:.1%}")
PY
