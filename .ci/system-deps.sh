#!/usr/bin/env bash
# System services some tests need (Debian packages): PostgreSQL, headless Chromium.
# .ci/run calls this before the README's test command; tests that need these skip with a
# reason when they are absent, and fail instead when REDLINE_REQUIRE_SYSTEM_DEPS=1 (CI).
set -euo pipefail

# Headless Chromium: the safety-case report test opens report.html and takes a screenshot.
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
