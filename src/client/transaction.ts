// One way to run a transaction: COMMIT when the work resolves; otherwise ROLLBACK, whose own failure
// (the connection is gone, and the server has rolled back already) never hides the work's error. From
// a pool, a client whose connection broke is discarded rather than handed to the next caller.

import { ClientBase, Pool, PoolClient } from "pg";

/** Runs `work` in a transaction on `client`, which the caller owns. */
export async function inTransactionOn<T>(client: ClientBase, work: (client: ClientBase) => Promise<T>): Promise<T> {
  await client.query("BEGIN");
  try {
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  }
}

/** Runs `work` in a transaction on a client of `pool`, and gives the client back (or drops it if it broke). */
export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A connection that dies while checked out emits "error" (unheard, it would end the process); the
  // query in flight fails with it too, so here it only marks the client as not reusable.
  const onConnectionError = (error: Error) => (broken ??= error);
  client.on("error", onConnectionError);
  try {
    return await inTransactionOn(client, () => work(client));
  } catch (error) {
    // An error PostgreSQL answered with has a SQLSTATE and leaves the connection sound after ROLLBACK.
    if (!(error as { code?: unknown }).code) broken ??= error as Error;
    throw error;
  } finally {
    client.off("error", onConnectionError);
    client.release(broken);
  }
}
