"""One Spark session (``local[2]``) for every Spark test: starting Spark takes ~15 s.

Import the fixture into a test module (``from spark_session import spark_session``); the
session is skipped with its reason when PySpark or Java is missing. Engines opened by the tests
(``open_spark``, ``Target("spark", ...)``) reuse this session instead of starting their own.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

MASTER = "local[2]"


def spark_missing() -> str | None:
    """Why Spark cannot run here, or None."""
    if importlib.util.find_spec("pyspark") is None:
        return 'PySpark is not installed (pip install "kpi-engine[spark]")'
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "Java is not installed (the spark engine needs Java 17)"
    return None


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """The process's Spark session, started once, stopped at the end of the test session."""
    reason = spark_missing()
    if reason is not None:
        pytest.skip(reason)
    from kpi_engine.data.spark import _session

    session, owned = _session(MASTER)
    # The tests' tables have a handful of rows: Spark would spend their time generating code.
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    session.conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN")
    session.conf.set("spark.sql.shuffle.partitions", "2")
    yield session
    if owned:
        session.stop()
