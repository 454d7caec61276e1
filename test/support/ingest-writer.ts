// A backend-like ingest process for the client-crash proof (test/client/failover.test.ts): sends a
// deterministic stream of session events in batches with recordSessionEvents and prints one line per
// acknowledged batch. Killed and started again, it sends the whole stream again, as a client would
// re-send its outbox.
//
//   node --import tsx test/support/ingest-writer.ts <database url> <seed> <events> <from ISO> <to ISO>
//
// The same arguments give the same events, each with the same occurred_at, as a re-sent outbox does.

import { recordSessionEvents } from "../../src/analytics";
import { createPool } from "../../src/client/pool";
import { generateEvents } from "../../bench/workload";

const [url, seed, total, from, to] = process.argv.slice(2);
const events = [...generateEvents({ seed: Number(seed), learners: 40, skills: 5, events: Number(total), from: new Date(from), to: new Date(to) })];
const pool = createPool({ connectionString: url, pool: { max: 2 } });
(async () => {
  for (let start = 0; start < events.length; start += 250) {
    await recordSessionEvents(pool, events.slice(start, start + 250), { chunkSize: 50 });
    console.log(`acknowledged ${Math.min(start + 250, events.length)}`);
  }
  await pool.end();
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
