"""`python -m pointwise`: list variants, check equivalence, benchmark, sweep, measure ceilings.

Exit status: 0 on success, 2 on bad input (one line on stderr naming the field), 1 when a job fails
(worker crash, time limit).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from pointwise.errors import InvalidSpecError, PointwiseError
from pointwise.spec import DTYPES, MODES, PASSES, RunSpec, make_run_spec, parse_shape
from pointwise.variants import EQUIVALENT_KEYS, VARIANTS

EXIT_BAD_INPUT = 2
EXIT_JOB_FAILED = 1


def _one_line(text: str) -> str:
    """Escape control characters (a stray \\r or \\n in an argument) so an error stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints the usage block on errors; the contract here is exactly one line, exit 2."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {_one_line(message)}\n")


def _add_spec_arguments(parser: argparse.ArgumentParser, bench: bool) -> None:
    parser.add_argument("--shape", required=True, help="input shape B,H,W,C, e.g. 8,56,56,64")
    parser.add_argument("--filters", required=True, help="output channels F")
    parser.add_argument(
        "--variant",
        action="append",
        dest="variants",
        metavar="KEY",
        help=f"variant key (repeatable); one of {', '.join(VARIANTS)}",
    )
    parser.add_argument("--dtype", default="float32", help=f"one of {', '.join(DTYPES)}")
    parser.add_argument("--device", default="CPU:0", help="CPU:0 or GPU:n")
    parser.add_argument("--mode", default="graph", help=f"one of {', '.join(MODES)}")
    parser.add_argument("--seed", default="0")
    parser.add_argument("--onednn", default="off", help="on|off: TF_ENABLE_ONEDNN_OPTS for the worker")
    parser.add_argument("--threads", default="0", help="intra-op threads (0 = TensorFlow's default)")
    parser.add_argument("--tf32", default="on", help="on|off: TensorFloat-32 matmuls on GPUs that have them")
    parser.add_argument(
        "--json",
        dest="json_out",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="write JSON to FILE (or stdout with no FILE / '-')",
    )
    if bench:
        parser.add_argument("--pass", dest="pass_kind", default="forward", help=f"one of {', '.join(PASSES)}")
        parser.add_argument("--samples", default="30")
        parser.add_argument("--time-limit", type=float, default=None, help="seconds before the job is stopped")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m pointwise", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)

    variants = sub.add_parser("variants", help="list the registered variants")
    variants.add_argument("--json", dest="json_out", action="store_const", const="-", default=None)

    check = sub.add_parser("check", help="check each variant's equivalence with Conv2D(filters, 1)")
    _add_spec_arguments(check, bench=False)

    bench = sub.add_parser("bench", help="benchmark variants (default: every equivalent variant)")
    _add_spec_arguments(bench, bench=True)

    sweep = sub.add_parser("sweep", help="benchmark over a log-spaced range of one parameter")
    _add_spec_arguments(sweep, bench=True)
    sweep.add_argument("--param", required=True, help="batch, hw, channels or filters")
    sweep.add_argument("--start", required=True, type=int)
    sweep.add_argument("--stop", required=True, type=int)
    sweep.add_argument("--points", type=int, default=5)

    ceilings = sub.add_parser("ceilings", help="measure the GEMM peak and memory bandwidth of a device")
    ceilings.add_argument("--device", default="CPU:0")
    ceilings.add_argument("--dtype", default="float32")
    ceilings.add_argument("--onednn", default="off")
    ceilings.add_argument("--json", dest="json_out", nargs="?", const="-", default=None, metavar="FILE")
    return parser


def spec_from_args(args: argparse.Namespace, default_variants: Sequence[str]) -> RunSpec:
    values = {
        **parse_shape(args.shape),
        "filters": args.filters,
        "variants": args.variants or list(default_variants),
        "dtype": args.dtype,
        "device": args.device,
        "mode": args.mode,
        "seed": args.seed,
        "onednn": args.onednn,
        "threads": args.threads,
        "tf32": args.tf32,
    }
    if hasattr(args, "samples"):
        values.update(pass_kind=args.pass_kind, samples=args.samples)
    return make_run_spec(**values)


def _emit_json(data, destination: str) -> None:
    text = json.dumps(data, indent=2)
    if destination == "-":
        print(text)
    else:
        Path(destination).write_text(text + "\n", encoding="utf-8")


class _TerminalProgress:
    """A progress bar on stderr for long runs; silent when stderr is not a terminal (CI, pipes)."""

    def __init__(self, description: str) -> None:
        self._progress = None
        if sys.stderr.isatty():
            from rich.progress import Progress

            self._progress = Progress(transient=True)
            self._task = self._progress.add_task(description, total=None)

    def __enter__(self):
        if self._progress:
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._progress:
            self._progress.stop()

    def __call__(self, event: dict) -> None:
        if self._progress and event.get("event") == "progress":
            self._progress.update(
                self._task, completed=event["done"], total=event["total"], description=f"timing {event['variant']}"
            )


def _cmd_variants(args) -> int:
    rows = [
        {
            "key": v.key,
            "label": v.label,
            "origin": v.origin,
            "equivalent": v.expected_equivalent,
            "layer": v.layer_class,
            "explanation": v.explanation,
        }
        for v in VARIANTS.values()
    ]
    if args.json_out:
        _emit_json(rows, "-")
    else:
        print(pd.DataFrame(rows).drop(columns="explanation").to_string(index=False))
    return 0


def _cmd_check(args) -> int:
    from pointwise.frames import equivalence_frame
    from pointwise.jobs import run_check

    spec = spec_from_args(args, list(VARIANTS))
    result = run_check(spec)
    if args.json_out:
        _emit_json(result.to_dict(include_arrays=False), args.json_out)
    if args.json_out != "-":
        frame = equivalence_frame(result.reports).drop(columns=["key", "baseline err vs float64"])
        print(frame.to_string(index=False))
    return 0


def _cmd_bench(args) -> int:
    from pointwise.frames import stats_frame
    from pointwise.jobs import run_benchmark

    spec = spec_from_args(args, EQUIVALENT_KEYS)
    with _TerminalProgress("benchmark") as progress:
        result = run_benchmark(spec, on_event=progress, time_limit_s=args.time_limit)
    if args.json_out:
        _emit_json(result.to_dict(), args.json_out)
    if args.json_out != "-":
        columns = [
            "variant",
            "median_ms",
            "iqr_ms",
            "ci95_low_ms",
            "ci95_high_ms",
            "gflops_per_s",
            "roofline_pct",
            "speedup_vs_conv2d",
            "p_value_vs_conv2d",
            "noisy",
        ]
        print(stats_frame(result)[columns].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return 0


def _cmd_sweep(args) -> int:
    from pointwise.frames import sweep_frame
    from pointwise.sweep import run_sweep, sweep_values

    spec = spec_from_args(args, ("conv2d_1x1", "dense", "pointwise"))
    axes = {args.param: sweep_values(args.start, args.stop, args.points)}
    with _TerminalProgress("sweep") as progress:
        points = run_sweep(spec, axes, on_event=progress)
    if args.json_out:
        _emit_json([{"values": p.values, "result": p.result.to_dict()} for p in points], args.json_out)
    if args.json_out != "-":
        frame = sweep_frame(points)
        print(
            frame[[args.param, "variant", "median_ms", "gflops_per_s", "speedup_vs_conv2d"]].to_string(
                index=False, float_format=lambda v: f"{v:.4g}"
            )
        )
    return 0


def _cmd_ceilings(args) -> int:
    from pointwise.jobs import WorkerKnobs, run_ceilings
    from pointwise.spec import coerce_bool, coerce_choice, normalize_device

    device = normalize_device(args.device)
    dtype = coerce_choice("dtype", args.dtype, DTYPES)
    knobs = WorkerKnobs(onednn=coerce_bool("onednn", args.onednn), gpu_visible=device.startswith("GPU"))
    ceilings = run_ceilings(device, dtype, knobs=knobs)
    if args.json_out:
        _emit_json(ceilings.to_dict(), args.json_out)
    if args.json_out != "-":
        print(
            f"{device} {dtype}: GEMM peak {ceilings.peak_gflops_per_s:,.1f} GFLOP/s "
            f"({ceilings.gemm_size}^3), memory bandwidth {ceilings.bandwidth_gb_per_s:,.1f} GB/s"
        )
    return 0


COMMANDS = {
    "variants": _cmd_variants,
    "check": _cmd_check,
    "bench": _cmd_bench,
    "sweep": _cmd_sweep,
    "ceilings": _cmd_ceilings,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except InvalidSpecError as exc:
        print(f"python -m pointwise {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PointwiseError as exc:
        print(f"python -m pointwise {args.command}: failed: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_JOB_FAILED
