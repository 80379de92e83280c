#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian-based machine with Python >= 3.11, then
# runs the whole test suite. Needs root (or sudo) only for Debian's chromium, which the
# notebook browser test drives headless; without it that one test is skipped.
# The tests run on every core (pytest-xdist; PWMODEL_TEST_WORKERS sets how many workers).
# Tests marked xdist_group stay together on one worker.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/_env.sh
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
    if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
fi
"$PY" -m pip install -q -e '.[test]'
exec "$PY" -m pytest -q -n "${PWMODEL_TEST_WORKERS:-auto}" --dist loadgroup "$@"
