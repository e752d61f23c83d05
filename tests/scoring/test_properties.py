"""Property tests: scores are monotone, payouts respect the cap, pools and weights sum exactly, no float enters."""

from __future__ import annotations

import decimal
from datetime import date, timedelta
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from kpi_engine.config.model import Band, BonusPlan, ScorePoints, Scoring, Target, TargetBonus
from kpi_engine.scoring.exact import exact_sum, to_decimal12
from kpi_engine.scoring.payout import PersonInput, allocate_pool, payout, proration_detail, round_money
from kpi_engine.scoring.score import (
    SCORED_STATUSES,
    Assessment,
    Assessor,
    AssessRow,
    ResolvedTarget,
    competition_ranks,
    score,
    status,
)
from kpi_engine.scoring.scorecard import EntryScore, total_score

values = st.decimals(min_value=-1000, max_value=1000, places=4, allow_nan=False, allow_infinity=False)
fractions_ = st.decimals(min_value=0, max_value=1, places=4, allow_nan=False, allow_infinity=False)
money = st.decimals(min_value=0, max_value=1_000_000, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def score_points(draw: st.DrawFn) -> ScorePoints:
    a, b, c = sorted(draw(st.lists(st.decimals(0, 3, places=2), min_size=3, max_size=3)))
    return ScorePoints(threshold=a, target=b, stretch=c)


@st.composite
def targets(draw: st.DrawFn, direction: str, positive: bool = False) -> ResolvedTarget:
    """Consistent points: threshold < target < stretch for higher, mirrored for lower; target always given."""
    low = D("0.01") if positive else D(-500)
    points = sorted(draw(st.lists(st.decimals(low, 500, places=2), min_size=3, max_size=3, unique=True)))
    if direction == "lower":
        points.reverse()
    threshold, target, stretch = points
    return ResolvedTarget(
        threshold=threshold if draw(st.booleans()) else None,
        target=target,
        stretch=stretch if draw(st.booleans()) else None,
    )


@st.composite
def bands(draw: st.DrawFn, direction: str) -> Scoring:
    edges = sorted(draw(st.lists(st.decimals(-500, 500, places=2), min_size=1, max_size=5, unique=True)))
    scores = sorted(draw(st.lists(st.decimals(0, 2, places=2), min_size=len(edges), max_size=len(edges))))
    if direction == "lower":
        edges.reverse()
    return Scoring("bands", tuple(Band(e, s) for e, s in zip(edges, scores, strict=True)))


def _monotone(direction: str, a: D, b: D, sa: D, sb: D) -> bool:
    low, high = (sa, sb) if a <= b else (sb, sa)
    return low <= high if direction == "higher" else low >= high


@pytest.mark.parametrize("direction", ["higher", "lower"])
@pytest.mark.parametrize("method", ["linear", "ratio", "binary"])
@given(data=st.data(), a=values, b=values)
def test_scores_are_monotone_in_the_value(direction: str, method: str, data: st.DataObject, a: D, b: D) -> None:
    target = data.draw(targets(direction, positive=method == "ratio"))
    points = data.draw(score_points())
    scoring = Scoring(method)  # type: ignore[arg-type]
    sa = score(a, target, direction, scoring, points)  # type: ignore[arg-type]
    sb = score(b, target, direction, scoring, points)  # type: ignore[arg-type]
    assert sa >= 0 and sb >= 0
    assert _monotone(direction, a, b, sa, sb)


@pytest.mark.parametrize("direction", ["higher", "lower"])
@given(data=st.data(), a=values, b=values)
def test_band_scores_are_monotone_in_the_value(direction: str, data: st.DataObject, a: D, b: D) -> None:
    scoring = data.draw(bands(direction))
    sa = score(a, None, direction, scoring, ScorePoints())  # type: ignore[arg-type]
    sb = score(b, None, direction, scoring, ScorePoints())  # type: ignore[arg-type]
    assert _monotone(direction, a, b, sa, sb)


@given(data=st.data(), value=values)
def test_linear_scores_stay_between_zero_and_the_best_point(data: st.DataObject, value: D) -> None:
    target = data.draw(targets("higher"))
    points = data.draw(score_points())
    assert 0 <= score(value, target, "higher", None, points) <= points.stretch


@given(
    value=values,
    lo=st.decimals(-100, 100, places=2),
    width=st.decimals(0, 50, places=2),
    pad_lo=st.decimals("0.01", 50, places=2),
    pad_hi=st.decimals("0.01", 50, places=2),
)
def test_range_scores_lie_in_zero_one(value: D, lo: D, width: D, pad_lo: D, pad_hi: D) -> None:
    t = ResolvedTarget(min=lo, max=lo + width, threshold_min=lo - pad_lo, threshold_max=lo + width + pad_hi)
    got = score(value, t, "range", None, ScorePoints())
    assert 0 <= got <= 1
    assert (got == 1) == (t.min <= value <= t.max)  # type: ignore[operator]


# --- payouts ---------------------------------------------------------------------------------

dates = st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31))


@given(
    total=st.none() | st.decimals(0, 3, places=6),
    gate=fractions_,
    cap=st.none() | st.decimals("0.5", 3, places=2),
    base=money,
    pct=fractions_,
    fte=st.none() | st.decimals(0, 1, places=2),
    hired=st.none() | dates,
    left=st.none() | dates,
    mode=st.sampled_from(["half_up", "half_even"]),
)
def test_payout_never_exceeds_cap_times_target_bonus_times_proration(
    total: D | None,
    gate: D,
    cap: D | None,
    base: D,
    pct: D,
    fte: D | None,
    hired: date | None,
    left: date | None,
    mode: str,
) -> None:
    plan = BonusPlan("p", ("s",), TargetBonus("percent", pct, "base"), gate=gate, cap=cap, rounding_mode=mode)  # type: ignore[arg-type]
    start, end = date(2025, 1, 1), date(2025, 12, 31)
    got = payout(plan, PersonInput("x", total, roster_value=base, fte=fte, hired=hired, left=left), start, end)
    detail = proration_detail(fte, hired, left, start, end)
    prorate = Fraction(detail.fte) * detail.days_employed / detail.days_in_period
    ceiling = Fraction(pct * base) * Fraction(cap if cap is not None else (total or 0)) * prorate
    assert 0 <= got.computed <= round_money(D(ceiling.numerator) / D(ceiling.denominator), D("0.01"), mode)  # type: ignore[arg-type]
    assert Fraction(got.unrounded) <= ceiling * (1 + Fraction(1, 10**38))
    if total is None or total < gate:
        assert got.computed == 0


@given(hired=st.none() | dates, left=st.none() | dates, start=dates, length=st.integers(0, 800))
def test_days_employed_lie_within_the_period(hired: date | None, left: date | None, start: date, length: int) -> None:
    end = start + timedelta(days=length)
    detail = proration_detail(None, hired, left, start, end)
    assert 0 <= detail.days_employed <= detail.days_in_period == length + 1


# --- pools -------------------------------------------------------------------------------------

weights = st.one_of(st.decimals(0, 100_000, places=2), st.sampled_from([D(0), D(1), D("2.5"), D(7)]))


@given(
    pool_cents=st.integers(0, 10**9),
    computed=st.dictionaries(st.text("abcdef", min_size=1, max_size=3), weights, min_size=1, max_size=40),
)
def test_a_pool_always_sums_exactly(pool_cents: int, computed: dict[str, D]) -> None:
    pool = D(pool_cents).scaleb(-2)
    got = allocate_pool(pool, computed)
    assert set(got) == set(computed)
    if not any(computed.values()):
        assert all(v == 0 for v in got.values())
        return
    assert exact_sum(got.values()) == pool
    whole = sum(computed.values(), D(0))
    for person, amount in got.items():
        assert amount == amount.quantize(D("0.01")) and amount >= 0
        quota = Fraction(pool) * Fraction(computed[person]) / Fraction(whole)
        assert abs(Fraction(amount) - quota) < Fraction(1, 100)
    for a in sorted(computed):  # ties: equal payouts differ by at most a cent, the lower id first
        for b in sorted(computed):
            if a < b and computed[a] == computed[b]:
                assert got[a] - got[b] in (0, D("0.01"))


@given(pool_cents=st.integers(0, 10**7), payout_=weights)
def test_one_person_gets_the_whole_pool(pool_cents: int, payout_: D) -> None:
    pool = D(pool_cents).scaleb(-2)
    assert allocate_pool(pool, {"only": payout_}) == {"only": pool if payout_ else D("0.00")}


@settings(max_examples=5, deadline=None)
@given(pool_cents=st.integers(1, 10**9), seed=st.integers(0, 10**6))
def test_many_people_share_a_pool_exactly(pool_cents: int, seed: int) -> None:
    computed = {f"p{i:05d}": D((i * 7919 + seed) % 1000).scaleb(-1) for i in range(10_000)}
    assert exact_sum(allocate_pool(D(pool_cents).scaleb(-2), computed).values()) == D(pool_cents).scaleb(-2)


# --- weights -----------------------------------------------------------------------------------

entries = st.lists(
    st.tuples(st.decimals("0.01", 1, places=2), st.none() | st.decimals(0, 2, places=3), st.booleans()),
    min_size=1,
    max_size=12,
)


@pytest.mark.parametrize("policy", ["renormalize", "zero"])
@given(rows=entries)
def test_weights_that_count_sum_to_exactly_100_percent(policy: str, rows: list[tuple[D, D | None, bool]]) -> None:
    items = [EntryScore(f"k{i}", w, s, status="not_in_force" if off else None) for i, (w, s, off) in enumerate(rows)]
    total, out = total_score(items, policy)  # type: ignore[arg-type]
    counted = [i for i, (_, s, off) in enumerate(rows) if not off and (s is not None or policy == "zero")]
    if not any(rows[i][1] is not None for i in counted):
        assert total is None
        return
    assert sum(c.effective_weight for c in out) == 1  # exact, even in the default context
    assert total == exact_sum(c.contribution for c in out if c.contribution is not None)
    scores = [rows[i][1] or D(0) for i in counted]
    assert min(scores) <= total <= max(scores)
    for i, c in enumerate(out):
        assert (c.contribution is None) == (i not in counted)


@given(rows=st.lists(st.tuples(st.decimals("0.01", 1, places=2), st.decimals(0, 2, places=3)), min_size=1, max_size=12))
def test_renormalize_equals_zero_when_every_entry_is_scored(rows: list[tuple[D, D]]) -> None:
    items = [EntryScore(f"k{i}", w, s) for i, (w, s) in enumerate(rows)]
    assert total_score(items, "renormalize") == total_score(items, "zero")


# --- ranks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("direction", ["higher", "lower"])
@given(vals=st.lists(st.none() | st.decimals(-5, 5, places=1), max_size=30))
def test_ranks_count_the_strictly_better(direction: str, vals: list[D | None]) -> None:
    ranks = competition_ranks(list(enumerate(vals)), direction)  # type: ignore[arg-type]
    for i, v in enumerate(vals):
        if v is None:
            assert ranks[i] is None
        else:
            better = [w for w in vals if w is not None and (w > v if direction == "higher" else w < v)]
            assert ranks[i] == len(better) + 1


# --- no float enters -----------------------------------------------------------------------------

finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)


@given(x=finite)
def test_a_float_value_raises(x: float) -> None:
    with pytest.raises(decimal.FloatOperation):
        score(x, ResolvedTarget(target=D(1)), "higher", None, ScorePoints())  # type: ignore[arg-type]
    with pytest.raises(decimal.FloatOperation):
        round_money(x)  # type: ignore[arg-type]
    with pytest.raises(decimal.FloatOperation):
        allocate_pool(D("100.00"), {"a": D(1), "b": x})  # type: ignore[dict-item]
    with pytest.raises(decimal.FloatOperation):
        total_score([EntryScore("k", D(1), x)], "zero")  # type: ignore[arg-type]


@given(x=finite)
def test_to_decimal12_is_the_one_door_for_floats(x: float) -> None:
    got = to_decimal12(x)
    assert isinstance(got, D)
    assert got == D(format(x, ".12g"))
    assert to_decimal12(got) == got
    assume(x != 0)
    assert len(got.as_tuple().digits) <= 12 or got == got.to_integral_value()


assess_rows = st.lists(
    st.tuples(
        st.none() | values,  # value
        st.integers(0, 12),  # n
        st.sampled_from([True, False, None]),  # valid_if result
        st.booleans(),  # in force
        st.none(),  # previous value (absolute targets ignore it)
    ),
    max_size=25,
)


@pytest.mark.parametrize("direction", ["higher", "lower"])
@given(data=st.data(), rows=assess_rows, min_sample=st.none() | st.integers(1, 8))
def test_batch_assessment_agrees_with_status_and_score_one_by_one(
    direction: str, data: st.DataObject, rows: list[AssessRow], min_sample: int | None
) -> None:
    """Assessor's unrolled loop for linear scoring against the one-value functions it stands for."""
    resolved = data.draw(targets(direction))
    target = Target(threshold=resolved.threshold, target=resolved.target, stretch=resolved.stretch)
    points = data.draw(score_points())
    rule = Assessor(target, direction, None, points, min_sample=min_sample)  # type: ignore[arg-type]
    expected = []
    for value, n, valid, in_force, _ in rows:
        found = status(
            value,
            n,
            rule.fixed,
            direction,
            min_sample=min_sample,
            valid=valid,  # type: ignore[arg-type]
            in_force=in_force,
        )
        points_ = score(value, rule.fixed, direction, None, points) if found in SCORED_STATUSES else None  # type: ignore[arg-type]
        expected.append(Assessment(found, points_, rule.fixed))
    assert rule.assess_many(rows) == expected
