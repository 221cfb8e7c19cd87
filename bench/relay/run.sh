#!/usr/bin/env bash
# Install what the baselines need (mosquitto, ngircd, gcc for the ngircd-nodelay shim) if missing,
# then run the Hush relay bench beside them: ./bench/relay/run.sh [run.mjs flags...]
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v mosquitto >/dev/null || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v ngircd >/dev/null || [ -x /usr/sbin/ngircd ] || missing+=(ngircd)
command -v gcc >/dev/null || missing+=(gcc libc6-dev)
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
exec node run.mjs "$@"
