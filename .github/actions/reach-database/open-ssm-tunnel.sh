#!/usr/bin/env bash
# Opens SSM port forwarding from 127.0.0.1:$LOCAL_PORT through $BASTION to the database host in the
# instance stack's state, and points the postgresql provider (the database stack) at it with
# TF_VAR_pulse_analytics_db_admin_host/_port. Run in the instance stack's directory after `terraform init`.
set -euo pipefail

if [ -z "${BASTION:-}" ]; then
  echo "::error::ssm-tunnel needs the repository variable PULSE_SSM_BASTION_INSTANCE_ID_<ENV>"
  exit 1
fi
host=$(terraform output -raw pulse_analytics_db_host 2>/dev/null || true)
port=$(terraform output -raw pulse_analytics_db_port 2>/dev/null || echo 5432)
if [ -z "$host" ]; then
  # First deploy, at plan time: no instance yet, so nothing to refresh. The apply job runs this again
  # after applying the instance stack, and then finds the host.
  echo "::notice::No database in the state yet: no tunnel needed for this plan."
  exit 0
fi
aws ssm start-session \
  --target "$BASTION" \
  --document-name AWS-StartPortForwardingSessionToRemoteHost \
  --parameters "{\"host\":[\"$host\"],\"portNumber\":[\"$port\"],\"localPortNumber\":[\"$LOCAL_PORT\"]}" \
  > "$RUNNER_TEMP/ssm-tunnel.log" 2>&1 &
for _ in $(seq 1 60); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$LOCAL_PORT") 2>/dev/null; then
    echo "TF_VAR_pulse_analytics_db_admin_host=localhost" >> "$GITHUB_ENV"
    echo "TF_VAR_pulse_analytics_db_admin_port=$LOCAL_PORT" >> "$GITHUB_ENV"
    echo "SSM tunnel open: 127.0.0.1:$LOCAL_PORT -> $host:$port"
    exit 0
  fi
  sleep 1
done
echo "::error::The SSM tunnel did not open within 60 s:"
cat "$RUNNER_TEMP/ssm-tunnel.log"
exit 1
