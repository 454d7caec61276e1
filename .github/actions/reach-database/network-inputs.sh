#!/usr/bin/env bash
# Exports the environment's network inputs from repository variables as TF_VAR_… for Terraform, but
# only those that are set: an unset one leaves the value of stacks/environments.ts in force.
set -euo pipefail

put() { # name value
  if [ -n "$2" ]; then echo "TF_VAR_$1=$2" >> "$GITHUB_ENV"; fi
}
put pulse_analytics_db_vpc_id "${VPC_ID:-}"
put pulse_analytics_db_subnet_ids "${SUBNET_IDS:-}"
put pulse_analytics_db_allowed_security_group_ids "${SECURITY_GROUP_IDS:-}"
put pulse_analytics_db_allowed_cidr_blocks "${CIDR_BLOCKS:-}"
echo "Network inputs for $1: ${VPC_ID:+vpc }${SUBNET_IDS:+subnets }${SECURITY_GROUP_IDS:+security-groups }${CIDR_BLOCKS:+cidrs }(from repository variables; the rest from the code)."
