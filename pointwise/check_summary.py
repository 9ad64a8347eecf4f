"""The equivalence check's answer in one sentence, drawn before its table and charts.

The sentence is plain Markdown text that a browser shows as soon as the page's first messages arrive; the
table and the charts need the browser to load their own code first (about a second more on 2 cores).
"""

from __future__ import annotations

from collections.abc import Sequence

from pointwise.results import EquivalenceReport
from pointwise.text import escape_markdown
from pointwise.variants import BASELINE_KEY


def check_summary(reports: Sequence[EquivalenceReport]) -> str:
    """E.g. "**7 of 8 layers compute Conv2D 1x1's numbers** (largest difference 3.1e-07, tolerance 1.2e-06).
    Not the same: Seed Example 3 ..." Labels are escaped (an imported result's labels are visitor text)."""
    baseline = next((r for r in reports if r.key == BASELINE_KEY), None)
    if baseline is not None and baseline.status == "unsupported":
        reason = escape_markdown(baseline.reason, 600)
        return f"**Conv2D 1x1 itself cannot run here**, so nothing can be compared with it: {reason}"
    others = [r for r in reports if r.key != BASELINE_KEY]
    same = [r for r in others if r.equivalent]
    unsupported = [r for r in others if r.status == "unsupported"]
    different = [r for r in others if not r.equivalent and r.status != "unsupported"]
    errors = [r.max_rel_err for r in same if r.max_rel_err is not None]
    sentence = f"**{len(same)} of {len(others)} variants compute Conv2D 1x1's numbers**"
    if errors:
        tolerance = max(r.rel_tolerance for r in same)
        sentence += f" (largest difference {max(errors):.2g} of |x|@|w|+|b|; tolerance {tolerance:.2g})"
    sentence += "."
    if different:
        sentence += " Not the same: " + "; ".join(escape_markdown(r.label) for r in different) + "."
    if unsupported:
        sentence += " Could not run here: " + "; ".join(escape_markdown(r.label) for r in unsupported) + "."
    return sentence


def error_plot_order(reports: Sequence[EquivalenceReport]) -> list[EquivalenceReport]:
    """The variants Explore can draw error plots for (those with a difference map), the one that differs most from
    Conv2D 1x1 first: a variant identical to it has a flat zero map to show, and so has the baseline itself (last)."""
    drawable = [r for r in reports if r.diff_map is not None]
    return sorted(drawable, key=lambda r: (r.key == BASELINE_KEY, -(r.max_abs_err or 0.0)))
