"""The README follows the code: its variant table is the registry, in registry order.

Adding a variant touches `pointwise/variants.py` and `pointwise/layers.py`; this test then names the README
row that is missing, extra or out of order.
"""

import re

from conftest import ROOT
from pointwise.backends import BACKEND_LABELS
from pointwise.variants import ORIGIN_KERAS, ORIGIN_OURS, ORIGIN_SEED, VARIANTS

README_ORIGINS = {ORIGIN_KERAS: "Keras", ORIGIN_SEED: "article", ORIGIN_OURS: "ours"}
"""The README's short origin names."""


def _variant_rows() -> list[list[str]]:
    """The cells of every body row of the table under "## Variants"."""
    section = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("\n## Variants\n", 1)[1]
    section = section.split("\n## ", 1)[0]
    table = re.search(r"^\| key \|.*?\n\|[-| ]+\|\n((?:\|.*\|\n)+)", section, re.MULTILINE)
    assert table, "README.md's '## Variants' section has no '| key | ... |' table"
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in table.group(1).splitlines()]


def test_readme_variant_table_lists_the_registry_in_order():
    keys = [row[0].strip("`") for row in _variant_rows()]
    assert keys == list(VARIANTS)


def test_readme_variant_table_gives_each_variant_its_registry_origin():
    origins = {row[0].strip("`"): row[-1] for row in _variant_rows()}
    assert origins == {key: README_ORIGINS[v.origin] for key, v in VARIANTS.items()}


def test_readme_variant_table_gives_each_variant_its_registry_backends():
    backends = {row[0].strip("`"): row[-2] for row in _variant_rows()}
    assert backends == {key: ", ".join(BACKEND_LABELS[b] for b in v.backends) for key, v in VARIANTS.items()}


def test_readme_names_the_command_that_prints_the_registry():
    assert "`python -m pointwise variants`" in ROOT.joinpath("README.md").read_text(encoding="utf-8")
