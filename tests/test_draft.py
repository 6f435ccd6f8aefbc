"""`monitor rules draft`: a watch from one article, that passes `rules check` unedited and
that the article itself never alerts against."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import select

from monitor import store
from monitor.articles import Article
from monitor.draft import draft, to_yaml
from monitor.observe import store_articles, sync_claims
from monitor.rules import ClaimRule, load_rules, load_watch, parse_money
from monitor.store import AlertRow, ObservationRow
from tests.daemon_helpers import run_monitor
from tests.needs import shared

# Written in the shapes of real reporting: a cut written "to X from Y", a grant, a
# conversion in brackets, a price, a comparison.
EN = """\
Intel's CHIPS Act award cut to $7.86 billion
Intel will receive $7.86 billion in grants under the CHIPS Act, the Commerce Department said.
TSMC said it would raise its Arizona investment to $165 billion from $65 billion.
Samsung Electronics plans to invest ₩50 trillion ($37 billion) in its Taylor, Texas plant.
Apple's Vision Pro headset sells for $3,499 in the U.S.
"""
KO = """\
삼성전자, 텍사스에 370억 달러 투자
삼성전자는 미국 텍사스주 테일러 공장에 370억 달러를 투자할 계획이라고 밝혔다.
SK하이닉스는 인디애나주에 38억7000만 달러를 들여 패키징 공장을 짓는다.
이는 지난해 투자액보다 20억 달러 많은 규모다.
"""


def _values(claims: list[ClaimRule]) -> set[tuple[str, float, float]]:
    """Every value the claims hold (their own and their `also` values)."""
    found = set()
    for claim in claims:
        for figure in (claim.figure, *(a.figure for a in claim.also)):
            found.add((figure.currency, figure.low, figure.high))
    return found


def _drafted(tmp_path: Path, text: str, on: date) -> Path:
    path = tmp_path / "draft.yaml"
    path.write_text(to_yaml(draft(text, published=on), source="a test"), encoding="utf-8")
    return path


def test_the_seed_article_gives_every_claim_of_the_shipped_watch_and_no_headset(
    tmp_path: Path,
) -> None:
    seed = shared("seed/article-ko-2024-02.txt")
    path = _drafted(tmp_path, seed.read_text(encoding="utf-8"), date(2024, 2, 8))
    drafted, _ = load_watch(path)  # passes `rules check` as written
    shipped, _ = load_watch(Path(__file__).parents[1] / "rules" / "ai-chip-funding.yaml")
    missing = _values(list(shipped.claims)) - _values(list(drafted.claims))
    assert not missing, f"claims of the shipped watch the draft lacks: {missing}"
    headset = parse_money("450만 원")
    assert (headset.currency, headset.low, headset.high) not in _values(list(drafted.claims))
    written = path.read_text(encoding="utf-8")
    assert "#   450만 원:" in written  # noted, with why, not dropped silently
    # Whose money: the holders are the article's own subjects, in its language.
    about = {c.figure.text: c.about for c in drafted.claims}
    assert drafted.entities[about["9조 달러"][0]] == ["삼성전자"]
    assert "엔비디아" in drafted.entities[about["400억 달러"][0]]


def test_an_english_article_notes_what_is_not_a_claim(tmp_path: Path) -> None:
    d = draft(EN, published=date(2024, 11, 26))
    by_value = {c.value: c for c in d.claims}
    assert set(by_value) == {"$7.86 billion", "$165 billion", "₩50 trillion"}
    assert by_value["$7.86 billion"].kind == ("grant",)
    assert by_value["$165 billion"].where == ("US",)
    assert d.entities[by_value["₩50 trillion"].about[0]][0].startswith("Samsung")
    noted = {n.text: n.why for n in d.noted}
    assert "earlier value" in noted["$65 billion"]
    assert "conversion" in noted["$37 billion"]
    assert "$3,499" in noted
    load_watch(_drafted(tmp_path, EN, date(2024, 11, 26)))


def test_a_korean_article_and_its_increment(tmp_path: Path) -> None:
    d = draft(KO, published=date(2024, 4, 15))
    values = {c.value for c in d.claims}
    assert values == {"370억 달러", "38억7000만 달러"}
    assert "20억 달러" in {n.text for n in d.noted}  # "보다 ... 많은": a comparison
    assert any(lang == "ko" for _, lang in d.searches)
    load_watch(_drafted(tmp_path, KO, date(2024, 4, 15)))


def test_the_article_gives_only_known_values_against_its_own_draft(
    tmp_path: Path, engine: Engine
) -> None:
    """The round trip: a feed carrying the drafted article raises no change."""
    texts = [(EN, date(2024, 11, 26)), (KO, date(2024, 4, 15))]
    seed = shared("seed/article-ko-2024-02.txt")
    texts.append((seed.read_text(encoding="utf-8"), date(2024, 2, 8)))
    for n, (text, on) in enumerate(texts):
        (tmp_path / str(n)).mkdir()
        path = _drafted(tmp_path / str(n), text, on)
        rules = load_rules(path)
        sync_claims(engine, rules)
        title, _, body = text.partition("\n")
        when = datetime(on.year, on.month, on.day, 9, tzinfo=UTC)
        url = f"https://news{n}.example/story"
        article = Article(url, title, body, when, "News", "en", url, "https://feed.example/")
        stored = store_articles(engine, rules.watches[0], [article], channel=None)
        assert stored.figures > 0
    with store.session(engine) as s:
        outcomes = set(s.exec(select(ObservationRow.outcome)).all())
        alerts = s.exec(select(AlertRow)).all()
    assert alerts == [] and "change" not in outcomes, outcomes


def test_the_command_writes_a_file_rules_check_accepts(tmp_path: Path) -> None:
    source = tmp_path / "article.txt"
    source.write_text(EN, encoding="utf-8")
    out = tmp_path / "intel.yaml"
    env = {"PATH": "/usr/bin:/bin", "MONITOR_RULES": str(tmp_path / "none")}
    result = run_monitor(
        ["rules", "draft", str(source), "--date", "2024-11-26", "-o", str(out)], env
    )
    assert result.returncode == 0, result.stderr
    assert "3 claims" in result.stderr
    check = run_monitor(["rules", "check", str(out)], env)
    assert check.returncode == 0 and "3 claims" in check.stdout, check.stderr
    html = tmp_path / "page.html"
    html.write_text(
        "<html><head><title>Intel award cut</title>"
        '<meta property="article:published_time" content="2024-11-26T10:00:00Z"></head>'
        "<body><nav>Subscribe for $1 a month</nav><article><h1>Intel award cut</h1>"
        "<p>Intel will receive $7.86 billion in grants under the CHIPS Act, the Commerce "
        "Department said on Tuesday.</p></article></body></html>",
        encoding="utf-8",
    )
    from_html = run_monitor(["rules", "draft", str(html)], env)
    assert from_html.returncode == 0, from_html.stderr
    assert "as_of: 2024-11-26" in from_html.stdout and '"$7.86 billion"' in from_html.stdout
    missing = run_monitor(["rules", "draft", str(tmp_path / "nope.txt")], env)
    assert missing.returncode == 2 and "cannot read" in missing.stderr
