#!/bin/sh
# Installs what the console's browser tests need: Debian's chromium and the playwright
# package (its Python driver only: the tests launch /usr/bin/chromium, so no browser is
# downloaded by playwright). Run from the repository root; uses .venv when it exists.
set -eu

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
        SUDO=sudo
    else
        SUDO=
    fi
    $SUDO apt-get update
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium fonts-dejavu-core
fi

PYTHON=${PYTHON:-python3}
if [ -x .venv/bin/python ]; then
    PYTHON=.venv/bin/python
fi
"$PYTHON" -m pip install --quiet "playwright>=1.40"
echo "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"
