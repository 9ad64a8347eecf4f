"""`python -m pointwise`: list variants, check equivalence, benchmark, sweep, measure ceilings, tune, study
a model.

Exit status: 0 on success, 2 on bad input (one line on stderr naming the field), 1 when a job fails
(worker crash, time limit).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pandas as pd

from pointwise.backends import BACKENDS, DEFAULT_BACKEND
from pointwise.cli_model import add_model_parser, cmd_model
from pointwise.cli_output import JsonDestination, TerminalProgress, check_table, time_limit_seconds
from pointwise.cli_tune import add_tune_parser, run_tune_command
from pointwise.errors import InvalidSpecError, PointwiseError
from pointwise.limits import check_settings
from pointwise.spec import (
    DTYPES,
    INT_RANGES,
    MODES,
    PASSES,
    RunSpec,
    coerce_choice,
    coerce_int,
    make_run_spec,
    parse_shape,
)
from pointwise.variants import EQUIVALENT_KEYS, VARIANTS, keys_for_backend

EXIT_BAD_INPUT = 2
EXIT_JOB_FAILED = 1
DEFAULT_SHAPE = "8,56,56,64"
DEFAULT_FILTERS = "128"
"""The README's reference configuration, which `bench` and `sweep` run when no shape is given."""


def _one_line(text: str) -> str:
    """Escape control characters (a stray \\r or \\n in an argument) so an error stays on one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


class _OneLineParser(argparse.ArgumentParser):
    """argparse prints the usage block on errors; the contract here is exactly one line, exit 2."""

    def error(self, message: str):
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {_one_line(message)}\n")


def _add_spec_arguments(parser: argparse.ArgumentParser, bench: bool) -> None:
    if bench:
        parser.add_argument("--shape", default=DEFAULT_SHAPE, help=f"input shape B,H,W,C (default {DEFAULT_SHAPE})")
        parser.add_argument("--filters", default=DEFAULT_FILTERS, help=f"output channels F (default {DEFAULT_FILTERS})")
    else:
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
    parser.add_argument(
        "--backend", default=DEFAULT_BACKEND, help=f"Keras backend, one of {', '.join(BACKENDS)} (if installed)"
    )
    parser.add_argument("--device", default="CPU:0", help="CPU:0 or GPU:n")
    parser.add_argument("--mode", default="graph", help=f"one of {', '.join(MODES)}")
    parser.add_argument("--seed", default="0")
    parser.add_argument(
        "--onednn", default="default", help="default|on|off: TF_ENABLE_ONEDNN_OPTS (default: TensorFlow's choice)"
    )
    parser.add_argument("--threads", default="0", help="intra-op threads (0 = TensorFlow's default)")
    parser.add_argument("--inter-threads", default="0", help="inter-op threads (0 = TensorFlow's default)")
    parser.add_argument(
        "--cpu-allocator-bfc", default="default", help="default|on|off: TF_CPU_ALLOCATOR_USE_BFC for the worker"
    )
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
        # `pass` only in external forms (CLI, URL, environment card); in code `RunSpec.pass_kind` (`pass` is a keyword).
        parser.add_argument("--pass", dest="pass_kind", default="forward", help=f"one of {', '.join(PASSES)}")
        parser.add_argument("--samples", default="30")
        parser.add_argument(
            "--time-limit", type=time_limit_seconds, default=None, help="seconds before a job is stopped"
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m pointwise", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)

    variants = sub.add_parser("variants", help="list the registered variants")
    variants.add_argument("--json", dest="json_out", action="store_const", const="-", default=None)

    check = sub.add_parser("check", help="check each variant's equivalence with Conv2D(filters, 1)")
    _add_spec_arguments(check, bench=False)

    bench = sub.add_parser("bench", help="benchmark variants (default: every equivalent variant)")
    _add_spec_arguments(bench, bench=True)

    for command in (check, bench):
        command.add_argument(
            "--kernels", action="store_true", help="also profile the ops each variant ran (JSON key 'kernels')"
        )

    sweep = sub.add_parser("sweep", help="benchmark over a log-spaced range of one parameter")
    _add_spec_arguments(sweep, bench=True)
    sweep.add_argument("--param", required=True, help="batch, hw, channels or filters")
    sweep.add_argument("--start", required=True)
    sweep.add_argument("--stop", required=True)
    sweep.add_argument("--points", default="5")

    ceilings = sub.add_parser("ceilings", help="measure the GEMM peak and memory bandwidth of a device")
    ceilings.add_argument("--device", default="CPU:0")
    ceilings.add_argument("--dtype", default="float32")
    ceilings.add_argument("--onednn", default="default", help="default|on|off")
    ceilings.add_argument("--json", dest="json_out", nargs="?", const="-", default=None, metavar="FILE")
    add_tune_parser(sub, (DEFAULT_SHAPE, DEFAULT_FILTERS))
    add_model_parser(sub)
    return parser


def spec_from_args(args: argparse.Namespace, default_variants: Sequence[str]) -> RunSpec:
    backend = coerce_choice("backend", args.backend, BACKENDS)
    values = {
        **parse_shape(args.shape),
        "filters": args.filters,
        # The default list holds only what runs on the backend; a TensorFlow-only variant named is refused.
        "variants": args.variants or list(keys_for_backend(backend, default_variants)),
        "backend": backend,
        "dtype": args.dtype,
        "device": args.device,
        "mode": args.mode,
        "seed": args.seed,
        "onednn": args.onednn,
        "threads": args.threads,
        "inter_threads": args.inter_threads,
        "cpu_allocator_bfc": args.cpu_allocator_bfc,
        "tf32": args.tf32,
    }
    if hasattr(args, "samples"):
        values.update(pass_kind=args.pass_kind, samples=args.samples)
    return make_run_spec(**values)


def _cmd_variants(args) -> int:
    rows = [
        {
            "key": v.key,
            "label": v.label,
            "origin": v.origin,
            "equivalent": v.expected_equivalent,
            "layer": v.layer_class,
            "backends": ",".join(v.backends),
            "explanation": v.explanation,
        }
        for v in VARIANTS.values()
    ]
    if args.json_out:
        JsonDestination("-").write(rows)
    else:
        print(pd.DataFrame(rows).drop(columns="explanation").to_string(index=False))
    return 0


def _cmd_check(args) -> int:
    from pointwise.jobs import run_check

    spec = spec_from_args(args, list(VARIANTS))
    result = run_check(spec)
    kernels = _kernels(args, spec)
    if args.json_out:
        args.json_destination.write({**result.to_dict(include_arrays=False), **kernels})
    if args.json_out != "-":
        print(check_table(result))
    return 0


def _kernels(args, spec: RunSpec) -> dict:
    """{"kernels": the ops each variant ran} when --kernels was given (their table on the terminal), else {}."""
    if not args.kernels:
        return {}
    from pointwise.frames import kernels_frame
    from pointwise.jobs import kernels_cached
    from pointwise.kernels import kernels_summary

    result = kernels_cached(spec).result
    if args.json_out != "-":
        print(f"Kernels that ran ({kernels_summary(result)})")
        print(kernels_frame(result).to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    return {"kernels": result.to_dict()}


def _cmd_bench(args) -> int:
    from pointwise.frames import stats_frame
    from pointwise.jobs import run_benchmark

    spec = spec_from_args(args, EQUIVALENT_KEYS)
    with TerminalProgress("benchmark") as progress:
        result = run_benchmark(spec, on_event=progress, time_limit_s=args.time_limit)
    kernels = _kernels(args, spec)
    if args.json_out:
        args.json_destination.write({**result.to_dict(), **kernels})
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
    from pointwise.jobs import run_benchmark
    from pointwise.sweep import MAX_POINTS, SWEEP_PARAMETERS, SweepPoint, plan_grid, sweep_values

    spec = spec_from_args(args, ("conv2d_1x1", "dense", "pointwise"))
    parameter = coerce_choice("param", args.param, tuple(SWEEP_PARAMETERS))
    value_range = INT_RANGES[SWEEP_PARAMETERS[parameter][0]]
    start, stop = (coerce_int(name, getattr(args, name), value_range) for name in ("start", "stop"))
    plan = plan_grid(spec, {parameter: sweep_values(start, stop, coerce_int("points", args.points, (1, MAX_POINTS)))})
    points = []
    with TerminalProgress("sweep") as progress:
        for number, (values, point) in enumerate(plan, 1):
            points.append(SweepPoint(values, run_benchmark(point, on_event=progress, time_limit_s=args.time_limit)))
            shown = ", ".join(f"{name}={value}" for name, value in values.items())
            print(f"point {number}/{len(plan)}: {shown}", file=sys.stderr, flush=True)
    if args.json_out:
        args.json_destination.write([{"values": p.values, "result": p.result.to_dict()} for p in points])
    if args.json_out != "-":
        frame = sweep_frame(points)
        print(
            frame[[parameter, "variant", "median_ms", "gflops_per_s", "speedup_vs_conv2d"]].to_string(
                index=False, float_format=lambda v: f"{v:.4g}"
            )
        )
    return 0


def _cmd_ceilings(args) -> int:
    from pointwise.jobs import WorkerKnobs, run_ceilings
    from pointwise.spec import coerce_choice, coerce_knob, is_gpu, normalize_device

    device = normalize_device(args.device)
    dtype = coerce_choice("dtype", args.dtype, DTYPES)
    knobs = WorkerKnobs(onednn=coerce_knob("onednn", args.onednn), gpu_visible=is_gpu(device))
    ceilings = run_ceilings(device, dtype, knobs=knobs)
    if args.json_out:
        args.json_destination.write(ceilings.to_dict())
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
    "tune": run_tune_command,
    "model": cmd_model,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        check_settings()
        args.json_destination = JsonDestination(args.json_out if args.command != "variants" else None)
        try:
            return COMMANDS[args.command](args)
        finally:
            args.json_destination.close()
    except InvalidSpecError as exc:
        print(f"python -m pointwise {args.command}: error: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except PointwiseError as exc:
        print(f"python -m pointwise {args.command}: failed: {_one_line(str(exc))}", file=sys.stderr)
        return EXIT_JOB_FAILED
