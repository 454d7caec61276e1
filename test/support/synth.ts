// Test helpers: synthesize the app (as `npm run synth` does), a stack, or one construct, and read
// back the Terraform JSON.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, TerraformStack, Testing } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { PulseAnalyticsDatabase, PulseAnalyticsPostgres, PulseAnalyticsPostgresProps } from "../../src";
import { PulseAnalyticsAppOptions, synthesizePulseAnalytics } from "../../stacks/app";
import { blockSchemaOf, renderHcl } from "../../stacks/hcl";

/** A synthesized stack: cdk.tf.json parsed. */
export interface TerraformJson {
  terraform: Record<string, any>;
  ephemeral?: Record<string, Record<string, any>>;
  provider: Record<string, any[]>;
  variable: Record<string, any>;
  output: Record<string, any>;
  resource: Record<string, Record<string, any>>;
  data?: Record<string, Record<string, any>>;
}

/** A network that passes every rule, for tests about other props. */
export const NETWORK = {
  vpcId: "vpc-0a1b2c3d4e5f60718",
  subnetIds: ["subnet-0a1b2c3d4e5f60718", "subnet-1a2b3c4d5e6f70819"],
  allowedSecurityGroupIds: ["sg-0a1b2c3d4e5f60718"],
  allowedCidrBlocks: ["10.20.0.0/16"],
};

/** Props for the construct: a database named like dev's on NETWORK, then `overrides`. */
export function constructProps(overrides: Partial<PulseAnalyticsPostgresProps> = {}): PulseAnalyticsPostgresProps {
  return { identifier: "pulse-analytics-dev", ...NETWORK, ...overrides };
}

/**
 * Creates a PulseAnalyticsPostgres and, on it, a PulseAnalyticsDatabase in one fresh stack (with an aws
 * provider, as a stack would) and returns them. The app's stacks put the two in separate stacks; one
 * stack shows each construct's own output with direct references between them.
 */
export function stackWithConstruct(overrides: Partial<PulseAnalyticsPostgresProps> = {}): {
  stack: TerraformStack;
  instance: PulseAnalyticsPostgres;
  database: PulseAnalyticsDatabase;
} {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "eu-central-1" });
  const props = constructProps(overrides);
  const instance = new PulseAnalyticsPostgres(stack, "db", props);
  const database = new PulseAnalyticsDatabase(stack, "database", { ...props, instance: instance.connection });
  return { stack, instance, database };
}

/** The synthesized JSON (as a string, for cdktf's matchers) of one construct with `overrides`. */
export function synthConstruct(overrides: Partial<PulseAnalyticsPostgresProps> = {}): string {
  return Testing.synth(stackWithConstruct(overrides).stack);
}

/** Synthesizes the whole app into a fresh directory, exactly as main.ts does, and parses every stack, by stack name. */
export function synthApp(options: PulseAnalyticsAppOptions = {}): Record<string, TerraformJson> {
  return synthAppWithManifest(options).stacks;
}

/** The same, with cdktf's manifest.json, which tells `cdktf deploy` the order of the stacks. */
export function synthAppWithManifest(options: PulseAnalyticsAppOptions = {}): {
  stacks: Record<string, TerraformJson>;
  manifest: { stacks: Record<string, { dependencies: string[] }> };
} {
  const outdir = mkdtempSync(join(tmpdir(), "pulse-synth-"));
  try {
    const stacks = synthesizePulseAnalytics(new App({ outdir }), options);
    return {
      stacks: Object.fromEntries(stacks.map((s) => [s.node.id, JSON.parse(readFileSync(join(outdir, "stacks", s.node.id, "cdk.tf.json"), "utf8"))])),
      manifest: JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")),
    };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Every resource block of `type`, without cdktf's "//" metadata. */
export function resourcesOfType(json: TerraformJson, type: string): Record<string, any>[] {
  return Object.values(json.resource[type] ?? {}).map(({ "//": _metadata, ...block }) => block);
}

/** The only resource block of `type`; fails when there are none or several. */
export function onlyResource(json: TerraformJson, type: string): Record<string, any> {
  const blocks = resourcesOfType(json, type);
  if (blocks.length !== 1) throw new Error(`expected exactly one ${type}, found ${blocks.length}`);
  return blocks[0];
}

/** The whole app as `npm run synth` writes it, and each stack also as `npm run synth:hcl` renders it. */
export async function synthAppWithHcl(
  options: PulseAnalyticsAppOptions = {},
): Promise<{ json: Record<string, TerraformJson>; hcl: Record<string, string> }> {
  const outdir = mkdtempSync(join(tmpdir(), "pulse-synth-"));
  try {
    const stacks = synthesizePulseAnalytics(new App({ outdir }), options);
    const json: Record<string, TerraformJson> = {};
    const hcl: Record<string, string> = {};
    for (const stack of stacks) {
      json[stack.node.id] = JSON.parse(readFileSync(join(outdir, "stacks", stack.node.id, "cdk.tf.json"), "utf8"));
      hcl[stack.node.id] = await renderHcl(json[stack.node.id] as any, blockSchemaOf(stack));
    }
    return { json, hcl };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The primary RDS instance of a stack: the aws_db_instance that replicates no other. */
export function primaryInstance(json: TerraformJson): Record<string, any> {
  const primaries = Object.values(json.resource.aws_db_instance ?? {}).filter((block) => block.replicate_source_db === undefined);
  if (primaries.length !== 1) throw new Error(`expected one primary aws_db_instance, found ${primaries.length}`);
  return primaries[0];
}
