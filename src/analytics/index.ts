// The PULSE analytics data path, for the backend: idempotent ingest, readiness snapshots and model,
// longitudinal reads, and the aggregate rebuild. Every function takes a pg Pool (see src/client/pool.ts).

export { InvalidEventsError, validateEvents } from "./events";
export type { EventProblem, SessionEvent } from "./events";
export { CONFLICT_WINDOW_DAYS, MissingPartitionError, PartlyStoredError, recordSessionEvents } from "./ingest";
export type { EventConflict, RecordOptions, RecordResult } from "./ingest";
export { computeReadiness, READINESS_MODEL_VERSION, skillAggregates, snapshotReadiness } from "./readiness";
export type { ReadinessComponents, ReadinessSnapshot, SkillAggregate } from "./readiness";
export { latestReadiness, readinessHistory, skillSummary, skillTimeline } from "./queries";
export type { SkillSummary, StoredReadiness, TimelinePoint } from "./queries";
export { rebuildAggregates } from "./rebuild";
