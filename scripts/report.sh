#!/usr/bin/env bash
# Installs pwmodel (Python >= 3.11) and runs the main job: `pwmodel report` on the bundled
# machine profiles and data, into ./report (extra arguments go to pwmodel report).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_env.sh
"$PY" -m pip install -q -e .
exec "$PY" -m pwmodel report --out report "$@"
