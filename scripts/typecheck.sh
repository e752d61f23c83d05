#!/usr/bin/env bash
# mypy over the package under its installed name: engine/ is `kpi_engine` and cli/ is `kpi_engine.cli`
# (see pyproject.toml), a mapping mypy cannot follow through the editable install's import hook. A tree
# of links in build/typecheck/ gives it that layout; reported paths read kpi_engine/… for engine/….
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
tree=build/typecheck/kpi_engine
rm -rf build/typecheck
mkdir -p "$tree"
for entry in engine/*; do
  [ "$(basename "$entry")" = "__pycache__" ] || ln -s "$root/$entry" "$tree/"
done
ln -s "$root/cli" "$tree/cli"
cd build/typecheck
exec "$root/.venv/bin/mypy" --config-file "$root/pyproject.toml" kpi_engine
