// rebuildAggregates: recomputes user_skill_agg from session_events, for one learner or for all. Its
// result equals what recordSessionEvents maintains incrementally; the proofs compare the two.

import { Pool } from "pg";
import { inTransaction } from "../client/transaction";

/** The aggregates of session_events, by the same rules as the incremental fold in ingest.ts. */
const AGGREGATE_SELECT = `
  SELECT user_id, skill, count(*), sum(score), sum(score * score), min(occurred_at), max(occurred_at),
         (array_agg(event_id ORDER BY occurred_at DESC, event_id DESC))[1],
         (array_agg(score ORDER BY occurred_at DESC, event_id DESC))[1],
         now()
  FROM analytics.session_events`;

/**
 * Recomputes the aggregates. While it runs, writers wait at their aggregate upsert (the table lock),
 * so every event is counted exactly once: before the lock it is in the recomputation, after it the
 * writer folds it in. Returns how many (user, skill) rows were written.
 */
export async function rebuildAggregates(pool: Pool, options: { userId?: string } = {}): Promise<number> {
  return inTransaction(pool, async (client) => {
    await client.query("LOCK TABLE analytics.user_skill_agg IN SHARE ROW EXCLUSIVE MODE");
    const where = options.userId ? " WHERE user_id = $1" : "";
    const params = options.userId ? [options.userId] : [];
    await client.query(`DELETE FROM analytics.user_skill_agg${where}`, params);
    const result = await client.query(
      `INSERT INTO analytics.user_skill_agg
         (user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score, updated_at)
       ${AGGREGATE_SELECT}${where}
       GROUP BY user_id, skill`,
      params,
    );
    return result.rowCount ?? 0;
  });
}
