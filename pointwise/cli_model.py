"""`python -m pointwise model`: a real network's 1x1 layers, its conversion, equivalence and speed."""

from __future__ import annotations

import argparse

from pointwise.cli_output import TerminalProgress, time_limit_seconds
from pointwise.models import (
    DEFAULT_BATCH,
    DEFAULT_INPUT,
    DEFAULT_ROUNDS,
    MODEL_VARIANTS,
    NETWORKS,
    STRIDED_CHOICES,
    make_model_request,
)


def add_model_parser(sub) -> None:
    model = sub.add_parser("model", help="list a real network's 1x1 convolutions, convert them, check and time it")
    model.add_argument("--model", required=True, help=" | ".join(NETWORKS))
    model.add_argument("--input", default=str(DEFAULT_INPUT), help="input side in pixels (default 224)")
    model.add_argument("--batch", default=str(DEFAULT_BATCH))
    model.add_argument("--variant", default="pointwise", help=" | ".join(MODEL_VARIANTS))
    model.add_argument("--rounds", default=str(DEFAULT_ROUNDS), help="interleaved timing rounds (samples per model)")
    model.add_argument("--strided", default="measure", help=" | ".join(STRIDED_CHOICES))
    model.add_argument("--inventory-only", action="store_true", help="list the layers; no conversion or timing")
    model.add_argument(
        "--time-limit", type=time_limit_seconds, default=None, help="stop the job after this many seconds"
    )
    model.add_argument("--json", dest="json_out", nargs="?", const="-", default=None, metavar="FILE")


def cmd_model(args: argparse.Namespace) -> int:
    from pointwise.jobs.api import model_cached
    from pointwise.model_frames import model_summary, pointwise_table, timing_frame

    request = make_model_request(
        args.model, args.input, args.batch, args.variant, not args.inventory_only, args.rounds, args.strided
    )
    with TerminalProgress("model") as progress:
        data = model_cached(request, on_event=progress, time_limit_s=args.time_limit).result
    summary = model_summary(data)
    if args.json_out:
        args.json_destination.write({"summary": summary, "result": data})
    if args.json_out == "-":
        return 0
    table = pointwise_table(data).drop(columns="benchmark")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    shares = ", ".join(f"{kind} {share:.1%}" for kind, share in summary["flop_share_by_kind"].items())
    print(f"\n{summary['count_1x1']} 1x1 convolutions ({summary['strided_1x1']} strided); FLOPs: {shares}")
    if "conversion" in data:
        equivalence = data["conversion"]["equivalence"]
        print(
            f"equivalence (tolerance {equivalence['tolerance']:.2e} relative): logits max abs "
            f"{equivalence['logits']['max_abs']:.3g}, rel {equivalence['logits']['max_rel']:.3g}; BN folded: rel "
            f"{equivalence['folded_logits']['max_rel']:.3g}; first diverging layer: {equivalence['first_diverging']}"
        )
        kept = [d for d in data["conversion"]["plan"] if d["action"] != "converted"]
        for decision in kept:
            print(f"  {decision['layer']}: {decision['action']} ({decision['reason']})")
        frame = timing_frame(data).drop(columns="key")
        print(frame.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
        print(summary["verdict"])
    return 0
