#!/usr/bin/env bash
# Make a venv hold pipehouse (editable) and its dependencies; re-install only when pyproject
# changes. Usage: source scripts/bootstrap.sh EXTRAS   -> sets $PH_PY to the venv's python
#   EXTRAS: "" (the server and CLI) or "dev" (also the test tools). Pass it even when empty:
#   `source` without arguments hands the caller's own arguments to this script.
#   PH_VENV picks the venv (default .venv), PYTHON the interpreter that creates it.
# Progress goes to stderr, so a command's stdout stays its own (`keys create`, `inspect --json`).
set -euo pipefail
ph_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ph_venv="${PH_VENV:-$ph_root/.venv}"
ph_extras="${1:-}"

case "$ph_extras" in
  "" | dev) ;;
  *)
    echo "scripts/bootstrap.sh: unknown extra '$ph_extras' (expected nothing or 'dev')" >&2
    return 2 2>/dev/null || exit 2
    ;;
esac

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

# pip's own lines, shortened to one line per package it fetches, numbered, as they happen.
ph_progress() {
  awk '
    /^Collecting / { n++; printf "pipehouse: [%d] %s\n", n, $2; fflush(); next }
    /^(Installing collected|Successfully installed)/ {
      line = $0; if (length(line) > 100) line = substr(line, 1, 97) "..."
      printf "pipehouse: %s\n", line; fflush(); next }
    /(ERROR|error:|Error)/ { print; fflush() }
  ' >&2
}

if [ ! -x "$ph_venv/bin/python" ]; then
  ph_base="$(ph_find_python)"
  echo "pipehouse: creating $ph_venv with $ph_base ($("$ph_base" -c 'import sys; print(sys.version.split()[0])'))" >&2
  "$ph_base" -m venv "$ph_venv"
fi

ph_stamp="$ph_venv/.pipehouse-installed"
ph_want="$(cksum < "$ph_root/pyproject.toml" | cut -d' ' -f1)-${ph_extras}"
ph_have="$(cat "$ph_stamp" 2>/dev/null || true)"
# A dev install also satisfies a plain one.
if [ "$ph_have" != "$ph_want" ] && [ "$ph_have" != "${ph_want%-*}-dev" ]; then
  echo "pipehouse: installing dependencies into $ph_venv (first run only; about a minute)" >&2
  "$ph_venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >&2
  ph_spec="$ph_root"
  [ -n "$ph_extras" ] && ph_spec="$ph_root[$ph_extras]"
  PYTHONUNBUFFERED=1 "$ph_venv/bin/python" -m pip install --disable-pip-version-check \
    --progress-bar off -e "$ph_spec" 2>&1 | ph_progress
  echo "$ph_want" > "$ph_stamp"
  echo "pipehouse: $ph_venv is ready" >&2
fi
PH_PY="$ph_venv/bin/python"
export PH_PY
