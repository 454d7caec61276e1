#!/usr/bin/env bash
# docker compose init (first start of an empty volume only): applies the PULSE Analytics bootstrap,
# the role model rendered as SQL (../bootstrap.sql), with the role passwords from the environment.
set -euo pipefail

psql --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
  --set admin_password="$PULSE_LOCAL_ADMIN_PASSWORD" \
  --set migrator_password="$PULSE_LOCAL_MIGRATOR_PASSWORD" \
  --set app_password="$PULSE_LOCAL_APP_PASSWORD" \
  --set readonly_password="$PULSE_LOCAL_READONLY_PASSWORD" \
  --file "${PULSE_BOOTSTRAP_SQL:-/pulse/bootstrap.sql}"
