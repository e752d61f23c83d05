"""Scoring, scorecards and bonus payouts: pure Python over ``Decimal``, no DuckDB, no floats.

``exact`` holds the one decimal context and the conversions into it; ``score`` turns a KPI value
into a status and a score; ``scorecard`` weighs scores into a total; ``payout`` turns totals into
money.
"""
