#!/usr/bin/env bash
# Page tests drive Debian's Chromium through Playwright (Playwright's own browser
# download cannot work on a closed network). Install it when it is missing and we may.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  /usr/bin/chromium --version
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  /usr/bin/chromium --version
  exit 0
fi
echo "Chromium is missing: install Debian's 'chromium' package (page tests need it)." >&2
exit 1
