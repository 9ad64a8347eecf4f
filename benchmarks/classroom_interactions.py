"""Classroom: server-side response time of every interaction (AppTest script run), median of 5 each.

The goal is < 0.5 s per interaction on this 2-core machine. The "four Keras forms" button runs real layers
in the worker; it is timed warm (the app starts the worker in the background when it opens).
"""

import statistics
import time

from streamlit.testing.v1 import AppTest

import _common

REPEATS = 5


def timed(at, action) -> float:
    action(at)
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    assert not at.exception, [e.value for e in at.exception]
    return elapsed


def main() -> None:
    at = AppTest.from_file(str(_common.ROOT / "app.py"), default_timeout=180)
    at.switch_page("pages/classroom.py")
    at.run()
    forms_button = "Run the four Keras forms on these numbers"
    next(b for b in at.button if b.label == forms_button).click()
    at.run()  # warm the worker once
    interactions = {
        "pick a pixel (row slider)": lambda a, i: a.slider(key="pixel_row").set_value(i % 5),
        "pick a pixel (column slider)": lambda a, i: a.slider(key="pixel_col").set_value(i % 5),
        "edit a weight": lambda a, i: a.session_state.__setitem__(
            "weights_editor", {"edited_rows": {0: {"filter 0": float(i)}}, "added_rows": [], "deleted_rows": []}
        ),
        "colour preset": lambda a, i: a.selectbox(key="colour_preset").set_value(
            ["sepia", "identity", "RGB -> YUV (BT.601)", "grayscale (BT.601 luma)", "channel swap (RGB -> BGR)"][i]
        ),
        "article image size slider": lambda a, i: a.slider(key="article_side").set_value(20 + 40 * i),
        "cost inputs (F)": lambda a, i: a.number_input(key="cost_f").set_value(64 + i),
        "answer a question (radio, before reveal)": lambda a, i: a.radio(key="guess_example3_pointwise").set_value(
            ["yes", "no"][i % 2]
        ),
        "run the four Keras forms (warm worker)": lambda a, i: next(
            b for b in a.button if b.label == forms_button
        ).click(),
    }
    print(f"{'interaction':<42}{'median s':>10}{'max s':>8}")
    for name, action in interactions.items():
        times = [timed(at, lambda a, i=i, act=action: act(a, i)) for i in range(REPEATS)]
        print(f"{name:<42}{statistics.median(times):>10.3f}{max(times):>8.3f}")
    present = AppTest.from_file(str(_common.ROOT / "app.py"), default_timeout=180)
    present.switch_page("pages/classroom.py")
    present.query_params["present"] = "1"
    present.run()
    for label in ("Next", "Previous"):
        # Five clicks walk steps 1 -> 6 (Next) and back (Previous): every step's first render is timed.
        clicks = [lambda a, label=label: next(b for b in a.button if b.label == label).click()] * REPEATS
        times = [timed(present, click) for click in clicks]
        name = f"presentation: {label}"
        print(f"{name:<42}{statistics.median(times):>10.3f}{max(times):>8.3f}")
    print("goal: every interaction < 0.5 s")


if __name__ == "__main__":
    main()
