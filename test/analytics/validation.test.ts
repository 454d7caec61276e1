// validateEvents on its own (no database): what issue 10 found passing that could not be stored as
// sent. Each is refused with the event's index and a reason, and nothing of the batch is written.

import { InvalidEventsError, SessionEvent, validateEvents } from "../../src/analytics";
import { MAX_BATCH_EVENTS, MAX_METRICS_BYTES, validateEventsYielding } from "../../src/analytics/events";

const NOW = new Date("2026-11-25T12:00:00Z");
const event = (overrides: Partial<SessionEvent> = {}): SessionEvent => ({
  eventId: "0a1b2c3d-1111-4222-8333-444455556666",
  userId: "0a1b2c3d-1111-4222-8333-444455557777",
  sessionId: "0a1b2c3d-1111-4222-8333-444455558888",
  skill: "algebra",
  occurredAt: "2026-11-20T10:00:00Z",
  score: 80,
  ...overrides,
});
const problems = (events: SessionEvent[]) => {
  try {
    validateEvents(events, { now: NOW });
    return [];
  } catch (error) {
    return (error as InvalidEventsError).problems;
  }
};

describe("validateEvents refuses what could not be stored as sent", () => {
  it("a skill with a lone UTF-16 surrogate (PostgreSQL would store U+FFFD instead)", () => {
    expect(problems([event({ skill: "alg\uD800ebra" })])).toEqual([
      { index: 0, reason: "skill is not well-formed Unicode (a lone UTF-16 surrogate)" },
    ]);
  });

  it("metrics with a lone surrogate in a value or a key (jsonb would refuse them: 22P02)", () => {
    expect(problems([event({ metrics: { note: "x\uDC00" } })])).toEqual([
      { index: 0, reason: "metrics.note is not well-formed Unicode (a lone UTF-16 surrogate)" },
    ]);
    expect(problems([event({ metrics: { ["k\uD800"]: 1 } })])).toEqual([{ index: 0, reason: "metrics has a key that is not well-formed Unicode" }]);
  });

  it("metrics that JSON or jsonb cannot hold, named by their path however deep", () => {
    const deep: Record<string, unknown> = { level: 11 };
    let nested = deep;
    for (let level = 10; level >= 0; level--) nested = { level, next: nested };
    expect(problems([event({ metrics: { list: [1, "two", { ratio: Number.POSITIVE_INFINITY }] } })])).toEqual([
      { index: 0, reason: "metrics.list[2].ratio is not a finite number" },
    ]);
    expect(problems([event({ metrics: { a: [[{ ["k\u0000"]: 1 }]] } })])).toEqual([{ index: 0, reason: "metrics.a[0][0] has a key with NUL" }]);
    expect(problems([event({ metrics: { a: { b: "x\u0000y" } } })])).toEqual([{ index: 0, reason: "metrics.a.b contains NUL" }]);
    expect(problems([event({ metrics: { a: { b: 1n } } })])).toEqual([{ index: 0, reason: "metrics.a.b cannot be stored as JSON" }]);
    expect(problems([event({ metrics: nested })])).toEqual([
      { index: 0, reason: "metrics.next.next.next.next.next.next.next.next.next.next.level is nested too deeply" },
    ]);
    expect(problems([event({ metrics: [1] as never })])).toEqual([{ index: 0, reason: "metrics must be a JSON object" }]);
    expect(problems([event({ metrics: { fine: [true, null, 0.5, "ok", { deeper: [] }] } })])).toEqual([]);
  });

  it("ids that are not 8-4-4-4-12 hexadecimal digits", () => {
    const notUuids: unknown[] = [
      "0a1b2c3d-1111-4222-8333-44445555666", // 35 characters
      "0a1b2c3d-1111-4222-8333-4444555566667",
      "0a1b2c3d11111-4222-8333-444455556666", // a digit where a dash goes
      "0a1b2c3d-1111-4222-8333_444455556666",
      "0a1b2c3g-1111-4222-8333-444455556666", // g is not hexadecimal
      "{a1b2c3d-1111-4222-8333-44445555666}",
      "0a1b2c3d-1111-4222-8333-44445555666\u0000",
      "",
      42,
      null,
    ];
    // The characters either side of 0-9, a-f and A-F, a fullwidth digit, and a letter past f, in first place.
    for (const character of ["/", ":", "@", "`", "G", "g", "\uFF10"]) notUuids.push(`${character}a1b2c3d-1111-4222-8333-444455556666`);
    for (const eventId of notUuids) {
      expect(problems([event({ eventId: eventId as string })])).toEqual([{ index: 0, reason: `eventId ${JSON.stringify(eventId)} is not a UUID` }]);
    }
  });

  it("accepts a UUID in either case and keeps it lower-cased, as PostgreSQL returns it", () => {
    const [normalized] = validateEvents([event({ eventId: "0A1B2C3D-1111-4222-8333-4444ABCDEF09" })], { now: NOW });
    expect(normalized?.eventId).toBe("0a1b2c3d-1111-4222-8333-4444abcdef09");
  });

  it("accepts well-formed characters outside the basic plane (a surrogate pair)", () => {
    expect(problems([event({ skill: "geometry 📐", metrics: { note: "✓ 𝛑" } })])).toEqual([]);
  });

  it.each([
    ["2026-09-31T10:00:00Z", "is not a date and time that exists"],
    ["2026-02-29T10:00:00Z", "is not a date and time that exists"],
    ["2026-11-20T24:00:00Z", "is not a date and time that exists"],
    ["2026-11-20T10:61:00Z", "is not a date and time that exists"],
    ["2026-11-20T10:00:00.1234Z", "has digits below the millisecond, which would be lost: send at most 3"],
  ])("a timestamp %s that Date.parse would shift or cut", (occurredAt, reason) => {
    expect(problems([event({ occurredAt })])).toEqual([{ index: 0, reason: `occurredAt ${JSON.stringify(occurredAt)} ${reason}` }]);
  });

  it.each(["2026-11-20T10:00:00Z", "2026-11-20T10:00:00.123+01:00", "2026-11-20 10:00Z", "2024-02-29T23:59:59.999-0500"])(
    "accepts the ISO timestamp %s",
    (occurredAt) => {
      expect(problems([event({ occurredAt })])).toEqual([]);
    },
  );

  it("metrics larger than the cap", () => {
    const big = { blob: "x".repeat(MAX_METRICS_BYTES) };
    expect(problems([event({ metrics: big })])).toEqual([
      { index: 0, reason: `metrics is ${MAX_METRICS_BYTES + 11} bytes of JSON, more than the ${MAX_METRICS_BYTES} allowed` },
    ]);
  });

  it("a batch larger than the cap, at once, before looking at any event", () => {
    const many = new Array(MAX_BATCH_EVENTS + 1).fill(event());
    expect(problems(many)).toEqual([
      { index: -1, reason: `a batch holds at most ${MAX_BATCH_EVENTS} events, this one ${MAX_BATCH_EVENTS + 1}: send it in smaller batches` },
    ]);
  });
});

describe("a large batch", () => {
  it("is validated in slices, handing the event loop back between them (what recordSessionEvents does)", async () => {
    const many = Array.from({ length: 20_000 }, (_, i) => event({ eventId: `0a1b2c3d-1111-4222-8333-${String(i).padStart(12, "0")}` }));
    many.push(event({ score: 101 }));
    const order: string[] = [];
    const validating = validateEventsYielding(many, { now: NOW }).catch(() => order.push("refused"));
    setImmediate(() => order.push("the event loop ran"));
    await validating;
    // Validated in one go, the refusal would come first: the immediate could only run after it.
    expect(order).toEqual(["the event loop ran", "refused"]);
  });
});
