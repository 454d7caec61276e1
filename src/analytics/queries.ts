// The longitudinal reads the backend makes: a learner's skill timeline bucketed by day or week, the
// per-skill summary, the latest readiness and its history. Each is one indexed query.

import { Pool } from "pg";

export interface TimelinePoint {
  readonly skill: string;
  /** Start of the UTC day or ISO week (Monday). */
  readonly bucketStart: Date;
  readonly events: number;
  readonly meanScore: number;
  readonly minScore: number;
  readonly maxScore: number;
}

export interface TimelineOptions {
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  /** @default "day" */
  readonly bucket?: "day" | "week";
  /** Only these skills. @default all */
  readonly skills?: readonly string[];
}

/** A learner's scores per skill over [from, to), bucketed by UTC day or week: an index range scan of (user_id, occurred_at). */
export async function skillTimeline(pool: Pool, userId: string, options: TimelineOptions): Promise<TimelinePoint[]> {
  const bucket = options.bucket ?? "day";
  if (bucket !== "day" && bucket !== "week") throw new RangeError(`bucket must be "day" or "week", got ${JSON.stringify(bucket)}`);
  const result = await pool.query<{ skill: string; bucket_start: Date; events: number; mean_score: number; min_score: number; max_score: number }>(
    `SELECT skill,
            date_trunc($4, occurred_at, 'UTC') AS bucket_start,
            count(*)::int AS events,
            round(avg(score), 2)::float8 AS mean_score,
            min(score)::float8 AS min_score,
            max(score)::float8 AS max_score
     FROM analytics.session_events
     WHERE user_id = $1 AND occurred_at >= $2 AND occurred_at < $3
       AND ($5::text[] IS NULL OR skill = ANY ($5))
     GROUP BY 1, 2
     ORDER BY 2, 1`,
    [userId, options.from, options.to, bucket, options.skills ?? null],
  );
  return result.rows.map((r) => ({
    skill: r.skill,
    bucketStart: r.bucket_start,
    events: r.events,
    meanScore: r.mean_score,
    minScore: r.min_score,
    maxScore: r.max_score,
  }));
}

export interface SkillSummary {
  readonly skill: string;
  readonly events: number;
  readonly meanScore: number;
  readonly stddevScore: number;
  readonly firstOccurredAt: Date;
  readonly lastOccurredAt: Date;
  readonly lastScore: number;
}

/** Per skill: how often, how well, how steadily, since when, and the latest score (from user_skill_agg). */
export async function skillSummary(pool: Pool, userId: string): Promise<SkillSummary[]> {
  const result = await pool.query<{
    skill: string;
    events: number;
    mean_score: number;
    stddev_score: number;
    first_occurred_at: Date;
    last_occurred_at: Date;
    last_score: number;
  }>(
    `SELECT skill, event_count::int AS events,
            round(score_sum / event_count, 2)::float8 AS mean_score,
            round(sqrt(greatest(0, score_sum_squares / event_count - (score_sum / event_count) ^ 2)), 2)::float8 AS stddev_score,
            first_occurred_at, last_occurred_at, last_score::float8 AS last_score
     FROM analytics.user_skill_agg WHERE user_id = $1 ORDER BY skill`,
    [userId],
  );
  return result.rows.map((r) => ({
    skill: r.skill,
    events: r.events,
    meanScore: r.mean_score,
    stddevScore: r.stddev_score,
    firstOccurredAt: r.first_occurred_at,
    lastOccurredAt: r.last_occurred_at,
    lastScore: r.last_score,
  }));
}

export interface StoredReadiness {
  readonly computedAt: Date;
  readonly score: number;
  readonly components: Record<string, unknown>;
  readonly modelVersion: string;
}

const READINESS_COLUMNS = "computed_at, score::float8 AS score, components, model_version";
/** A user_readiness row as READINESS_COLUMNS selects it. */
interface ReadinessRow {
  computed_at: Date;
  score: number;
  components: Record<string, unknown>;
  model_version: string;
}
const toReadiness = (r: ReadinessRow): StoredReadiness => ({
  computedAt: r.computed_at,
  score: r.score,
  components: r.components,
  modelVersion: r.model_version,
});

/** The learner's latest snapshot, or undefined: one backward scan of the primary key. */
export async function latestReadiness(pool: Pool, userId: string): Promise<StoredReadiness | undefined> {
  const result = await pool.query<ReadinessRow>(
    `SELECT ${READINESS_COLUMNS} FROM analytics.user_readiness WHERE user_id = $1 ORDER BY computed_at DESC LIMIT 1`,
    [userId],
  );
  const [latest] = result.rows;
  return latest ? toReadiness(latest) : undefined;
}

/** The learner's latest `limit` snapshots in [from, to), oldest first. */
export async function readinessHistory(
  pool: Pool,
  userId: string,
  options: { from?: Date; to?: Date; limit?: number } = {},
): Promise<StoredReadiness[]> {
  const result = await pool.query<ReadinessRow>(
    `SELECT * FROM (
       SELECT ${READINESS_COLUMNS} FROM analytics.user_readiness
       WHERE user_id = $1 AND computed_at >= coalesce($2::timestamptz, '-infinity') AND computed_at < coalesce($3::timestamptz, 'infinity')
       ORDER BY computed_at DESC LIMIT $4) AS latest
     ORDER BY computed_at`,
    [userId, options.from ?? null, options.to ?? null, options.limit ?? 1000],
  );
  return result.rows.map(toReadiness);
}
