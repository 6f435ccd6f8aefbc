"""Fuzzing the figure reader with news-shaped noise: it never raises, and what it returns holds.

Plain random text almost never reaches the deep paths (ranges, changes, Korean units,
qualifiers), so the text is built from the reader's own vocabulary, glued at random.
Bounded to run in CI in well under a minute.
"""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.figures import _NUMBER_WORDS, _SYMBOLS, extract

TOKENS = [
    *_SYMBOLS,
    *_NUMBER_WORDS,
    *"0123456789.,-~–+/()% ",
    *(
        "1,000",
        "0.5",
        "1e9",
        "9" * 40,
        "9" * 320,
        "0" * 30,
        "1.5.5",
        ",,",
        "..",
        "00.0",
        "9,99,999",
    ),
    *("bn", "m", "k", "tn", "million", "billion", "trillion", "thousand", "mn", "b"),
    *("USD", "KRW", "EUR", "US$", "HK$", "C$", "won", "dollars", "euros", "pounds", "yen"),
    *("원", "달러", "엔", "유로", "위안", "조", "억", "만", "천", "백", "십", "경", "수"),
    *("일", "이", "삼", "구", "점", "쩜", "약", "최대", "최소", "이상", "여", "가량", "규모"),
    *("from", "to", "between", "and", "up to", "about", "at least", "nearly", "plus"),
    *("에서", "으로", "까지", "기존", "올해", "\n", "\u202e", "İ", "ß", "\x00", "cents", "¢"),
]
news_noise = st.lists(st.sampled_from(TOKENS), max_size=40).map("".join)
any_text = st.one_of(
    news_noise,
    st.text(max_size=60),
    st.tuples(news_noise, st.text(max_size=20), news_noise).map("".join),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_text, st.sampled_from([None, "en", "ko"]))
@example("$" + "9" * 400, None)  # overflowed to infinity
@example("from $5 billion to $" + "9" * 310 + " trillion", "en")
def test_extract_never_raises_and_its_figures_are_sound(text: str, lang: str | None) -> None:
    for f in extract(text, lang=lang):
        assert 0 <= f.start < f.end <= len(text), (text, f)
        assert text[f.start : f.end] == f.text, (text, f)
        assert math.isfinite(f.low) and math.isfinite(f.high), (text, f)
        assert 0 <= f.low <= f.high, (text, f)
