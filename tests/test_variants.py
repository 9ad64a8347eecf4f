import ast

import pytest

from pointwise.variants import (
    BASELINE_KEY,
    EQUIVALENT_KEYS,
    ORIGIN_SEED,
    VARIANTS,
    get_variant,
    variant_source,
)

REQUIRED = {
    "conv2d_1x1",
    "seed_matmul",
    "seed_einsum",
    "seed_dense_flatten",
    "dense",
    "matmul_2d",
    "einsum_4d",
    "keras_ops",
    "pointwise",
}


def test_registry_holds_every_required_variant_with_metadata():
    assert set(VARIANTS) >= REQUIRED
    assert next(iter(VARIANTS)) == BASELINE_KEY
    for key, variant in VARIANTS.items():
        assert variant.key == key
        assert variant.label and len(variant.explanation) > 80 and variant.layer_class


def test_seed_examples_are_labelled_and_example_3_is_not_equivalent():
    SEED_KEYS = {k for k, v in VARIANTS.items() if v.origin == ORIGIN_SEED}
    assert set(SEED_KEYS) == {"seed_matmul", "seed_einsum", "seed_dense_flatten"}
    for key in SEED_KEYS:
        assert VARIANTS[key].origin == ORIGIN_SEED and VARIANTS[key].label.startswith("Seed Example")
    assert "seed_dense_flatten" not in EQUIVALENT_KEYS
    assert VARIANTS["seed_dense_flatten"].dense_over_image and not VARIANTS["seed_einsum"].dense_over_image
    assert VARIANTS["seed_dense_flatten"].param_count(6, 7, 5, 3) == 6 * 7 * 5 * 3 + 3
    assert VARIANTS["dense"].param_count(6, 7, 5, 3) == VARIANTS["conv2d_1x1"].param_count(1, 1, 5, 3) == 18


@pytest.mark.parametrize("key", sorted(REQUIRED - {"conv2d_1x1", "dense"}))
def test_variant_source_is_the_layer_class(key):
    source = variant_source(key)
    tree = ast.parse(source)
    assert isinstance(tree.body[0], ast.ClassDef) and tree.body[0].name == VARIANTS[key].layer_class
    assert "def call" in source


def test_unknown_variant_lists_known_keys():
    with pytest.raises(KeyError, match="Known variants: conv2d_1x1"):
        get_variant("fast")


def test_explanations_render_as_written_in_markdown():
    # The pages show explanations with st.markdown: `H*W*C` there became "HWC" with an italic W.
    import re

    for variant in VARIANTS.values():
        assert not re.search(r"\w\*\w", variant.explanation), variant.key
