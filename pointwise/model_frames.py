"""Tables, statistics and verdicts of a `model` job's raw result (`pointwise.jobs.api.model_cached`).

The worker sends layer rows, errors and per-call seconds; everything derived (shares, medians, bootstrap
intervals, speedups, the 1x1 share of time) is computed here, in the server, with `pointwise.stats`.
"""

from __future__ import annotations

from urllib.parse import urlencode

import numpy as np
import pandas as pd

from pointwise.models import MODEL_VARIANTS, NETWORKS
from pointwise.query import link_params
from pointwise.stats import median_ci, speedup_ci

MODEL_LABELS = {"conv2d": "original (Conv2D 1x1)", "converted": "converted", "folded": "converted + BN folded"}
PASSES = ("inference", "training")


def model_label(key: str, variant: str) -> str:
    if key == "converted":
        return f"converted ({MODEL_VARIANTS[variant]})"
    if key == "folded":
        return f"{MODEL_VARIANTS[variant]} + BN folded"
    return MODEL_LABELS[key]


def benchmark_link(row: dict, batch: int) -> str:
    """The Benchmark page on this layer's GEMM: the output's pixels (a strided layer reads only those) x C -> F."""
    height, width = row["output_shape"][:2]
    config = {"batch": batch, "height": height, "width": width, "channels": row["channels"], "filters": row["filters"]}
    return "benchmark?" + urlencode(link_params(config), doseq=True)


def inventory_frame(data: dict) -> pd.DataFrame:
    """Every convolution and dense layer, with its share of the model's FLOPs."""
    frame = pd.DataFrame(data["inventory"])
    frame["share"] = frame["flops"] / frame["flops"].sum()
    return frame


def pointwise_table(data: dict) -> pd.DataFrame:
    """The 1x1 layers as the page and the CLI show them: one row each, with its Benchmark link."""
    batch = data["request"]["batch"]
    rows = [
        {
            "layer": row["layer"],
            "input (H, W, C)": "×".join(map(str, row["input_shape"])),
            "C → F": f"{row['channels']} → {row['filters']}",
            "stride": row["stride"][0] if row["stride"][0] == row["stride"][1] else "×".join(map(str, row["stride"])),
            "activation": row["activation"],
            "BatchNorm after": row["batchnorm"] if isinstance(row["batchnorm"], str) else "",
            "params": row["params"],
            "MFLOPs": row["flops"] / 1e6,
            "share of FLOPs": row["share"],
            "benchmark": benchmark_link(row, batch),
        }
        for row in inventory_frame(data).to_dict("records")
        if row["layer_kind"] == "1x1"
    ]
    return pd.DataFrame(rows)


def kind_shares(data: dict) -> dict[str, float]:
    """{kind: share of the model's FLOPs}, for 1x1, depthwise, kxk and dense."""
    frame = inventory_frame(data)
    return {kind: float(share) for kind, share in frame.groupby("layer_kind", sort=False)["share"].sum().items()}


def param_share_1x1(data: dict) -> float:
    frame = inventory_frame(data)
    return float(frame.loc[frame["layer_kind"] == "1x1", "params"].sum() / frame["params"].sum())


def timing_frame(data: dict) -> pd.DataFrame:
    """One row per (pass, model): median ms with its 95% CI, and the speedup vs the original with its CI."""
    timings = data["conversion"]["timings"]
    variant = data["request"]["variant"]
    rows = []
    for pass_name in PASSES:
        base = np.asarray(timings[pass_name]["conv2d"])
        for key, samples in timings[pass_name].items():
            samples = np.asarray(samples)
            low, high = median_ci(samples)
            speedup = float(np.median(base) / np.median(samples))
            s_low, s_high = (1.0, 1.0) if key == "conv2d" else speedup_ci(base, samples)
            rows.append(
                {
                    "pass": pass_name,
                    "model": model_label(key, variant),
                    "key": key,
                    "samples": len(samples),
                    "median_ms": float(np.median(samples)) * 1e3,
                    "ci95_low_ms": low * 1e3,
                    "ci95_high_ms": high * 1e3,
                    "speedup": speedup,
                    "speedup_ci95_low": s_low,
                    "speedup_ci95_high": s_high,
                }
            )
    return pd.DataFrame(rows)


def pointwise_time_share(data: dict) -> dict[str, float]:
    """{pass: share of the original model's traced op time spent in its 1x1 layers (and their gradients)}.

    From TensorFlow's profiler in the worker (`pointwise.worker.models.profiled_1x1_time`): the ops whose node
    names lie under a 1x1 layer, over all traced ops. With several threads ops overlap, so this is a share of
    the summed op time, not of the wall clock.
    """
    profiled = data["conversion"]["profiled_1x1"]
    return {p: t["pointwise_us"] / t["total_us"] if t["total_us"] > 0 else 0.0 for p, t in profiled.items()}


def equivalence_frame(data: dict) -> pd.DataFrame:
    """Per converted layer: the max abs and relative error of its output against the original layer's."""
    return pd.DataFrame(data["conversion"]["equivalence"]["layers"], columns=["layer", "max_abs", "max_rel", "ok"])


def folding_speedup(data: dict) -> dict[str, float]:
    """BatchNorm folding's own inference speedup: the converted model's median over the folded one's, with its CI."""
    inference = data["conversion"]["timings"]["inference"]
    converted, folded = np.asarray(inference["converted"]), np.asarray(inference["folded"])
    low, high = speedup_ci(converted, folded)
    return {"speedup": float(np.median(converted) / np.median(folded)), "ci95_low": low, "ci95_high": high}


def _significant(row) -> bool:
    return not (row["speedup_ci95_low"] <= 1.0 <= row["speedup_ci95_high"])


def verdict(data: dict, cpu: str) -> str:
    """One sentence: whether the conversion (and the folding) measurably changed inference and training time."""
    frame = timing_frame(data)
    network = NETWORKS[data["request"]["model"]].label
    parts = []
    for pass_name, key in (("inference", "converted"), ("training", "converted"), ("inference", "folded")):
        row = frame[(frame["pass"] == pass_name) & (frame["key"] == key)].iloc[0]
        what = "converted + BN folded" if key == "folded" else "conversion"
        if _significant(row):
            direction = "faster" if row["speedup"] > 1 else "slower"
            parts.append(
                f"{what} {pass_name} {row['speedup']:.2f}x {direction} (95% CI {row['speedup_ci95_low']:.2f}–"
                f"{row['speedup_ci95_high']:.2f})"
            )
        else:
            parts.append(f"{what} {pass_name}: no measurable change ({row['speedup']:.2f}x, CI includes 1)")
    folding = folding_speedup(data)
    measurable = not folding["ci95_low"] <= 1.0 <= folding["ci95_high"]
    parts.append(
        f"folding alone (vs the converted model) {folding['speedup']:.2f}x (95% CI {folding['ci95_low']:.2f}–"
        f"{folding['ci95_high']:.2f}{'' if measurable else ', includes 1: not measurable'})"
    )
    share = pointwise_time_share(data)
    spent = (
        f"{network} spends {share['inference']:.0%} of its inference and {share['training']:.0%} of its training "
        "op time in 1x1 convolutions (profiled)"
    )
    return f"On {cpu}, {spent}; vs the original: " + "; ".join(parts) + "."


def model_summary(data: dict) -> dict:
    """The figures the CLI's JSON and a note quote: shares, equivalence, speedups with their intervals."""
    summary = {
        "model": data["request"]["model"],
        "count_1x1": sum(1 for row in data["inventory"] if row["layer_kind"] == "1x1"),
        "strided_1x1": sum(1 for row in data["inventory"] if row["layer_kind"] == "1x1" and row["stride"] != [1, 1]),
        "flop_share_by_kind": kind_shares(data),
        "param_share_1x1": param_share_1x1(data),
    }
    if "conversion" in data:
        summary["time_share_1x1"] = pointwise_time_share(data)
        summary["timings"] = timing_frame(data).drop(columns="model").to_dict("records")
        summary["bn_folding_speedup_vs_converted"] = folding_speedup(data)
        summary["verdict"] = verdict(data, data["environment"]["cpu"])
    return summary
