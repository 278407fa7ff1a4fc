#!/usr/bin/env bash
# The README's test command: installs everything from nothing, then lints and runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
if [ -f scripts/install-browser.sh ]; then bash scripts/install-browser.sh; fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m mypy
.venv/bin/python -m pytest "$@"
# The oldest pandas we support, on the layers that touch dtypes.
python3 -m venv .venv-pandas22
.venv-pandas22/bin/python -m pip install -q --upgrade pip
.venv-pandas22/bin/python -m pip install -q -e ".[test]" "pandas==2.2.*"
.venv-pandas22/bin/python -m pytest -q tests/frames tests/sandbox tests/client tests/writeback
