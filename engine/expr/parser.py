"""Formula text → AST (SPEC §3).

Lark (LALR) builds a parse tree, a non-recursive Transformer turns it into
:mod:`kpi_engine.expr.ast` nodes with spans. Every failure is a :class:`KpiError` with E2xx
diagnostics; Lark's exceptions never escape.

Limits are checked before anything can recurse: the length of the text, the bracket nesting
(by a linear scan of the text), then the number of nodes and the nesting depth of the tree.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken, VisitError

from kpi_engine.errors import Code, KpiError, error
from kpi_engine.expr import ast
from kpi_engine.expr.ast import Expr
from kpi_engine.expr.syntax_errors import Locate, syntax_diagnostic
from kpi_engine.source import Span

MAX_LENGTH = 4000
MAX_DEPTH = 32
MAX_NODES = 1000
# A number literal has at most as many digits as DECIMAL(38) holds: longer ones cannot mean a
# measured quantity, and DuckDB cannot read a 400-digit literal as a DOUBLE.
MAX_LITERAL_DIGITS = 38
MAX_UTC_OFFSET = datetime.timedelta(hours=14)


DURATION_UNITS: dict[str, Decimal] = {
    "s": Decimal(1),
    "min": Decimal(60),
    "h": Decimal(3600),
    "d": Decimal(86400),
    "w": Decimal(604800),
}

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2})?")


@cache
def _lark() -> Lark:
    grammar = (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def default_locate(text: str) -> Locate:
    """Spans in the formula text itself: file ``<formula>``, 1-based line and column."""

    def position(offset: int) -> tuple[int, int]:
        line = text.count("\n", 0, offset) + 1
        start = text.rfind("\n", 0, offset) + 1
        return line, offset - start + 1

    def locate(offset: int, length: int) -> Span:
        line, col = position(offset)
        end_line, end_col = position(offset + max(length, 1))
        return Span("<formula>", line, col, end_line, end_col)

    return locate


class _LiteralError(Exception):
    def __init__(
        self, message: str, start: int, end: int, hint: str | None = None, code: Code = Code.FORMULA_SYNTAX
    ) -> None:
        super().__init__(message)
        self.message, self.start, self.end, self.hint, self.code = message, start, end, hint, code


def _digits(token: Token, digits: str) -> Decimal:
    """The exact value of a literal's digits, refused beyond MAX_LITERAL_DIGITS digits."""
    count = sum(ch.isdigit() for ch in digits)
    if count > MAX_LITERAL_DIGITS:
        start = token.start_pos or 0
        raise _LiteralError(
            f"the number literal has {count} digits; the limit is {MAX_LITERAL_DIGITS}",
            start,
            token.end_pos or start + len(token),
            "write the number with fewer digits, or scale it (a param, or a different unit)",
            Code.NUMBER_TOO_LONG,
        )
    return Decimal(digits)


def parse(
    text: str,
    locate: Locate | None = None,
    *,
    max_length: int | None = MAX_LENGTH,
    max_depth: int | None = MAX_DEPTH,
    max_nodes: int | None = MAX_NODES,
) -> Expr:
    """Parse a formula; raise :class:`KpiError` (E200-E202) for anything that is not one."""
    where = locate or default_locate(text)
    if max_length is not None and len(text) > max_length:
        raise KpiError(
            [
                error(
                    Code.FORMULA_TOO_LONG,
                    f"the formula is {len(text)} characters long; the limit is {max_length}",
                    where(max_length, 1),
                    "split it into several KPIs or params",
                )
            ]
        )
    if not text.strip():
        raise KpiError([error(Code.FORMULA_SYNTAX, "the formula is empty", where(0, 1))])
    if max_depth is not None:
        _check_brackets(text, max_depth, where)
    try:
        tree = _lark().parse(text)
    except UnexpectedInput_ as exc:
        raise KpiError([syntax_diagnostic(text, exc, where)]) from None
    except LarkError as exc:  # pragma: no cover - any other Lark failure is still a syntax error
        raise KpiError([error(Code.FORMULA_SYNTAX, f"cannot read the formula: {exc}", where(0, 1))]) from None
    try:
        expr: Expr = _ToAst(where).transform(tree)
    except VisitError as exc:
        orig = exc.orig_exc
        if isinstance(orig, _LiteralError):
            diag = error(orig.code, orig.message, where(orig.start, orig.end - orig.start), orig.hint)
            raise KpiError([diag]) from None
        raise
    _check_tree(expr, max_depth, max_nodes, where)
    return expr


UnexpectedInput_ = (UnexpectedCharacters, UnexpectedToken, UnexpectedEOF)


def _check_brackets(text: str, max_depth: int, where: Locate) -> None:
    """Refuse bracket nesting deeper than ``max_depth`` with one linear scan of the text."""
    level = 0
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""  # a doubled quote closes and reopens: same outcome
            continue
        if ch in "'`":
            quote = ch
        elif ch == "(":
            level += 1
            if level > max_depth:
                raise KpiError(
                    [
                        error(
                            Code.FORMULA_TOO_DEEP,
                            f"the formula nests deeper than {max_depth} levels",
                            where(i, 1),
                            "name parts of it as params, segments or separate KPIs",
                        )
                    ]
                )
        elif ch == ")":
            level = max(0, level - 1)


def _check_tree(expr: Expr, max_depth: int | None, max_nodes: int | None, where: Locate) -> None:
    if max_nodes is not None:
        count = ast.size(expr)
        if count > max_nodes:
            raise KpiError(
                [
                    error(
                        Code.FORMULA_TOO_LONG,
                        f"the formula has {count} terms; the limit is {max_nodes}",
                        expr.span,
                        "split it into several KPIs",
                    )
                ]
            )
    if max_depth is not None and ast.depth(expr) > max_depth:
        raise KpiError(
            [
                error(
                    Code.FORMULA_TOO_DEEP,
                    f"the formula nests deeper than {max_depth} levels",
                    expr.span,
                    "name parts of it as params, segments or separate KPIs",
                )
            ]
        )


# --- parse tree → AST --------------------------------------------------------------------


def _unquote(raw: str, quote: str) -> str:
    return raw[1:-1].replace(quote + quote, quote)


_COMPARE_OPS: dict[str, ast.CompareOp] = {"=": "=", "<>": "<>", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


def _operands(children: list[Any]) -> list[Any]:
    """Children without keyword and punctuation tokens."""
    return [c for c in children if not isinstance(c, Token) or c.type not in _PUNCTUATION]


_PUNCTUATION = frozenset(
    {"OR", "AND", "NOT", "IS", "IN", "BETWEEN", "NULL", "PLUS", "MINUS", "STAR", "SLASH", "LPAR", "RPAR", "COMMA"}
)


@v_args(meta=True)
class _ToAst(Transformer_NonRecursive):
    """Parse tree → AST; one method per grammar alias."""

    def __init__(self, where: Locate) -> None:
        super().__init__()
        self._where = where

    def _span(self, meta: Any) -> Span:
        return self._where(meta.start_pos, meta.end_pos - meta.start_pos)

    # literals
    def number(self, meta: Any, ch: list[Token]) -> Expr:
        return ast.Number(_digits(ch[0], str(ch[0])), span=self._span(meta))

    def percent(self, meta: Any, ch: list[Token]) -> Expr:
        return ast.Number(_digits(ch[0], str(ch[0])[:-1]) / 100, percent=True, span=self._span(meta))

    def duration(self, meta: Any, ch: list[Token]) -> Expr:
        raw = str(ch[0])
        m = re.fullmatch(r"([0-9.]+)([a-z]+)", raw)
        assert m is not None
        unit = m.group(2)
        return ast.DurationLit(_digits(ch[0], m.group(1)) * DURATION_UNITS[unit], unit=unit, span=self._span(meta))

    def string(self, meta: Any, ch: list[Token]) -> Expr:
        return ast.String(_unquote(str(ch[0]), "'"), span=self._span(meta))

    def true(self, meta: Any, ch: list[Token]) -> Expr:
        return ast.Boolean(True, span=self._span(meta))

    def false(self, meta: Any, ch: list[Token]) -> Expr:
        return ast.Boolean(False, span=self._span(meta))

    def null(self, meta: Any, ch: list[Token]) -> Expr:
        return ast.Null(span=self._span(meta))

    def typed_literal(self, meta: Any, ch: list[Token]) -> Expr:
        kind, raw = ch
        value = _unquote(str(raw), "'")
        span = self._span(meta)
        start, end = raw.start_pos or 0, raw.end_pos or 0
        match str(kind).lower():
            case "date":
                return ast.DateLit(_parse_date(value, start, end), span=span)
            case "timestamp":
                return ast.TimestampLit(_parse_timestamp(value, start, end), span=span)
        raise _LiteralError(
            f"found the name `{kind}` followed by the string {raw}",
            kind.start_pos or 0,
            end,
            "is an operator such as `=` missing? Typed literals are written date '2025-01-31' "
            "or timestamp '2025-01-31 10:00'",
        )

    # names
    def name(self, meta: Any, ch: list[Token]) -> Expr:
        parts = tuple(_unquote(str(t), "`") if t.type == "QUOTED_NAME" else str(t) for t in ch if t.type != "DOT")
        return ast.Name(parts, span=self._span(meta))

    def param(self, meta: Any, ch: list[Token]) -> Expr:
        return ast.Param(str(ch[0])[1:], span=self._span(meta))

    def call(self, meta: Any, ch: list[Any]) -> Expr:
        name, _, args, _ = ch
        return ast.Call(str(name), tuple(args or ()), span=self._span(meta))

    def expr_list(self, meta: Any, ch: list[Any]) -> list[Expr]:
        return _operands(ch)

    def group(self, meta: Any, ch: list[Any]) -> Expr:
        inner: Expr = ch[1]
        return inner

    # operators
    def neg(self, meta: Any, ch: list[Any]) -> Expr:
        return ast.Neg(ch[1], span=self._span(meta))

    def not_(self, meta: Any, ch: list[Any]) -> Expr:
        return ast.Not(ch[1], span=self._span(meta))

    def _arith(self, op: ast.ArithOp, meta: Any, ch: list[Any]) -> Expr:
        return ast.Arith(op, ch[0], ch[2], span=self._span(meta))

    def add(self, meta: Any, ch: list[Any]) -> Expr:
        return self._arith("+", meta, ch)

    def sub(self, meta: Any, ch: list[Any]) -> Expr:
        return self._arith("-", meta, ch)

    def mul(self, meta: Any, ch: list[Any]) -> Expr:
        return self._arith("*", meta, ch)

    def div(self, meta: Any, ch: list[Any]) -> Expr:
        return self._arith("/", meta, ch)

    def and_(self, meta: Any, ch: list[Any]) -> Expr:
        return ast.Logic("and", ch[0], ch[2], span=self._span(meta))

    def or_(self, meta: Any, ch: list[Any]) -> Expr:
        return ast.Logic("or", ch[0], ch[2], span=self._span(meta))

    def compare(self, meta: Any, ch: list[Any]) -> Expr:
        return ast.Compare(_COMPARE_OPS[str(ch[1])], ch[0], ch[2], span=self._span(meta))

    def is_null(self, meta: Any, ch: list[Any]) -> Expr:
        return ast.IsNull(ch[0], False, span=self._span(meta))

    def is_not_null(self, meta: Any, ch: list[Any]) -> Expr:
        return ast.IsNull(ch[0], True, span=self._span(meta))

    def in_list(self, meta: Any, ch: list[Any]) -> Expr:
        operand, items = _operands(ch)
        return ast.InList(operand, tuple(items), False, span=self._span(meta))

    def not_in_list(self, meta: Any, ch: list[Any]) -> Expr:
        operand, items = _operands(ch)
        return ast.InList(operand, tuple(items), True, span=self._span(meta))

    def between(self, meta: Any, ch: list[Any]) -> Expr:
        operand, low, high = _operands(ch)
        return ast.Between(operand, low, high, False, span=self._span(meta))

    def not_between(self, meta: Any, ch: list[Any]) -> Expr:
        operand, low, high = _operands(ch)
        return ast.Between(operand, low, high, True, span=self._span(meta))


def _parse_date(value: str, start: int, end: int) -> datetime.date:
    if _DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise _LiteralError(f"'{value}' is not a valid date", start, end, "write a date as date '2025-01-31'")


def _parse_timestamp(value: str, start: int, end: int) -> datetime.datetime:
    m = _TIMESTAMP.fullmatch(value)
    if m:
        day, hour, minute, second, fraction, zone = m.groups()
        try:
            stamp = datetime.datetime.fromisoformat(
                f"{day}T{hour}:{minute}:{second or '00'}.{(fraction or '0').ljust(6, '0')}"
            )
            if zone:
                offset = datetime.timedelta(0)
                if zone != "Z":
                    sign = 1 if zone[0] == "+" else -1
                    offset = sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
                    if abs(offset) > MAX_UTC_OFFSET:  # data imports refuse these too
                        raise ValueError(f"offset {zone} is beyond ±14:00")
                stamp = stamp.replace(tzinfo=datetime.timezone(offset))
            return stamp
        except ValueError:
            pass
    raise _LiteralError(
        f"'{value}' is not a valid timestamp",
        start,
        end,
        "write a timestamp as timestamp '2025-01-31 10:00' (seconds and an offset like +02:00 are optional)",
    )
