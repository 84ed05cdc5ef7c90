#!/usr/bin/env bash
# Make .venv hold pipehouse (editable) and its dependencies; re-install only when pyproject changes.
# Usage: source scripts/bootstrap.sh [dev]   -> sets $PH_PY to the venv's python
set -euo pipefail
ph_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ph_venv="$ph_root/.venv"
ph_extras="${1:-}"

ph_find_python() {
  for candidate in "${PYTHON:-}" python3 python3.13 python3.12 python3.11 python; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "pipehouse needs Python 3.11 or newer on PATH (or set PYTHON=/path/to/python3.11)" >&2
  return 1
}

if [ ! -x "$ph_venv/bin/python" ]; then
  ph_base="$(ph_find_python)"
  echo "pipehouse: creating $ph_venv with $ph_base" >&2
  "$ph_base" -m venv "$ph_venv"
fi

ph_stamp="$ph_venv/.pipehouse-installed"
ph_want="$(cat "$ph_root/pyproject.toml" | cksum | cut -d' ' -f1)-${ph_extras}"
ph_have="$(cat "$ph_stamp" 2>/dev/null || true)"
# A dev install also satisfies a plain one.
if [ "$ph_have" != "$ph_want" ] && [ "$ph_have" != "${ph_want%-*}-dev" ]; then
  echo "pipehouse: installing dependencies into .venv (first run only)" >&2
  "$ph_venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  spec="$ph_root"
  [ -n "$ph_extras" ] && spec="$ph_root[$ph_extras]"
  "$ph_venv/bin/python" -m pip install --quiet --disable-pip-version-check -e "$spec"
  echo "$ph_want" > "$ph_stamp"
fi
PH_PY="$ph_venv/bin/python"
export PH_PY
