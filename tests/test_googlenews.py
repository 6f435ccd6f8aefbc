"""Google News: search URLs per edition, and stripping only the trailing publisher."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from monitor.googlenews import is_google_news, search_url, strip_publisher


@pytest.mark.parametrize(
    ("lang", "hl", "gl", "ceid"),
    [
        ("en-US", "en-US", "US", "US:en"),
        ("en-GB", "en-GB", "GB", "GB:en"),
        ("en", "en-US", "US", "US:en"),
        ("ko", "ko", "KR", "KR:ko"),
        ("ko-KR", "ko", "KR", "KR:ko"),
        ("ko_kr", "ko", "KR", "KR:ko"),
        ("fr", "fr", "FR", "FR:fr"),
    ],
)
def test_search_url_editions(lang, hl, gl, ceid):
    url = search_url("OpenAI funding", lang)
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "news.google.com", "/rss/search")
    assert parse_qs(parts.query) == {
        "q": ["OpenAI funding"],
        "hl": [hl],
        "gl": [gl],
        "ceid": [ceid],
    }
    assert f"ceid={ceid}" in url  # the colon is left readable, as Google writes it


def test_search_url_encodes_the_query():
    url = search_url('"Bears Ears" monument & 투자', "en-US")
    assert url.startswith(
        "https://news.google.com/rss/search?q=%22Bears+Ears%22+monument+%26+%ED%88%AC%EC%9E%90&hl=en-US"
    )


def test_search_url_rejects_a_non_language():
    with pytest.raises(ValueError, match="not a language code"):
        search_url("x", "12-US")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://news.google.com/rss/search?q=x", True),
        ("https://NEWS.GOOGLE.COM/rss/articles/CBMi", True),
        ("https://news.google.com.evil.example/rss", False),
        ("https://www.reuters.com/markets", False),
        ("http://[bad", False),
    ],
)
def test_is_google_news(url, expected):
    assert is_google_news(url) is expected


@pytest.mark.parametrize(
    ("title", "publisher", "stripped"),
    [
        (
            "Trump again shrinks two monuments - The Washington Post",
            "The Washington Post",
            "Trump again shrinks two monuments",
        ),
        (
            "Anthropic - the AI lab - raises $13B - Reuters",
            "Reuters",
            "Anthropic - the AI lab - raises $13B",
        ),
        (
            "Monument cut to 121,100 acres - San Juan Record |",
            "San Juan Record |",
            "Monument cut to 121,100 acres",
        ),
        ("Reuters - the agency - expands", "Reuters", "Reuters - the agency - expands"),
        ("Headline - Reuters", "AP", "Headline - Reuters"),
        ("Headline - Reuters", None, "Headline - Reuters"),
        ("Headline-Reuters", "Reuters", "Headline-Reuters"),
        (" - Reuters", "Reuters", "- Reuters"),
        ("삼성전자 2조 원 투자 - 연합뉴스", "연합뉴스", "삼성전자 2조 원 투자"),
    ],
)
def test_strip_publisher(title, publisher, stripped):
    assert strip_publisher(title, publisher) == stripped
