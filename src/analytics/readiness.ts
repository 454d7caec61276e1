// The Readiness Score: a composite 0–100 score of how ready a learner is, computed from their skill
// aggregates by a documented, versioned model, and stored as snapshots (user_readiness).

import { Pool } from "pg";
import { onlyRow } from "../client/rows";

/** A learner's aggregates for one skill, as user_skill_agg holds them. */
export interface SkillAggregate {
  readonly skill: string;
  readonly eventCount: number;
  readonly scoreSum: number;
  readonly scoreSumSquares: number;
  readonly firstOccurredAt: Date;
  readonly lastOccurredAt: Date;
  readonly lastScore: number;
}

export interface ReadinessComponents {
  /** Mean over skills of (mean score + latest score) / 2: where the learner stands. */
  readonly proficiency: number;
  /** 100 minus the mean standard deviation of scores: how steady the performance is. */
  readonly consistency: number;
  /** Mean over skills of 100 · 0.5^(days since last practice / 14): how fresh the evidence is. */
  readonly recency: number;
  /** Share of the expected skills practised at all, in percent. */
  readonly coverage: number;
  /** Evidence weight 0–1: min(1, events / 30) averaged over expected skills; scales the score toward 0. */
  readonly evidence: number;
}

export interface ReadinessSnapshot {
  readonly score: number;
  readonly components: ReadinessComponents | Record<string, unknown>;
  readonly modelVersion: string;
  /** @default the database's now() */
  readonly computedAt?: Date;
}

/**
 * readiness-v1. score = evidence × (0.55 proficiency + 0.15 consistency + 0.15 recency + 0.15 coverage),
 * rounded to two decimals, in 0–100. A learner with little evidence is not called ready: with 30
 * events on every expected skill the evidence weight is 1. Changing any weight or formula means a
 * new model version: scores of different versions are not comparable.
 */
export const READINESS_MODEL_VERSION = "readiness-v1";
const WEIGHTS = { proficiency: 0.55, consistency: 0.15, recency: 0.15, coverage: 0.15 };
const HALF_LIFE_DAYS = 14;
const FULL_EVIDENCE_EVENTS = 30;

export interface ReadinessOptions {
  /** @default new Date() */
  readonly now?: Date;
  /** The skills the learner's goal needs. @default the skills with aggregates */
  readonly expectedSkills?: readonly string[];
}

export function computeReadiness(aggregates: readonly SkillAggregate[], options: ReadinessOptions = {}): ReadinessSnapshot {
  const now = (options.now ?? new Date()).getTime();
  const expected = options.expectedSkills ?? aggregates.map((a) => a.skill);
  const bySkill = new Map(aggregates.map((a) => [a.skill, a]));
  const practised = expected.map((skill) => bySkill.get(skill)).filter((a): a is SkillAggregate => a !== undefined && a.eventCount > 0);
  if (expected.length === 0 || practised.length === 0) {
    const zero: ReadinessComponents = { proficiency: 0, consistency: 0, recency: 0, coverage: 0, evidence: 0 };
    return { score: 0, components: zero, modelVersion: READINESS_MODEL_VERSION };
  }
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const skillMean = (a: SkillAggregate) => a.scoreSum / a.eventCount;
  const skillStddev = (a: SkillAggregate) => Math.sqrt(Math.max(0, a.scoreSumSquares / a.eventCount - skillMean(a) ** 2));
  const daysSince = (a: SkillAggregate) => Math.max(0, (now - a.lastOccurredAt.getTime()) / 86_400_000);

  const components: ReadinessComponents = {
    proficiency: mean(practised.map((a) => (skillMean(a) + a.lastScore) / 2)),
    consistency: clamp(100 - mean(practised.map(skillStddev))),
    recency: mean(practised.map((a) => 100 * 0.5 ** (daysSince(a) / HALF_LIFE_DAYS))),
    coverage: (100 * practised.length) / expected.length,
    evidence: expected.reduce((sum, skill) => sum + Math.min(1, (bySkill.get(skill)?.eventCount ?? 0) / FULL_EVIDENCE_EVENTS), 0) / expected.length,
  };
  const weighted =
    WEIGHTS.proficiency * components.proficiency +
    WEIGHTS.consistency * components.consistency +
    WEIGHTS.recency * components.recency +
    WEIGHTS.coverage * components.coverage;
  return { score: round2(clamp(components.evidence * weighted)), components: roundAll(components), modelVersion: READINESS_MODEL_VERSION };
}

const clamp = (value: number) => Math.min(100, Math.max(0, value));
const round2 = (value: number) => Math.round(value * 100) / 100;
const roundAll = (c: ReadinessComponents): ReadinessComponents =>
  Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Math.round(v * 10_000) / 10_000])) as unknown as ReadinessComponents;

/** A learner's aggregates, as computeReadiness takes them. */
export async function skillAggregates(pool: Pool, userId: string): Promise<SkillAggregate[]> {
  // bigint and numeric arrive as strings (exact); the model computes in numbers.
  const result = await pool.query<{
    skill: string;
    event_count: string;
    score_sum: string;
    score_sum_squares: string;
    first_occurred_at: Date;
    last_occurred_at: Date;
    last_score: string;
  }>(
    `SELECT skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_score
     FROM analytics.user_skill_agg WHERE user_id = $1 ORDER BY skill`,
    [userId],
  );
  return result.rows.map((r) => ({
    skill: r.skill,
    eventCount: Number(r.event_count),
    scoreSum: Number(r.score_sum),
    scoreSumSquares: Number(r.score_sum_squares),
    firstOccurredAt: r.first_occurred_at,
    lastOccurredAt: r.last_occurred_at,
    lastScore: Number(r.last_score),
  }));
}

/**
 * Stores a readiness snapshot for a learner: the one given, or, without one, the default model's
 * (computeReadiness) over the learner's current aggregates. Returns what was stored.
 */
export async function snapshotReadiness(
  pool: Pool,
  userId: string,
  snapshot?: ReadinessSnapshot,
  options: ReadinessOptions = {},
): Promise<ReadinessSnapshot & { computedAt: Date }> {
  const toStore = snapshot ?? { ...computeReadiness(await skillAggregates(pool, userId), options), computedAt: options.now };
  if (!Number.isFinite(toStore.score) || toStore.score < 0 || toStore.score > 100) {
    throw new RangeError(`readiness score ${toStore.score} is not a number from 0 to 100`);
  }
  const result = await pool.query<{ computed_at: Date }>(
    `INSERT INTO analytics.user_readiness (user_id, computed_at, score, components, model_version)
     VALUES ($1, coalesce($2, now()), $3, $4, $5) RETURNING computed_at`,
    [userId, toStore.computedAt ?? null, toStore.score, JSON.stringify(toStore.components), toStore.modelVersion],
  );
  return { ...toStore, computedAt: onlyRow(result, "the readiness insert").computed_at };
}
