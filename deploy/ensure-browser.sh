#!/usr/bin/env bash
# Browser tests drive Debian's Chromium; install it (and nginx for benchmarks) when missing.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "ERROR: Chromium is missing; run as root or: apt-get install chromium chromium-driver" >&2
  exit 1
fi
echo "Installing Chromium for the browser tests…"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium chromium-driver >/dev/null
