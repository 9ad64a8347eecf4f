"""PointwiseConv2D's tuning of the reference shape, quiet and beside a busy core: which kernel it picks.

    python benchmarks/tuning_under_load.py [--tunings N]

Tunes 8x56x56x64 -> 128 float32 N times on a quiet machine, then N times while another process keeps one core busy
(as a browser drawing a page does on a 2-core host), and prints each tuning's choice and its forward kernels' fastest
times, with the CPU's name. Why the app's warm-up tunes only in a quiet moment (`pointwise.ui.session.QUIET_S`).
"""

import argparse
import subprocess
import sys

import _common
from pointwise import autotune
from pointwise.worker.environment import cpu_model


def tunings(count: int) -> list[str]:
    lines = []
    for _ in range(count):
        autotune._TUNINGS.clear()  # a new tuning each time, not the process's cached one
        shape = (_common.REFERENCE_SHAPE["batch"], 56, 56, 64)
        strategy, tuning = autotune.choose_strategy(shape, _common.REFERENCE_SHAPE["filters"], "float32", True)
        forward = ", ".join(f"{name} {seconds * 1e3:.2f} ms" for name, seconds in tuning.forward_s.items())
        lines.append(f"{strategy:32} forward: {forward}; {tuning.rounds} rounds, {tuning.elapsed_s:.2f} s")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tunings", type=int, default=6)
    args = parser.parse_args()
    print(f"CPU: {cpu_model()}")
    print("quiet:", *tunings(args.tunings), sep="\n  ")
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        print("one core busy:", *tunings(args.tunings), sep="\n  ")
    finally:
        busy.kill()


if __name__ == "__main__":
    main()
