"""`python -m pointwise tune`: which knobs decide this layer's speed here (`pointwise.tune`), in a terminal."""

from __future__ import annotations

import argparse
import sys

import pandas as pd

from pointwise.cli_output import TerminalProgress
from pointwise.protocol import POINT
from pointwise.spec import PASSES, make_run_spec, parse_shape
from pointwise.tune_plan import validate_budget
from pointwise.tune_stats import effects_frame
from pointwise.variants import EQUIVALENT_KEYS, VARIANTS

RANKING_ROWS = 10


def add_tune_parser(sub, defaults: tuple[str, str]) -> None:
    shape, filters = defaults
    tune = sub.add_parser("tune", help="rank variants x knob settings and say which knob matters how much")
    tune.add_argument("--shape", default=shape, help=f"input shape B,H,W,C (default {shape})")
    tune.add_argument("--filters", default=filters, help=f"output channels F (default {filters})")
    keys = ", ".join(VARIANTS)
    tune.add_argument("--variant", action="append", dest="variants", metavar="KEY", help=f"variant key: {keys}")
    tune.add_argument("--pass", dest="pass_kind", default="forward", help=f"one of {', '.join(PASSES)}")
    tune.add_argument("--device", default="CPU:0", help="CPU:0 or GPU:n")
    tune.add_argument("--seed", default="0")
    tune.add_argument("--budget", default="90", metavar="SECONDS", help="time budget in seconds (default 90)")
    tune.add_argument("--json", dest="json_out", nargs="?", const="-", default=None, metavar="FILE")


def run_tune_command(args: argparse.Namespace) -> int:
    from pointwise.tune import run_tune

    budget_s = validate_budget(args.budget, "--budget")
    spec = make_run_spec(
        **parse_shape(args.shape),
        filters=args.filters,
        variants=args.variants or list(EQUIVALENT_KEYS),
        pass_kind=args.pass_kind,
        device=args.device,
        seed=args.seed,
    )
    with TerminalProgress("tune") as progress:

        def on_event(event: dict) -> None:
            progress(event)
            if event.get("event") == POINT:
                print(event["text"], file=sys.stderr, flush=True)

        result = run_tune(spec, budget_s, on_event=on_event)
    if args.json_out:
        args.json_destination.write(result.to_dict())
    if args.json_out != "-":
        print(_report(result))
    return 0


def _report(result) -> str:
    ranking = pd.DataFrame(result.ranking[:RANKING_ROWS])
    effects = effects_frame(result.effects)[["factor", "faster", "slower", "time ratio", "ci95 low", "ci95 high"]]
    lines = [
        f"{result.spec.summary()} · {result.cpu}",
        f"measured in {result.elapsed_s:.0f} s of a {result.budget_s:.0f} s budget",
        "",
        "Fastest configurations (median ms, 95% CI):",
        ranking[["rank", "configuration", "median_ms", "ci95_low_ms", "ci95_high_ms"]].to_string(
            index=False, float_format=lambda v: f"{v:.3f}"
        ),
        "",
        "Effects (slower / faster time ratio), largest first:",
        effects.to_string(index=False, float_format=lambda v: f"{v:.2f}") if len(effects) else "(none measured)",
    ]
    lines += [f"dropped: {label}: {why}" for label, why in result.dropped]
    if result.drift is not None:
        d = result.drift
        lines.append(
            f"drift check: the baseline's last run at {d.time_ratio:.2f}x [{d.ci_low:.2f}, {d.ci_high:.2f}] its first"
        )
    return "\n".join([*lines, "", result.verdict])
