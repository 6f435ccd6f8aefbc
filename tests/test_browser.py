"""The pages in a real headless Chromium: they load without a console error (a blocked
style or resource is one), the chart has one mark per observation, its links go to the
articles, a hostile headline is shown as text, and a 375 px phone screen stays readable."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from sqlmodel import col, select

from monitor import store
from monitor.demo import demo_rules, record_demo
from monitor.health import serve
from monitor.metrics import Metrics
from monitor.rules import load_rules
from monitor.store import ArticleRow, ClaimRow, ObservationRow
from monitor.web.routes import Web
from tests import browser, webdata
from tests.daemon_helpers import free_port
from tests.needs import need

HOSTILE = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">'


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """The demo's data (and a claim with hostile headlines) served as the daemon serves it."""
    need(browser.missing() is None, str(browser.missing()))
    tmp = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{tmp / 'monitor.db'}"
    record_demo(url, tmp, Console(file=io.StringIO()))
    engine = store.open_store(url)
    webdata.seed(engine, 30, title=lambda i: HOSTILE, url=lambda i: f"https://evil.example/{i}")
    rules = load_rules(demo_rules(tmp))
    addr = f"127.0.0.1:{free_port()}"
    server = serve(addr, lambda: None, Metrics(), pages=Web(engine, lambda: rules))
    yield f"http://{addr}", engine
    server.shutdown()
    server.server_close()
    engine.dispose()


@pytest.fixture(scope="module")
def chromium(site: tuple[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = browser.launch(p)
        yield b
        b.close()


def _open(chromium: Any, url: str, width: int = 1280) -> tuple[Any, list[str]]:
    """A page at `url`, with every console error and uncaught exception it produced."""
    page = chromium.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == 200, url
    return page, errors


def _claims(engine: Any) -> list[tuple[str, str]]:
    with store.session(engine) as s:
        return [(c.watch, c.id) for c in s.exec(select(ClaimRow)).all()]


def _articles(engine: Any, watch: str, claim: str) -> list[str]:
    with store.session(engine) as s:
        return list(
            s.exec(
                select(ArticleRow.url)
                .join(ObservationRow)
                .where(col(ObservationRow.watch) == watch, col(ObservationRow.claim) == claim)
            ).all()
        )


def test_every_page_loads_without_console_errors(site: tuple[str, Any], chromium: Any) -> None:
    base, engine = site
    paths = ["/", "/alerts", "/feeds", "/nowhere"]
    for watch, claim in _claims(engine):
        paths += [f"/claims/{watch}/{claim}", f"/claims/{watch}/{claim}?in=USD"]
    for path in paths:
        page = chromium.new_page()
        errors: list[str] = []
        page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
        page.goto(base + path, wait_until="load")
        # The 404 page itself logs its status; nothing else may be an error.
        expected = 1 if path == "/nowhere" else 0
        assert len(errors) == expected, (path, errors)
        page.close()


def test_the_chart_has_one_mark_per_observation_linked_to_its_article(
    site: tuple[str, Any], chromium: Any
) -> None:
    base, engine = site
    for watch, claim in _claims(engine):
        urls = _articles(engine, watch, claim)
        page, errors = _open(chromium, f"{base}/claims/{watch}/{claim}")
        assert page.locator("svg.story path.m").count() == len(urls), claim
        links = page.locator("svg.story a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        assert sorted(links) == sorted(urls), claim
        assert not errors
        page.close()


def test_a_hostile_headline_is_shown_as_text(site: tuple[str, Any], chromium: Any) -> None:
    base, _ = site
    page, errors = _open(chromium, f"{base}/claims/{webdata.WATCH}/{webdata.CLAIM}")
    assert page.evaluate("typeof window.pwned") == "undefined"  # nothing ran
    assert page.locator("script").count() == 0 and page.locator("main img").count() == 0
    assert HOSTILE in page.locator("table").inner_text()  # the headline, as its characters
    titles = page.locator("svg.story path.m title").all_text_contents()
    assert len(titles) == 30 and all(HOSTILE in t for t in titles)
    assert not errors
    page.close()


def test_a_narrow_screen_stays_readable(site: tuple[str, Any], chromium: Any) -> None:
    base, _ = site
    for path in ["/", "/alerts", "/feeds", "/claims/ai-chip-funding/samsung-us-fabs"]:
        page, errors = _open(chromium, base + path, width=375)
        # Nothing makes the page itself scroll sideways; wide tables and the chart scroll
        # inside their own boxes, and the text stays a readable size.
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, path
        size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
        assert size >= 14, path
        assert page.locator("h1").bounding_box()["width"] <= 375
        if "/claims/" in path:
            chart = page.locator("div.chart")
            assert chart.evaluate("c => c.scrollWidth > c.clientWidth")  # it scrolls itself
            assert page.locator("svg.story").bounding_box()["width"] >= 640  # not shrunk
        assert not errors
        page.close()
