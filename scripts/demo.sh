#!/usr/bin/env bash
# The main job on the bundled support example: set up (once), check the definitions, import the month's
# exports, evaluate the scorecards, compute the bonus, and print one person's statement.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/kpi ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -e .
fi
ws=kpi_definitions/examples/support
kpi=.venv/bin/kpi
echo "== kpi validate $ws"
$kpi validate "$ws"
echo
echo "== kpi import $ws   (bad rows are kept in the rejects table, never dropped)"
$kpi import "$ws"
echo "== kpi evaluate $ws --period 2026 --at unit"
$kpi evaluate "$ws" --period 2026 --at unit
echo "== kpi bonus $ws --plan support_2026"
$kpi bonus "$ws" --plan support_2026
echo
echo "== kpi explain $ws --person e03   (a part-time agent hired on 1 July)"
$kpi explain "$ws" --person e03 --plan support_2026
