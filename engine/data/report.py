"""What an import did, per source and per file: the numbers `kpi import` prints and tests check."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from kpi_engine.errors import Diagnostic, KpiError, Severity

SourceStatus = Literal["loaded", "unchanged", "over_limit", "table"]


@dataclass(frozen=True)
class FileReport:
    """One file of a source. Invariant: `rows == loaded + rejected`.

    `rows` counts data records (a record may span several lines when a quoted field holds a
    newline); `lines` is the file's physical line count where the format has lines, and
    `swallowed` the lines beyond the first inside records that could not be read (an
    unterminated quote swallows the rest of the file into one rejected record).
    """

    file: str
    sha256: str
    size: int
    format: str
    rows: int
    loaded: int
    rejected: int
    lines: int | None = None
    swallowed: int = 0
    skipped: bool = False


@dataclass(frozen=True)
class Reject:
    """A row of the `rejects` table; `record` numbers the file's records (lines can be shared: JSON)."""

    source: str
    file: str
    line: int
    column: str | None
    reason: str
    raw: str
    record: int


@dataclass(frozen=True)
class SourceReport:
    """One source: its files, its status, and the first rejects as a sample to show."""

    source: str
    status: SourceStatus
    files: tuple[FileReport, ...] = ()
    sample: tuple[Reject, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def rows(self) -> int:
        """Data records read from the source's files."""
        return sum(f.rows for f in self.files)

    @property
    def loaded(self) -> int:
        """Records of the source's files that passed their checks."""
        return sum(f.loaded for f in self.files)

    @property
    def rejected(self) -> int:
        """Records of the source's files that were rejected, each with its reason in `rejects`."""
        return sum(f.rejected for f in self.files)

    @property
    def written(self) -> int:
        """Rows now in the source's table: none when over the limit.

        Over the limit, `loaded` only counts the rows that passed their checks.
        """
        return self.loaded if self.status in ("loaded", "unchanged") else 0

    @property
    def skipped(self) -> bool:
        """Nothing was read: the files and the declaration are unchanged since the last import."""
        return self.status == "unchanged"

    @property
    def over_limit(self) -> bool:
        """Rejects exceeded `max_rejects`, so this import loaded nothing for the source."""
        return self.status == "over_limit"


@dataclass(frozen=True)
class ImportReport:
    """Every source imported (in the order asked), and warnings such as empty files."""

    sources: tuple[SourceReport, ...]
    max_rejects: int | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when every source is within `max_rejects` (the exit code of `kpi import`)."""
        return not any(s.over_limit for s in self.sources)

    def source(self, source_id: str) -> SourceReport:
        """The report of one source."""
        for report in self.sources:
            if report.source == source_id:
                return report
        raise KeyError(source_id)


@dataclass(frozen=True)
class Progress:
    """An event for a progress display: `step` is reading, typing, loaded, over_limit or unchanged.

    `done` and `total` count bytes of the import's files (every selected source), so a display can
    show a percentage and the time left; `rows` counts the records read of the current file.
    """

    source: str
    step: str
    file: str | None = None
    rows: int | None = None
    done: int = 0
    total: int = 0


ProgressCallback = Callable[[Progress], None]


class ImportFailed(KpiError):
    """A source could not be imported (unreadable file, header mismatch…); carries the report so far.

    Sources imported before the failure stay committed; the failing source keeps its previous content.
    """

    def __init__(self, diagnostics: tuple[Diagnostic, ...], report: ImportReport) -> None:
        super().__init__(diagnostics)
        self.report = report

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        """The diagnostics that are errors, without the warnings gathered before the failure."""
        return tuple(d for d in self.diagnostics if d.severity == Severity.ERROR)
