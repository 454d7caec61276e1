// The CloudWatch alarms of PulseAnalyticsPostgres for this workload: which metrics of which instance,
// and thresholds derived from the configuration (the instance class's memory, the storage, the IOPS)
// rather than constants, each computed in TypeScript for a literal setting and as a Terraform
// expression for one that is a variable (the stacks' sizing variables).

import { Fn, IResolvable, Op, Token } from "cdktf";
import { BURSTABLE_FAMILIES, STANDARD_FAMILIES } from "../config/rules";

/** Memory of the burstable sizes whose memory is not their vCPUs × the family's GiB per vCPU. */
const BURSTABLE_SIZE_MEMORY_GIB: Readonly<Record<string, number>> = { micro: 1, small: 2, medium: 4 };

/**
 * GiB of memory per vCPU of every family the instance class rule allows (RDS DB instance classes:
 * burstable t and general-purpose m 4, memory-optimized r 8, x2g 16, x2iedn 32).
 */
const GIB_PER_VCPU_BY_LETTER: Readonly<Record<string, number>> = { t: 4, m: 4, r: 8 };
const FAMILY_GIB_PER_VCPU: Readonly<Record<string, number>> = Object.fromEntries(
  [...BURSTABLE_FAMILIES, ...STANDARD_FAMILIES].map((family) => [
    family,
    { x2g: 16, x2iedn: 32 }[family as "x2g" | "x2iedn"] ?? GIB_PER_VCPU_BY_LETTER[family.charAt(0)]!,
  ]),
);

/** vCPUs of a size: large 2, xlarge 4, <n>xlarge 4n (burstable micro, small and medium have 2, but their memory is listed). */
function sizeVcpus(size: string): number | undefined {
  if (size === "large") return 2;
  const match = /^([0-9]*)xlarge$/.exec(size);
  return match ? 4 * Number(match[1] || "1") : undefined;
}

/** The memory of an RDS instance class in GiB, or undefined for one the tables do not size (metal). */
export function classMemoryGib(instanceClass: string): number | undefined {
  const [, family = "", size = ""] = instanceClass.split(".");
  if (size in BURSTABLE_SIZE_MEMORY_GIB) return BURSTABLE_SIZE_MEMORY_GIB[size];
  const perVcpu = FAMILY_GIB_PER_VCPU[family];
  const vcpus = sizeVcpus(size);
  return perVcpu === undefined || vcpus === undefined ? undefined : perVcpu * vcpus;
}

/** The same as a Terraform expression (for a class known only at plan time), from the same tables. */
function classMemoryGibExpression(instanceClass: string): IResolvable {
  // cdktf types these function results as any: each is an expression token, a string here.
  const family = Token.asString(Fn.element(Fn.split(".", instanceClass), 1));
  const size = Token.asString(Fn.element(Fn.split(".", instanceClass), 2));
  // The family is one the variable's validation allows, so it is in the table.
  const perVcpu = Token.asNumber(Fn.lookup(FAMILY_GIB_PER_VCPU, family));
  // "xlarge" has no number: try() makes it 1. (Every argument of lookup is evaluated, so none may
  // fail.) tonumber() parenthesizes the conditional, which cdktf renders bare inside a product.
  const xlargeMultiple = Token.asNumber(Fn.try([Fn.tonumber(Token.asString(Fn.trimsuffix(size, "xlarge"))), 1]));
  const vcpus = Token.asNumber(Fn.tonumber(Token.asString(Fn.conditional(Op.eq(size, "large"), 2, Op.mul(4, xlargeMultiple)))));
  return Token.asAny(Fn.lookup(BURSTABLE_SIZE_MEMORY_GIB, size, Op.mul(perVcpu, vcpus)));
}

const GIB = 1024 ** 3;

/**
 * RDS for PostgreSQL's default max_connections: LEAST({DBInstanceClassMemory/9531392}, 5000).
 * DBInstanceClassMemory is the class's memory less what the OS and RDS's processes reserve, which AWS
 * does not publish per class: taken as 90% of it, so the alarm stays below the real limit on small classes.
 */
const BYTES_PER_DEFAULT_CONNECTION = 9531392;
const DB_INSTANCE_CLASS_MEMORY_FRACTION = 0.9;
const MAX_DEFAULT_CONNECTIONS = 5000;

/** A number, or (for a setting known only at plan time) a number token standing for a Terraform expression. */
type PlanNumber = number;

/** `value` × `factor`, as a number or, for a token, a Terraform expression. */
function times(value: PlanNumber, factor: number): PlanNumber {
  return Token.isUnresolved(value) ? Token.asNumber(Op.mul(value, factor)) : value * factor;
}

/** The class's memory in bytes: from the tables for a literal class, as an expression for a variable one. */
export function classMemoryBytes(instanceClass: string): PlanNumber {
  if (Token.isUnresolved(instanceClass)) return Token.asNumber(Op.mul(classMemoryGibExpression(instanceClass), GIB));
  const gib = classMemoryGib(instanceClass);
  if (gib === undefined) throw new Error(`no memory known for ${instanceClass}`);
  return gib * GIB;
}

/** One alarm: a metric of one instance, compared with a threshold, over a window. */
export interface AlarmSpec {
  /** The alarm name's suffix after the instance identifier, e.g. "cpu". */
  readonly key: string;
  readonly metricName: string;
  readonly statistic: "Average" | "Minimum" | "Maximum";
  readonly comparisonOperator: "GreaterThanThreshold" | "LessThanThreshold";
  readonly threshold: PlanNumber;
  /** Seconds per datapoint, and datapoints that must breach in a row. */
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** What the threshold is and why, for the alarm's description and the README. */
  readonly description: string;
}

/** What the thresholds are derived from. */
export interface AlarmInputs {
  /** The instance class's memory in bytes (classMemoryBytes; for a class known at plan time, a reference to it computed once). */
  readonly memoryBytes: PlanNumber;
  readonly allocatedStorageGb: PlanNumber;
  readonly iops?: PlanNumber;
  /** max_connections set in the parameter group, if any (else the class's default). */
  readonly maxConnections?: number;
}

/** gp3's baseline IOPS below 400 GiB, when none are provisioned. */
const GP3_BASELINE_IOPS = 3000;
/** The latency the storage alarms stand for: above it, reads and writes wait on storage. */
const STORAGE_LATENCY_SECONDS = 0.02;

/** The primary's alarms. */
export function primaryAlarms(inputs: AlarmInputs): AlarmSpec[] {
  const memory = inputs.memoryBytes;
  const maxConnections =
    inputs.maxConnections ??
    (Token.isUnresolved(memory)
      ? Token.asNumber(
          Fn.min([Fn.floor(Op.div(Op.mul(memory, DB_INSTANCE_CLASS_MEMORY_FRACTION), BYTES_PER_DEFAULT_CONNECTION)), MAX_DEFAULT_CONNECTIONS]),
        )
      : Math.min(Math.floor((memory * DB_INSTANCE_CLASS_MEMORY_FRACTION) / BYTES_PER_DEFAULT_CONNECTION), MAX_DEFAULT_CONNECTIONS));
  const iops = inputs.iops === undefined ? GP3_BASELINE_IOPS : inputs.iops;
  return [
    ...sharedAlarms(inputs, memory),
    {
      key: "connections",
      metricName: "DatabaseConnections",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: Token.isUnresolved(maxConnections) ? Token.asNumber(Fn.floor(Op.mul(maxConnections, 0.8))) : Math.floor(maxConnections * 0.8),
      periodSeconds: 300,
      evaluationPeriods: 2,
      description:
        "80% of max_connections: the class's default (DBInstanceClassMemory / 9531392 up to 5000, that memory taken as 90% of the class's), or the value set in parameters",
    },
    {
      key: "read-latency",
      metricName: "ReadLatency",
      statistic: "Average",
      comparisonOperator: "GreaterThanThreshold",
      threshold: STORAGE_LATENCY_SECONDS,
      periodSeconds: 300,
      evaluationPeriods: 3,
      description: "20 ms: gp3 serves single-digit milliseconds; above it reads wait on storage",
    },
    {
      key: "write-latency",
      metricName: "WriteLatency",
      statistic: "Average",
      comparisonOperator: "GreaterThanThreshold",
      threshold: STORAGE_LATENCY_SECONDS,
      periodSeconds: 300,
      evaluationPeriods: 3,
      description: "20 ms: gp3 serves single-digit milliseconds; above it writes wait on storage",
    },
    {
      key: "disk-queue-depth",
      metricName: "DiskQueueDepth",
      statistic: "Average",
      comparisonOperator: "GreaterThanThreshold",
      // Little's law: the IOPS the volume serves at 20 ms each; a deeper queue means waiting beyond it.
      threshold: Token.isUnresolved(iops)
        ? Token.asNumber(Op.mul(Fn.coalesce([iops, GP3_BASELINE_IOPS]), STORAGE_LATENCY_SECONDS))
        : iops * STORAGE_LATENCY_SECONDS,
      periodSeconds: 300,
      evaluationPeriods: 3,
      description: "the volume's IOPS (provisioned, or gp3's 3000) × 20 ms: requests queued beyond what it serves at 20 ms",
    },
    {
      key: "transaction-ids",
      metricName: "MaximumUsedTransactionIDs",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 1_000_000_000,
      periodSeconds: 300,
      evaluationPeriods: 1,
      description: "1 billion of the 2.1 billion before wraparound forces the database read-only: vacuum is falling behind",
    },
  ];
}

/** A read replica's alarms: its own resources, and how far it lags. */
export function replicaAlarms(inputs: AlarmInputs): AlarmSpec[] {
  return [
    ...sharedAlarms(inputs, inputs.memoryBytes),
    {
      key: "replica-lag",
      metricName: "ReplicaLag",
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 300,
      periodSeconds: 60,
      evaluationPeriods: 5,
      description: "5 minutes behind the primary for 5 minutes: dashboards show stale data",
    },
  ];
}

function sharedAlarms(inputs: AlarmInputs, memoryBytes: PlanNumber): AlarmSpec[] {
  return [
    {
      key: "cpu",
      metricName: "CPUUtilization",
      statistic: "Average",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 80,
      periodSeconds: 300,
      evaluationPeriods: 3,
      description: "80% for 15 minutes: latency climbs steeply above it",
    },
    {
      key: "freeable-memory",
      metricName: "FreeableMemory",
      statistic: "Average",
      comparisonOperator: "LessThanThreshold",
      threshold: times(memoryBytes, 0.1),
      periodSeconds: 300,
      evaluationPeriods: 3,
      description: "10% of the class's memory: the cache of hot rows is being squeezed out",
    },
    {
      key: "free-storage",
      metricName: "FreeStorageSpace",
      statistic: "Minimum",
      comparisonOperator: "LessThanThreshold",
      threshold: times(inputs.allocatedStorageGb, 0.1 * GIB),
      periodSeconds: 300,
      evaluationPeriods: 6,
      description:
        "10% of the allocated storage for 30 minutes: storage autoscaling adds space at that point within minutes, so it could not (at the ceiling, or within 6 hours of the last change)",
    },
  ];
}
