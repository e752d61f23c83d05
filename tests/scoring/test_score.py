"""Worked examples of SPEC §5: target resolution, the scoring methods, status, ranks, goals."""

from __future__ import annotations

import decimal
from decimal import Decimal as D

import pytest

from kpi_engine.config.model import Band, ScorePoints, Scoring, Target
from kpi_engine.config.scalars import Duration
from kpi_engine.scoring.score import (
    ResolvedTarget,
    ScoringError,
    assess,
    competition_ranks,
    goal_attainment,
    goal_status,
    resolve_points,
    score,
    seconds_per_unit,
    status,
    to_decimal12,
)

POINTS = ScorePoints()
HIGHER = ResolvedTarget(threshold=D("0.7"), target=D("0.8"), stretch=D("0.9"))
LOWER = ResolvedTarget(threshold=D("15"), target=D("10"), stretch=D("5"))
RANGE = ResolvedTarget(min=D(15), max=D(20), threshold_min=D(10), threshold_max=D(25))
LINEAR = Scoring("linear")
RATIO = Scoring("ratio")
BINARY = Scoring("binary")
BANDS_UP = Scoring("bands", (Band(D("0.7"), D("0.5")), Band(D("0.8"), D("1")), Band(D("0.9"), D("1.2"))))
BANDS_DOWN = Scoring("bands", (Band(D(15), D("0.5")), Band(D(10), D("1")), Band(D(5), D("1.2"))))


# --- linear -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.76", "0.8"),  # the SPEC check: 76% vs threshold 70% / target 80%
        ("0.69", "0"),  # worse than the worst point
        ("0.7", "0.5"),  # at the threshold: its score
        ("0.8", "1"),
        ("0.85", "1.25"),
        ("0.9", "1.5"),
        ("0.99", "1.5"),  # better than the best point: its score
    ],
    ids=lambda x: str(x),
)
def test_linear_higher(value: str, expected: str) -> None:
    assert score(D(value), HIGHER, "higher", LINEAR, POINTS) == D(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", "0.8"),  # mirrored: 12 between threshold 15 and target 10
        ("15.5", "0"),
        ("15", "0.5"),
        ("10", "1"),
        ("7.5", "1.25"),
        ("5", "1.5"),
        ("0", "1.5"),
    ],
    ids=lambda x: str(x),
)
def test_linear_lower_is_mirrored(value: str, expected: str) -> None:
    assert score(D(value), LOWER, "lower", LINEAR, POINTS) == D(expected)


def test_linear_default_method_is_linear() -> None:
    assert score(D("0.76"), HIGHER, "higher", None, POINTS) == D("0.8")


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [
        ("higher", "0.79", "0"),
        ("higher", "0.8", "1"),
        ("higher", "5", "1"),
        ("lower", "10.01", "0"),
        ("lower", "10", "1"),
        ("lower", "-3", "1"),
    ],
)
def test_linear_with_only_a_target(direction: str, value: str, expected: str) -> None:
    only = ResolvedTarget(target=D("0.8") if direction == "higher" else D(10))
    assert score(D(value), only, direction, LINEAR, POINTS) == D(expected)  # type: ignore[arg-type]


def test_linear_uses_the_organizations_score_points() -> None:
    points = ScorePoints(threshold=D("0.4"), target=D("1"), stretch=D("1.2"))
    assert score(D("0.75"), HIGHER, "higher", LINEAR, points) == D("0.7")
    assert score(D("0.95"), HIGHER, "higher", LINEAR, points) == D("1.2")


# --- ratio, binary, bands, range -------------------------------------------------------


@pytest.mark.parametrize(
    ("direction", "target", "value", "expected"),
    [
        ("higher", "0.8", "0.6", "0.75"),
        ("higher", "0.8", "2", "1.5"),  # capped at the stretch score
        ("higher", "0.8", "-1", "0"),  # floored at 0
        ("lower", "10", "20", "0.5"),
        ("lower", "10", "5", "1.5"),  # 200% capped at 150%
        ("lower", "10", "0", "1.5"),  # value 0 for lower: the cap
        ("lower", "10", "-4", "1.5"),
    ],
)
def test_ratio(direction: str, target: str, value: str, expected: str) -> None:
    t = ResolvedTarget(target=D(target))
    assert score(D(value), t, direction, RATIO, POINTS) == D(expected)  # type: ignore[arg-type]


def test_ratio_needs_a_positive_target() -> None:
    with pytest.raises(ScoringError):
        score(D(1), ResolvedTarget(target=D(0)), "higher", RATIO, POINTS)


@pytest.mark.parametrize(
    ("direction", "target", "value", "expected"),
    [
        ("higher", HIGHER, "0.8", "1"),
        ("higher", HIGHER, "0.79999", "0"),
        ("lower", LOWER, "10", "1"),
        ("lower", LOWER, "10.001", "0"),
    ],
)
def test_binary(direction: str, target: ResolvedTarget, value: str, expected: str) -> None:
    assert score(D(value), target, direction, BINARY, POINTS) == D(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.69", "0"),
        ("0.7", "0.5"),
        ("0.75", "0.5"),
        ("0.8", "1"),
        ("0.8999", "1"),
        ("0.9", "1.2"),
        ("1", "1.2"),
    ],
)
def test_bands_higher_from_edges(value: str, expected: str) -> None:
    assert score(D(value), None, "higher", BANDS_UP, POINTS) == D(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15.01", "0"),
        ("15", "0.5"),
        ("12", "0.5"),
        ("10", "1"),
        ("5.5", "1"),
        ("5", "1.2"),
        ("0", "1.2"),
    ],
)
def test_bands_lower_to_edges(value: str, expected: str) -> None:
    assert score(D(value), None, "lower", BANDS_DOWN, POINTS) == D(expected)


def test_bands_with_duration_edges_in_the_value_unit() -> None:
    bands = Scoring("bands", (Band(Duration(D(4 * 3600)), D("0.5")), Band(Duration(D(2 * 3600)), D(1))))
    hours = seconds_per_unit("hours")
    assert score(D("2"), None, "lower", bands, POINTS, unit_seconds=hours) == D(1)
    assert score(D("3"), None, "lower", bands, POINTS, unit_seconds=hours) == D("0.5")
    assert score(D("240"), None, "lower", bands, POINTS, unit_seconds=seconds_per_unit("minutes")) == D("0.5")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15", "1"),
        ("17", "1"),
        ("20", "1"),  # inside, at both ends
        ("12.5", "0.5"),
        ("22.5", "0.5"),  # halfway to a threshold
        ("10", "0"),
        ("25", "0"),  # at the thresholds
        ("9", "0"),
        ("30", "0"),  # beyond
    ],
)
def test_range(value: str, expected: str) -> None:
    assert score(D(value), RANGE, "range", None, POINTS) == D(expected)


def test_range_without_thresholds_is_zero_outside() -> None:
    t = ResolvedTarget(min=D(15), max=D(20))
    assert [score(D(v), t, "range", None, POINTS) for v in (14, 15, 20, 21)] == [0, 1, 1, 0]


def test_range_ignores_the_scoring_method() -> None:
    assert score(D("12.5"), RANGE, "range", RATIO, POINTS) == D("0.5")


def test_a_float_value_raises_float_operation() -> None:
    with pytest.raises(decimal.FloatOperation):
        score(0.76, HIGHER, "higher", LINEAR, POINTS)  # type: ignore[arg-type]


# --- relative targets and units ---------------------------------------------------------


def test_vs_previous_change() -> None:
    t = resolve_points(Target(vs="previous", change=D("0.1")), D(200), None)
    assert t == ResolvedTarget(target=D(220))


def test_vs_previous_all_three_points() -> None:
    t = Target(vs="previous", threshold_change=D(0), change=D("0.1"), stretch_change=D("0.2"))
    assert resolve_points(t, D(50), None) == ResolvedTarget(threshold=D(50), target=D(55), stretch=D(60))


def test_vs_previous_halving_for_lower() -> None:
    assert resolve_points(Target(vs="previous", change=D("-0.5")), D(30), None, "lower") == ResolvedTarget(target=D(15))


@pytest.mark.parametrize("previous", [None, D(0), D("0.0")])
def test_vs_previous_without_a_base_gives_no_data(previous: D | None) -> None:
    target = Target(vs="previous", change=D("0.1"))
    assert resolve_points(target, previous, None) is None
    got = assess(D(5), 40, target, "higher", None, POINTS, previous_value=previous)
    assert (got.status, got.score) == ("no_data", None)


def test_benchmark_better_by() -> None:
    lower = Target(benchmark=Duration(D(24 * 3600)), better_by=D("0.25"))
    assert resolve_points(lower, None, seconds_per_unit("hours"), "lower") == ResolvedTarget(target=D(18))
    assert resolve_points(lower, None, None, "lower") == ResolvedTarget(target=D(18 * 3600))
    higher = Target(benchmark=D(200), better_by=D("0.25"))
    assert resolve_points(higher, None, None, "higher") == ResolvedTarget(target=D(250))


def test_duration_points_convert_to_the_value_unit() -> None:
    t = Target(threshold=Duration(D(24 * 3600)), target=Duration(D(8 * 3600)))
    assert resolve_points(t, None, seconds_per_unit("hours"), "lower") == ResolvedTarget(threshold=D(24), target=D(8))
    assert resolve_points(t, None, seconds_per_unit("days"), "lower").target == to_decimal12(D(1) / 3)  # type: ignore[union-attr]
    assert resolve_points(t, None, None, "lower") == ResolvedTarget(threshold=D(86400), target=D(28800))


def test_a_value_that_prints_like_its_duration_target_meets_it() -> None:
    # 100 s in minutes is 1.666…; value and point are both rounded to 12 digits, so they are equal
    t = resolve_points(Target(target=Duration(D(100))), None, seconds_per_unit("minutes"), "lower")
    assert status(to_decimal12(100 / 60), 30, t, "lower") == "green"


# --- 12 significant digits ----------------------------------------------------------------


def test_share_of_six_tenths_meets_sixty_percent() -> None:
    share = 6 / 10
    target = Target(threshold=D("0.5"), target=D("0.6"))
    got = assess(share, 10, target, "higher", None, POINTS)
    assert (got.status, got.score) == ("green", D(1))


@pytest.mark.parametrize(
    ("x", "expected"),
    [
        (0.1 + 0.2, "0.3"),
        (1 / 3, "0.333333333333"),
        (D("1234567.89012345"), "1234567.89012"),
        (123456789012345, "123456789012000"),
        (-0.0, "0"),
        (7, "7"),
        (D("2.5000"), "2.5"),
    ],
)
def test_to_decimal12(x: float | D | int, expected: str) -> None:
    assert str(to_decimal12(x)) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), D("NaN"), D("-Infinity")])
def test_to_decimal12_refuses_non_finite(bad: float | D) -> None:
    with pytest.raises(ValueError):
        to_decimal12(bad)


# --- status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"in_force": False, "n": 0, "value": None}, "not_in_force"),
        ({"n": 0, "value": None}, "no_data"),
        ({"n": 0, "value": D(1), "min_sample": 5}, "no_data"),
        ({"n": 4, "value": D(1), "min_sample": 5, "valid": False}, "insufficient"),
        ({"n": 5, "value": D(1), "min_sample": 5, "valid": False}, "invalid"),
        ({"n": 5, "value": D(1), "valid": None}, "invalid"),
        ({"n": 5, "value": None}, "no_data"),
        ({"n": 5, "value": D("0.8")}, "green"),
        ({"n": 5, "value": D("0.75")}, "yellow"),
        ({"n": 5, "value": D("0.7")}, "yellow"),
        ({"n": 5, "value": D("0.69")}, "red"),
    ],
    ids=lambda x: str(x),
)
def test_status_order(kwargs: dict[str, object], expected: str) -> None:
    value, n = kwargs.pop("value"), kwargs.pop("n")
    assert status(value, n, HIGHER, "higher", **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [("10", "green"), ("12", "yellow"), ("15", "yellow"), ("16", "red")])
def test_status_lower(value: str, expected: str) -> None:
    assert status(D(value), 3, LOWER, "lower") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("15", "green"),
        ("20", "green"),
        ("12", "yellow"),
        ("10", "yellow"),
        ("25", "yellow"),
        ("9.9", "red"),
        ("25.1", "red"),
    ],
)
def test_status_range(value: str, expected: str) -> None:
    assert status(D(value), 3, RANGE, "range") == expected


def test_status_range_without_thresholds() -> None:
    t = ResolvedTarget(min=D(15), max=D(20))
    assert [status(D(v), 3, t, "range") for v in (14, 17, 21)] == ["red", "green", "red"]


def test_no_target_has_no_status_but_earlier_statuses_still_apply() -> None:
    assert status(D(1), 3, None, "higher") is None
    assert status(None, 0, None, "higher") == "no_data"


def test_assess_scores_only_green_yellow_red() -> None:
    target = Target(threshold=D("0.7"), target=D("0.8"))
    assert assess(D("0.76"), 40, target, "higher", None, POINTS) == assess(
        D("0.76"), 40, target, "higher", None, POINTS, min_sample=40
    )
    got = assess(D("0.76"), 40, target, "higher", None, POINTS)
    assert (got.status, got.score) == ("yellow", D("0.8"))
    got = assess(D("0.5"), 40, target, "higher", None, POINTS)
    assert (got.status, got.score) == ("red", D(0))
    got = assess(D("0.9"), 3, target, "higher", None, POINTS, min_sample=5)
    assert (got.status, got.score) == ("insufficient", None)
    assert assess(None, 3, target, "higher", None, POINTS).score is None


def test_assess_bands_without_target_is_scored_with_no_status() -> None:
    got = assess(D("0.85"), 10, None, "higher", BANDS_UP, POINTS)
    assert (got.status, got.score) == (None, D(1))
    assert assess(D("0.85"), 10, None, "higher", None, POINTS).score is None


# --- ranks and goals -------------------------------------------------------------------------


def test_competition_ranks_1224_with_nulls() -> None:
    items = [("a", D(90)), ("b", D(80)), ("c", D(80)), ("d", D(70)), ("e", None)]
    assert competition_ranks(items, "higher") == {"a": 1, "b": 2, "c": 2, "d": 4, "e": None}
    assert competition_ranks(items, "lower") == {"a": 4, "b": 2, "c": 2, "d": 1, "e": None}


def test_ranks_compare_at_twelve_digits_and_range_ranks_scores() -> None:
    items = [("a", D("0.1000000000001")), ("b", D("0.1")), ("c", D("0.2"))]
    assert competition_ranks(items, "higher") == {"c": 1, "a": 2, "b": 2}
    assert competition_ranks([("x", D("0.5")), ("y", D(1))], "range") == {"y": 1, "x": 2}
    assert competition_ranks([], "higher") == {}


def test_goal_status_is_the_worst() -> None:
    assert goal_status(["green", "yellow", "red"]) == "red"
    assert goal_status(["green", "no_data", "yellow"]) == "no_data"
    assert goal_status(["green", "not_in_force", None]) == "green"
    assert goal_status([None, "not_in_force"]) is None


def test_goal_attainment_caps_each_score_at_100_percent() -> None:
    assert goal_attainment([D("1.5"), D("0.5"), None]) == D("0.75")
    assert goal_attainment([None]) is None
