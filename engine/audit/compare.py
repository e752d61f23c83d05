"""What changed between two definition sets, and what it changes in money on the same data.

A side is a workspace path or ``git:REV[:PATH]``. The diff walks the merged definitions
(``Workspace.data``) as the user wrote them: mappings by key, scorecard KPI lists by their
(kpi, at) identity, other lists by sequence alignment. Positions are shown relative to each
side's workspace root, so two checkouts of the same files compare cleanly.

Money impact: both plans are paid on the data of one workspace. Each side keeps its own
source declarations (columns, checks, options — they are definitions too) but its paths are
re-anchored: a source declared in folder ``D`` of its workspace reads its ``path`` from folder
``D`` of the data workspace. Files are read into memory for each side; a side with ``table:``
sources reads the data workspace's database instead.
"""

from __future__ import annotations

import os
import re
import subprocess
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from decimal import Decimal
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from kpi_engine.config import model as m
from kpi_engine.config.model import DataPath
from kpi_engine.documents import written
from kpi_engine.errors import Code, Diagnostic, KpiError, error
from kpi_engine.names import TOP_KEYS, YAML_SUFFIXES
from kpi_engine.source import TEXTS, Span

if TYPE_CHECKING:
    from kpi_engine.pay import BonusRun

Kind = Literal["added", "removed", "changed"]
GIT_PREFIX = "git:"


@dataclass(frozen=True)
class Change:
    """One difference; values as written (None when absent), positions as ``file:line``."""

    kind: Kind
    path: str
    old: str | None
    new: str | None
    old_at: str | None
    new_at: str | None


@dataclass(frozen=True)
class Side:
    """One loaded definition set and how the user named it."""

    label: str
    workspace: m.Workspace


@dataclass(frozen=True)
class PayoutChange:
    """A person's payout under the old and the new definitions (None: not paid by that side's plan)."""

    person: str
    name: str
    old: Decimal | None
    new: Decimal | None

    @property
    def delta(self) -> Decimal:
        """The person's payout change: new minus old (a missing side counts as 0)."""
        return (self.new or Decimal(0)) - (self.old or Decimal(0))


@dataclass(frozen=True)
class PayoutImpact:
    """A plan paid on the same data under both definition sets."""

    plan: str
    period: str
    currency: str
    unit: Decimal
    data_root: Path
    payouts: tuple[PayoutChange, ...]
    old_total: Decimal | None
    new_total: Decimal | None

    @property
    def delta(self) -> Decimal:
        """The plan total's change: new minus old (a missing side counts as 0)."""
        return (self.new_total or Decimal(0)) - (self.old_total or Decimal(0))


@dataclass(frozen=True)
class DefinitionsDiff:
    """What changed between two definition sets and, with data, what it changes in money."""

    old: str
    new: str
    changes: tuple[Change, ...]
    impact: PayoutImpact | None = None
    notes: tuple[Diagnostic, ...] = ()


def diff(
    old: str, new: str, data: Path | None = None, plan: str | None = None, period: str | None = None
) -> DefinitionsDiff:
    """Load both sides, diff their definitions and, with ``data``, pay the plan on that data under each."""
    old_side, new_side = load_side(old), load_side(new)
    changes = diff_definitions(old_side.workspace, new_side.workspace)
    if data is None:
        return DefinitionsDiff(old, new, tuple(changes))
    impact, notes = payout_impact(old_side.workspace, new_side.workspace, data_root(data), plan, period)
    return DefinitionsDiff(old, new, tuple(changes), impact, notes)


# --- loading a side --------------------------------------------------------------------------


def load_side(spec: str) -> Side:
    """A workspace path, or ``git:REV[:PATH]`` (PATH relative to the current directory, default ``.``)."""
    from kpi_engine.pipeline import load_workspace

    if not spec.startswith(GIT_PREFIX):
        return Side(spec, load_workspace(Path(spec)))
    rev, _, where = spec.removeprefix(GIT_PREFIX).partition(":")
    if not rev:
        raise KpiError(
            [
                error(
                    Code.FILE_NOT_FOUND,
                    f"`{spec}` names no revision",
                    None,
                    "write git:REV or git:REV:PATH, e.g. git:HEAD~1 or git:main:kpi_definitions",
                )
            ]
        )
    top, prefix = _repository(Path(where or "."))
    commit = _commit(top, rev)
    with tempfile.TemporaryDirectory(prefix="kpi-diff-") as tmp:
        tree = Path(tmp)
        _extract_yaml(top, commit, tree)
        target = tree / prefix
        if not target.exists():
            raise KpiError(
                [
                    error(
                        Code.FILE_NOT_FOUND,
                        f"no definitions at `{rev}:{prefix}` in {top}",
                        None,
                        "PATH is relative to the current directory; list what the revision holds with "
                        f"`git -C {top} ls-tree --name-only {rev} -- {prefix or '.'}`",
                    )
                ]
            )
        try:
            workspace = load_workspace(target)
        except KpiError as exc:
            raise KpiError([_relabel(d, tree, rev) for d in exc.diagnostics]) from None
    return Side(spec, workspace)


def _git(top: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(top), *args], capture_output=True, text=True, check=False)


def _repository(path: Path) -> tuple[Path, str]:
    """The repository holding ``path`` (which may not exist in the working tree) and the path inside it."""
    target = Path(os.path.abspath(path))
    probe = target
    while not probe.is_dir() and probe != probe.parent:
        probe = probe.parent
    try:
        done = _git(probe, "rev-parse", "--show-toplevel")
    except OSError:
        raise KpiError(
            [error(Code.FILE_NOT_FOUND, "git is not installed", None, "install git, or compare two folders")]
        ) from None
    if done.returncode != 0:
        raise KpiError(
            [
                error(
                    Code.FILE_NOT_FOUND,
                    f"`{path}` is not inside a git repository",
                    None,
                    "run kpi diff inside the repository, or name a path in it: git:REV:PATH",
                )
            ]
        )
    top = Path(done.stdout.strip())
    try:
        prefix = Path(os.path.relpath(target.resolve(), top.resolve())).as_posix()
    except ValueError:
        prefix = ".."
    if prefix == ".." or prefix.startswith("../"):
        raise KpiError(
            [
                error(
                    Code.FILE_NOT_FOUND,
                    f"`{path}` is outside the repository {top}",
                    None,
                    "name a path inside the repository",
                )
            ]
        )
    return top, "" if prefix == "." else prefix


def _commit(top: Path, rev: str) -> str:
    done = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
    if done.returncode != 0 or not done.stdout.strip():
        raise KpiError(
            [
                error(
                    Code.FILE_NOT_FOUND,
                    f"`{rev}` is not a revision of the repository {top}",
                    None,
                    "use a branch, a tag or a commit such as HEAD~1; `git log --oneline` lists them",
                )
            ]
        )
    return done.stdout.strip()


def _extract_yaml(top: Path, commit: str, into: Path) -> None:
    """Write every YAML file of the commit's tree under ``into`` (includes may reach outside the workspace)."""
    with subprocess.Popen(
        ["git", "-C", str(top), "archive", "--format=tar", commit], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None
        with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
            for member in archive:
                if member.isfile() and member.name.endswith(YAML_SUFFIXES):
                    archive.extract(member, into, filter="data")
        stderr = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
    if proc.returncode != 0:
        raise KpiError(
            [
                error(
                    Code.FILE_NOT_FOUND,
                    f"git archive failed: {stderr.strip()}",
                    None,
                    "check that the revision exists in this repository",
                )
            ]
        )


def _relabel(d: Diagnostic, tree: Path, rev: str) -> Diagnostic:
    """Name files of a git side ``REV:path`` instead of a temporary folder (and keep their text)."""

    def fix(span: Span | None) -> Span | None:
        if span is None:
            return None
        rel = _relative(span.file, tree)
        if rel.startswith(".."):
            return span
        label = f"{rev}:{rel}"
        try:
            TEXTS.remember(label, (tree / rel).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            pass
        return replace(span, file=label)

    return replace(d, span=fix(d.span), related=tuple((label, fix(s) or s) for label, s in d.related))


# --- the definitions diff --------------------------------------------------------------------


def diff_definitions(old: m.Workspace, new: m.Workspace) -> list[Change]:
    """Every added, removed and changed value between two merged definition sets."""
    walker = _Walker(old, new)
    sections = [k for k in TOP_KEYS if k in old.data or k in new.data]
    sections += sorted(k for k in {*old.data, *new.data} if k not in sections)
    for key in sections:
        walker.pair(old.data.get(key, _ABSENT), new.data.get(key, _ABSENT), (key,), (key,))
    return walker.changes


_ABSENT: Any = object()  # a key or list item that one side does not have

# Lists whose items have an identity: scorecard KPI entries are the pair (kpi, at).
_IDENTITY: tuple[tuple[tuple[str | None, ...], Callable[[Any], Any]], ...] = (
    (("scorecards", None, "kpis"), lambda e: (e.get("kpi"), e.get("at", "person")) if isinstance(e, dict) else None),
)


class _Walker:
    def __init__(self, old: m.Workspace, new: m.Workspace) -> None:
        self.old, self.new = old, new
        self.changes: list[Change] = []

    def pair(self, a: Any, b: Any, pa: DataPath, pb: DataPath) -> None:
        if a is _ABSENT and b is _ABSENT:
            return
        if a is _ABSENT:
            self.emit("added", pb, None, b)
        elif b is _ABSENT:
            self.emit("removed", pa, a, None)
        elif isinstance(a, dict) and isinstance(b, dict):
            for key in sorted({*a, *b}):
                self.pair(a.get(key, _ABSENT), b.get(key, _ABSENT), (*pa, key), (*pb, key))
        elif isinstance(a, list) and isinstance(b, list):
            self.lists(a, b, pa, pb)
        elif not same(a, b):
            self.emit("changed", pb, a, b, pa)

    def lists(self, a: list[Any], b: list[Any], pa: DataPath, pb: DataPath) -> None:
        pairs = _by_identity(a, b, pb) or _by_alignment(a, b)
        for i, j in pairs:
            self.pair(
                a[i] if i is not None else _ABSENT,
                b[j] if j is not None else _ABSENT,
                (*pa, i if i is not None else -1),
                (*pb, j if j is not None else -1),
            )

    def emit(self, kind: Kind, path: DataPath, a: Any, b: Any, old_path: DataPath | None = None) -> None:
        pa = old_path if old_path is not None else path
        self.changes.append(
            Change(
                kind,
                dotted(path),
                None if kind == "added" else written(a),
                None if kind == "removed" else written(b),
                None if kind == "added" else _at(self.old, pa),
                None if kind == "removed" else _at(self.new, path),
            )
        )


def _by_identity(a: list[Any], b: list[Any], path: DataPath) -> list[tuple[int | None, int | None]] | None:
    for pattern, identity in _IDENTITY:
        if len(pattern) == len(path) and all(p is None or p == q for p, q in zip(pattern, path, strict=True)):
            ka, kb = [identity(x) for x in a], [identity(x) for x in b]
            if None in ka or None in kb or len(set(ka)) < len(ka) or len(set(kb)) < len(kb):
                return None  # not identifiable (an invalid set): fall back to alignment
            # Kept and added entries in the new order; a removed entry after the one that preceded it.
            where = {k: i for i, k in enumerate(ka)}
            pairs: list[tuple[int | None, int | None]] = [(where.get(k), j) for j, k in enumerate(kb)]
            for i, k in enumerate(ka):
                if k not in set(kb):
                    after = next((n + 1 for n, (o, _) in enumerate(pairs) if o == i - 1), 0) if i else 0
                    pairs.insert(after, (i, None))
            return pairs
    return None


def _by_alignment(a: list[Any], b: list[Any]) -> list[tuple[int | None, int | None]]:
    """Equal runs stay put; replaced runs pair up item by item, the rest are added or removed."""
    matcher = SequenceMatcher(None, [written(x) for x in a], [written(x) for x in b], autojunk=False)
    pairs: list[tuple[int | None, int | None]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        common = min(i2 - i1, j2 - j1) if tag in ("replace", "equal") else 0
        pairs += [(i1 + k, j1 + k) for k in range(common)]
        pairs += [(i, None) for i in range(i1 + common, i2)]
        pairs += [(None, j) for j in range(j1 + common, j2)]
    return pairs


def same(a: Any, b: Any) -> bool:
    """Equal as values: 0.25 equals 0.250, but a boolean never equals a number and text never a number."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | Decimal) and isinstance(b, int | Decimal):
        return Decimal(a) == Decimal(b)
    return type(a) is type(b) and bool(a == b)


_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def dotted(path: DataPath) -> str:
    """``scorecards.support_director.kpis[0].weight``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _KEY.fullmatch(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


def _at(ws: m.Workspace, path: DataPath) -> str | None:
    span = ws.source_map.keys.get(path) or ws.source_map.values.get(path)
    return f"{_relative(span.file, ws.root)}:{span.line}" if span else None


def _relative(file: str, root: Path) -> str:
    """A file named relative to a workspace root (so two checkouts name their files alike)."""
    absolute = Path(file) if os.path.isabs(file) else Path.cwd() / file
    try:
        return Path(os.path.relpath(absolute.resolve(), root.resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(file).as_posix()


# --- money on the same data ------------------------------------------------------------------


def data_root(path: Path) -> Path:
    """The folder the data paths resolve in: the workspace found at ``path``, else the folder itself."""
    from kpi_engine.pipeline import workspace_roots

    if not path.exists():
        raise KpiError(
            [
                error(
                    Code.FILE_NOT_FOUND,
                    f"`{path}` does not exist",
                    None,
                    "--data names the workspace whose data files both sides are paid on",
                )
            ]
        )
    if path.is_file():
        return path.parent
    roots = workspace_roots(path)
    return roots[0] if len(roots) == 1 else path


def rebase(ws: m.Workspace, root: Path) -> m.Workspace:
    """The same definitions reading their data files from the workspace at ``root`` (same relative layout)."""
    sources = {
        sid: replace(s, base_dir=root / _relative(str(s.base_dir.absolute()), ws.root)) for sid, s in ws.sources.items()
    }
    return replace(ws, root=root, sources=sources)


def payout_impact(
    old: m.Workspace, new: m.Workspace, data: Path, plan: str | None, period: str | None
) -> tuple[PayoutImpact, tuple[Diagnostic, ...]]:
    """The plan's payout per person under both definition sets, on the data files of ``data``."""
    from kpi_engine.pay import find_plan

    plan_id = plan or find_plan(new if new.bonus_plans else old, None).id
    if plan_id not in old.bonus_plans and plan_id not in new.bonus_plans:
        find_plan(new, plan_id)  # raises: unknown plan, with a did-you-mean
    old_run, old_notes = _pay(rebase(old, data), plan_id, period)
    new_run, new_notes = _pay(rebase(new, data), plan_id, period)
    runs = [r for r in (old_run, new_run) if r is not None]
    old_paid = {p.person: p.payout for p in old_run.result.payouts} if old_run else {}
    new_paid = {p.person: p.payout for p in new_run.result.payouts} if new_run else {}
    names = {pid: person.name for run in runs for pid, person in run.evaluation.org.people.items()}
    rows = tuple(
        PayoutChange(p, names.get(p, p), old_paid.get(p), new_paid.get(p))
        for p in sorted(old_paid.keys() | new_paid.keys())
    )
    impact = PayoutImpact(
        plan_id,
        " → ".join(dict.fromkeys(r.period.label for r in runs)),
        (new if new_run else old).organization.currency,
        min((r.plan.rounding_to for r in runs), key=_exponent),
        data,
        rows,
        old_run.result.total if old_run else None,
        new_run.result.total if new_run else None,
    )
    return impact, tuple(dict.fromkeys((*old_notes, *new_notes)))


def _exponent(unit: Decimal) -> int:
    exponent = unit.normalize().as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _pay(ws: m.Workspace, plan: str, period: str | None) -> tuple[BonusRun | None, tuple[Diagnostic, ...]]:
    """The plan paid under one side's definitions (None when that side has no such plan)."""
    from kpi_engine.execution import loaded
    from kpi_engine.pipeline import compile_workspace, pay

    if plan not in ws.bonus_plans:
        return None, ()
    compiled = compile_workspace(ws)
    if any(s.path is None for s in ws.sources.values()):  # `table:` sources live in the data workspace's database
        run = pay(compiled, plan, period)
        return run, tuple(run.evaluation.diagnostics)
    with loaded(ws.sources, ws.organization.timezone) as (engine, report):
        run = pay(compiled, plan, period, engine)
    return run, (*report.diagnostics, *run.evaluation.diagnostics)
