"""`extract` on real reporting, read in place from ../shared (skipped when it is absent).

Every money figure of ../shared/realnews/items.jsonl is labelled; each one written with a
currency must be read exactly (text, value, currency, role, conversion) and nothing else may be
read. The recorded Korean feeds hold everyday words that start with a numeral syllable (이유로,
조원동): none of them may be read as money.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest

from monitor.figures import extract

SHARED = Path(__file__).parents[1].parent / "shared"
ITEMS = SHARED / "realnews" / "items.jsonl"
FIXTURES = SHARED / "fixtures"
KOREAN_FEEDS = [
    "korean-khan/khan_total_news_2018-04-06.xml",
    "chardet-korean/CP949_ricanet.com.xml",
    "chardet-korean/EUC-KR_acnnewswire.net.xml",
    "chardet-korean/EUC-KR_blog.rss.naver.com.xml",
    "chardet-korean/EUC-KR_critique.or.kr.xml",
    "chardet-korean/EUC-KR_sparcs.kaist.ac.kr.xml",
    "feedparser/tests/encoding/euc-kr-item.xml",
]
HANGUL_NUMERAL = "일이삼사오육칠팔구십백천만억조"


def _items() -> list[dict[str, Any]]:
    if not ITEMS.exists():
        return []
    return [json.loads(line) for line in ITEMS.read_text(encoding="utf-8").splitlines() if line]


@pytest.mark.skipif(not ITEMS.exists(), reason="../shared/realnews is not checked out")
@pytest.mark.parametrize("item", _items(), ids=lambda item: item["id"])
def test_labelled_figures_are_read_exactly(item: dict[str, Any]) -> None:
    text = item["title"] + "\n" + item["summary"]
    got = [
        (f.text, f.low, f.high, f.currency, f.role, f.conversion_of is not None)
        for f in extract(text)
    ]
    for label in item["figures"]:
        want = (
            label["text"],
            label["low"],
            label["high"],
            label["currency"],
            label.get("role", "value"),
            bool(label.get("conversion")),
        )
        if want in got:
            got.remove(want)
        else:
            # An amount with no currency word ("133조") may be missed: it is not read by design.
            assert label.get("no_currency"), f"{item['id']}: missed {want}"
    assert got == [], f"{item['id']}: read but not labelled"


def _feed_text(path: Path) -> str:
    """The text of a feed document: legacy Korean encodings decoded, markup dropped."""
    raw = path.read_bytes()
    declared = re.search(rb'encoding="([^"]+)"', raw[:200])
    legacy = declared is not None and declared.group(1).lower() in (b"euc-kr", b"cp949")
    text = raw.decode("cp949" if legacy else "utf-8", errors="replace")
    text = re.sub(r"<!\[CDATA\[|\]\]>", " ", text)
    return re.sub(r"<[^>]+>", " ", html.unescape(html.unescape(text)))


@pytest.mark.skipif(not FIXTURES.exists(), reason="../shared/fixtures is not checked out")
@pytest.mark.parametrize("name", KOREAN_FEEDS)
def test_no_hangul_word_in_korean_feeds_is_money(name: str) -> None:
    text = _feed_text(FIXTURES / name)
    assert re.search("[가-힣]", text)
    assert [f.text for f in extract(text) if f.text[0] in HANGUL_NUMERAL] == []
