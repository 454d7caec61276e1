// The one row of a statement that always returns exactly one (an aggregate, a single-row RETURNING):
// typed, and a missing row is reported as the bug it would be rather than read as undefined.

import { QueryResult, QueryResultRow } from "pg";

export function onlyRow<Row extends QueryResultRow>(result: QueryResult<Row>, statement: string): Row {
  const [row] = result.rows;
  if (row === undefined || result.rows.length !== 1) throw new Error(`${statement} returned ${result.rows.length} rows, expected exactly 1`);
  return row;
}
