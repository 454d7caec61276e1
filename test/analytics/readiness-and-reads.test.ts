// The readiness model (readiness-v1), its snapshots, and the longitudinal reads, checked against
// values worked out by hand from the events themselves.

import { Pool } from "pg";
import {
  computeReadiness,
  latestReadiness,
  READINESS_MODEL_VERSION,
  readinessHistory,
  recordSessionEvents,
  SessionEvent,
  SkillAggregate,
  skillSummary,
  skillTimeline,
  snapshotReadiness,
} from "../../src/analytics";
import { createPool } from "../../src/client/pool";
import { removeStateDir, RunningLocalDatabase, startLocalDatabase } from "../support/local-database";
import { seededRandom, seededUuid } from "../../bench/workload";

const NOW = new Date("2026-11-20T12:00:00Z");
const DAY = 86_400_000;
const aggregate = (skill: string, scores: number[], lastDaysAgo = 0): SkillAggregate => ({
  skill,
  eventCount: scores.length,
  scoreSum: scores.reduce((a, b) => a + b, 0),
  scoreSumSquares: scores.reduce((a, b) => a + b * b, 0),
  firstOccurredAt: new Date(NOW.getTime() - 30 * DAY),
  lastOccurredAt: new Date(NOW.getTime() - lastDaysAgo * DAY),
  lastScore: scores[scores.length - 1],
});

describe("computeReadiness (readiness-v1)", () => {
  it("is 0 for a learner with no evidence", () => {
    expect(computeReadiness([], { now: NOW })).toMatchObject({ score: 0, modelVersion: READINESS_MODEL_VERSION });
  });

  it("is 100 for a learner who scores 100 steadily, today, on every expected skill, with full evidence", () => {
    const perfect = ["a", "b"].map((skill) => aggregate(skill, Array(30).fill(100)));
    expect(computeReadiness(perfect, { now: NOW })).toEqual({
      score: 100,
      components: { proficiency: 100, consistency: 100, recency: 100, coverage: 100, evidence: 1 },
      modelVersion: "readiness-v1",
    });
  });

  it("weighs proficiency, consistency, recency and coverage as documented, scaled by evidence", () => {
    // One skill of two practised, 15 events alternating 60/80 (mean ~69.3, last 60, stddev ~10), 14 days ago.
    const scores: number[] = Array.from({ length: 15 }, (_, i): number => (i % 2 === 0 ? 60 : 80)).reverse();
    const result = computeReadiness([aggregate("a", scores, 14)], { now: NOW, expectedSkills: ["a", "b"] });
    const mean = scores.reduce((a, b) => a + b) / 15;
    const stddev = Math.sqrt(scores.reduce((a, b) => a + b * b, 0) / 15 - mean ** 2);
    const components = { proficiency: (mean + 60) / 2, consistency: 100 - stddev, recency: 50, coverage: 50, evidence: (15 / 30 + 0) / 2 };
    const expected =
      components.evidence * (0.55 * components.proficiency + 0.15 * components.consistency + 0.15 * components.recency + 0.15 * components.coverage);
    expect(result.score).toBeCloseTo(expected, 2);
    expect(result.components).toMatchObject({ recency: 50, coverage: 50, evidence: 0.25 });
  });

  it("drops as practice gets older and rises with evidence", () => {
    const fresh = computeReadiness([aggregate("a", Array(10).fill(80), 0)], { now: NOW }).score;
    const stale = computeReadiness([aggregate("a", Array(10).fill(80), 60)], { now: NOW }).score;
    const more = computeReadiness([aggregate("a", Array(30).fill(80), 0)], { now: NOW }).score;
    expect(stale).toBeLessThan(fresh);
    expect(more).toBeGreaterThan(fresh);
  });
});

describe("snapshots and reads, on real PostgreSQL", () => {
  let db: RunningLocalDatabase;
  let pool: Pool;
  const random = seededRandom(5);
  const learner = seededUuid(random);
  const session = seededUuid(random);
  const now = new Date();
  // A day grid from 20 days ago: skill "algebra" every day scored 50 + day, "geometry" every third day.
  const events: SessionEvent[] = [];
  for (let day = 0; day < 20; day++) {
    const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 20 + day, 10));
    events.push({ eventId: seededUuid(random), userId: learner, sessionId: session, skill: "algebra", occurredAt: at, score: 50 + day });
    events.push({
      eventId: seededUuid(random),
      userId: learner,
      sessionId: session,
      skill: "algebra",
      occurredAt: new Date(at.getTime() + 3_600_000),
      score: 52 + day,
    });
    if (day % 3 === 0)
      events.push({ eventId: seededUuid(random), userId: learner, sessionId: session, skill: "geometry", occurredAt: at, score: 70 });
  }

  beforeAll(async () => {
    db = await startLocalDatabase();
    pool = createPool({ connectionString: db.appUrl });
    await recordSessionEvents(pool, events);
  }, 180_000);

  afterAll(async () => {
    await pool?.end();
    await db?.stop();
    if (db) removeStateDir(db.stateDir);
  });

  it("skillTimeline buckets by UTC day: each day's events, mean, min and max", async () => {
    const from = new Date(now.getTime() - 30 * DAY);
    const points = await skillTimeline(pool, learner, { from, to: now, bucket: "day", skills: ["algebra"] });
    expect(points).toHaveLength(20);
    expect(points[3]).toMatchObject({ skill: "algebra", events: 2, meanScore: 54, minScore: 53, maxScore: 55 });
    expect(points.every((p) => p.bucketStart.getUTCHours() === 0)).toBe(true);
  });

  it("skillTimeline buckets by ISO week, starting on Monday, and covers every event once", async () => {
    const from = new Date(now.getTime() - 30 * DAY);
    const points = await skillTimeline(pool, learner, { from, to: now, bucket: "week" });
    expect(points.every((p) => p.bucketStart.getUTCDay() === 1)).toBe(true);
    expect(points.reduce((sum, p) => sum + p.events, 0)).toBe(events.length);
  });

  it("skillSummary gives per skill the count, mean, spread, first, last and latest score", async () => {
    const summary = await skillSummary(pool, learner);
    const algebra = events.filter((e) => e.skill === "algebra").map((e) => e.score);
    const mean = algebra.reduce((a, b) => a + b) / algebra.length;
    expect(summary.map((s) => s.skill)).toEqual(["algebra", "geometry"]);
    expect(summary[0]).toMatchObject({ events: 40, meanScore: Math.round(mean * 100) / 100, lastScore: 71 });
    expect(summary[0].stddevScore).toBeCloseTo(Math.sqrt(algebra.reduce((a, b) => a + b * b, 0) / 40 - mean ** 2), 2);
    expect(summary[1]).toMatchObject({ events: 7, meanScore: 70, stddevScore: 0, lastScore: 70 });
  });

  it("snapshotReadiness stores the default model's score, and latestReadiness and readinessHistory read it back", async () => {
    const first = await snapshotReadiness(pool, learner, undefined, { now });
    expect(first.modelVersion).toBe("readiness-v1");
    expect(first.score).toBeGreaterThan(0);
    const second = await snapshotReadiness(pool, learner, {
      score: 88.5,
      components: { manual: true },
      modelVersion: "manual-1",
      computedAt: new Date(first.computedAt.getTime() + 1000),
    });
    expect(await latestReadiness(pool, learner)).toEqual({
      computedAt: second.computedAt,
      score: 88.5,
      components: { manual: true },
      modelVersion: "manual-1",
    });
    const history = await readinessHistory(pool, learner);
    expect(history.map((h) => h.score)).toEqual([first.score, 88.5]);
    expect(await readinessHistory(pool, learner, { from: second.computedAt })).toHaveLength(1);
    expect(await latestReadiness(pool, seededUuid(seededRandom(99)))).toBeUndefined();
  });

  it("snapshotReadiness refuses a score outside 0–100 before touching the database", async () => {
    await expect(snapshotReadiness(pool, learner, { score: 101, components: {}, modelVersion: "x" })).rejects.toThrow(
      "readiness score 101 is not a number from 0 to 100",
    );
  });
});
