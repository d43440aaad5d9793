#!/usr/bin/env bash
# Make sure Debian's chromium is at /usr/bin/chromium (never a browser download).
# Installs it with apt when missing and permitted (root, or passwordless sudo).
# Exit 0 when present; 1 to skip browser tests; 2 when KALAN_REQUIRE_BROWSER=1.
set -u
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = "0" ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
if [ "$SUDO" != "none" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || true
fi
[ -x /usr/bin/chromium ] && exit 0
if [ "${KALAN_REQUIRE_BROWSER:-0}" = "1" ]; then
  echo "Chromium is required (KALAN_REQUIRE_BROWSER=1) but /usr/bin/chromium is missing." >&2
  exit 2
fi
echo "Chromium not available and cannot be installed here: skipping browser tests."
exit 1
