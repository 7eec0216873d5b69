#!/usr/bin/env bash
# Rewrites constraints.txt from a fresh virtualenv that installs coachgym with the current pins; run it after
# changing dependencies and a green `bash .ci/run`, then commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="$(mktemp -d)/lock"
"${PYTHON:-python3}" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[dev]"
{ grep '^#' constraints.txt; "$VENV/bin/python" -m pip freeze --exclude-editable | sed 's/^torch==\([^+]*\)+.*/torch==\1/'; } \
  > constraints.txt.new
mv constraints.txt.new constraints.txt
echo "constraints.txt: $(grep -vc '^#' constraints.txt) pins"
