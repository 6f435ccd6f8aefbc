"""Google News RSS: search URLs (restricted by date, too), and undoing the publisher suffix
it puts on headlines."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode, urlsplit

GOOGLE_NEWS = "https://news.google.com"  # MONITOR_GOOGLE_NEWS_URL's default
_HOST = "news.google.com"
# Google's own default region for a bare language code, where it is not the code upper-cased.
_DEFAULT_REGION = {"en": "US", "ko": "KR", "ja": "JP", "zh": "CN", "sv": "SE", "uk": "UA"}


def search_url(query: str, lang: str, base: str = GOOGLE_NEWS) -> str:
    """The RSS search URL for `query` in edition `lang` ("en-US", "en-GB", "ko", "ko-KR"),
    on `base` (Google News, or a proxy or stand-in in its place)."""
    language, _, region = lang.replace("_", "-").partition("-")
    language = language.lower()
    if not language.isalpha():
        raise ValueError(f"not a language code: {lang!r} (expected e.g. 'en-US' or 'ko')")
    region = (region or _DEFAULT_REGION.get(language, language)).upper()
    # Google names English editions by region (hl=en-GB), the others by language alone (hl=ko).
    hl = f"{language}-{region}" if language == "en" else language
    params = {"q": query, "hl": hl, "gl": region, "ceid": f"{region}:{language}"}
    return f"{base.rstrip('/')}/rss/search?{urlencode(params, safe=':')}"


def dated(query: str, start: date, end: date) -> str:
    """`query` restricted to articles published on the days [start, end).

    Both bounds are taken as exclusive, so the day before `start` is named. Should an
    edition read `after:` as inclusive, or count days in another time zone, the extra day
    it returns is dropped by the caller, which keeps only [start, end).
    """
    return f"{query} after:{(start - timedelta(days=1)).isoformat()} before:{end.isoformat()}"


def is_google_news(url: str) -> bool:
    """Whether `url` is on news.google.com (its items need publisher stripping)."""
    try:
        return (urlsplit(url).hostname or "").lower() == _HOST
    except ValueError:
        return False


def strip_publisher(title: str, publisher: str | None) -> str:
    """`title` without a trailing " - publisher"; a " - " elsewhere in a headline stays."""
    title = title.strip()
    suffix = f" - {publisher.strip()}" if publisher and publisher.strip() else ""
    if suffix and title.endswith(suffix) and len(title) > len(suffix):
        return title[: -len(suffix)].rstrip()
    return title
