// Deterministic longitudinal workloads: learners practising skills over time with scores that drift
// upward, reproducible from a seed, for the analytics proofs and the benchmark.

import { SessionEvent } from "../../src/analytics/events";

/** mulberry32: a small, fast, seeded PRNG (the same seed gives the same workload everywhere). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A UUID (version 4 layout) drawn from `random`. */
export function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = "4";
  hex[16] = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export interface WorkloadOptions {
  readonly seed: number;
  readonly learners: number;
  readonly skills: number;
  readonly events: number;
  /** Events fall in [from, to). */
  readonly from: Date;
  readonly to: Date;
}

/** `events` session events of `learners` learners over `skills` skills, time-ordered per learner. */
export function* generateEvents(options: WorkloadOptions): Generator<SessionEvent> {
  const random = seededRandom(options.seed);
  const learners = Array.from({ length: options.learners }, () => ({ id: seededUuid(random), ability: 30 + random() * 40, sessionId: seededUuid(random) }));
  const span = options.to.getTime() - options.from.getTime();
  for (let i = 0; i < options.events; i++) {
    const learner = learners[Math.floor(random() * learners.length)];
    const progress = random();
    if (random() < 0.05) learner.sessionId = seededUuid(random);
    // Scores drift upward over the period, with noise: a longitudinal trend to find.
    const score = Math.round(Math.min(100, Math.max(0, learner.ability + progress * 30 + (random() - 0.5) * 30)) * 100) / 100;
    yield {
      eventId: seededUuid(random),
      userId: learner.id,
      sessionId: learner.sessionId,
      skill: `skill-${String(Math.floor(random() * options.skills)).padStart(3, "0")}`,
      occurredAt: new Date(options.from.getTime() + Math.floor(progress * span)),
      score,
      metrics: random() < 0.3 ? { responseMs: Math.floor(random() * 20_000), hints: Math.floor(random() * 3) } : undefined,
    };
  }
}

/** The array shuffled by `random` (Fisher–Yates), a new array. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/** Splits `items` into consecutive batches of random sizes between 1 and `max`. */
export function randomBatches<T>(items: readonly T[], max: number, random: () => number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const size = 1 + Math.floor(random() * max);
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
}
