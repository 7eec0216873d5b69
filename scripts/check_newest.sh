#!/usr/bin/env bash
# Proves coachgym on the newest releases pyproject allows for the Hugging Face stack (scripts/newest.txt):
# a second virtualenv gets constraints.txt without those pins, then runs the tests that exercise them.
# Usage: bash scripts/check_newest.sh [pytest args...]   (default: tests/vision tests/agents tests/training)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${NEWEST_VENV:-$(mktemp -d)/newest}"
floating=$(grep -v '^#' scripts/newest.txt | tr '\n' ' ')
pattern=$(grep -v '^#' scripts/newest.txt | tr '_' '-' | sed 's/.*/^&==/I' | paste -sd'|')
constraints="$(dirname "$VENV")/constraints-newest.txt"
"$PYTHON" -m venv "$VENV"
tr '_' '-' < constraints.txt | grep -viE "$pattern" > "$constraints"
echo "[newest] virtualenv $VENV; floating: $floating"
"$VENV/bin/python" -m pip install -q -c "$constraints" -e ".[dev]"
# shellcheck disable=SC2086
"$VENV/bin/python" -m pip install -q -c "$constraints" --upgrade $floating
"$VENV/bin/python" -m pip list 2>/dev/null | grep -iE "^($(echo $floating | tr ' _' '|-')) " | sed 's/^/[newest] /'
"$VENV/bin/python" -m pip check
# slow ones included: the slow SFT run is the end-to-end proof that training still learns
if [ $# -eq 0 ]; then set -- -m "slow or not slow" tests/vision tests/agents tests/training; fi
"$VENV/bin/python" -m pytest -q -p no:cacheprovider "$@"
