#!/bin/sh
set -e
cd "$(dirname "$0")"
mkdir -p m4 build-aux
autoreconf -fi
# TAP driver for the unit tests (automake ships it, autoreconf does not copy it)
for d in /usr/share/automake-*; do
  [ -f "$d/tap-driver.sh" ] && cp -f "$d/tap-driver.sh" build-aux/ && break
done
