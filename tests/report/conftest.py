"""The report tests: with KPI_REQUIRE_ENGINES=1 (set by .ci/run), a browser test that skips fails instead,
as the engine tests do (the hook is theirs, tests/engines/conftest.py)."""

from tests.engines.conftest import pytest_runtest_makereport  # noqa: F401  (a pytest hook, registered by name)
