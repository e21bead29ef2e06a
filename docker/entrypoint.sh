#!/bin/sh
# Start as root only long enough to give the data folder to PUID:PGID, then run as that user.
# PUID/PGID default to the image's own user (1000); TZ names the zone (tzdata is installed).
set -eu

PUID="${PUID:-1000}"
PGID="${PGID:-1000}"
DATA_DIR="${OCTOPUS_DATA_DIR:-/app/data}"

case "$PUID$PGID" in
  *[!0-9]*|'') echo "octopus: PUID and PGID must be numbers (got PUID=$PUID PGID=$PGID)" >&2; exit 2 ;;
esac

if [ -n "${TZ:-}" ] && [ ! -e "/usr/share/zoneinfo/$TZ" ] && [ -d /usr/share/zoneinfo ]; then
  echo "octopus: unknown time zone TZ=$TZ" >&2
  exit 2
fi

if [ "$(id -u)" != "0" ]; then
  # already unprivileged (docker run --user ...): nothing to fix, nothing to drop
  exec "$@"
fi

mkdir -p "$DATA_DIR"
# a root-owned ./data mounted from the host: hand it (and what is in it) to the runtime user
if [ "$(stat -c %u:%g "$DATA_DIR")" != "$PUID:$PGID" ] \
  || [ -n "$(find "$DATA_DIR" \( ! -user "$PUID" -o ! -group "$PGID" \) -print -quit)" ]; then
  chown -R "$PUID:$PGID" "$DATA_DIR"
fi

exec setpriv --reuid="$PUID" --regid="$PGID" --clear-groups -- "$@"
