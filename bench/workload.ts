// Deterministic longitudinal workloads: learners practising skills over time with scores that drift
// upward, reproducible from a seed: the benchmark's workload, and the analytics proofs' data.

import { SessionEvent } from "../src/analytics/events";

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

const HEX_DIGITS = "0123456789abcdef";

/**
 * A UUID (version 4 layout) drawn from `random`. Written into a buffer and decoded once, so it is one
 * flat string, as JSON.parse gives a backend: a string joined from slices is a rope that the first
 * reader (ingest's validation, in the timed part of a benchmark) would pay to flatten.
 */
export function seededUuid(random: () => number): string {
  const digits = Array.from({ length: 32 }, () => Math.floor(random() * 16));
  digits[12] = 4;
  digits[16] = (digits[16]! & 0x3) | 0x8;
  const text = Buffer.alloc(36, "-");
  for (let digit = 0, at = 0; digit < 32; digit++, at++) {
    if (at === 8 || at === 13 || at === 18 || at === 23) at++;
    text[at] = HEX_DIGITS.charCodeAt(digits[digit]!);
  }
  return text.toString("latin1");
}

export interface WorkloadOptions {
  readonly seed: number;
  readonly learners: number;
  readonly skills: number;
  readonly events: number;
  /** Events fall in [from, to). */
  readonly from: Date;
  readonly to: Date;
  /** Answers per practice session. @default 20 */
  readonly eventsPerSession?: number;
}

/**
 * `events` session events as a live system receives them: practice sessions of ~20 answers over a
 * few skills, a learner's sessions spread over the period, every session's answers minutes apart,
 * and sessions arriving in time order. Scores drift upward over the period, with noise.
 */
export function* generateEvents(options: WorkloadOptions): Generator<SessionEvent> {
  const random = seededRandom(options.seed);
  const perSession = options.eventsPerSession ?? 20;
  const sessionCount = Math.ceil(options.events / perSession);
  const learners = Array.from({ length: options.learners }, () => ({ id: seededUuid(random), ability: 30 + random() * 40 }));
  const span = options.to.getTime() - options.from.getTime() - 2 * 3_600_000;
  // Session start times in time order: a sorted sample of the period.
  const starts = Array.from({ length: sessionCount }, () => random()).sort((a, b) => a - b);
  let emitted = 0;
  for (const start of starts) {
    const learner = pickFrom(learners, random);
    const sessionId = seededUuid(random);
    const skills = Array.from({ length: 2 + Math.floor(random() * 4) }, () => Math.floor(random() * options.skills));
    let at = options.from.getTime() + Math.floor(start * span);
    for (let i = 0; i < perSession && emitted < options.events; i++, emitted++) {
      at += 10_000 + Math.floor(random() * 170_000);
      const score = Math.round(Math.min(100, Math.max(0, learner.ability + start * 30 + (random() - 0.5) * 30)) * 100) / 100;
      yield {
        eventId: seededUuid(random),
        userId: learner.id,
        sessionId,
        skill: `skill-${String(skills[Math.floor(random() * skills.length)]).padStart(3, "0")}`,
        occurredAt: new Date(at),
        score,
        metrics: random() < 0.3 ? { responseMs: Math.floor(random() * 20_000), hints: Math.floor(random() * 3) } : undefined,
      };
    }
  }
}

/** One of `items`, drawn by `random`; an empty list is a mistake in the workload's options. */
export function pickFrom<T>(items: readonly T[], random: () => number): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error("cannot pick from an empty list");
  return item;
}

/** The array shuffled by `random` (Fisher–Yates), a new array. */
export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const [a, b] = [copy[i], copy[j]] as [T, T];
    [copy[i], copy[j]] = [b, a];
  }
  return copy;
}

/** Splits `items` into consecutive batches of random sizes between 1 and `max`. */
export function randomBatches<T>(items: readonly T[], max: number, random: () => number): T[][] {
  const batches: T[][] = [];
  for (let i = 0; i < items.length;) {
    const size = 1 + Math.floor(random() * max);
    batches.push(items.slice(i, i + size));
    i += size;
  }
  return batches;
}
