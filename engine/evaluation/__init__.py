"""Evaluation: data → values → statuses, scores, ranks → scorecards, goals (see :mod:`.runner`).

The names below load on first use: `kpi validate` imports :mod:`.roster` from this package and must
not pay for the whole evaluation stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kpi_engine.evaluation.runner import (
        Evaluation,
        check_kpi_ids,
        evaluate,
        open_data,
        period_of,
        slices_of,
    )

__all__ = ["Evaluation", "check_kpi_ids", "evaluate", "open_data", "period_of", "slices_of"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from kpi_engine.evaluation import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'kpi_engine.evaluation' has no attribute {name!r}")
