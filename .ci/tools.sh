# Sourced by .ci/run: uv and nox in a venv of the CI's own, on PATH.
# A venv, not `pip install` into python3: a distribution's Python refuses that
# (externally-managed-environment, PEP 668), and the host's site-packages stay untouched.
tools="${NATIVE_CHECK_CI_TOOLS:-$PWD/build/ci-tools}"
if [ ! -x "$tools/bin/uvx" ] || [ ! -x "$tools/bin/nox" ]; then
  rm -rf "$tools"
  python3 -m venv "$tools" || {
    echo ".ci/run: python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2
    exit 2
  }
  "$tools/bin/python" -m pip install --quiet --disable-pip-version-check uv nox
fi
PATH="$tools/bin:$PATH"
export PATH
