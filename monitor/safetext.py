"""Text from feeds made safe to show a person: in a terminal, in Slack, in a log.

Feed text is written by strangers. Control characters in it can move a terminal's
cursor, retitle its window or hide what was printed (ESC, CSI); bidi controls make a
line read in another order than it is stored ("Trojan Source"). Neither carries
meaning in news, so both are dropped wherever feed text is shown.
"""

from __future__ import annotations

import re

# C0 but tab and newline, DEL, C1 (0x9b is a one-byte CSI to some terminals), the line
# and paragraph separators, and the bidi marks, embeddings, overrides and isolates: a
# character class's contents, for `re`.
UNSAFE_CHARS = "\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{UNSAFE_CHARS}]")


def printable(text: str) -> str:
    """`text` without control or bidi characters; tabs and newlines are kept."""
    return _UNSAFE.sub("", text)


def escape_in_json(encoded: str) -> str:
    """JSON text with every unsafe character as a `\\uXXXX` escape, so piping it to a
    terminal is safe too. `json.dumps(..., ensure_ascii=False)` leaves C1 and bidi raw."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, the last one an ellipsis when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
