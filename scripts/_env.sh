# Sourced by scripts/report.sh and scripts/test.sh: pick the Python to install into.
# $PYTHON if set; the active virtual environment if there is one; otherwise a .venv in the
# repository (with system site-packages, so what the machine already has is reused; this
# also works where the system Python refuses pip installs, PEP 668). Debian's python3 needs
# its python3-venv package for that: installed here when run as root.
if [ -n "${PYTHON:-}" ]; then
    PY="$PYTHON"
elif [ -n "${VIRTUAL_ENV:-}" ]; then
    PY="$VIRTUAL_ENV/bin/python"
else
    if [ ! -x .venv/bin/python ]; then
        if ! python3 -m venv --system-site-packages .venv 2>/dev/null; then
            rm -rf .venv
            if [ "$(id -u)" -eq 0 ]; then
                apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
            fi
            python3 -m venv --system-site-packages .venv
        fi
    fi
    PY=".venv/bin/python"
fi
