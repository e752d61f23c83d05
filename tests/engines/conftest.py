"""A throwaway PostgreSQL cluster for the engine tests: initdb in a temporary folder, a unix socket
there (no TCP), one database; stopped and removed after the session. No binaries or no psycopg:
the tests that need it skip, saying why. As root, the server runs as an unprivileged user (initdb
refuses root)."""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

#: Set by .ci/run: there, every engine is installed, so an engine test that skips is a failure (a
#: missing install step must not pass CI as a row of skips).
REQUIRE_ENGINES = os.environ.get("KPI_REQUIRE_ENGINES") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """With KPI_REQUIRE_ENGINES=1, an engine test that skips fails instead, saying why it skipped."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRE_ENGINES and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"KPI_REQUIRE_ENGINES=1, but the engine test skipped: {reason}"


_DATABASE = "kpi"
_ROLE = "kpi"
_PORT = 5432  # the socket lives in a private folder: the port only names it, and cannot clash


def _binaries() -> Path | None:
    """The folder of initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(os.path.realpath(found)).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for folder in reversed(folders):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _run_as() -> tuple[Callable[[list[str]], list[str]], pwd.struct_passwd | None]:
    """How to run a command unprivileged, and as whom (nobody else when not root)."""
    if os.geteuid() != 0:
        return (lambda command: command), None
    for name in ("postgres", "nobody"):
        try:
            user = pwd.getpwnam(name)
        except KeyError:
            continue
        runner = shutil.which("runuser")
        if runner:
            return (lambda command, r=runner, n=name: [r, "-u", n, "--", *command]), user
        return (lambda command, n=name: ["su", n, "-s", "/bin/sh", "-c", shlex.join(command)]), user
    pytest.skip("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


def _server(folder: Path, binaries: Path, as_user: Callable[[list[str]], list[str]]) -> None:
    data = folder / "data"
    options = f"-k {folder} -c listen_addresses='' -p {_PORT} -c fsync=off -c full_page_writes=off"
    steps = [
        [str(binaries / "initdb"), "-D", str(data), "-U", _ROLE, "--auth=trust", "-E", "UTF8", "--no-locale"],
        [str(binaries / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w", "start"],
    ]
    for step in steps:
        done = subprocess.run(as_user(step), capture_output=True, text=True, cwd=folder, check=False)
        if done.returncode != 0:
            log = (folder / "log").read_text() if (folder / "log").exists() else ""
            raise RuntimeError(f"{step[0]} failed: {done.stdout}{done.stderr}{log}")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A libpq URL of a fresh database on a throwaway server (skips when PostgreSQL is not installed)."""
    psycopg = pytest.importorskip("psycopg", reason='psycopg is not installed: pip install "kpi-engine[postgres]"')
    binaries = _binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in /usr/lib/postgresql/*/bin")
    as_user, user = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="kpi-pg-"))
    if user is not None:
        os.chown(folder, user.pw_uid, user.pw_gid)
    try:
        _server(folder, binaries, as_user)
        with psycopg.connect(f"postgresql://{_ROLE}@/postgres?host={folder}&port={_PORT}", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {_DATABASE}")
        yield f"postgresql://{_ROLE}@/{_DATABASE}?host={folder}&port={_PORT}"
    finally:
        stop = [str(binaries / "pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "-w", "stop"]
        subprocess.run(as_user(stop), capture_output=True, check=False, cwd=folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def support_with_window(tmp_path: Path) -> Path:
    """A copy of the support example whose `csat` is over a rolling 3-month window (SPEC §10)."""
    ws = tmp_path / "support"
    shutil.copytree(
        Path(__file__).resolve().parents[2] / "kpi_definitions" / "examples" / "support",
        ws,
        ignore=shutil.ignore_patterns(".kpi"),
    )
    kpis = ws / "kpis.yaml"
    kpis.write_text(
        kpis.read_text().replace(
            "    formula: share(csat >= 4, csat is not null)\n",
            "    formula: share(csat >= 4, csat is not null)\n    window: 3 months\n",
        )
    )
    return ws
