"""A figure's role decides its claim: whose money, what kind, where, and how it relates.

Each test is one sentence shape of real reporting, in English and in Korean, written for
these tests. The figures come from `extract`, as in the daemon.
"""

from __future__ import annotations

import pytest

from monitor.attribution import Attribution, explain
from monitor.figures import extract
from monitor.roles import kind_of, relation_of
from monitor.rules import Watch

FABS = Watch.model_validate(
    {
        "watch": "fabs",
        "title": "Chip fabs and their money",
        "entities": {
            "samsung": ["Samsung Electronics", "Samsung", "삼성전자", "삼성"],
            "intel": ["Intel", "인텔"],
            "openai": ["OpenAI", "오픈AI"],
            "nvidia": ["Nvidia", "엔비디아"],
            "arm": ["Arm", "ARM"],
        },
        "claims": [
            {
                "id": "samsung-us",
                "about": ["samsung"],
                "kind": ["investment"],
                "where": ["US"],
                "topic": ["fab", "plant", "plants", "factory", "chip", "공장", "반도체"],
                "value": "$17 billion",
                "as_of": "2021-11-24",
            },
            {
                "id": "samsung-grant",
                "about": ["samsung"],
                "kind": ["grant"],
                "topic": ["CHIPS", "grant", "보조금"],
                "value": "$6.4 billion",
                "as_of": "2024-04-15",
            },
            {
                "id": "intel-grant",
                "about": ["intel"],
                "kind": ["grant"],
                "topic": ["CHIPS", "grant", "보조금"],
                "value": "$8.5 billion",
                "as_of": "2024-03-20",
            },
            {
                "id": "openai-raised",
                "about": ["openai"],
                "kind": ["raised"],
                "topic": ["funding", "round", "투자"],
                "value": "$6.6 billion",
                "as_of": "2024-10-02",
            },
            {
                "id": "openai-valuation",
                "about": ["openai"],
                "kind": ["valuation"],
                "topic": ["valuation", "기업가치"],
                "value": "$157 billion",
                "as_of": "2024-10-02",
            },
            {
                "id": "arm-deal",
                "about": ["nvidia", "arm"],
                "kind": ["deal", "valuation"],
                "topic": ["Arm", "deal", "인수"],
                "value": "$40 billion",
                "as_of": "2020-09-13",
            },
        ],
    }
)


def decide(text: str, title: str = "") -> dict[str, Attribution]:
    """The decision on each figure of `title` + `text`, by the figure as written."""
    full = f"{title}\n{text}" if title else text
    return {d.figure.text: d for d in explain(FABS, title, full, extract(full))}


def reason(decision: Attribution, claim: str) -> str:
    return dict(decision.rejected)[claim]


# ------------------------------------------------------------------------------- holder


def test_another_company_named_as_subject_holds_the_money() -> None:
    got = decide("Intel plans to spend $100 billion on new plants.", "Samsung's Texas fab")
    assert got["$100 billion"].claim is None
    assert "Intel" in reason(got["$100 billion"], "samsung-us")


def test_the_possessive_names_the_holder() -> None:
    got = decide("Samsung's $17 billion plant in Taylor, Texas, is its largest.")
    assert got["$17 billion"].claim == "samsung-us"
    assert "held by Samsung" in got["$17 billion"].why


def test_korean_name_before_parenthesis_holds_the_figure() -> None:
    got = decide("삼성전자 보조금은 인텔(85억 달러)에 이어 두 번째로 크다.")
    assert got["85억 달러"].claim == "intel-grant"


def test_korean_subject_outranks_a_party_named_in_passing() -> None:
    got = decide("삼성전자도 인텔에 이어 64억 달러의 보조금을 받기로 했다.")
    assert got["64억 달러"].claim == "samsung-grant"


def test_each_side_of_a_comparison_has_its_own_holder() -> None:
    got = decide(
        "Samsung's $4.75 billion grant is far smaller than the $7.86 billion Intel received."
    )
    assert got["$4.75 billion"].claim == "samsung-grant"
    assert got["$7.86 billion"].claim == "intel-grant"


def test_who_reports_a_figure_does_not_hold_it() -> None:
    got = decide(
        "According to Reuters, Samsung plans to build a $44 billion chip plant in Texas.",
    )
    assert got["$44 billion"].claim == "samsung-us"


def test_a_grant_belongs_to_its_recipient_not_to_the_government() -> None:
    got = decide("미국 상무부는 삼성전자에 47억4500만 달러의 보조금을 준다고 발표했다.")
    assert got["47억4500만 달러"].claim == "samsung-grant"
    got = decide("The Commerce Department awarded Intel $7.86 billion in CHIPS grants.")
    assert got["$7.86 billion"].claim == "intel-grant"


def test_parties_named_together_share_the_money() -> None:
    got = decide("Samsung and SK hynix plan a $300 billion chip plant in Texas.")
    assert got["$300 billion"].claim is None
    assert "shared" in reason(got["$300 billion"], "samsung-us")


# --------------------------------------------------------------------------------- kind


def test_a_round_and_a_valuation_are_different_money() -> None:
    got = decide("OpenAI raises $6.6 billion in funding at $157 billion valuation")
    assert got["$6.6 billion"].claim == "openai-raised"
    assert got["$157 billion"].claim == "openai-valuation"


def test_korean_money_raised_is_not_an_investment() -> None:
    got = decide("오픈AI가 역대 최대 400억 달러의 투자를 유치했다.")
    assert got["400억 달러"].claim == "openai-raised"
    assert got["400억 달러"].role is not None
    assert got["400억 달러"].role.kind is not None
    assert got["400억 달러"].role.kind.value == "raised"


def test_a_price_target_is_not_a_deal_price() -> None:
    got = decide("Nvidia's Arm deal: Needham kept its Buy rating with a price target of $600.")
    assert got["$600"].claim is None


def test_a_grant_is_not_the_companys_investment() -> None:
    got = decide("Samsung will get a $6.4 billion grant for its Texas chip plant.")
    assert got["$6.4 billion"].claim == "samsung-grant"
    assert 'a grant ("grant")' in reason(got["$6.4 billion"], "samsung-us")


@pytest.mark.parametrize(
    ("segment", "kind"),
    [
        ("invest $5 billion", "investment"),
        ("a $5 billion grant", "grant"),
        ("plans to raise $5 billion", "target"),
        ("valued at $5 billion", "valuation"),
        ("5조 원을 투자", "investment"),
        ("5조 원의 투자를 유치", "raised"),
        ("5조 원 규모의 반도체 투자 지원금", "grant"),
        ("5조 원의 대출", "loan"),
        ("매출 5조 원", "revenue"),
        ("$5 billion in exports", "export"),
    ],
)
def test_kind_of_reads_the_nearest_cue(segment: str, kind: str) -> None:
    [figure] = extract(segment)
    cue = kind_of(segment, figure.start, figure.end)
    assert cue is not None and cue.value == kind


def test_no_cue_no_kind() -> None:
    assert kind_of("Could $7 trillion remake AI?", 6, 17) is None


# -------------------------------------------------------------------------------- place


def test_money_spent_elsewhere_is_not_the_us_claims() -> None:
    got = decide("Samsung Electronics has pledged to invest 500 trillion won in Yongin.")
    assert got["500 trillion won"].claim is None
    assert "placed in KR" in reason(got["500 trillion won"], "samsung-us")
    got = decide("삼성전자는 용인 국가산단에 팹 6기를 짓기 위해 360조 원을 투자한다.")
    assert got["360조 원"].claim is None


def test_a_us_place_ties() -> None:
    got = decide("삼성전자는 텍사스 테일러에 170억 달러를 투자해 반도체 공장을 짓는다.")
    assert got["170억 달러"].claim == "samsung-us"


# -------------------------------------------------------------------- relation to others


@pytest.mark.parametrize(
    ("text", "figure", "relation"),
    [
        (
            "Nvidia will acquire Arm for $12 billion in cash and $21.5 billion in stock.",
            "$12 billion",
            "part",
        ),
        ("엔비디아의 ARM 인수: 삼성전자 혼자 500조 원", "500조 원", "part"),
        (
            "Samsung will invest an additional $100 billion in Texas fabs.",
            "$100 billion",
            "increment",
        ),
        ("삼성전자는 텍사스 공장에 20조원을 더 투자한다.", "20조원", "increment"),
        (
            "Commerce will give Samsung an additional grant of $2 billion for Texas.",
            "$2 billion",
            "increment",
        ),
        ("Samsung gets $2 billion in additional CHIPS grants.", "$2 billion", "increment"),
        (
            "Intel's CHIPS grant is $600 million less than first announced.",
            "$600 million",
            "difference",
        ),
        ("인텔 보조금이 5억달러 넘게 줄었다.", "5억달러", "difference"),
        ("Each new plant would cost $12 billion for Samsung in Texas.", "$12 billion", "part"),
    ],
)
def test_parts_increments_and_differences_are_not_totals(
    text: str, figure: str, relation: str
) -> None:
    decision = decide(text)[figure]
    assert decision.claim is None
    assert decision.role is not None and decision.role.relation is not None
    assert decision.role.relation.value == relation


def test_amounts_listed_together_are_parts() -> None:
    got = decide("삼성전자의 텍사스 반도체 공장 투자액이 360조원, 122조원으로 가장 크다.")
    assert got["360조원"].claim is None and got["122조원"].claim is None


def test_a_change_reads_both_ends() -> None:
    got = decide(
        "삼성전자의 계획은 텍사스 공장 투자 규모를 "
        "기존 170억 달러에서 400억 달러 이상으로 확대하는 것이다."
    )
    assert got["170억 달러"].claim == "samsung-us"
    assert got["170억 달러"].figure.role == "from"
    assert got["400억 달러"].claim == "samsung-us"


def test_a_period_amount_is_not_the_total() -> None:
    cue = relation_of("민간 투자 ", " 이상", "정부는 올해 반도체 수출과 민간 투자 ")
    assert cue is not None and cue.value == "per_period"
    assert relation_of("", "", "a year later it had risen to ") is None


# --------------------------------------------------------------------- evidence, in words


def test_a_known_value_without_evidence_is_not_tied() -> None:
    # $17 billion is samsung-us's stated value, but nothing here says it is Samsung's.
    got = decide("Shares fell after $17 billion left the market.")
    assert got["$17 billion"].claim is None


def test_a_restated_figure_keeps_the_role_it_was_given() -> None:
    text = (
        "Commerce and Samsung agreed on $6.4 billion in direct CHIPS Act funding. "
        "The $6.4 billion further bolsters Samsung's investment in Texas."
    )
    first, again = explain(FABS, "", text, extract(text))
    assert (first.claim, again.claim) == ("samsung-grant", "samsung-grant")
    assert again.role is not None and again.role.restates == 0


def test_every_figure_is_explained_for_every_claim() -> None:
    text = "Samsung's $17 billion Texas plant. Intel plans to spend $100 billion."
    for decision in explain(FABS, "", text, extract(text)):
        named = {decision.claim, *decision.candidates} - {None}
        assert {claim for claim, _ in decision.rejected} | named == {c.id for c in FABS.claims}
        assert decision.why
        assert all(why for _, why in decision.rejected)


def test_a_conversion_follows_its_original() -> None:
    got = decide("삼성전자는 텍사스 공장에 170억 달러(약 23조 원)를 투자한다.")
    assert got["170억 달러"].claim == "samsung-us"
    assert got["23조 원"].claim is None
    assert got["23조 원"].why.startswith("a conversion of")


# ------------------------------------------------------------- shapes of ordinary news


@pytest.mark.parametrize(
    ("text", "figure", "claim"),
    [
        ("OpenAI raised $6.6 billion in new funding.", "$6.6 billion", "openai-raised"),
        (
            "South Korea's Samsung will invest $17 billion in a Texas chip plant.",
            "$17 billion",
            "samsung-us",
        ),
        (
            "Samsung, Intel's biggest rival, will invest $17 billion in a Texas chip plant.",
            "$17 billion",
            "samsung-us",
        ),
        (
            "Samsung will invest $17 billion and Intel $20 billion in Texas chip plants.",
            "$17 billion",
            "samsung-us",
        ),
        ("미국 정부는 삼성전자에 64억 달러의 보조금을 준다.", "64억 달러", "samsung-grant"),
        (
            "삼성전자는 건설이 중단됐던 텍사스 반도체 공장에 170억 달러를 투입한다.",
            "170억 달러",
            "samsung-us",
        ),
        (
            "삼성전자는 2차전지 공장 옆 텍사스 반도체 공장에 170억 달러를 투자한다.",
            "170억 달러",
            "samsung-us",
        ),
        (
            "경기 둔화에도 삼성전자는 텍사스 반도체 공장에 170억 달러를 투자한다.",
            "170억 달러",
            "samsung-us",
        ),
        ("This year, OpenAI raised $6.6 billion in funding.", "$6.6 billion", "openai-raised"),
        ("오픈AI는 66억 달러 규모의 투자 유치를 마쳤다.", "66억 달러", "openai-raised"),
        (
            "These come on top of Samsung's initial $17 billion investment in a Texas plant.",
            "$17 billion",
            "samsung-us",
        ),
        ("Nvidia will no longer spend $40 billion to acquire Arm.", "$40 billion", "arm-deal"),
        (
            "Officials confirmed that Samsung will receive a $6.4 billion grant to build its "
            "$17 billion chip plant in Texas.",
            "$17 billion",
            "samsung-us",
        ),
        (
            "Texas to Host Samsung's New $17bn Computer Chip Plant, Tech Giant's Biggest Bet",
            "$17bn",
            "samsung-us",
        ),
    ],
)
def test_ordinary_sentences_keep_their_claim(text: str, figure: str, claim: str) -> None:
    assert decide(text)[figure].claim == claim


def test_a_company_that_speaks_of_its_own_money_holds_it() -> None:
    got = decide("Intel said it plans to spend $100 billion on new plants.", "Samsung's Texas fab")
    assert got["$100 billion"].claim is None
    assert "Intel" in reason(got["$100 billion"], "samsung-us")


def test_a_figure_naming_its_own_holder_restates_nothing() -> None:
    text = "Samsung will invest $17 billion in a Texas chip plant. Intel has $17 billion too."
    first, second = explain(FABS, "", text, extract(text))
    assert first.claim == "samsung-us"
    assert second.claim is None and second.role is not None and second.role.restates is None


def test_pursuing_money_is_a_target_not_money_raised() -> None:
    segment = "오픈AI는 66억 달러 규모의 투자 유치를 추진하고 있다."
    [figure] = extract(segment)
    cue = kind_of(segment, figure.start, figure.end)
    assert cue is not None and (cue.value, cue.words) == ("target", "투자 유치를 추진")


def test_each_plant_after_the_figure_is_a_part() -> None:
    decision = decide("Samsung will spend $12 billion on each plant in Texas.")["$12 billion"]
    assert decision.claim is None
    assert decision.role is not None and decision.role.relation is not None
    assert decision.role.relation.value == "part"


def test_a_sentence_of_too_many_amounts_is_left_unread() -> None:
    text = "Samsung will invest " + ", ".join(f"${n} billion" for n in range(1, 121)) + " in Texas."
    decisions = explain(FABS, "", text, extract(text))
    assert len(decisions) == 120
    unread = [d for d in decisions if d.why.startswith("not read")]
    assert len(unread) == 120 - 50
    assert all(d.claim is None and not d.candidates for d in unread)


def test_an_ordinal_topic_word_is_read_however_it_is_written() -> None:
    kumamoto = Watch.model_validate(
        {
            "watch": "jp",
            "title": "Kumamoto",
            "entities": {"tsmc": ["TSMC"]},
            "claims": [
                {
                    "id": f"fab{n}",
                    "about": ["tsmc"],
                    "kind": ["grant"],
                    "topic": [f"{word} plant", f"제{n}공장", "subsidy", "보조금"],
                    "value": "476 billion yen",
                    "as_of": "2022-06-17",
                }
                for n, word in ((1, "first"), (2, "second"))
            ],
        }
    )
    for text in (
        "TSMC's 2nd plant may receive up to 900 billion yen in subsidy.",
        "TSMC will get a 900 billion yen subsidy for Plant 2.",
        "TSMC 2공장에 9000억엔 보조금.",
    ):
        [decision] = [d for d in explain(kumamoto, "", text, extract(text)) if d.role]
        assert decision.claim == "fab2", (text, decision.why)


@pytest.mark.parametrize(
    ("text", "figure"),
    [
        ("Samsung's total investment in Texas plants tops $47 billion since 1978.", "$47 billion"),
        ("Samsung will put an initial $5 billion into its Texas chip plant.", "$5 billion"),
        ("In 2023, OpenAI received a $10bn investment from Microsoft.", "$10bn"),
    ],
)
def test_cumulative_tranche_and_someone_elses_money_are_not_the_claims(
    text: str, figure: str
) -> None:
    assert decide(text)[figure].claim is None


@pytest.mark.parametrize(
    ("text", "figure"),
    [
        (
            "Commerce finalized an award of $4.7 billion to Samsung and up to $1.61 billion "
            "for Texas Instruments.",
            "$1.61 billion",
        ),
        ("2022년 칩스법은 삼성전자 보조금을 포함해 527억 달러를 배정했다.", "527억 달러"),
    ],
)
def test_a_name_holding_a_place_or_a_dated_korean_topic_is_a_party(text: str, figure: str) -> None:
    assert decide(text)[figure].claim is None
