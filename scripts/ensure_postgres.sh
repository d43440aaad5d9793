#!/usr/bin/env bash
# Is PostgreSQL reachable on 127.0.0.1:5432? Try to start the local cluster if not.
# Exit 0 when reachable. Otherwise exit 1, or fail hard (exit 2) when
# KALAN_REQUIRE_POSTGRES=1 (CI), so a missing database never passes silently.
set -u
quiet=${1:-}
reachable() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ! reachable && command -v pg_ctlcluster >/dev/null 2>&1; then
  version=$(ls /etc/postgresql 2>/dev/null | head -n 1)
  if [ -n "$version" ]; then
    pg_ctlcluster --skip-systemctl-redirect "$version" main start >/dev/null 2>&1 || true
    for _ in $(seq 1 30); do reachable && break; sleep 0.5; done
  fi
fi
if reachable; then
  exit 0
fi
if [ "${KALAN_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "PostgreSQL is required (KALAN_REQUIRE_POSTGRES=1) but not reachable on 127.0.0.1:5432." >&2
  exit 2
fi
[ -n "$quiet" ] || echo "PostgreSQL not reachable on 127.0.0.1:5432: skipping the PostgreSQL run."
exit 1
