"""Rules files: the shipped ones load; each broken one names its file, line and key path."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from monitor.errors import RulesErrors
from monitor.rules import json_schema, load_rules, parse_duration

ROOT = Path(__file__).resolve().parents[1]

VALID = """\
watch: test-watch
title: Test
entities:
  altman: [Sam Altman, 알트먼]
  openai: [OpenAI]
keywords: [chip]
feeds:
  - url: https://example.com/feed.xml
    every: 15m
  - google_news: "Sam Altman chip"
    lang: en-US
claims:
  - id: target
    about: [altman, openai]
    topic: [chip]
    value: "5조~7조 달러"
    as_of: 2024-02-08
"""


def _problems(tmp_path: Path, text: str, name: str = "x.yaml") -> list:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(RulesErrors) as info:
        load_rules(path)
    return info.value.errors


def _marked_line(text: str) -> int:
    """The line carrying the `#!` marker: where the error must point."""
    return next(i for i, line in enumerate(textwrap.dedent(text).splitlines(), 1) if "#!" in line)


BROKEN = {
    "unknown top-level key": (
        VALID + "feed: oops  #!\n",
        "feed",
        "unknown key; the keys here are: watch, title",
    ),
    "value that is not money": (
        VALID.replace('value: "5조~7조 달러"', 'value: "about five"  #!'),
        "claims[0].value",
        '"about five" is not a money amount',
    ),
    "value with two amounts": (
        VALID.replace('value: "5조~7조 달러"', 'value: "5조 달러와 9억 유로"  #!'),
        "claims[0].value",
        "holds 2 amounts",
    ),
    "duplicate claim id": (
        VALID
        + """\
  - id: target  #!
    about: [altman]
    topic: [chip]
    value: "$1 trillion"
    as_of: 2024-02-08
""",
        "claims[1].id",
        '"target" is already the id of claims[0]',
    ),
    "claim about an unknown entity": (
        VALID.replace("about: [altman, openai]", "about: [altman,\n      nvidia]  #!"),
        "claims[0].about[1]",
        '"nvidia" is not an entity of this watch (entities: altman, openai)',
    ),
    "unparseable every": (
        VALID.replace("every: 15m", "every: 15 minutes  #!"),
        "feeds[0].every",
        '"15 minutes" is not a duration',
    ),
    "feed with neither url nor google_news": (
        VALID.replace("  - url: https://example.com/feed.xml\n", "  - every: 5m  #!\n"),
        "feeds[0]",
        "needs either `url` or `google_news`",
    ),
    "feed with both url and google_news": (
        VALID.replace(
            "  - url: https://example.com/feed.xml\n",
            "  - url: https://example.com/feed.xml  #!\n    google_news: chips\n",
        ),
        "feeds[0]",
        "not both",
    ),
    "feed url that is not http": (
        VALID.replace("url: https://example.com/feed.xml", "url: ftp://example.com/f  #!"),
        "feeds[0].url",
        '"ftp://example.com/f" is not an http(s) URL',
    ),
    "missing watch slug": (
        VALID.replace("watch: test-watch\n", "").replace("title: Test", "title: Test  #!"),
        "watch",
        "is required but missing",
    ),
    "watch slug with spaces": (
        VALID.replace("watch: test-watch", "watch: AI Chips  #!"),
        "watch",
        '"AI Chips" must be a slug',
    ),
    "as_of that is not a date": (
        VALID.replace("as_of: 2024-02-08", "as_of: last February  #!"),
        "claims[0].as_of",
        '"last February" is not a date; write it as YYYY-MM-DD',
    ),
    "tolerance that is not a percentage": (
        VALID + "    tolerance: five percent  #!\n",
        "claims[0].tolerance",
        '"five percent" is not a percentage',
    ),
    "unknown key inside a claim": (
        VALID + "    vaule: 3  #!\n",
        "claims[0].vaule",
        "unknown key; the keys here are: value, quote, note, id",
    ),
    "key given twice": (
        VALID.replace("keywords: [chip]", "keywords: [chip]\nkeywords: [fab]  #!"),
        "keywords",
        "is given twice (first on line 6)",
    ),
    "entity without aliases": (
        VALID.replace("  openai: [OpenAI]", "  openai: []  #!"),
        "entities.openai",
        "needs at least one item",
    ),
    "entity id that is not a slug": (
        VALID.replace("  openai: [OpenAI]", "  Open AI: [OpenAI]  #!"),
        "entities.Open AI.[key]",
        '"Open AI" must be a slug',
    ),
    "claim with no topic words": (
        VALID.replace("topic: [chip]", "topic: []  #!"),
        "claims[0].topic",
        "needs at least one item",
    ),
    "the same feed twice": (
        VALID.replace(
            "  - google_news:",
            "  - url: https://example.com/feed.xml  #!\n  - google_news:",
        ),
        "feeds[1]",
        "is the same feed as feeds[0]",
    ),
    "slack block with an unknown key": (
        VALID + "slack:\n  chanel: '#x'  #!\n",
        "slack.chanel",
        "unknown key; the keys here are: channel",
    ),
    "invalid YAML": (
        VALID.replace("keywords: [chip]", "keywords: [chip  #!"),
        "",
        "is not valid YAML",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN), ids=list(BROKEN))
def test_broken_rules_name_file_line_and_key(tmp_path: Path, case: str) -> None:
    text, key_path, message = BROKEN[case]
    problems = _problems(tmp_path, text)
    line = _marked_line(text)
    matching = [p for p in problems if p.path == key_path and message in p.message]
    assert matching, (
        f"no problem at {key_path!r} saying {message!r}; got {[str(p) for p in problems]}"
    )
    problem = matching[0]
    assert problem.file == str(tmp_path / "x.yaml")
    if case == "invalid YAML":  # the parser notices where the flow sequence cannot go on
        assert problem.line in (line, line + 1)
    else:
        assert problem.line == line
    assert str(problem).startswith(f"{tmp_path / 'x.yaml'}:{problem.line}: ")


def test_every_problem_in_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = VALID.replace("every: 15m", "every: often").replace("as_of: 2024-02-08", "as_of: soon")
    problems = _problems(tmp_path, text)
    assert {p.path for p in problems} == {"feeds[0].every", "claims[0].as_of"}


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "# nothing yet\n")
    assert "is empty" in problems[0].message


def test_a_list_instead_of_a_mapping_is_an_error(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "- watch: x\n")
    assert problems[0].line == 1 and "must be a mapping" in problems[0].message


def test_two_files_with_the_same_watch_slug(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID, encoding="utf-8")
    with pytest.raises(RulesErrors) as info:
        load_rules(tmp_path)
    (problem,) = info.value.errors
    assert problem.file == str(tmp_path / "b.yaml") and problem.line == 1
    assert f"already the slug of {tmp_path / 'a.yaml'}:1" in problem.message


def test_a_directory_without_rules_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RulesErrors, match=r"holds no \.yaml rules files"):
        load_rules(tmp_path)


def test_valid_rules_load_into_typed_models(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(VALID, encoding="utf-8")
    (watch,) = load_rules(path).watches
    assert watch.feeds[0].every == 900.0
    assert (
        watch.feeds[1]
        .urls(watch)[0]
        .startswith("https://news.google.com/rss/search?q=Sam+Altman+chip")
    )
    claim = watch.claims[0]
    assert (claim.figure.low, claim.figure.high, claim.figure.currency) == (5e12, 7e12, "USD")
    assert claim.tolerance == 0.05


def test_shipped_rules_are_valid() -> None:
    rules = load_rules(ROOT / "rules")
    watch = rules.watch("ai-chip-funding")
    ids = {c.id for c in watch.claims}
    assert {"chip-venture-target", "chip-venture-raised", "korea-chip-cluster"} <= ids
    target = next(c for c in watch.claims if c.id == "chip-venture-target")
    assert target.also[0].figure.mixup == "KRW"  # 9천조 달러, most likely 9천조 원
    langs = {f.lang for f in watch.feeds if f.google_news}
    assert {"en-US", "ko"} <= langs


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("2s", 2), ("30s", 30), ("15m", 900), ("1h", 3600), ("1d", 86400), ("1.5h", 5400), (45, 45)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_schema_describes_the_contract_keys() -> None:
    schema = json_schema()
    assert {"watch", "title", "entities", "keywords", "feeds", "claims", "slack"} <= set(
        schema["properties"]
    )
    assert schema["additionalProperties"] is False
    claim = schema["$defs"]["ClaimRule"]["properties"]
    assert {"id", "about", "topic", "value", "as_of", "quote", "tolerance"} <= set(claim)
    json.dumps(schema)  # serializable for editors
    every = schema["$defs"]["FeedRule"]["properties"]["every"]
    assert {"type": "string", "pattern": every["anyOf"][0]["pattern"]} == every["anyOf"][0]
