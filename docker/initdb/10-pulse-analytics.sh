#!/usr/bin/env bash
# docker compose init (first start of an empty volume only): applies the PULSE Analytics bootstrap,
# the role model rendered as SQL (../bootstrap.sql). The script reads the role passwords from the
# environment itself (PULSE_LOCAL_*_PASSWORD), so they never appear on a command line.
set -euo pipefail

psql --no-psqlrc --username "$POSTGRES_USER" --dbname postgres --file "${PULSE_BOOTSTRAP_SQL:-/pulse/bootstrap.sql}"
