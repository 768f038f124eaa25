#!/usr/bin/env bash
# Make sure a Chromium for the browser tests is installed (Debian's package, driven by Playwright).
set -euo pipefail
if [ -n "${HALQA_CHROMIUM:-}" ] && [ -x "${HALQA_CHROMIUM}" ]; then exit 0; fi
for candidate in /usr/bin/chromium /usr/bin/chromium-browser; do
  [ -x "$candidate" ] && exit 0
done
echo "Installing Debian's chromium for the browser tests…"
SUDO=""
[ "$(id -u)" = "0" ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-noto-core >/dev/null
command -v chromium >/dev/null
