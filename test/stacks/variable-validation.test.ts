// The stack's Terraform variables refuse exactly what the construct refuses: each case is run
// through real Terraform (`terraform plan` on the synthesized variable blocks, which needs no
// provider and no network) and through the construct's validation, and the two must agree.

import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { PulseAnalyticsPostgresProps, validatePulseAnalyticsPostgresProps } from "../../src";
import { environments } from "../../stacks";
import { DATABASE_VARIABLES, INSTANCE_VARIABLES } from "../../stacks/operator-variables";
import { environmentSettings } from "../../stacks/stack-foundation";
import { synthApp } from "../support/synth";

const run = promisify(execFile);
const terraformAvailable = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;

/** Which construct prop each operator variable stands for: the stacks' own table. */
const PROP_OF_VARIABLE: Record<string, keyof PulseAnalyticsPostgresProps> = Object.fromEntries(
  [...Object.values(INSTANCE_VARIABLES), ...Object.values(DATABASE_VARIABLES)].map((variable) => [variable.name, variable.prop]),
);

/** The network an operator must supply (the committed configs leave it to variables). */
const REQUIRED_NETWORK = {
  pulse_analytics_db_vpc_id: "vpc-0a1b2c3d",
  pulse_analytics_db_subnet_ids: ["subnet-0a1b2c3d", "subnet-1a2b3c4d"],
  pulse_analytics_db_allowed_security_group_ids: ["sg-0a1b2c3d"],
};

type Vars = Record<string, unknown>;
const CASES: Array<[env: "dev" | "staging" | "prod", vars: Vars]> = [
  ["prod", {}],
  ["prod", { pulse_analytics_db_instance_class: "db.r7g.2xlarge" }],
  ["prod", { pulse_analytics_db_instance_class: "db.t4g.micro" }],
  // Alarms are on in prod: their memory thresholds need a sized class.
  ["prod", { pulse_analytics_db_instance_class: "db.r6i.metal" }],
  ["dev", { pulse_analytics_db_instance_class: "db.r6i.metal" }],
  ["prod", { pulse_analytics_db_instance_class: "db.t4g.nano" }],
  ["prod", { pulse_analytics_db_instance_class: "db.r7g.medium" }],
  ["prod", { pulse_analytics_db_instance_class: "r7g.large" }],
  ["prod", { pulse_analytics_db_storage_gb: 19, pulse_analytics_db_max_storage_gb: 100 }],
  ["prod", { pulse_analytics_db_storage_gb: 20, pulse_analytics_db_max_storage_gb: 22 }],
  ["prod", { pulse_analytics_db_storage_gb: 20, pulse_analytics_db_max_storage_gb: 21 }],
  ["prod", { pulse_analytics_db_storage_gb: 20.5, pulse_analytics_db_max_storage_gb: 100 }],
  ["prod", { pulse_analytics_db_storage_gb: 65537, pulse_analytics_db_max_storage_gb: 65536 }],
  ["prod", { pulse_analytics_db_storage_gb: 59578, pulse_analytics_db_max_storage_gb: 65536 }],
  ["prod", { pulse_analytics_db_storage_gb: 100, pulse_analytics_db_max_storage_gb: 109 }],
  ["prod", { pulse_analytics_db_storage_gb: 100, pulse_analytics_db_max_storage_gb: 110 }],
  ["prod", { pulse_analytics_db_max_storage_gb: 65537 }],
  // gp3 from 400 GiB: IOPS and throughput stated in the same change (hashicorp/terraform-provider-aws#28382).
  ["prod", { pulse_analytics_db_storage_gb: 400, pulse_analytics_db_max_storage_gb: 1000 }],
  ["prod", { pulse_analytics_db_storage_gb: 400, pulse_analytics_db_max_storage_gb: 1000, pulse_analytics_db_iops: 12000 }],
  [
    "prod",
    {
      pulse_analytics_db_storage_gb: 400,
      pulse_analytics_db_max_storage_gb: 1000,
      pulse_analytics_db_iops: 12000,
      pulse_analytics_db_storage_throughput_mibps: 500,
    },
  ],
  [
    "prod",
    {
      pulse_analytics_db_storage_gb: 400,
      pulse_analytics_db_max_storage_gb: 1000,
      pulse_analytics_db_iops: 16000,
      pulse_analytics_db_storage_throughput_mibps: 4000,
    },
  ],
  [
    "prod",
    {
      pulse_analytics_db_storage_gb: 400,
      pulse_analytics_db_max_storage_gb: 1000,
      pulse_analytics_db_iops: 12000,
      pulse_analytics_db_storage_throughput_mibps: 3001,
    },
  ],
  [
    "prod",
    {
      pulse_analytics_db_storage_gb: 400,
      pulse_analytics_db_max_storage_gb: 1000,
      pulse_analytics_db_iops: 11999,
      pulse_analytics_db_storage_throughput_mibps: 500,
    },
  ],
  [
    "prod",
    {
      pulse_analytics_db_storage_gb: 400,
      pulse_analytics_db_max_storage_gb: 1000,
      pulse_analytics_db_iops: 64001,
      pulse_analytics_db_storage_throughput_mibps: 500,
    },
  ],
  [
    "prod",
    {
      pulse_analytics_db_storage_gb: 400,
      pulse_analytics_db_max_storage_gb: 1000,
      pulse_analytics_db_iops: 12000,
      pulse_analytics_db_storage_throughput_mibps: 499,
    },
  ],
  [
    "prod",
    {
      pulse_analytics_db_storage_gb: 399,
      pulse_analytics_db_max_storage_gb: 1000,
      pulse_analytics_db_iops: 12000,
      pulse_analytics_db_storage_throughput_mibps: 500,
    },
  ],
  ["prod", { pulse_analytics_db_storage_throughput_mibps: 500 }],
  ["prod", { pulse_analytics_db_iops: 12000 }],
  ["prod", { pulse_analytics_db_backup_retention_days: 6 }],
  ["prod", { pulse_analytics_db_backup_retention_days: 7 }],
  ["prod", { pulse_analytics_db_backup_retention_days: 35 }],
  ["prod", { pulse_analytics_db_backup_retention_days: 36 }],
  ["staging", { pulse_analytics_db_backup_retention_days: 6 }],
  ["dev", { pulse_analytics_db_backup_retention_days: 0 }],
  ["dev", { pulse_analytics_db_backup_retention_days: 1 }],
  ["dev", { pulse_analytics_db_backup_retention_days: 1.5 }],
  ["prod", { pulse_analytics_db_vpc_id: "vpc-0a1b2c3d4e5f60718" }],
  ["prod", { pulse_analytics_db_vpc_id: "vpc-123" }],
  ["prod", { pulse_analytics_db_vpc_id: "vpc-0A1B2C3D" }],
  ["prod", { pulse_analytics_db_subnet_ids: ["subnet-0a1b2c3d"] }],
  ["prod", { pulse_analytics_db_subnet_ids: ["subnet-0a1b2c3d", "subnet-0a1b2c3d"] }],
  ["prod", { pulse_analytics_db_subnet_ids: ["subnet-0a1b2c3d", "subnet-xyz"] }],
  ["prod", { pulse_analytics_db_subnet_ids: ["subnet-0a1b2c3d", "subnet-1a2b3c4d", "subnet-2a2b3c4d5e6f70819"] }],
  ["prod", { pulse_analytics_db_allowed_security_group_ids: ["sg-123"] }],
  ["prod", { pulse_analytics_db_allowed_security_group_ids: ["sg-0a1b2c3d", "sg-0a1b2c3d"] }],
  ["prod", { pulse_analytics_db_allowed_security_group_ids: [], pulse_analytics_db_allowed_cidr_blocks: [] }],
  ["prod", { pulse_analytics_db_allowed_security_group_ids: [], pulse_analytics_db_allowed_cidr_blocks: ["10.20.0.0/16"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["0.0.0.0/0"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["::/0"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["0.0.0.0/1"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["10.0.0.0/33"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["10.0.0.0"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["300.0.0.0/8"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["010.0.0.0/8"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["192.168.1.10/32", "2001:db8::/32"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["::ffff:10.0.0.0/104"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["::ffff:a00:0/104"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["10.20.0.1/16"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["2001:DB8::/32"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["2001:db8:0:0::/64"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["2001:db8:0:1::/64", "fd00::/8"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["2001:db8::g/32"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["2001:db8::/129"] }],
  ["prod", { pulse_analytics_db_allowed_cidr_blocks: ["10.0.0.0/8", "10.0.0.0/8"] }],
  ["prod", { pulse_analytics_db_admin_port: 15432 }],
  ["prod", { pulse_analytics_db_admin_port: 0 }],
  ["prod", { pulse_analytics_db_admin_port: 65536 }],
  ["prod", { pulse_analytics_db_admin_host: "localhost", pulse_analytics_db_admin_port: 1 }],
];

(terraformAvailable ? describe : describe.skip)("Terraform variable validation (terraform plan, offline)", () => {
  const stacks = synthApp();
  const workdir = mkdtempSync(join(tmpdir(), "pulse-tfvars-"));
  const env = { ...process.env, TF_IN_AUTOMATION: "1", CHECKPOINT_DISABLE: "1", TF_CLI_CONFIG_FILE: "/dev/null" };
  const results = new Map<number, Promise<{ accepted: boolean; output: string }>>();

  beforeAll(() => {
    for (const name of ["dev", "staging", "prod"]) {
      const dir = join(workdir, name);
      mkdirSync(dir);
      // The environment's two stacks' variables together (aws_region is the same in both).
      const variable = { ...stacks[`${name}-instance`].variable, ...stacks[name].variable };
      writeFileSync(join(dir, "main.tf.json"), JSON.stringify({ variable }));
    }
    // Two at a time: the machine has two cores.
    const chain: Promise<unknown>[] = [Promise.resolve(), Promise.resolve()];
    CASES.forEach(([name, vars], index) => {
      const varFile = join(workdir, `case-${index}.tfvars.json`);
      writeFileSync(varFile, JSON.stringify({ ...REQUIRED_NETWORK, ...vars }));
      const slot = index % 2;
      const result = chain[slot].then(() =>
        run("terraform", ["plan", "-input=false", "-no-color", "-lock=false", "-refresh=false", `-var-file=${varFile}`], {
          cwd: join(workdir, name),
          env,
        })
          .then(() => ({ accepted: true, output: "" }))
          .catch((error: { stdout?: string; stderr?: string }) => ({ accepted: false, output: `${error.stdout ?? ""}${error.stderr ?? ""}` })),
      );
      chain[slot] = result;
      results.set(index, result);
    });
  });

  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  it.each(CASES.map(([name, vars], index) => [index, name, vars] as const))(
    "case %i: %s with %j is accepted by Terraform exactly when the construct accepts it",
    async (index, name, vars) => {
      const byConstruct = constructAccepts(name, { ...REQUIRED_NETWORK, ...vars });
      const byTerraform = await results.get(index)!;
      expect({ accepted: byTerraform.accepted, output: byTerraform.accepted ? "" : firstError(byTerraform.output) }).toEqual({
        accepted: byConstruct,
        output: byConstruct ? "" : expect.stringMatching(/^pulse_analytics_db_\w+: allowed is /),
      });
    },
    30_000,
  );
});

if (!terraformAvailable) {
  console.warn("terraform is not on PATH: the Terraform variable validation tests are skipped.");
}

function constructAccepts(env: "dev" | "staging" | "prod", vars: Vars): boolean {
  const props: Record<string, unknown> = { ...environmentSettings(environments[env]) };
  for (const [variable, value] of Object.entries(vars)) {
    props[PROP_OF_VARIABLE[variable]] = value ?? undefined;
  }
  try {
    validatePulseAnalyticsPostgresProps(props as unknown as PulseAnalyticsPostgresProps);
    return true;
  } catch {
    return false;
  }
}

/** The first validation message in Terraform's output (Terraform wraps it), or the whole output. */
function firstError(output: string): string {
  return (
    output
      .match(/^pulse_analytics_db_\w+: allowed is [^]*?\.\n/m)?.[0]
      .replace(/\s+/g, " ")
      .trim() ?? output
  );
}
