"""Checking the ledger's hash chain (SPEC §13): every entry in order, linked, and matching its hash."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from kpi_engine.data.ledger import GENESIS, Entry, entry_hash
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.literal import literal

MIN_HEAD = 8


@dataclass(frozen=True)
class ChainCheck:
    """What the chain check found: the entry count, the head, and each problem naming its entry."""

    entries: int
    head: str
    problems: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """True when nothing in the chain was found altered, removed or reordered."""
        return not self.problems


def _name(e: Entry) -> str:
    return f"{e.kind} {literal(e.row.get('id'))} (entry #{e.row.get('seq')})"


def check_chain(found: Sequence[Entry], head: str | None = None) -> ChainCheck:
    """Walk the entries in order: numbering, links (`prev_hash`), content hashes, approvals' runs, `head`."""
    problems: list[str] = []
    previous, expected = GENESIS, 1
    runs = {str(e.row["id"]): e for e in found if e.table == "runs"}
    seen: set[tuple[str, str]] = set()
    for e in found:
        seq = e.row.get("seq")
        if not isinstance(seq, int) or seq < expected:
            problems.append(f"{_name(e)}: its number repeats or goes back; an entry was inserted or reordered")
        elif seq > expected:
            missing = f"#{expected}" if seq == expected + 1 else f"#{expected}–#{seq - 1}"
            problems.append(f"entry {missing} is missing before {_name(e)}; deleted")
        if e.row.get("prev_hash") != previous:
            problems.append(
                f"{_name(e)}: its prev_hash is not the hash of the entry before it; an entry before it "
                "was deleted, inserted or reordered"
            )
        if entry_hash(e.table, e.row) != e.row.get("hash"):
            problems.append(f"{_name(e)}: its content does not match its hash; it was edited")
        key = (e.table, str(e.row.get("id")))
        if key in seen:
            problems.append(f"{_name(e)}: a second entry with this id; inserted")
        seen.add(key)
        if e.table == "approvals" and str(e.row.get("run_id")) not in runs:
            problems.append(f"{_name(e)}: approves run {literal(e.row.get('run_id'))}, which is not in the ledger")
        previous = str(e.row.get("hash"))
        expected = max(expected, seq + 1) if isinstance(seq, int) else expected + 1
    last = str(found[-1].row.get("hash")) if found else GENESIS
    if head is not None and not any(str(e.row.get("hash")).startswith(head) for e in found):
        problems.append(
            f"the head {literal(head)} is not in the ledger (head now: {len(found)} entries, {last}); "
            "entries were deleted from its end, or the chain was rewritten"
        )
    return ChainCheck(len(found), last, problems)


def check_head_option(head: str | None) -> str | None:
    """A `--head` value: at least 8 hex digits of an entry hash, lower-cased."""
    if head is None:
        return None
    value = head.strip().lower()
    if len(value) < MIN_HEAD or len(value) > 64 or any(c not in "0123456789abcdef" for c in value):
        raise KpiError(
            [
                error(
                    Code.USAGE,
                    f"--head `{literal(head)}` is not a ledger hash",
                    None,
                    "give the hash printed as `ledger head: N entries, HASH` (at least 8 hex digits)",
                )
            ]
        )
    return value
