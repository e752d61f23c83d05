"""The package as users get it: build the wheel, install it into a fresh virtual environment outside
the checkout, and from another folder run every command on every template.

    python3 scripts/check_wheel.py            # what .ci/run does after the tests

Standard library only. Each template is copied with `kpi init` and driven by the commands its
"next:" hint prints (validate, import, test, evaluate, bonus); the support template then goes
through every other command of docs/reference/cli.md (compile, explain, catalog, diff, runs).
Exits non-zero on the first command that fails, showing its output.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_TOP_LEVEL = {"engine", "cli", "schemas", "kpi_definitions", "tests"}


def run(argv: list[str], cwd: Path, expect: int = 0) -> str:
    """Run a command; stop the check with its output when its exit code is not `expect`."""
    shown = " ".join(shlex.quote(a) for a in argv)
    print(f"$ {shown}", flush=True)
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if done.returncode != expect:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"check_wheel: `{shown}` exited {done.returncode}, expected {expect}")
    if "Traceback" in done.stderr or "internal error" in done.stderr:
        sys.stderr.write(done.stderr)
        raise SystemExit(f"check_wheel: `{shown}` printed an internal error")
    return done.stdout


def build_wheel(into: Path) -> Path:
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(into), str(ROOT)], cwd=into)
    (wheel,) = into.glob("kpi_engine-*.whl")
    return wheel


def check_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    if top != {"kpi_engine"}:
        raise SystemExit(f"check_wheel: the wheel installs {sorted(top)}; only kpi_engine is allowed")
    for needed in (
        "kpi_engine/schemas/kpi.schema.json",
        "kpi_engine/expr/grammar.lark",
        "kpi_engine/kpi_definitions/library/templates.json",
        "kpi_engine/cli/main.py",
        "kpi_engine/report/templates/index.html.j2",
        "kpi_engine/report/templates/report.css",
    ):
        if needed not in names:
            raise SystemExit(f"check_wheel: the wheel lacks {needed}")
    strays = [
        n
        for n in names
        if n.startswith("kpi_engine/kpi_definitions/library/")
        and (n.endswith(("generate.py", ".txt")) or "/examples/" in n)
    ]
    if strays:
        raise SystemExit(f"check_wheel: the wheel ships library leftovers: {strays}")
    print(f"{wheel.name}: {len(names)} files, top-level package kpi_engine only")


def drive_template(kpi: str, work: Path, name: str) -> tuple[Path, list[str]]:
    """`kpi init` a template, then run every command its "next:" hint gives."""
    target = work / f"ws_{name}"
    out = run([kpi, "init", target.name, "--template", name], cwd=work)
    steps = [line.strip() for line in out.split("next:", 1)[1].splitlines() if line.strip()]
    for step in steps:
        words = shlex.split(step)
        run([kpi, *words[1:]], cwd=work)
    return target, steps


def drive_everything(kpi: str, work: Path, ws: Path, steps: list[str]) -> None:
    """Every other command and output format of docs/reference/cli.md, on an initialised template."""
    bonus_step = shlex.split(next(s for s in steps if s.startswith("kpi bonus")))[1:]
    evaluate_step = shlex.split(next(s for s in steps if s.startswith("kpi evaluate")))[1:]
    plan = bonus_step[bonus_step.index("--plan") + 1]
    period = bonus_step[bonus_step.index("--period") + 1]
    w = ws.name
    run([kpi, "--version"], cwd=work)
    run([kpi, "--help"], cwd=work)
    run([kpi, "schema", "--out", "kpi.schema.json"], cwd=work)
    run([kpi, "validate", w, "--strict", "--format", "json"], cwd=work)
    run([kpi, "validate", w, "--format", "github"], cwd=work)
    run([kpi, "import", w, "--format", "json"], cwd=work)
    run([kpi, "compile", w, "--explain"], cwd=work)
    run([kpi, "compile", w, "--dialect", "postgres"], cwd=work)
    run([kpi, *evaluate_step, "--format", "csv", "--out", "results/"], cwd=work)
    run([kpi, *evaluate_step, "--grain", "month", "--at", "unit"], cwd=work)
    run([kpi, *evaluate_step, "--grain", "month", "--format", "xlsx", "--out", "results.xlsx"], cwd=work)
    payouts = json.loads(run([kpi, *bonus_step, "--format", "json"], cwd=work))
    run([kpi, *bonus_step, "--format", "xlsx", "--out", "payouts.xlsx"], cwd=work)
    person = payouts["payouts"][0]["person"]
    run([kpi, "explain", w, "--person", person, "--plan", plan, "--period", period], cwd=work)
    run([kpi, "report", w, "--period", period, "--grain", "quarter", "--plan", plan, "--out", "report"], cwd=work)
    if not (work / "report" / "index.html").is_file() or not any((work / "report" / "people").glob("*.html")):
        raise SystemExit("check_wheel: `kpi report` wrote no index.html or no person page")
    run([kpi, "report", w, "--period", period, "--plan", plan, "--person", person, "--out", "statement"], cwd=work)
    run([kpi, "test", w, "--format", "junit", "--out", "junit.xml"], cwd=work)
    run([kpi, "catalog", w, "--format", "html", "--out", "catalog.html"], cwd=work)
    runs = json.loads(run([kpi, "runs", "list", w, "--format", "json"], cwd=work))["runs"]
    bonus_run = next(r["id"] for r in runs if r["kind"] == "bonus")
    run([kpi, "runs", "show", w, bonus_run], cwd=work)
    run([kpi, "runs", "verify", w, bonus_run], cwd=work)
    run([kpi, "runs", "approve", w, bonus_run, "--by", "CI check"], cwd=work)
    run([kpi, "runs", "list", w, "--approved"], cwd=work)
    run([kpi, "diff", w, w, "--data", w, "--plan", plan, "--period", period, "--format", "json"], cwd=work)
    run([kpi, "evaluate", w, "--period", "2026-13"], cwd=work, expect=2)  # usage errors exit 2
    drive_engines(kpi, work, w, evaluate_step)


def drive_engines(kpi: str, work: Path, w: str, evaluate_step: list[str]) -> None:
    """Other engines from the bare wheel: their SQL prints without extras; running says what to install."""
    for engine in ("spark", "postgres"):
        run([kpi, "compile", w, "--engine", engine], cwd=work)
    for engine, extra in (("spark", "kpi-engine[spark]"), ("postgres", "kpi-engine[postgres]")):
        done = subprocess.run(
            [kpi, *evaluate_step, "--engine", engine], cwd=work, capture_output=True, text=True, check=False
        )
        if done.returncode != 1 or "E530" not in done.stderr or extra not in done.stderr:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"check_wheel: `--engine {engine}` without its extra did not say to install {extra}")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="kpi-wheel-") as tmp:
        work = Path(tmp)
        wheel = build_wheel(work)
        check_contents(wheel)
        env = work / "venv"
        venv.create(env, with_pip=True)
        run([str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=work)
        kpi = str(env / "bin" / "kpi")
        located = run([str(env / "bin" / "python"), "-c", "import kpi_engine; print(kpi_engine.__file__)"], cwd=work)
        if not located.startswith(str(env)):
            raise SystemExit(f"check_wheel: kpi_engine was imported from {located.strip()}, not the fresh venv")
        run([kpi, "schema"], cwd=work)
        names = [line.split()[0] for line in run([kpi, "init", "--list"], cwd=work).splitlines()]
        driven = {name: drive_template(kpi, work, name) for name in names}
        drive_everything(kpi, work, *driven["support"])
        print(f"check_wheel: {len(names)} templates and every command ran from the installed wheel")


if __name__ == "__main__":
    main()
