"""The one place where SQL becomes text."""

from __future__ import annotations

from sqlglot import ErrorLevel, exp
from sqlglot.errors import SqlglotError

from kpi_engine.errors import Code, KpiError, error
from kpi_engine.sql.dialects import DIALECTS


def to_sql(expression: exp.Expr, dialect: str, *, pretty: bool = False) -> str:
    """Render a compiled expression (or a whole query) in ``dialect``.

    sqlglot is told to raise instead of warning when a dialect cannot express a node, and
    that becomes a :class:`KpiError` (E312) instead of SQL that means something else.
    """
    if dialect not in DIALECTS:
        raise KpiError(
            [
                error(
                    Code.DIALECT_UNSUPPORTED,
                    f"unknown SQL dialect `{dialect}`",
                    None,
                    "choose one of " + ", ".join(DIALECTS),
                )
            ]
        )
    try:
        return expression.sql(dialect=dialect, pretty=pretty, unsupported_level=ErrorLevel.RAISE)
    except SqlglotError as exc:
        raise KpiError([error(Code.DIALECT_UNSUPPORTED, f"cannot render this for {dialect}: {exc}")]) from None
