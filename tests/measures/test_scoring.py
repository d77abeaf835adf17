"""Scoring by the published rules; every expected number is from clinical-rules.md."""

import pytest

from kapcare.measures.scoring import ScoringError, parse_answers, score


def spread(total: int, count: int, maximum: int) -> list[int | None]:
    """`count` answers adding up to `total`, filling the first items first."""
    answers: list[int | None] = []
    for _ in range(count):
        value = min(maximum, total)
        answers.append(value)
        total -= value
    assert total == 0
    return answers


# PHQ-9: total 0-27; bands 0-4 none/minimal, 5-9 mild, 10-14 moderate,
# 15-19 moderately severe, 20-27 severe (Kroenke 2001; NHS DD).


def test_phq9_all_minimum_scores_zero_none_minimal() -> None:
    result = score("phq9", [0] * 9)
    assert (result.total, result.band, result.complete) == (0, "none/minimal", True)
    assert result.flags == ()
    assert result.subscales == {}
    assert result.risk is None


def test_phq9_all_maximum_scores_27_severe_and_flags_item_nine() -> None:
    result = score("phq9", [3] * 9)
    assert (result.total, result.band) == (27, "severe")
    assert result.flags == ("suicidal_ideation",)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "none/minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
    ],
)
def test_phq9_band_boundaries(total: int, band: str) -> None:
    result = score("phq9", spread(total, 9, 3))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize("item9", [1, 2, 3])
def test_it_flags_any_positive_item_nine(item9: int) -> None:
    assert "suicidal_ideation" in score("phq9", [0] * 8 + [item9]).flags


def test_it_flags_item_nine_even_when_the_total_is_not_scorable() -> None:
    result = score("phq9", [None, None, None, 0, 0, 0, 0, 0, 1])
    assert result.total is None
    assert result.flags == ("suicidal_ideation",)


def test_it_treats_a_skipped_item_nine_as_unknown_not_as_zero() -> None:
    result = score("phq9", [1] * 8 + [None])
    assert "item9_missing" in result.flags
    assert "suicidal_ideation" not in result.flags
    # NHS DD: the missing item takes the mean of the others (1), so 8 + 1 = 9.
    assert result.total == 9


def test_phq9_prorates_one_missing_item_from_the_mean() -> None:
    # 15 over 8 answered items: mean 1.875, total 15 + 1.875 = 16.875 (NHS DD).
    result = score("phq9", [None, 2, 2, 2, 2, 2, 2, 3, 0])
    assert result.total == 16.875
    assert result.band == "moderately severe"
    assert result.flags == ("prorated",)
    assert result.complete is False


def test_phq9_prorates_two_missing_items_without_rounding() -> None:
    # 6 over 7 answered items: total 6 + 2 * 6/7 = 54/7 (no rounding rule).
    result = score("phq9", [None, None, 1, 1, 1, 1, 1, 1, 0])
    assert result.total == pytest.approx(54 / 7)
    assert result.band == "mild"
    assert "prorated" in result.flags


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        # 8 over 8 answered: mean 1, prorated 9, below the cut-point 10.
        ([None, 1, 1, 1, 1, 1, 1, 1, 1], 9.0, "mild"),
        # 9 over 8 answered: 9 + 9/8 = 10.125, above the cut-point 10.
        ([None, 2, 1, 1, 1, 1, 1, 1, 1], 10.125, "moderate"),
    ],
)
def test_a_prorated_total_is_banded_by_the_cut_points(
    answers: list[int | None], total: float, band: str
) -> None:
    result = score("phq9", answers)
    assert (result.total, result.band) == (total, band)


def test_phq9_with_three_missing_items_is_not_scorable() -> None:
    result = score("phq9", [None, None, None, 1, 1, 1, 1, 1, 0])
    assert (result.total, result.band, result.complete) == (None, None, False)
    assert "prorated" not in result.flags


def test_the_difficulty_item_is_accepted_but_not_scored() -> None:
    without = score("phq9", [2] * 8 + [0])
    with_difficulty = score("phq9", [2] * 8 + [0, 3])
    assert without.total == with_difficulty.total == 16


def test_an_unanswered_difficulty_item_leaves_the_response_complete() -> None:
    assert score("phq9", [0] * 9 + [None]).complete is True


def test_it_names_the_item_with_an_out_of_range_value() -> None:
    with pytest.raises(ScoringError, match=r"^PHQ-9 item 3: 4 is outside 0-3\.$"):
        score("phq9", [0, 0, 4, 0, 0, 0, 0, 0, 0])


def test_it_rejects_a_negative_value() -> None:
    with pytest.raises(ScoringError, match="PHQ-9 item 1: -1 is outside 0-3"):
        score("phq9", [-1] + [0] * 8)


def test_it_rejects_an_out_of_range_difficulty_answer() -> None:
    with pytest.raises(ScoringError, match=r"PHQ-9 item 10 \(difficulty\): 4"):
        score("phq9", [0] * 9 + [4])


def test_it_names_the_first_item_without_an_answer() -> None:
    with pytest.raises(ScoringError, match="PHQ-9 item 9: no answer given"):
        score("phq9", [0] * 8)


def test_it_names_an_extra_answer() -> None:
    with pytest.raises(ScoringError, match="PHQ-9 item 11: unexpected"):
        score("phq9", [0] * 11)


def test_it_rejects_a_boolean_answer() -> None:
    with pytest.raises(ScoringError, match="PHQ-9 item 1: True is not a whole number"):
        score("phq9", [True] + [0] * 8)


def test_it_rejects_an_unknown_instrument() -> None:
    with pytest.raises(ScoringError, match="Unknown instrument 'bdi'"):
        score("bdi", [0])


# GAD-7: total 0-21; cut-points 5, 10, 15 (Spitzer 2006); no proration rule.


def test_gad7_all_minimum_scores_zero_minimal() -> None:
    result = score("gad7", [0] * 7)
    assert (result.total, result.band, result.complete) == (0, "minimal", True)


def test_gad7_all_maximum_scores_21_severe() -> None:
    result = score("gad7", [3] * 7)
    assert (result.total, result.band) == (21, "severe")
    assert result.flags == ()


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
    ],
)
def test_gad7_band_boundaries(total: int, band: str) -> None:
    result = score("gad7", spread(total, 7, 3))
    assert (result.total, result.band) == (total, band)


def test_gad7_with_a_missing_item_is_not_scorable() -> None:
    result = score("gad7", [3, 3, 3, 3, 3, 3, None])
    assert (result.total, result.band, result.complete) == (None, None, False)
    assert result.flags == ()


def test_gad7_names_the_item_out_of_range() -> None:
    with pytest.raises(ScoringError, match="GAD-7 item 7: 4 is outside 0-3"):
        score("gad7", [0] * 6 + [4])


# PCL-5: 20 items 0-4, total 0-80; clusters B 1-5, C 6-7, D 8-14, E 15-20;
# provisional PTSD: items >= 2 count; >= 1 B, >= 1 C, >= 2 D, >= 2 E (NCPTSD).

ENDORSED_MINIMUM = [2, 0, 0, 0, 0, 2, 0, 2, 2, 0, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0]


def test_pcl5_all_minimum() -> None:
    result = score("pcl5", [0] * 20)
    assert (result.total, result.band, result.complete) == (0, None, True)
    assert result.subscales == {"B": 0, "C": 0, "D": 0, "E": 0}
    assert result.flags == ()


def test_pcl5_all_maximum() -> None:
    result = score("pcl5", [4] * 20)
    assert result.total == 80
    assert result.subscales == {"B": 20, "C": 8, "D": 28, "E": 24}
    assert result.flags == ("provisional_ptsd",)


def test_pcl5_has_no_severity_bands() -> None:
    assert score("pcl5", [3] * 20).band is None


def test_pcl5_meets_the_cluster_rule_with_the_fewest_endorsed_items() -> None:
    result = score("pcl5", ENDORSED_MINIMUM)
    assert result.total == 12
    assert result.subscales == {"B": 2, "C": 2, "D": 4, "E": 4}
    assert result.flags == ("provisional_ptsd",)


@pytest.mark.parametrize("item", [1, 6, 8, 15], ids=["no B", "no C", "one D", "one E"])
def test_pcl5_misses_the_cluster_rule_one_item_short(item: int) -> None:
    answers = list(ENDORSED_MINIMUM)
    answers[item - 1] = 1
    assert "provisional_ptsd" not in score("pcl5", answers).flags


def test_pcl5_does_not_count_a_little_bit_as_endorsed() -> None:
    result = score("pcl5", [1] * 20)
    assert result.total == 20
    assert result.flags == ()


def test_pcl5_can_meet_the_cluster_rule_below_the_cut_point_range() -> None:
    """Trap 7: the cluster rule and the 31-33 cut-point can disagree."""
    assert score("pcl5", ENDORSED_MINIMUM).total == 12
    assert score("pcl5", ENDORSED_MINIMUM).flags == ("provisional_ptsd",)


def test_pcl5_with_a_missing_item_keeps_only_the_complete_clusters() -> None:
    answers: list[int | None] = [4] * 20
    answers[6] = None  # item 7, cluster C
    result = score("pcl5", answers)
    assert (result.total, result.complete) == (None, False)
    assert result.subscales == {"B": 20, "C": None, "D": 28, "E": 24}
    assert result.flags == ()


def test_pcl5_names_the_item_out_of_range() -> None:
    with pytest.raises(ScoringError, match="PCL-5 item 20: 5 is outside 0-4"):
        score("pcl5", [0] * 19 + [5])


# C-SSRS screener: values are questions 1-6 then "within the past 3 months".


@pytest.mark.parametrize(
    ("answers", "risk"),
    [
        ((0, 0, None, None, None, 0, None), "none"),
        ((0, 1, 0, 0, 0, 0, None), "low"),
        ((1, 0, None, None, None, 0, None), "low"),
        ((1, 1, 0, 0, 0, 0, None), "low"),
        ((1, 1, 1, 0, 0, 0, None), "moderate"),
        ((0, 0, None, None, None, 1, 0), "moderate"),
        ((1, 1, 0, 1, 0, 0, None), "high"),
        ((1, 1, 0, 0, 1, 0, None), "high"),
        ((0, 0, None, None, None, 1, 1), "high"),
        ((1, 1, 1, 1, 1, 1, 1), "high"),
    ],
    ids=[
        "all no",
        "q2 only",
        "q1 only",
        "q1 and q2",
        "q3 method",
        "behaviour over 3 months ago",
        "q4 intent",
        "q5 plan",
        "behaviour within 3 months",
        "all yes",
    ],
)
def test_cssrs_risk_levels(answers: tuple[int | None, ...], risk: str) -> None:
    result = score("cssrs_screener", answers)
    assert result.risk == risk
    assert result.complete is True
    assert (result.total, result.band) == (None, None)


def test_cssrs_refuses_an_answer_to_a_question_skipped_after_a_no_to_two() -> None:
    with pytest.raises(ScoringError, match="C-SSRS screener question 3: not asked"):
        score("cssrs_screener", [1, 0, 0, None, None, 0, None])


def test_cssrs_refuses_a_timing_answer_without_behaviour() -> None:
    with pytest.raises(
        ScoringError,
        match=r"question 6 \(within the past 3 months\): asked only when",
    ):
        score("cssrs_screener", [0, 0, None, None, None, 0, 1])


def test_cssrs_without_the_timing_of_behaviour_has_no_risk_level() -> None:
    result = score("cssrs_screener", [0, 0, None, None, None, 1, None])
    assert (result.risk, result.complete) == (None, False)


def test_cssrs_intent_is_high_risk_even_if_a_later_answer_is_missing() -> None:
    result = score("cssrs_screener", [1, 1, 0, 1, 0, None, None])
    assert (result.risk, result.complete) == ("high", False)


def test_cssrs_missing_question_three_after_a_yes_to_two_is_incomplete() -> None:
    result = score("cssrs_screener", [1, 1, None, 0, 0, 0, None])
    assert (result.risk, result.complete) == (None, False)


def test_cssrs_names_the_question_out_of_range() -> None:
    with pytest.raises(
        ScoringError, match="C-SSRS screener question 1: 2 is outside 0-1"
    ):
        score("cssrs_screener", [2, 0, None, None, None, 0, None])


def test_cssrs_needs_the_seventh_value() -> None:
    with pytest.raises(ScoringError, match=r"question 6 \(within the past 3 months\)"):
        score("cssrs_screener", [0, 0, None, None, None, 0])


# QIDS-SR16: 16 items 0-3; total = max(1-4) + 5 + max(6-9) + 10 + 11 + 12 + 13
# + 14 + max(15, 16), 0-27; bands 0-5 none, 6-10 mild, 11-15 moderate,
# 16-20 severe, 21-27 very severe (Rush 2003; ids-qids.org).

FIRST_ITEM_OF_DOMAIN = (1, 5, 6, 10, 11, 12, 13, 14, 15)


def qids(total: int) -> list[int | None]:
    """Answers whose domains add up to `total`, one item per domain."""
    answers: list[int | None] = [0] * 16
    for number, value in zip(FIRST_ITEM_OF_DOMAIN, spread(total, 9, 3), strict=True):
        answers[number - 1] = value
    return answers


def test_qids_all_minimum_scores_zero_none() -> None:
    result = score("qids_sr16", [0] * 16)
    assert (result.total, result.band, result.complete) == (0, "none", True)
    assert result.flags == ()


def test_qids_all_maximum_scores_27_not_48() -> None:
    result = score("qids_sr16", [3] * 16)
    assert (result.total, result.band) == (27, "very severe")
    assert result.flags == ("suicidal_ideation",)


def test_qids_all_ones_scores_nine_domains_not_sixteen_items() -> None:
    assert score("qids_sr16", [1] * 16).total == 9


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (5, "none"),
        (6, "mild"),
        (10, "mild"),
        (11, "moderate"),
        (15, "moderate"),
        (16, "severe"),
        (20, "severe"),
        (21, "very severe"),
    ],
)
def test_qids_band_boundaries(total: int, band: str) -> None:
    result = score("qids_sr16", qids(total))
    assert (result.total, result.band) == (total, band)


@pytest.mark.parametrize(
    ("domain", "items"),
    [
        ("sleep", (1, 2, 3, 4)),
        ("appetite_weight", (6, 7, 8, 9)),
        ("psychomotor", (15, 16)),
    ],
)
def test_qids_scores_the_highest_item_of_a_domain(
    domain: str, items: tuple[int, ...]
) -> None:
    for highest in items:
        answers: list[int | None] = [0] * 16
        for number in items:
            answers[number - 1] = 1
        answers[highest - 1] = 3
        result = score("qids_sr16", answers)
        assert result.subscales[domain] == 3
        assert result.total == 3


def test_qids_reports_the_nine_domains() -> None:
    result = score("qids_sr16", [0, 0, 3, 0, 2, 0, 1, 0, 0, 1, 2, 0, 1, 3, 2, 0])
    assert result.subscales == {
        "sleep": 3,
        "feeling_sad": 2,
        "appetite_weight": 1,
        "concentration": 1,
        "view_of_myself": 2,
        "thoughts_of_death_or_suicide": 0,
        "general_interest": 1,
        "energy_level": 3,
        "psychomotor": 2,
    }
    assert result.total == 15


def test_qids_flags_a_positive_item_twelve() -> None:
    answers: list[int | None] = [0] * 16
    answers[11] = 1
    assert score("qids_sr16", answers).flags == ("suicidal_ideation",)


def test_qids_with_a_missing_item_is_not_scorable() -> None:
    answers: list[int | None] = [1] * 16
    answers[6] = None
    result = score("qids_sr16", answers)
    assert (result.total, result.band, result.complete) == (None, None, False)
    assert result.subscales["appetite_weight"] is None
    assert result.subscales["sleep"] == 1


def test_qids_treats_a_missing_item_twelve_as_unknown() -> None:
    answers: list[int | None] = [0] * 16
    answers[11] = None
    assert score("qids_sr16", answers).flags == ("item12_missing",)


# MADRS: 10 items 0-6, total 0-60; Snaith 1986: 0-6 normal/absent, 7-19 mild,
# 20-34 moderate, 35-60 severe.


def test_madrs_all_minimum() -> None:
    result = score("madrs", [0] * 10)
    assert (result.total, result.band, result.complete) == (0, "normal/absent", True)


def test_madrs_all_maximum() -> None:
    result = score("madrs", [6] * 10)
    assert (result.total, result.band) == (60, "severe")
    assert result.flags == ("suicidal_ideation",)


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (6, "normal/absent"),
        (7, "mild"),
        (19, "mild"),
        (20, "moderate"),
        (34, "moderate"),
        (35, "severe"),
    ],
)
def test_madrs_band_boundaries(total: int, band: str) -> None:
    result = score("madrs", spread(total, 10, 6))
    assert (result.total, result.band) == (total, band)


def test_madrs_flags_a_positive_item_ten() -> None:
    assert score("madrs", [0] * 9 + [1]).flags == ("suicidal_ideation",)


def test_madrs_with_a_missing_item_is_not_scorable() -> None:
    result = score("madrs", [None] + [2] * 9)
    assert (result.total, result.band, result.complete) == (None, None, False)


def test_madrs_names_the_item_out_of_range() -> None:
    with pytest.raises(ScoringError, match="MADRS item 4: 7 is outside 0-6"):
        score("madrs", [0, 0, 0, 7, 0, 0, 0, 0, 0, 0])


# MSM: total 3-15; mild 3-6, moderate 7-10, severe 11-15 (Fekadu 2018 Table 3).


def test_msm_all_minimum_scores_three_mild() -> None:
    result = score("msm", [1, 1, 1, 0, 0])
    assert (result.total, result.band, result.complete) == (3, "mild", True)


def test_msm_all_maximum_scores_fifteen_severe() -> None:
    assert score("msm", [3, 5, 5, 1, 1]).total == 15
    assert score("msm", [3, 5, 5, 1, 1]).band == "severe"


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        ([2, 2, 2, 0, 0], 6, "mild"),
        ([2, 3, 2, 0, 0], 7, "moderate"),
        ([3, 4, 2, 1, 0], 10, "moderate"),
        ([3, 4, 2, 1, 1], 11, "severe"),
    ],
)
def test_msm_band_boundaries(answers: list[int | None], total: int, band: str) -> None:
    result = score("msm", answers)
    assert (result.total, result.band) == (total, band)


def test_msm_is_undefined_without_a_failed_antidepressant() -> None:
    with pytest.raises(ScoringError, match=r"MSM treatment failure: antidepressants"):
        score("msm", [1, 1, 0, 0, 0])


def test_msm_with_a_missing_dimension_is_not_scorable() -> None:
    result = score("msm", [1, 1, 1, None, 0])
    assert (result.total, result.complete) == (None, False)


# CADSS (23 items, provisional 0-4 each): only what the reference supports.


def test_cadss_all_minimum_and_maximum() -> None:
    assert score("cadss", [0] * 23).total == 0
    assert score("cadss", [4] * 23).total == 92
    assert score("cadss", [4] * 23).band is None


def test_cadss_needs_23_answers() -> None:
    with pytest.raises(ScoringError, match="CADSS item 23: no answer given"):
        score("cadss", [0] * 22)


# Command-line parsing.


def test_it_parses_a_dash_as_unanswered() -> None:
    assert parse_answers("gad7", ["1", "-", "3", "0", "0", "0", "2"]) == [
        1,
        None,
        3,
        0,
        0,
        0,
        2,
    ]


@pytest.mark.parametrize("text", ["x", "1.5", "", "two"])
def test_it_names_the_item_that_is_not_a_number(text: str) -> None:
    with pytest.raises(ScoringError, match=r"GAD-7 item 2: .* is not a whole number"):
        parse_answers("gad7", ["1", text, "3", "0", "0", "0", "2"])


def test_cssrs_answers_people_gave_keep_a_contradictory_yes() -> None:
    """The CLI refuses these (above); forms keep them, flagged, never dropping a yes."""
    intent = score(
        "cssrs_screener", [0, 0, None, 1, None, 0, None], keep_contradictions=True
    )
    assert (intent.risk, intent.complete) == ("high", False)
    assert intent.flags == ("contradictory_answers",)
    timing = score("cssrs_screener", [1, 1, 0, 0, 0, 0, 1], keep_contradictions=True)
    assert timing.risk == "high"  # recent behaviour reported anyway
    clean = score(
        "cssrs_screener", [1, 0, None, None, None, 0, None], keep_contradictions=True
    )
    assert (clean.risk, clean.flags) == ("low", ())
