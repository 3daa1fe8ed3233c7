#!/usr/bin/env bash
# One-command set-up: an isolated environment with the pinned grading stack, the course
# tooling and the reference tinytorch installed, and a Jupyter kernel that runs inside it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
"$PY" - <<'PYCHECK'
import sys
if sys.version_info[:2] != (3, 11):
    sys.exit(f"TinyTorch's grading environment is pinned for Python 3.11, found {sys.version.split()[0]}")
PYCHECK
# tmux: the TinyTalks dashboard's test runs it in a terminal as a person would
# (tests/milestones/test_milestones_transformer.py). Installed with apt when missing and
# possible; otherwise that test says what is missing.
if ! command -v tmux >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq tmux) >/dev/null \
            || echo "warning: could not install tmux (apt-get); the dashboard's terminal test needs it" >&2
    else
        echo "warning: tmux is not installed; the dashboard's terminal test needs it (apt-get install tmux)" >&2
    fi
fi
# PostgreSQL: the gradebook can live there (nbgrader_config.py names it; docs/ta-guide.md),
# and the tests start a private server of Debian's package (tests/e2e/test_grading_cluster.py).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        # The package's own cluster is not needed (the tests make theirs); it may stay stopped.
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "warning: PostgreSQL is not installed; the PostgreSQL gradebook tests need it (apt-get install postgresql)" >&2
    fi
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.lock
.venv/bin/python -m pip install --quiet --no-deps --no-build-isolation -e .
# nbgrader runs notebooks with the kernel named in their metadata ("python3"); register it
# inside the venv so grading uses this interpreter and these pins, not the system's.
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (tinytorch)" >/dev/null
# Grading kernels run contained (coursekit/grading/sandbox.py); nbgrader_config.py selects this one.
.venv/bin/python -m coursekit.grading.sandbox --install-kernelspec >/dev/null
# The local JupyterHub (`make hub`) and its browser test: the proxy from npm (package-lock.json),
# Debian's Chromium for Playwright (its own browser download is not used), and the
# single-user servers' environment outside the repository. These need root (CI runs as root);
# without it they are skipped and the hub and its test say what is missing.
if [ ! -x node_modules/.bin/configurable-http-proxy ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
if [ "$(id -u)" = 0 ]; then
    if ! command -v chromium >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
    .venv/bin/coursekit hub env
else
    echo "not root: skipped Chromium and the hub's server environment (make hub and its test need root)"
fi
echo "set-up done: .venv ready ($(.venv/bin/python -c 'import nbgrader, numpy; print("nbgrader", nbgrader.__version__, "numpy", numpy.__version__)'))"
