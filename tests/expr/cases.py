"""Formula → value cases over the six rows of ``exprkit.ROWS``, with expected values worked
out by hand (see the table in exprkit). Each case also has an SQL golden.

The rows (wall-clock times in Europe/Riga; DST starts 2025-03-30 03:00):

    id amount qty csat priority channel down created          resolved         due    agent
    1  10     1   5    critical email   T    03-28 09:00 Fri  03-31 10:00 Mon  03-31  a1 north
    2  20     2   4    high     phone   F    03-29 12:00 Sat  03-29 14:30      03-30  a1 north
    3  -5     0   -    normal   email   -    03-30 01:00 Sun  03-30 05:00      04-01  a2 south
    4  -      3   3    critical -       T    03-31 08:00 Mon  -                -      a2 south
    5  2.5    -   2    low      chat    F    04-01 17:00 Tue  04-02 09:30 Wed  04-03  a3 north
    6  0      4   5    -        email   F    -                -                03-28  -

Elapsed resolved - created: 72h (exact, across DST: the wall clock says 73h), 2.5h, 3h
(wall clock 4h), -, 16.5h, -. Calendar office: Mon-Thu 09-18, Fri 09-17, holiday 04-01.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from exprkit import local

D = datetime.date.fromisoformat
N = None
T, F = True, False


@dataclass(frozen=True)
class Case:
    id: str
    kind: str
    text: str
    expected: Any
    one_calendar: bool = False


def _cases(kind: str, rows: list[tuple[str, str, Any]]) -> list[Case]:
    return [Case(i, kind, text, expected) for i, text, expected in rows]


FORMULAS = _cases(
    "formula",
    [
        # counting
        ("count_rows", "count()", 6),
        ("count_amount", "count(amount)", 5),
        ("count_csat", "count(csat)", 5),
        ("count_string", "count(priority)", 5),
        ("count_timestamp", "count(resolved_at)", 4),
        ("count_distinct_string", "count_distinct(priority)", 4),
        ("count_distinct_channel", "count_distinct(channel)", 3),
        ("count_distinct_relation", "count_distinct(agent.unit)", 2),
        ("count_distinct_number", "count_distinct(csat)", 4),
        ("count_distinct_agent_id", "count_distinct(agent.id)", 3),
        ("count_backtick", "count(`First Response (min)`)", 4),
        ("count_if_boolean", "count_if(down)", 2),
        ("count_if_segment", "count_if(critical)", 2),
        ("count_if_compare", "count_if(amount > 0)", 3),
        ("count_if_none", "count_if(amount > 100)", 0),
        ("count_if_null", "count_if(null)", 0),
        ("count_if_not", "count_if(not down)", 3),
        ("count_if_is_null", "count_if(down is null)", 1),
        # sums and means
        ("sum_amount", "sum(amount)", 27.5),
        ("sum_qty", "sum(qty)", 10),
        ("sum_csat", "sum(csat)", 19),
        ("avg_amount", "avg(amount)", 5.5),
        ("avg_csat", "avg(csat)", 3.8),
        ("avg_qty", "avg(qty)", 2),
        ("sum_if_boolean", "sum_if(amount, down)", 10),
        ("sum_if_segment", "sum_if(amount, critical)", 10),
        ("avg_if_not", "avg_if(csat, not down)", 11 / 3),
        ("sum_if_negative", "sum_if(amount, amount < 0)", -5),
        ("sum_if_no_rows", "sum_if(amount, false)", N),
        ("avg_if_email", "avg_if(amount, channel = 'email')", 5 / 3),
        ("avg_if_no_rows", "avg_if(amount, amount > 1000)", N),
        ("sum_product", "sum(amount * qty)", 50),
        ("ratio_of_sums", "sum(amount) / sum(qty)", 2.75),
        ("avg_backtick", "avg(`First Response (min)`)", 37.5),
        ("sum_per_row_count", "sum(amount) / count()", 27.5 / 6),
        ("sum_constant", "sum(1)", 6),
        ("avg_double", "avg(amount * 2)", 11),
        ("sum_if_function", "sum(if(down, 1, 0))", 2),
        ("sum_coalesce", "sum(coalesce(amount, 100))", 127.5),
        ("sum_null", "sum(null)", N),
        # every aggregate of a number reads a written null as a number, as sum does
        ("sum_if_null", "sum_if(null, down)", N),
        ("avg_if_null", "avg_if(null, down)", N),
        ("median_null", "median(null)", N),
        ("percentile_null", "percentile(null, 90%)", N),
        ("stddev_null", "stddev(null)", N),
        ("max_null", "max(null)", N),
        # order statistics
        ("min_amount", "min(amount)", -5),
        ("max_amount", "max(amount)", 20),
        ("median_amount", "median(amount)", 2.5),
        ("median_csat", "median(csat)", 4),
        ("median_qty", "median(qty)", 2),
        ("percentile_0", "percentile(amount, 0)", -5),
        ("percentile_100", "percentile(amount, 100%)", 20),
        ("percentile_25", "percentile(amount, 25%)", 0),
        ("percentile_75", "percentile(amount, 0.75)", 10),
        ("percentile_30", "percentile(amount, 30%)", 0.5),
        ("percentile_csat", "percentile(csat, 50%)", 4),
        ("percentile_param", "percentile(amount, $target)", 12),
        ("stddev_qty", "stddev(qty)", 1.5811388300841898),
        ("stddev_csat", "stddev(csat)", 1.3038404810405297),
        ("stddev_amount", "stddev(amount)", 9.746794344808963),
        ("stddev_one_value", "stddev(if(id = 1, amount, null))", N),
        ("median_duration_hours", "median(hours(resolved_at - created_at))", 9.75),
        ("median_duration", "median(resolved_at - created_at)", 9.75 * 3600),
        ("percentile_duration", "percentile(hours(resolved_at - created_at), 90%)", 55.35),
        ("min_duration", "min(resolved_at - created_at)", 9000),
        ("max_duration_hours", "max(hours(resolved_at - created_at))", 72),
        # share
        ("share_boolean", "share(down)", 2 / 6),
        ("share_segment", "share(critical)", 2 / 6),
        ("share_among", "share(critical, down)", 1),
        ("share_among_segment", "share(down, critical)", 1),
        ("share_compare", "share(amount > 0)", 0.5),
        ("share_sla_param", "share(hours(resolved_at - created_at) <= $sla_hours)", 2 / 6),
        ("share_sla_duration_param", "share(resolved_at - created_at <= $sla)", 2 / 6),
        ("share_sla_literal", "share(resolved_at - created_at <= 4h)", 2 / 6),
        ("share_among_email", "share(amount > 0, channel = 'email')", 1 / 3),
        ("share_among_nothing", "share(true, false)", N),
        # an `among` of `x is not null` that a comparison of x implies (the numerator skips it)
        ("share_among_compared_not_null", "share(csat >= 4, csat is not null)", 3 / 5),
        ("share_among_compared_not_null_right", "share(0 < amount, amount is not null)", 3 / 5),
        ("share_among_not_null_coalesced", "share(coalesce(csat, 5) >= 4, csat is not null)", 3 / 5),
        ("share_among_not_null_or", "share(csat is null or csat >= 4, csat is not null)", 3 / 5),
        ("share_among_other_not_null", "share(amount > 0, csat is not null)", 3 / 5),
        ("share_null", "share(null)", 0),
        ("share_among_null_rows", "share(down, down is null)", 0),
        ("share_nested_segment", "share(routine)", 0.5),
        ("share_other_segment", "share(emailed)", 0.5),
        # durations
        ("sum_hours", "sum(hours(resolved_at - created_at))", 94),
        ("avg_minutes", "avg(minutes(resolved_at - created_at))", 1410),
        ("sum_days", "sum(days(resolved_at - created_at))", 94 / 24),
        ("avg_seconds", "avg(seconds(resolved_at - created_at))", 84600),
        ("sum_duration", "sum(resolved_at - created_at)", 338400),
        ("avg_duration_ratio", "avg(resolved_at - created_at) / 1h", 23.5),
        ("hours_of_avg", "hours(avg(resolved_at - created_at))", 23.5),
        ("duration_minus", "sum(hours(resolved_at - created_at - 1h))", 90),
        ("duration_over_day", "count_if(resolved_at - created_at > 1d)", 1),
        ("timestamp_plus_duration", "count_if(resolved_at > created_at + 3h)", 2),
        ("duration_between", "count_if(resolved_at - created_at between 2h and 3h)", 2),
        ("date_minus_date", "sum(days(due - date(created_at)))", 8),
        ("duration_times_number", "avg(hours(2 * (resolved_at - created_at)))", 47),
        ("duration_divided", "max(hours((resolved_at - created_at) / 2))", 36),
        ("hours_times", "sum(hours(resolved_at - created_at) * 2) / 2", 94),
        ("duration_compare_left", "count_if(2h < resolved_at - created_at)", 4),
        ("duration_weeks", "count_if(resolved_at - created_at < 2w)", 4),
        ("duration_minutes_literal", "count_if(resolved_at - created_at <= 150min)", 1),
        ("duration_seconds_literal", "count_if(resolved_at - created_at = 9000s)", 1),
        ("duration_fraction_literal", "count_if(resolved_at - created_at = 2.5h)", 1),
        # time parts
        ("sum_year", "sum(year(created_at))", 10125),
        ("sum_month", "sum(month(created_at))", 16),
        ("sum_quarter", "sum(quarter(created_at))", 6),
        ("sum_weekday", "sum(weekday(created_at))", 21),
        ("weekend", "count_if(weekday(created_at) >= 6)", 2),
        ("local_date", "count_if(date(created_at) = date '2025-03-30')", 1),
        ("weekday_of_date", "sum(weekday(due))", 19),
        ("month_of_date", "count_if(month(due) = 4)", 2),
        ("year_of_date", "sum(year(due) - 2000)", 125),
        ("timestamp_vs_date", "count_if(created_at >= date '2025-03-30')", 3),
        ("timestamp_literal_lt", "count_if(created_at < timestamp '2025-03-30 01:00')", 2),
        ("timestamp_literal_eq", "count_if(created_at = timestamp '2025-03-30 01:00')", 1),
        ("timestamp_literal_offset", "count_if(created_at = timestamp '2025-03-29 23:00:00+00:00')", 1),
        ("date_column_vs_timestamp", "count_if(due > created_at)", 4),
        ("date_of_timestamp_vs_date", "count_if(date(resolved_at) = due)", 1),
        ("date_minus_literal", "sum(days(due - date '2025-03-28'))", 15),
        ("max_weekday", "max(weekday(resolved_at))", 7),
        ("date_of_date", "count_if(date(due) = due)", 5),
        # calendars
        ("business_hours_sum", "sum(business_hours(created_at, resolved_at, 'office'))", 9.5),
        ("business_hours_avg", "avg(business_hours(created_at, resolved_at, 'office'))", 2.375),
        ("business_days_sum", "sum(business_days(created_at, resolved_at, 'office'))", 2),
        ("business_days_to_date", "sum(business_days(created_at, due, 'office'))", 4),
        ("business_hours_night", "sum(business_hours(created_at, resolved_at, 'night'))", 35),
        ("business_hours_from_date", "sum(business_hours(due, resolved_at, 'office'))", 1),
        ("business_days_from_date", "sum(business_days(due, resolved_at, 'office'))", 0),
        ("business_hours_week", "sum(business_hours(created_at, created_at + 1w, 'office'))", 184),
        ("business_days_at_least_one", "count_if(business_days(created_at, resolved_at, 'office') >= 1)", 2),
        # arithmetic, nulls, division
        ("divide_by_zero", "sum(amount) / 0", N),
        ("count_divide_by_zero", "count() / 0", N),
        ("divide_by_zero_expression", "sum(amount) / (count() - 6)", N),
        ("true_division", "count() / 4", 1.5),
        ("true_division_literals", "7 / 2 * count()", 21),
        ("row_division_by_zero", "sum(amount / qty)", 20),
        ("count_of_quotients", "count(amount / qty)", 3),
        ("self_difference", "sum(amount - amount)", 0),
        ("negate_aggregate", "-sum(amount)", -27.5),
        ("double_negation", "- -sum(amount)", 27.5),
        ("sum_of_negation", "sum(-amount)", -27.5),
        ("minus_minus", "sum(amount)--1", 28.5),
        ("precedence_mul_add", "count() * 2 + 1", 13),
        ("parenthesized_add", "count() * (2 + 1)", 18),
        ("parenthesized_sum_div", "(count() + 2) / 2", 4),
        ("left_assoc_sub", "count() - 2 - 1", 3),
        ("right_group_sub", "count() - (2 - 1)", 5),
        ("left_assoc_div", "count() / 2 / 3", 1),
        ("right_group_div", "count() / (2 / 3)", 9),
        ("abs_of_sum", "abs(sum(amount * -1))", 27.5),
        ("round_no_digits", "round(avg(csat))", 4),
        ("round_two_digits", "round(avg(amount) / 3, 2)", 1.83),
        ("round_half_away", "round(count() / 4)", 2),
        ("round_half_away_negative", "round(-count() / 4)", -2),
        ("round_negative_digits", "round(sum(amount) * 10, -2)", 300),
        ("round_param_digits", "round(avg(amount), $digits)", 5.5),
        ("floor_avg", "floor(avg(csat))", 3),
        ("ceil_avg", "ceil(avg(csat))", 4),
        ("floor_negative", "floor(-avg(csat))", -4),
        ("least_ignores_null", "least(sum(amount), 5, null)", 5),
        ("greatest_ignores_null", "greatest(sum(amount), 5, null)", 27.5),
        ("greatest_all_null", "greatest(sum(amount) / 0, null)", N),
        ("least_of_aggregates", "least(max(amount), min(amount))", -5),
        ("coalesce_fallback", "coalesce(sum(amount) / 0, 42)", 42),
        ("coalesce_first_non_null", "coalesce(null, null, count())", 6),
        ("if_true", "if(count() > 5, 1, 0)", 1),
        ("if_null_condition", "if(sum(amount) / 0 > 1, 1, 2)", 2),
        ("param_number", "sum(amount) * $target", 22),
        ("param_in_row", "count_if(amount > $sla_hours)", 2),
        ("param_string", "count_if(priority = $vip)", 2),
        ("param_boolean", "count_if($strict)", 6),
        ("param_boolean_not", "count_if(not $strict)", 0),
        ("percent_literal", "count() * 50%", 3),
        # strings
        ("upper", "count_if(upper(priority) = 'CRITICAL')", 2),
        ("lower", "count_if(lower('HIGH') = priority)", 1),
        ("trim", "count_if(trim('  email ') = channel)", 3),
        ("in_list", "count_if(priority in ('critical', 'high'))", 3),
        ("not_in_list", "count_if(priority not in ('critical', 'high'))", 2),
        ("not_in_with_null", "count_if(priority not in ('critical', null))", 0),
        ("in_with_null", "count_if(priority in ('low', null))", 1),
        ("not_equal", "count_if(priority <> 'critical')", 3),
        ("bang_equal", "count_if(priority != 'critical')", 3),
        ("is_null", "count_if(priority is null)", 1),
        ("is_not_null", "count_if(priority is not null)", 5),
        ("quote_in_string", "count_if(priority = 'it''s')", 0),
        ("string_order", "count_if(priority > 'high')", 2),
        ("relation_compare", "count_if(agent.unit = 'north')", 3),
        ("relation_name", "count_if(agent.name = 'Bob')", 2),
        # logic and three-valued logic
        ("and", "count_if(down and critical)", 2),
        ("or", "count_if(down or amount > 15)", 3),
        ("not_or", "count_if(not (down or amount > 15))", 2),
        ("boolean_equals_false", "count_if(down = false)", 3),
        ("boolean_not_true", "count_if(down <> true)", 3),
        ("null_or_true", "count_if(down or true)", 6),
        ("null_and_false", "count_if(down and false)", 0),
        ("is_null_or", "count_if(down is null or down)", 3),
        ("between", "count_if(amount between 0 and 10)", 3),
        ("not_between", "count_if(amount not between 0 and 10)", 2),
        ("between_columns", "count_if(amount between qty and 10)", 1),
        ("in_numbers", "count_if(csat in (4, 5))", 3),
        ("not_segment", "count_if(not critical)", 3),
        ("segment_or", "count_if(routine or critical)", 5),
        ("segment_equals_true", "count_if(critical = true)", 2),
        ("and_binds_tighter", "count_if(amount > 0 and qty > 0 or down)", 3),
        ("or_in_parentheses", "count_if(amount > 0 and (qty > 0 or down))", 2),
        ("keywords_any_case", "count_if(amount > 0 AND qty > 0 Or down)", 3),
    ],
)

VALID_IF = _cases(
    "valid_if",
    [
        ("valid_share_small", "share(critical) < 50%", T),
        ("valid_share_large", "share(critical) < 10%", F),
        ("valid_and", "count() >= 6 and sum(amount) > 0", T),
        ("valid_max_date", "max(due) = date '2025-04-03'", T),
        ("valid_min_string", "min(priority) = 'critical'", T),
        ("valid_max_timestamp", "max(created_at) > timestamp '2025-04-01 16:59'", T),
        ("valid_min_timestamp", "min(created_at) = timestamp '2025-03-28 09:00'", T),
        ("valid_null", "sum(amount) / 0 > 1", N),
        ("valid_between", "count_if(down) between 1 and 2", T),
        ("valid_duration", "avg(resolved_at - created_at) > 1d", F),
        ("valid_param", "$strict", T),
        ("valid_max_relation", "max(agent.unit) = 'south'", T),
    ],
)

DERIVED = _cases(
    "derived",
    [
        ("derived_ratio", "revenue / visits", 2.5),
        ("derived_growth", "revenue / previous(revenue) - 1", 0.25),
        ("derived_divide_by_zero", "revenue / previous(visits)", N),
        ("derived_previous_null", "previous(resolved_in_sla.critical)", N),
        ("derived_dotted_id", "resolved_in_sla.critical * 100", 75),
        ("derived_coalesce", "coalesce(previous(resolved_in_sla.critical), 0)", 0),
        ("derived_round", "round(revenue / 3, 2)", 33.33),
        ("derived_duration", "hours(handle_time)", 1),
        ("derived_duration_change", "handle_time - previous(handle_time)", -3600),
        ("derived_greatest", "greatest(revenue, visits)", 100),
        ("derived_if", "if(visits > 0, revenue / visits, 0)", 2.5),
    ],
)

_AT = local
ROW = _cases(
    "row",
    [
        ("row_quotient", "amount / qty", [10, 10, N, N, N, 0]),
        ("row_coalesce", "coalesce(amount, qty, 0)", [10, 20, -5, 3, 2.5, 0]),
        ("row_if_string", "if(down, 'yes', 'no')", ["yes", "no", "no", "yes", "no", "no"]),
        ("row_greatest", "greatest(amount, qty)", [10, 20, 0, 3, 2.5, 4]),
        ("row_least", "least(amount, qty)", [1, 2, -5, 3, 2.5, 0]),
        ("row_hours", "hours(resolved_at - created_at)", [72, 2.5, 3, N, 16.5, N]),
        ("row_days_between_dates", "days(due - date(created_at))", [3, 1, 2, N, 2, N]),
        (
            "row_date",
            "date(created_at)",
            [D("2025-03-28"), D("2025-03-29"), D("2025-03-30"), D("2025-03-31"), D("2025-04-01"), N],
        ),
        ("row_weekday", "weekday(created_at)", [5, 6, 7, 1, 2, N]),
        ("row_business_hours", "business_hours(created_at, resolved_at, 'office')", [9, 0, 0, N, 0.5, N]),
        ("row_business_days", "business_days(created_at, resolved_at, 'office')", [1, 0, 0, N, 1, N]),
        ("row_business_days_to_date", "business_days(created_at, due, 'office')", [1, 0, 1, N, 2, N]),
        ("row_business_hours_night", "business_hours(created_at, resolved_at, 'night')", [24, 0, 3, N, 8, N]),
        (
            "row_plus_hours",
            "created_at + 4h",
            [
                _AT("2025-03-28 13:00"),
                _AT("2025-03-29 16:00"),
                _AT("2025-03-30 06:00"),
                _AT("2025-03-31 12:00"),
                _AT("2025-04-01 21:00"),
                N,
            ],
        ),
        (
            "row_minus_day",
            "resolved_at - 1d",
            [_AT("2025-03-30 10:00"), _AT("2025-03-28 14:30"), _AT("2025-03-29 04:00"), N, _AT("2025-04-01 09:30"), N],
        ),
        (
            "row_date_plus_hours",
            "due + 12h",
            [
                _AT("2025-03-31 12:00"),
                _AT("2025-03-30 13:00"),
                _AT("2025-04-01 12:00"),
                N,
                _AT("2025-04-03 12:00"),
                _AT("2025-03-28 12:00"),
            ],
        ),
        (
            "row_duration_plus_timestamp",
            "1h + created_at",
            [
                _AT("2025-03-28 10:00"),
                _AT("2025-03-29 13:00"),
                _AT("2025-03-30 02:00"),
                _AT("2025-03-31 09:00"),
                _AT("2025-04-01 18:00"),
                N,
            ],
        ),
        ("row_round", "round(amount / 3, 1)", [3.3, 6.7, -1.7, N, 0.8, 0]),
        ("row_abs", "abs(amount)", [10, 20, 5, N, 2.5, 0]),
        ("row_backtick", "`First Response (min)` / 60", [0.25, 0.5, N, 0.75, 1, N]),
        ("row_upper", "upper(priority)", ["CRITICAL", "HIGH", "NORMAL", "CRITICAL", "LOW", N]),
        ("row_relation", "agent.unit", ["north", "north", "south", "south", "north", N]),
        ("row_month_of_date", "month(due)", [3, 3, 4, N, 4, 3]),
        ("row_quarter", "quarter(resolved_at)", [1, 1, 1, N, 2, N]),
        ("row_year", "year(created_at)", [2025, 2025, 2025, 2025, 2025, N]),
        ("row_ceil", "ceil(amount / 4)", [3, 5, -1, N, 1, 0]),
        ("row_floor", "floor(amount / 4)", [2, 5, -2, N, 0, 0]),
        ("row_minutes", "minutes(resolved_at - created_at)", [4320, 150, 180, N, 990, N]),
        ("row_seconds", "seconds(resolved_at - created_at)", [259200, 9000, 10800, N, 59400, N]),
        ("row_percent", "amount * 80%", [8, 16, -4, N, 2, 0]),
        ("row_negate", "-amount", [-10, -20, 5, N, -2.5, 0]),
        ("row_trim", "trim(channel)", ["email", "phone", "email", N, "chat", "email"]),
        ("row_lower_relation", "lower(agent.name)", ["ann", "ann", "bob", "bob", "cy", N]),
        (
            "row_if_timestamp_date",
            "if(down, created_at, due)",
            [
                _AT("2025-03-28 09:00"),
                _AT("2025-03-30 00:00"),
                _AT("2025-04-01 00:00"),
                _AT("2025-03-31 08:00"),
                _AT("2025-04-03 00:00"),
                _AT("2025-03-28 00:00"),
            ],
        ),
    ],
)

WHERE = _cases(
    "where",
    [
        ("where_compare", "amount > 5", [T, T, F, N, F, F]),
        ("where_or_segment", "down or critical", [T, F, N, T, F, N]),
        ("where_not", "not down", [F, T, N, F, T, T]),
        ("where_segment_of_segment", "routine", [F, T, T, F, T, N]),
        (
            "where_between_timestamps",
            "created_at between timestamp '2025-03-29 00:00' and date '2025-03-31'",
            [F, T, T, F, F, N],
        ),
        ("where_in_with_null", "csat in (5, null)", [T, N, N, N, N, T]),
        ("where_and_is_not_null", "priority = 'critical' and down is not null", [T, F, F, T, F, N]),
        ("where_relation", "agent.unit <> 'north'", [F, F, T, T, F, N]),
        ("where_sla", "resolved_at <= created_at + $sla", [F, T, T, N, F, N]),
        ("where_param_string", "priority = $vip or channel = 'chat'", [T, F, F, T, T, N]),
        ("where_coalesce", "coalesce(down, false)", [T, F, F, T, F, F]),
        ("where_duration_is_null", "resolved_at - created_at is null", [F, F, F, T, F, T]),
        ("where_greatest_dates", "greatest(due, date(created_at)) = due", [T, T, T, N, T, T]),
    ],
)

ONE_CALENDAR = [
    Case("default_calendar_hours", "formula", "sum(business_hours(created_at, resolved_at))", 9.5, one_calendar=True),
    Case("default_calendar_days", "formula", "sum(business_days(created_at, resolved_at))", 2, one_calendar=True),
]

ALL: list[Case] = [*FORMULAS, *VALID_IF, *DERIVED, *ROW, *WHERE, *ONE_CALENDAR]
