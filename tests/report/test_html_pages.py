"""Pages rendered by worker processes are the pages rendered in one process, byte for byte and in order."""

from __future__ import annotations

import multiprocessing
import shutil
import sys
from pathlib import Path

import pytest

from kpi_engine.pipeline import compile_workspace, report
from kpi_engine.report import html
from kpi_engine.report.gather import gather

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.mark.skipif(sys.platform != "linux", reason="workers are forked on Linux only")
def test_workers_render_the_same_pages_in_the_same_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws = tmp_path / "field_service"
    shutil.copytree(REPO / "kpi_definitions" / "examples" / "field_service", ws, ignore=shutil.ignore_patterns(".kpi"))
    compiled = compile_workspace(ws)
    ran = report(compiled, "2026", grain="month", plan="field_2026")
    found = gather(
        compiled.workspace, ran.evaluation, trend=ran.trend, periods=ran.periods, grain="month", run=ran.bonus
    )
    kinds = ["evaluation", "evaluation by month", "bonus"]
    alone = list(html.html_pages(found, kinds, workers=1))
    monkeypatch.setattr(html, "PARALLEL_FROM", 0)  # the example is small: hand it to workers all the same
    monkeypatch.setattr(html, "CHUNK", 3)  # and in several pieces each
    assert len(found.people) > 2 * html.CHUNK
    assert list(html.html_pages(found, kinds, workers=2)) == alone
    names = [name for name, _, _ in alone]
    assert names[0] == "index.html" and len(names) == 1 + len(found.units) + len(found.people)
    for _, data, offset in alone:
        assert data[offset:].startswith(b"evaluation run 00000000000000000000000, evaluation by month run")
    folder = tmp_path / "written"

    def write(name: str, data: bytes) -> None:  # called in the workers
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)

    written = list(html.html_pages(found, kinds, workers=2, write=write))
    assert [(name, offset) for name, _, offset in written] == [(name, offset) for name, _, offset in alone]
    for (name, data, _), (_, expected, _) in zip(written, alone, strict=True):
        assert data == b"" and (folder / name).read_bytes() == expected, name
    stopped = html.html_pages(found, kinds, workers=2)
    assert next(stopped) == alone[0]
    stopped.close()  # a writer that fails after the first page
    assert multiprocessing.active_children() == [], "the workers are gone"

    def broken(*_: object) -> str:
        raise ValueError("a page that cannot be rendered")

    monkeypatch.setattr(html, "person_page", broken)  # inherited by the forked workers
    with pytest.raises(ValueError, match="cannot be rendered"):
        list(html.html_pages(found, kinds, workers=2))
    assert multiprocessing.active_children() == []
