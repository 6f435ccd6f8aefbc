"""Stage Observation: sentences, and which claim each money figure is about."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.attribution import Attribution, attribute, sentences
from monitor.figures import Figure
from monitor.rules import Watch

T = 1e12


def watch(claims: list[dict[str, Any]], **entities: list[str]) -> Watch:
    base = {"value": "$40 billion", "as_of": "2024-02-08"}
    return Watch.model_validate(
        {
            "watch": "test",
            "title": "Test",
            "entities": entities
            or {
                "altman": ["Sam Altman", "Altman", "샘 알트먼", "알트먼"],
                "nvidia": ["Nvidia", "엔비디아"],
                "arm": ["Arm", "ARM"],
                "korea": ["한국", "정부"],
            },
            "claims": [{**base, **claim} for claim in claims],
        }
    )


def at(text: str, written: str, low: float, high: float | None = None, **kw: Any) -> Figure:
    """A hand-made figure for the first `written` in `text`."""
    start = text.index(written)
    high = low if high is None else high
    return Figure(written, start, start + len(written), low, high, kw.pop("currency", "USD"), **kw)


def run(w: Watch, text: str, *figures: Figure, title: str = "", **kw: Any) -> list[Attribution]:
    return attribute(w, title, text, list(figures), **kw)


def claims_of(attributions: list[Attribution]) -> list[str | None]:
    return [a.claim for a in attributions]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("첫 문장이다. 둘째 문장이다.", ["첫 문장이다.", "둘째 문장이다."], id="다."),
        pytest.param("했다.그러나 아니다.", ["했다.", "그러나 아니다."], id="다. without a space"),
        pytest.param("가능할까요? 아니다.", ["가능할까요?", "아니다."], id="question mark"),
        pytest.param("Is it real? Yes! Sure.", ["Is it real?", "Yes!", "Sure."], id="? and !"),
        pytest.param(
            "샘 알트먼의 반도체 비즈니스\n알트먼은 준비 중입니다.",
            ["샘 알트먼의 반도체 비즈니스", "알트먼은 준비 중입니다."],
            id="headline without punctuation",
        ),
        pytest.param(
            "Arm raises $1.5bn. Shares rose 2.5%.",
            ["Arm raises $1.5bn.", "Shares rose 2.5%."],
            id="decimals are not periods",
        ),
        pytest.param(
            "U.S. officials met Nvidia Inc. executives. Then they left.",
            ["U.S. officials met Nvidia Inc. executives.", "Then they left."],
            id="U.S. and Inc.",
        ),
        pytest.param(
            'He said "it costs $7 trillion." She left.',
            ['He said "it costs $7 trillion."', "She left."],
            id="closing quote",
        ),
        pytest.param("  \n\n  Title  \n\n", ["Title"], id="blank lines and spaces"),
        pytest.param("", [], id="empty"),
    ],
)
def test_sentences(text: str, expected: list[str]) -> None:
    assert [text[start:end] for start, end in sentences(text)] == expected


@given(st.text(alphabet=st.sampled_from(list("ab 다.?!\n$1U.S가"))))
def test_sentences_cover_every_character_once(text: str) -> None:
    spans = sentences(text)
    covered = [i for start, end in spans for i in range(start, end)]
    assert covered == sorted(set(covered))
    assert all(text[start:end] == text[start:end].strip() for start, end in spans)
    assert {i for i, c in enumerate(text) if not c.isspace()} <= set(covered)


DEAL = watch(
    [
        {
            "id": "deal",
            "about": ["altman", "nvidia", "arm", "korea"],
            "topic": ["fab", "인수", "deal", "클러스터"],
        }
    ]
)


@pytest.mark.parametrize(
    ("text", "attributed"),
    [
        pytest.param("알트먼은 인수에 550억 달러를 썼다.", True, id="알트먼은"),
        pytest.param("엔비디아의 인수 금액은 550억 달러다.", True, id="엔비디아의"),
        pytest.param("정부는 클러스터에 550억 달러를 쓴다.", True, id="정부는"),
        pytest.param("대한민국 클러스터에 550억 달러.", False, id="한국 not in 대한민국"),
        pytest.param("ARM을 550억 달러에 인수했다.", True, id="ARM을"),
        pytest.param("Nvidia plans a fab for $55 billion.", True, id="fab"),
        pytest.param("Nvidia's fabs cost $55 billion.", True, id="Nvidia's fabs"),
        pytest.param("Nvidia had a fabulous $55 billion year.", False, id="fabulous"),
        pytest.param("NVIDIA signed a $55 billion deal.", True, id="long alias, any case"),
        pytest.param("Arm's $55 billion deal.", True, id="Arm's"),
        pytest.param("The army signed a $55 billion deal.", False, id="army"),
        pytest.param("The Army signed a $55 billion deal.", False, id="Army"),
        pytest.param("ARMY signed a $55 billion deal.", False, id="ARMY"),
        pytest.param("Arms makers: a $55 billion deal.", False, id="Arms"),
        pytest.param("An arm of it: a $55 billion deal.", False, id="arm, lower case"),
        pytest.param("Sam  Altman's $55 billion deal.", True, id="spaces in alias"),
        pytest.param("Nvidia's $55 billion dealer network.", False, id="dealer"),
    ],
)
def test_alias_and_topic_matching(text: str, attributed: bool) -> None:
    written = "$55 billion" if "$" in text else "550억 달러"
    assert claims_of(run(DEAL, text, at(text, written, 55e9))) == (["deal"] if attributed else [])


def test_title_supplies_the_entity() -> None:
    text = "The deal is worth $55 billion."
    figure = at(text, "$55 billion", 55e9)
    [found] = run(DEAL, text, figure, title="Nvidia eyes Arm")
    assert (found.claim, found.quote, found.index) == ("deal", text, 0)
    assert run(DEAL, text, figure, title="Markets today") == []


def test_title_weighs_less_than_the_sentence() -> None:
    w = watch(
        [
            {"id": "altman-deal", "about": ["altman"], "topic": ["deal"]},
            {"id": "nvidia-deal", "about": ["nvidia"], "topic": ["deal"]},
        ]
    )
    text = "Nvidia's deal is worth $55 billion."
    [found] = run(w, text, at(text, "$55 billion", 55e9), title="Altman and the deal")
    assert found.claim == "nvidia-deal"


def test_a_tie_is_ambiguous() -> None:
    w = watch(
        [
            {"id": "deal", "about": ["nvidia"], "topic": ["deal"]},
            {"id": "takeover", "about": ["nvidia"], "topic": ["takeover"]},
        ]
    )
    text = "Nvidia's takeover deal is worth $55 billion."
    [found] = run(w, text, at(text, "$55 billion", 55e9))
    assert (found.claim, found.candidates) == (None, ("deal", "takeover"))


NEED_AND_RAISED = watch(
    [
        {
            "id": "target",
            "about": ["altman"],
            "topic": ["needs", "필요한", "자금"],
            "value": "5조~7조 달러",
        },
        {
            "id": "raised",
            "about": ["altman"],
            "topic": ["raised", "so far", "조달했"],
            "value": "1조 달러",
        },
    ]
)


@pytest.mark.parametrize(
    ("title", "text", "first", "second"),
    [
        pytest.param(
            "",
            "Altman needs $9 trillion and has raised $2 trillion so far.",
            "$9 trillion",
            "$2 trillion",
            id="English",
        ),
        pytest.param(
            "샘 알트먼의 반도체 투자",
            "이 프로젝트는 8조 달러의 자금이 필요한데, 현재까지 2조 달러를 조달했으며, 높습니다.",
            "8조 달러",
            "2조 달러",
            id="Korean",
        ),
    ],
)
def test_figures_of_one_sentence_go_to_the_claim_of_their_clause(
    title: str, text: str, first: str, second: str
) -> None:
    # Neither figure is a known value, so the clause alone decides.
    figures = [at(text, first, 9 * T), at(text, second, 2 * T)]
    assert claims_of(run(NEED_AND_RAISED, text, *figures, title=title)) == ["target", "raised"]


def test_a_known_value_is_no_evidence() -> None:
    # 7조 달러 is the target's stated range's end: without a word of the claim's topic it
    # stays untied, as any other figure would (a market forecast often equals a claim).
    text = "그러나 Altman의 7조 달러는 비현실적인 수치입니다."
    for value in (7 * T, 9 * T):
        assert run(NEED_AND_RAISED, text, at(text, "7조 달러", value)) == []


def test_words_inside_a_figure_do_not_count() -> None:
    # "9천 조달러" holds 조달, a topic word of the money raised.
    w = watch([{"id": "raised", "about": ["altman"], "topic": ["조달"]}])
    text = "알트먼은 9천 조달러를 원한다."
    assert run(w, text, at(text, "9천 조달러", 9e15, mixup="KRW")) == []
    text = "알트먼은 9천 조달러를 조달했다."
    assert claims_of(run(w, text, at(text, "9천 조달러", 9e15))) == ["raised"]


def test_a_conversion_is_left_to_its_original() -> None:
    text = "Nvidia's deal: 55조 원($41 billion)."
    original = at(text, "55조 원", 55 * T, currency="KRW")
    converted = at(text, "$41 billion", 41e9, conversion_of=0)
    assert [a.index for a in run(DEAL, text, original, converted)] == [0]


def test_index_is_the_figures_place_in_the_list() -> None:
    text = "Markets fell. Nvidia's deal is worth $55 billion."
    figures = [at(text, "Markets", 1.0), at(text, "$55 billion", 55e9)]
    [found] = run(DEAL, text, *figures)
    assert (found.index, found.quote) == (1, "Nvidia's deal is worth $55 billion.")


def test_no_figures_no_work() -> None:
    assert run(DEAL, "Nvidia's deal.") == []
