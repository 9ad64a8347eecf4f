"""Parsing of single run-configuration fields: integers, choices, on/off words, knobs, device names.

Shared by `pointwise.spec` (whole configurations), `pointwise.query` (URL values) and the CLI, so every path
accepts and refuses exactly the same text. A bad value raises `InvalidSpecError` naming the field, what it must
be and the value received.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pointwise.errors import InvalidSpecError
from pointwise.limits import FALSE_WORDS, TRUE_WORDS

# ASCII digits only: `\d` also matches e.g. Arabic-Indic digits, which TensorFlow rejects later, in the worker.
_DEVICE_PATTERN = re.compile(r"(CPU|GPU):([0-9]{1,2})")


def normalize_device(value: Any) -> str:
    """Canonical device name: `cpu` -> `CPU:0`, `gpu:1` -> `GPU:1`; anything else is rejected."""
    text = str(value).strip().upper()
    if text in ("CPU", "GPU"):
        text += ":0"
    text = text.removeprefix("/DEVICE:")
    if not _DEVICE_PATTERN.fullmatch(text):
        raise InvalidSpecError("device", value, "CPU:0 or GPU:n (n = 0..99)")
    return text


def coerce_int(name: str, value: Any, allowed: tuple[int, int]) -> int:
    low, high = allowed
    expected = f"an integer in [{low:,}, {high:,}]"
    if isinstance(value, bool):
        raise InvalidSpecError(name, value, expected)
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InvalidSpecError(name, value, expected)
        value = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,12}", text):
            raise InvalidSpecError(name, value, expected)
        value = int(text)
    elif not isinstance(value, int):
        raise InvalidSpecError(name, value, expected)
    if not low <= value <= high:
        raise InvalidSpecError(name, value, expected)
    return value


def coerce_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    text = str(value).strip().lower() if isinstance(value, str) else value
    if text not in choices:
        raise InvalidSpecError(name, value, f"one of {', '.join(choices)}")
    return text


def coerce_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise InvalidSpecError(name, value, "on or off (true/false, 1/0)")


def coerce_knob(name: str, value: Any) -> str:
    """ "default", "on" or "off"; booleans and their words (true/1/yes...) mean on/off, as runs stored before
    the "default" choice existed hold them."""
    if isinstance(value, str) and value.strip().lower() == "default":
        return "default"
    try:
        return "on" if coerce_bool(name, value) else "off"
    except InvalidSpecError:
        raise InvalidSpecError(name, value, "default, on or off") from None
