// isoTime: the ISO 8601 text ingest writes for each event's occurred_at is exactly what
// Date.prototype.toISOString writes, whatever number it is given.

import { isoTime } from "../../src/analytics/iso-time";
import { seededRandom } from "../../bench/workload";

const FROM = Date.UTC(2020, 0, 1);
const TO = Date.UTC(2100, 0, 1);

describe("isoTime", () => {
  it("equals toISOString at 100,000 random milliseconds from 2020 to 2100", () => {
    const random = seededRandom(14);
    const differing: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const ms = FROM + Math.floor(random() * (TO - FROM));
      if (isoTime(ms) !== new Date(ms).toISOString()) differing.push(`${ms}: ${isoTime(ms)}`);
    }
    expect(differing).toEqual([]);
  });

  it("equals toISOString at the edges of days, months, leap days and years", () => {
    const edges = [
      Date.UTC(2024, 1, 29), // a leap day
      Date.UTC(2024, 2, 1) - 1,
      Date.UTC(2026, 11, 31, 23, 59, 59, 999),
      Date.UTC(2027, 0, 1),
      Date.UTC(2026, 2, 29, 1, 0, 0, 0), // a DST change in Europe: nothing to UTC
      Date.UTC(2100, 1, 28, 23, 59, 59, 999), // 2100 is not a leap year: the next day is March 1
      0,
    ];
    for (const ms of edges) for (const delta of [-1, 0, 1]) expect(isoTime(ms + delta)).toBe(new Date(ms + delta).toISOString());
  });

  it("equals toISOString outside the years it formats itself: before 1970, from 10000, between milliseconds", () => {
    for (const ms of [
      -1,
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(10000, 0, 1),
      Date.UTC(10000, 0, 1) - 1,
      1.5,
      Date.UTC(2026, 0, 1) + 0.999,
    ]) {
      expect(isoTime(ms)).toBe(new Date(ms).toISOString());
    }
  });

  it("stays exact once more days were seen than it keeps", () => {
    const differing: string[] = [];
    for (let day = 0; day < 5_000; day++) {
      const ms = FROM + day * 86_400_000 + 45_296_789;
      if (isoTime(ms) !== new Date(ms).toISOString()) differing.push(`${ms}: ${isoTime(ms)}`);
    }
    expect(differing).toEqual([]);
    expect(isoTime(FROM)).toBe(new Date(FROM).toISOString());
  });
});
