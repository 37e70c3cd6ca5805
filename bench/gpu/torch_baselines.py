#!/usr/bin/env python3
"""PyTorch baselines for libgptq's GPU kernels, timed on the same machine
(bench/gpu/README.md): device-to-device copy bandwidth, cuBLAS fp16 and
bf16 (torch.nn.functional.linear), and PyTorch's int4 kernel
(torch._weight_int4pack_mm, group size 128, bf16), on llama layer shapes.

  torch_baselines.py --out baselines.json [--quick] [--shapes 4096x4096,...] [--ms 1,16,...]

Shapes are K x N = in_features x out_features; x is [M, K], the weight
[N, K] (nn.Linear's layout), the output [M, N].

Timing: CUDA events around groups of calls captured in a CUDA graph (no
launch overhead; --no-graph times eager launches), median over the groups
after warm-up. Each call reads a different copy of the weights, and there
are enough copies (>= --min-working-set-mb, 512 MB) that the working set is
far beyond the 60 MB L2: small shapes would otherwise read from L2 and
look faster than memory allows. Iteration counts are chosen per point to
give about --target-ms of timed work.

Per row: time_us, weight bytes / time (the bytes of that kernel's own
weight format: N*K*2 for fp16/bf16; packed int4 plus the bf16 scales and
zeros for int4), TFLOP/s (2*M*N*K / time), and the weight bytes / time as
a fraction of the copy bandwidth measured in the same run (counting bytes
read and written).

torch._weight_int4pack_mm (aten/src/ATen/native/cuda/int4mm.cu, PyTorch >= 2.5,
pytorch/pytorch#129940): the weight enters _convert_weight_to_int4pack as
uint8 [N, K/2], byte j of row n = q[n, 2j] << 4 | q[n, 2j+1] with q in
0..15, and innerKTiles 2, 4 or 8 (K a multiple of innerKTiles*16); out
comes int32 [N/8, K/(innerKTiles*16), 32, innerKTiles/2]. The matmul takes
x bf16 [M, K] (contiguous), groupsize 32/64/128/256 and scales_and_zeros
bf16 [K/groupsize, N, 2] ([..., 0] scale, [..., 1] zero) and returns bf16
[M, N]; it dequantizes w = (q - 8) * scale + zero. The script checks its
output against that dequantized weight once per shape before timing.
"""
import argparse
import json
import math
import platform
import statistics
import sys
import time

import torch
import torch.nn.functional as F

SHAPES = ["4096x12288", "4096x4096", "4096x22016", "11008x4096", "4096x28672", "14336x4096", "8192x10240",
          "8192x8192", "8192x57344", "28672x8192"]
MS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096]
QUICK_SHAPES = ["4096x4096", "4096x22016", "8192x8192"]
QUICK_MS = [1, 4, 16, 64, 256, 4096]
KERNELS = ["cublas_fp16", "cublas_bf16", "torch_int4"]
MIN_GROUP_BYTES = 192e6  # one timed group reads at least this much distinct weight data (3x the L2)
MAX_CALLS_PER_GROUP = 2000
CHECK_M = 8
CHECK_LIMIT = 0.02  # relative (Frobenius) error of the int4 kernel against its dequantized weights


class CudaClock:
    name = "cuda events"

    def __init__(self, device):
        self.device = device

    def mark(self):
        e = torch.cuda.Event(enable_timing=True)
        e.record()
        return e

    def sync(self):
        torch.cuda.synchronize(self.device)

    def ms(self, start, end):
        return start.elapsed_time(end)


class CpuClock:
    """--dry-run: the same code paths on the CPU, to check the script without a GPU."""
    name = "perf_counter (dry run)"

    def mark(self):
        return time.perf_counter()

    def sync(self):
        pass

    def ms(self, start, end):
        return (end - start) * 1e3


def measure(calls, copy_bytes, clock, a, use_graph):
    """Median time per call of calls[i % len(calls)] (one callable per weight copy)."""
    n = len(calls)
    start = clock.mark()
    calls[0]()  # warm-up: cuBLAS heuristics and workspaces, lazy module loading
    end = clock.mark()
    clock.sync()
    probe = 1 if clock.ms(start, end) > 5.0 else min(n, 8)  # long calls: a probe of one is enough
    start = clock.mark()
    for i in range(probe):
        calls[i]()
    end = clock.mark()
    clock.sync()
    estimate = max(clock.ms(start, end) / probe, 1e-4)  # ms per call

    per_group = max(1, round(a.group_ms / estimate), min(n, math.ceil(MIN_GROUP_BYTES / copy_bytes)))
    per_group = min(per_group, MAX_CALLS_PER_GROUP)
    groups = max(3, min(100, round(a.target_ms / (per_group * estimate))))
    mode = "graph" if use_graph else "eager"
    graph = None
    if use_graph:
        try:
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):  # PyTorch's advice: warm up on a side stream before capturing
                calls[0]()
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                for i in range(per_group):
                    calls[i % n]()
            graph.replay()
            clock.sync()
        except Exception as e:  # noqa: BLE001 - fall back to eager timing and say so
            clock.sync()
            graph = None
            mode = f"eager (graph capture failed: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]})"

    marks = []
    index = 0
    for _ in range(groups):
        start = clock.mark()
        if graph is not None:
            graph.replay()
        else:
            for _ in range(per_group):
                calls[index % n]()
                index += 1
        marks.append((start, clock.mark()))
    clock.sync()
    per_call_us = sorted(clock.ms(s, e) * 1e3 / per_group for s, e in marks)
    del graph
    return {"time_us": statistics.median(per_call_us), "time_us_min": per_call_us[0], "time_us_max": per_call_us[-1],
            "calls_per_group": per_group, "groups": groups, "mode": mode}


def copy_bandwidth(device, clock, gb, reps=20):
    n = int(gb * 1e9)
    src = torch.randint(0, 256, (n,), dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    clock.sync()
    times = []
    for _ in range(reps):
        start = clock.mark()
        dst.copy_(src)
        end = clock.mark()
        clock.sync()
        times.append(clock.ms(start, end))
    del src, dst
    seconds = statistics.median(times) / 1e3
    return {"bytes_per_copy": n, "bytes_moved": 2 * n, "time_us": seconds * 1e6, "tbps": 2 * n / seconds / 1e12,
            "tbps_best": 2 * n / (min(times) / 1e3) / 1e12, "reps": reps}


def int4_pack_fns():
    convert = getattr(torch, "_convert_weight_to_int4pack", None) or torch.ops.aten._convert_weight_to_int4pack
    mm = getattr(torch, "_weight_int4pack_mm", None) or torch.ops.aten._weight_int4pack_mm
    return convert, mm


def int4_weight(N, K, a, device, high_first):
    """Random 4-bit codes packed for torch._weight_int4pack_mm; returns (packed, scales_and_zeros, q)."""
    convert, _ = int4_pack_fns()
    q = torch.randint(0, 16, (N, K), dtype=torch.uint8, device=device)
    pairs = (q[:, 0::2] << 4) | q[:, 1::2] if high_first else (q[:, 1::2] << 4) | q[:, 0::2]
    packed = convert(pairs.contiguous(), a.inner_k_tiles)
    groups = K // a.group_size
    scales = torch.empty(groups, N, dtype=torch.bfloat16, device=device).uniform_(0.002, 0.004)
    zeros = torch.empty(groups, N, dtype=torch.bfloat16, device=device).normal_(0.0, 0.002)
    return packed, torch.stack([scales, zeros], dim=2).contiguous(), q


def int4_error(packed, sz, q, K, a, device):
    """Relative error of the int4 kernel against x @ dequantized(W)^T, once."""
    _, mm = int4_pack_fns()
    x = torch.randn(CHECK_M, K, dtype=torch.bfloat16, device=device)
    y = mm(x, packed, a.group_size, sz).float()
    scale = sz[:, :, 0].float().repeat_interleave(a.group_size, dim=0)  # [K, N]
    zero = sz[:, :, 1].float().repeat_interleave(a.group_size, dim=0)
    w = ((q.t().float() - 8.0) * scale + zero).to(torch.bfloat16).float()  # [K, N], as the kernel rounds it
    ref = x.float() @ w
    return ((y - ref).norm() / ref.norm()).item()


def make_copies(kernel, K, N, a, device, log):
    """The weight copies and one callable per copy taking x; plus bytes per copy and check info."""
    info = {}
    if kernel in ("cublas_fp16", "cublas_bf16"):
        dtype = torch.float16 if kernel == "cublas_fp16" else torch.bfloat16
        copy_bytes = N * K * 2
        n = copies_needed(copy_bytes, a)
        weights = [torch.empty(N, K, dtype=dtype, device=device).normal_(0.0, 0.02) for _ in range(n)]
        return dtype, weights, copy_bytes, (lambda w: (lambda x: F.linear(x, w))), info
    if kernel == "torch_int4":
        _, mm = int4_pack_fns()
        if K % (a.inner_k_tiles * 16) or K % a.group_size or N % 8:
            raise ValueError(f"K {K} must be a multiple of {a.inner_k_tiles * 16} and {a.group_size}, N {N} of 8")
        packed, sz, q = int4_weight(N, K, a, device, high_first=True)
        err = int4_error(packed, sz, q, K, a, device)
        info = {"check_m": CHECK_M, "rel_error": err, "nibble_order": "high nibble = even k"}
        if err > CHECK_LIMIT:
            packed2, sz2, q2 = int4_weight(N, K, a, device, high_first=False)
            err2 = int4_error(packed2, sz2, q2, K, a, device)
            log(f"  int4 check {K}x{N}: rel error {err:.3g} with the high nibble first, {err2:.3g} with the low")
            if err2 < err:
                packed, sz, err = packed2, sz2, err2
                info.update(rel_error=err2, nibble_order="low nibble = even k")
            del q2
        del q
        info["check_ok"] = info["rel_error"] <= CHECK_LIMIT
        copy_bytes = packed.numel() * packed.element_size() + sz.numel() * sz.element_size()
        n = copies_needed(copy_bytes, a)
        high_first = info["nibble_order"].startswith("high")
        weights = [(packed, sz)] + [int4_weight(N, K, a, device, high_first)[:2] for _ in range(n - 1)]
        gs = a.group_size
        return torch.bfloat16, weights, copy_bytes, (lambda w: (lambda x: mm(x, w[0], gs, w[1]))), info
    raise ValueError(kernel)


def copies_needed(copy_bytes, a):
    return max(2, min(a.max_copies, math.ceil(a.min_working_set_mb * 1e6 / copy_bytes)))


def parse_list(text, cast):
    return [cast(v) for v in text.split(",") if v.strip()]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="JSON results")
    p.add_argument("--quick", action="store_true", help=f"shapes {','.join(QUICK_SHAPES)}, M {QUICK_MS}")
    p.add_argument("--shapes", help="comma-separated KxN (in x out) shapes")
    p.add_argument("--ms", help="comma-separated M values")
    p.add_argument("--kernels", default=",".join(KERNELS), help="subset of " + ",".join(KERNELS))
    p.add_argument("--target-ms", type=float, default=20.0, help="timed work per point")
    p.add_argument("--group-ms", type=float, default=2.0, help="timed work per group (one graph replay)")
    p.add_argument("--min-working-set-mb", type=float, default=512.0, help="weight copies per shape, in total")
    p.add_argument("--max-copies", type=int, default=256)
    p.add_argument("--copy-gb", type=float, default=2.0, help="size of the device-to-device copy")
    p.add_argument("--group-size", type=int, default=128, help="torch int4 group size (32, 64, 128, 256)")
    p.add_argument("--inner-k-tiles", type=int, default=8, help="torch int4 innerKTiles (2, 4, 8)")
    p.add_argument("--no-graph", action="store_true", help="time eager launches instead of CUDA graph replays")
    p.add_argument("--dry-run", action="store_true", help="run on the CPU with tiny sizes (checks the script)")
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()

    shapes = parse_list(a.shapes, str) if a.shapes else (QUICK_SHAPES if a.quick else SHAPES)
    shapes = [tuple(int(v) for v in s.lower().split("x")) for s in shapes]
    ms = parse_list(a.ms, int) if a.ms else (QUICK_MS if a.quick else MS)
    kernels = parse_list(a.kernels, str)
    for k in kernels:
        if k not in KERNELS:
            sys.exit(f"unknown kernel {k}: choose from {','.join(KERNELS)}")
    if a.dry_run:
        device, clock, use_graph = torch.device("cpu"), CpuClock(), False
        a.copy_gb, a.min_working_set_mb, a.target_ms, a.group_ms = min(a.copy_gb, 0.05), 8.0, 2.0, 0.5
    else:
        if not torch.cuda.is_available():
            sys.exit("no CUDA device (--dry-run checks the script on the CPU)")
        device = torch.device("cuda")
        clock, use_graph = CudaClock(device), not a.no_graph
    torch.manual_seed(a.seed)
    started = time.time()

    def log(text):
        print(f"[{time.time() - started:6.1f} s] {text}", flush=True)

    env = {"torch": torch.__version__, "python": platform.python_version(), "device": str(device),
           "clock": clock.name, "graphs": use_graph}
    if device.type == "cuda":
        prop = torch.cuda.get_device_properties(device)
        env.update(gpu=prop.name, sms=prop.multi_processor_count, memory_gb=prop.total_memory / 2**30,
                   l2_mb=getattr(prop, "L2_cache_size", 0) / 2**20, cuda=torch.version.cuda)
    log(f"{env}")
    copy = copy_bandwidth(device, clock, a.copy_gb)
    log(f"device-to-device copy of {a.copy_gb:g} GB: {copy['tbps']:.3f} TB/s (bytes read + written)")

    rows, checks = [], []
    for K, N in shapes:
        for kernel in kernels:
            try:
                dtype, weights, copy_bytes, bind, info = make_copies(kernel, K, N, a, device, log)
            except Exception as e:  # noqa: BLE001 - record and go on with the other kernels
                log(f"{kernel} {K}x{N}: cannot run: {type(e).__name__}: {e}")
                rows.append({"kernel": kernel, "K": K, "N": N, "error": f"{type(e).__name__}: {e}"})
                continue
            if info:
                checks.append(dict(kernel=kernel, K=K, N=N, **info))
                log(f"{kernel} {K}x{N}: rel error vs dequantized reference {info['rel_error']:.2e} "
                    f"({'ok' if info['check_ok'] else 'FAILED'}, {info['nibble_order']})")
            calls_of = [bind(w) for w in weights]
            done = []
            for M in ms:
                x = torch.randn(M, K, dtype=dtype, device=device)
                calls = [(lambda c=c, x=x: c(x)) for c in calls_of]
                try:
                    r = measure(calls, copy_bytes, clock, a, use_graph)
                except Exception as e:  # noqa: BLE001
                    log(f"{kernel} {K}x{N} M={M}: failed: {type(e).__name__}: {e}")
                    rows.append({"kernel": kernel, "K": K, "N": N, "M": M, "error": f"{type(e).__name__}: {e}"})
                    continue
                seconds = r["time_us"] / 1e6
                row = {"kernel": kernel, "K": K, "N": N, "M": M, **r, "weight_bytes": copy_bytes,
                       "weight_tbps": copy_bytes / seconds / 1e12, "tflops": 2.0 * M * N * K / seconds / 1e12,
                       "frac_copy": copy_bytes / seconds / 1e12 / copy["tbps"], "copies": len(weights)}
                if info:
                    row["check_ok"] = info["check_ok"]
                rows.append(row)
                done.append(row)
                del x, calls
            log(f"{kernel} {K}x{N}: {len(weights)} copies of {copy_bytes / 1e6:.1f} MB, "
                + ", ".join(f"M={r['M']} {r['time_us']:.1f} us" for r in done))
            del weights, calls_of
            if device.type == "cuda":
                torch.cuda.empty_cache()

    result = {"tool": "bench/gpu/torch_baselines.py", "env": env, "copy": copy, "int4_checks": checks,
              "settings": {k: v for k, v in vars(a).items() if k != "out"}, "seconds": time.time() - started,
              "rows": rows}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    print_table(rows, copy, kernels)
    log(f"wrote {a.out}")


def print_table(rows, copy, kernels):
    by = {(r["kernel"], r["K"], r["N"], r["M"]): r for r in rows if "time_us" in r}
    points = sorted({(r["K"], r["N"], r["M"]) for r in rows if "time_us" in r}, key=lambda t: (t[0] * t[1], t))
    short = {"cublas_fp16": "fp16", "cublas_bf16": "bf16", "torch_int4": "int4"}
    cols = ["K x N", "M"]
    for k in kernels:
        cols += [f"{short[k]} us", f"{short[k]} TB/s", f"{short[k]} %copy"]
    cols += ["bf16 TFLOP/s", "int4 speedup vs bf16"]
    print(f"\ncopy bandwidth {copy['tbps']:.3f} TB/s (read + write); TB/s columns: weight bytes / time")
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for K, N, M in points:
        cells = [f"{K}x{N}", str(M)]
        for k in kernels:
            r = by.get((k, K, N, M))
            cells += [f"{r['time_us']:.1f}", f"{r['weight_tbps']:.2f}", f"{100 * r['frac_copy']:.0f}%"] if r else ["-"] * 3
        bf16, int4 = by.get(("cublas_bf16", K, N, M)), by.get(("torch_int4", K, N, M))
        cells.append(f"{bf16['tflops']:.0f}" if bf16 else "-")
        cells.append(f"{bf16['time_us'] / int4['time_us']:.2f}x" if bf16 and int4 else "-")
        print("| " + " | ".join(cells) + " |")
    errors = [r for r in rows if "error" in r]
    if errors:
        print(f"\n{len(errors)} points failed; first: {errors[0]['kernel']} {errors[0]['K']}x{errors[0]['N']}: "
              f"{errors[0]['error']}")


if __name__ == "__main__":
    main()
