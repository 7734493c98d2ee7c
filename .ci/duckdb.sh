#!/usr/bin/env bash
# Installs DuckDB (PyPI `duckdb`, no server) into a venv outside the repository and exports
# ARCHIVER_DUCKDB_PYTHON, the Python that archiver-kit's engine tests run DuckDB with.
#
#   source .ci/duckdb.sh     # leaves ARCHIVER_DUCKDB_PYTHON exported in the calling shell
#
# The venv lives in ${ARCHIVER_CI_CACHE:-$HOME/.cache/archiver-ci}/venv-duckdb (without the venv
# module, pip's user site is used). Written to be sourced: no `set -e`/`exit`.

archiver_duckdb() {
  local cache="${ARCHIVER_CI_CACHE:-$HOME/.cache/archiver-ci}"
  local venv="$cache/venv-duckdb" py package=duckdb==2.0.1
  py="$venv/bin/python"
  if ! "$py" -c 'import duckdb' 2>/dev/null; then
    mkdir -p "$cache" || return 1
    if python3 -m venv "$venv" >/dev/null 2>&1; then
      "$py" -m pip install -q "$package" \
        || { echo "duckdb.sh: pip install $package failed" >&2; return 1; }
    else
      echo "duckdb.sh: python3 -m venv unavailable, installing into the user site" >&2
      py=python3
      "$py" -c 'import duckdb' 2>/dev/null \
        || python3 -m pip install -q --user --break-system-packages "$package" 2>/dev/null \
        || python3 -m pip install -q --user "$package" \
        || { echo "duckdb.sh: pip install $package failed" >&2; return 1; }
    fi
  fi
  "$py" -c 'import duckdb; duckdb.connect().execute("SELECT 42").fetchall()' \
    || { echo "duckdb.sh: duckdb does not run" >&2; return 1; }
  export ARCHIVER_DUCKDB_PYTHON="$py"
  echo "duckdb.sh: DuckDB $("$py" -c 'import duckdb; print(duckdb.__version__)') at $py" >&2
}

archiver_duckdb
