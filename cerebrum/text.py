"""Text that may reach the database: which characters never may (issue 14 item 7)."""

from __future__ import annotations

import re

# C0 control characters and DEL, except tab, line feed and carriage return (text areas send those).
# PostgreSQL refuses NUL in text outright; the others are never meant to be typed and break logs and exports.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_control_characters(text: str) -> bool:
    return CONTROL_CHARACTERS.search(text) is not None


def without_control_characters(text: str) -> str:
    """`text` with every control character (as above) removed."""
    return CONTROL_CHARACTERS.sub("", text)
