"""The pre-check that lets `extract` skip sentences without money is split into patterns `re`
can scan quickly (see `_has_currency_marker`); here it must say yes on exactly the texts the
single readable pattern it replaced says yes on, so no figure is lost to the speed-up."""

from __future__ import annotations

import itertools
import random
import re

from monitor.figures import (
    _CODES,
    _EN_LAST_WORDS,
    _KO_MARKERS,
    _SYMBOLS,
    _UPPER_CODES,
    _has_currency_marker,
    _trie,
    extract,
)

# The pre-check as one alternation, as it was written before it was split for speed.
_LATIN = [*_EN_LAST_WORDS, "cent", "rs", "rm", *(c.lower() for c in (*_CODES, *_UPPER_CODES))]
REFERENCE = re.compile(
    _trie([*_SYMBOLS, "¢"])
    + r"|[\d\s십백천만억조경](?:"
    + _trie(_KO_MARKERS)
    + r")|[일이삼사오육칠팔구](?:"
    + _trie([name for name in _KO_MARKERS if len(name) > 1])
    + r")|[\d\s십백천만억조경점쩜일이삼사오육칠팔구][일이삼사오육칠팔구][원불엔]|(?<![a-z])m?(?:"
    + _trie(_LATIN)
    + ")"
)
MARKERS = [*_SYMBOLS, "¢", *_LATIN, *("m" + w for w in _LATIN), *_KO_MARKERS, "원", "불", "엔"]
# What may stand before a marker: nothing, space, Latin letters (m leads "musd"), digits,
# Hangul numerals and other syllables, punctuation, a non-ASCII Latin letter.
BEFORE = ["", " ", "\t", "a", "m", "z", "5", "x5", "-", ".", "é", "$"]
BEFORE += ["가", "조", "일", "이", "십", "점", "5일", "가이"]
AFTER = ["", " ", "s", "x", "화", "인", "5"]


def _agree(text: str) -> None:
    assert _has_currency_marker(text) == (REFERENCE.search(text) is not None), text


def test_every_marker_in_every_context_agrees_with_the_reference() -> None:
    for before, marker, after in itertools.product(BEFORE, MARKERS, AFTER):
        _agree(before + marker + after)
        _agree(f"the plan {before}{marker}{after} was")  # inside longer ASCII or mixed text
        _agree(f"계획은 {before}{marker}{after}이다")


def test_random_glued_text_agrees_with_the_reference() -> None:
    rng = random.Random(13)
    pieces = [*MARKERS, *BEFORE, *AFTER, "percent", "decade", "years", "연구원", "AI", "won"]
    for _ in range(20_000):
        _agree("".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))))


def test_sentences_without_a_marker_are_skipped_and_with_one_are_read() -> None:
    assert not _has_currency_marker("shares rose 5% in 2024, the decade's best, in seoul.")
    assert not _has_currency_marker("연구원들은 3배 빠른 3nm 공정을 시연했다.")
    assert extract("It raised $5bn.")[0].currency == "USD"
    assert extract("회사는 1조 5천억 원 규모의 투자를 발표했다.")[0].low == 1.5e12
    assert extract("Die Firma sammelte 5 Mio. EUR ein, während €3bn fehlten.")
