"""Approving a bonus run: an append-only entry of the ledger's chain, refused when the run no longer verifies."""

from __future__ import annotations

from datetime import UTC, datetime

from kpi_engine.audit.chain import check_chain
from kpi_engine.audit.recording import os_identity, utc_timestamp
from kpi_engine.audit.verify import verify
from kpi_engine.config import model as m
from kpi_engine.data.ledger import Approval, Head, RunRecord, append_approval, entries, get_run
from kpi_engine.errors import Code, KpiError, error
from kpi_engine.literal import literal, unprintable

MAX_NAME = 200


def check_name(by: str, option: str = "--by") -> str:
    """An approver's name: non-empty printable text (no control characters or escape codes), trimmed."""
    bad = unprintable(by)
    if bad:
        raise KpiError(
            [
                error(
                    Code.APPROVER_NAME,
                    f"{option} `{literal(by)}` contains control characters (" + ", ".join(sorted(set(bad))) + ")",
                    None,
                    "write the name as plain text, without escape codes, tabs or line breaks",
                )
            ]
        )
    name = by.strip()
    if not name:
        raise KpiError(
            [error(Code.APPROVER_NAME, f"{option} is blank", None, 'name who approves, e.g. --by "A. Auditor"')]
        )
    if len(name) > MAX_NAME:
        raise KpiError(
            [
                error(
                    Code.APPROVER_NAME,
                    f"{option} is {len(name)} characters long",
                    None,
                    f"use at most {MAX_NAME} characters",
                )
            ]
        )
    return name


def approve(ws: m.Workspace, run_id: str, by: str, note: str | None = None) -> tuple[RunRecord, Approval, Head]:
    """Append an approval of a bonus run that still verifies; the run, the approval and the new head."""
    name = check_name(by)
    if note is not None and unprintable(note):
        check_name(note, "--note")
    run = get_run(ws.root, ws.organization.timezone, run_id)
    if run.kind != "bonus":
        raise KpiError(
            [
                error(
                    Code.BAD_VALUE,
                    f"run `{literal(run.id)}` is an {run.kind} run; only bonus runs are approved",
                    None,
                    "approve the `kpi bonus` run that HR pays from",
                )
            ]
        )
    if run.approvals:
        first = run.approvals[0]
        raise KpiError(
            [
                error(
                    Code.APPROVE_TWICE,
                    f"run `{literal(run.id)}` was already approved by "
                    f"{literal(first.approved_by)} at {literal(first.time)}",
                    None,
                    "approvals cannot be changed; record a new run",
                )
            ]
        )
    user, host = os_identity()
    if ws.organization.approvals_distinct_from_runner and user == run.user:
        raise KpiError(
            [
                error(
                    Code.APPROVER_IS_RUNNER,
                    f"run `{literal(run.id)}` was run by the operating-system "
                    f"user `{literal(user)}`, who may not approve it",
                    None,
                    "organization.approvals.distinct_from_runner is set: another user approves",
                )
            ]
        )
    chain = check_chain(entries(ws.root))
    found = verify(run, ws)
    if not chain.intact or not found.ok:
        reasons = chain.problems + found.stored + found.data_changed + found.engine_changed + found.money
        if not found.identical and not found.money:
            reasons.append("its results differ when recomputed")
        raise KpiError(
            [
                error(
                    Code.APPROVE_UNVERIFIED,
                    f"run `{literal(run.id)}` no longer verifies: " + "; ".join(reasons[:5]),
                    None,
                    f"see `kpi runs verify {ws.root} {run.id}`; approve a run that verifies",
                )
            ]
        )
    approval = Approval(f"{run.id}-approval", run.id, name, utc_timestamp(datetime.now(UTC)), note, user, host)
    head = append_approval(ws.root, approval)
    return run, approval, head
