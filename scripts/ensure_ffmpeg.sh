#!/usr/bin/env bash
# ffmpeg is optional on a hub (video posters, durations, the demo video); CI
# installs Debian's package so those paths are tested too. Never fails the build:
# without ffmpeg the tests that need it skip, with their reason.
set -u
command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo -n"; else SUDO="none"; fi
if [ "$SUDO" != "none" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ffmpeg..."
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg \
    >/dev/null 2>&1 || { $SUDO apt-get update -qq >/dev/null 2>&1; \
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends ffmpeg \
    >/dev/null 2>&1; } || true
fi
command -v ffmpeg >/dev/null 2>&1 || echo "ffmpeg is not available: the tests that need it will skip."
exit 0
