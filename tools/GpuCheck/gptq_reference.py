"""Times the GPTQ reference code (IST-DASLab/gptq, gptq.py + quant.py) on one Linear layer, for Kit's GPU run.

Usage: python3 gptq_reference.py GPTQ_DIR --device cuda --rows 4096 --columns 4096 --samples 128 --seq-len 2048

Inputs as Kit's `GptqBenchmark` makes them: a random weight N(0, 0.02) and, per sequence, a shared low-rank part
(rank columns/64) plus N(0, 0.5) noise, generated inside the timed Hessian loop as Kit does. Grid: 4 bits,
symmetric, per channel with groups of 128 (Kit's W4A16), block size 128, 1 % damping, no act-order. The reference
keeps TF32 off (gptq.py sets it). Prints one JSON object on the last line.
"""
import argparse, json, sys, time, types

parser = argparse.ArgumentParser()
parser.add_argument("gptq_dir")
parser.add_argument("--device", default="cuda")
parser.add_argument("--rows", type=int, default=4096)
parser.add_argument("--columns", type=int, default=4096)
parser.add_argument("--samples", type=int, default=128)
parser.add_argument("--seq-len", type=int, default=2048)
parser.add_argument("--group-size", type=int, default=128)
a = parser.parse_args()

import torch
import torch.nn as nn

# gptq.py imports transformers only for transformers.Conv1D, quant.py numpy only for its 3-bit kernels.
stubs = []
try:
    import transformers  # noqa: F401
except ImportError:
    sys.modules["transformers"] = types.SimpleNamespace(Conv1D=type("Conv1D", (nn.Module,), {}))
    stubs.append("transformers")
try:
    import numpy  # noqa: F401
except ImportError:
    sys.modules["numpy"] = types.ModuleType("numpy")
    stubs.append("numpy")
if a.device == "cpu":
    torch.cuda.synchronize = lambda *args, **kwargs: None   # gptq.py synchronizes unconditionally
sys.path.insert(0, a.gptq_dir)
import gptq, quant  # noqa: E402


def sync():
    if a.device != "cpu":
        torch.cuda.synchronize()


dev = torch.device(a.device)
g = torch.Generator(device=dev)
g.manual_seed(0)
layer = nn.Linear(a.columns, a.rows, bias=False, device=dev)
with torch.no_grad():
    layer.weight.copy_(torch.normal(0, 0.02, (a.rows, a.columns), generator=g, device=dev))
rank = max(1, a.columns // 64)
mixing = torch.normal(0, 1, (rank, a.columns), generator=g, device=dev)

sync()
tick = time.perf_counter()
g_obj = gptq.GPTQ(layer)
for _ in range(a.samples):
    x = torch.normal(0, 1, (a.seq_len, rank), generator=g, device=dev).matmul(mixing) \
        + torch.normal(0, 0.5, (a.seq_len, a.columns), generator=g, device=dev)
    g_obj.add_batch(x.unsqueeze(0), None)
    sync()
hessian_s = time.perf_counter() - tick

g_obj.quantizer = quant.Quantizer()
g_obj.quantizer.configure(4, perchannel=True, sym=True, mse=False)
sync()
tick = time.perf_counter()
g_obj.fasterquant(blocksize=128, percdamp=0.01, groupsize=a.group_size, actorder=False)
sync()
solve_s = time.perf_counter() - tick

print(json.dumps({
    "torch": torch.__version__, "device": str(dev), "tf32": torch.backends.cuda.matmul.allow_tf32,
    "rows": a.rows, "columns": a.columns, "tokens": a.samples * a.seq_len,
    "hessian_seconds": hessian_s, "gptq_seconds": solve_s, "stubbed": stubs,
}))
