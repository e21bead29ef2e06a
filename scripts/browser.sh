#!/usr/bin/env bash
# Install Debian's Chromium for the panel's end-to-end tests when it is missing.
set -eu
if [ ! -x /usr/bin/chromium ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
echo "browser: $(/usr/bin/chromium --version 2>/dev/null | head -n1)"
