-- Up Migration
-- Per learner and skill, aggregates of session_events that do not depend on the order events
-- arrive in: counts and (exact, numeric) sums commute, first/last are min/max of occurred_at, and
-- the latest score is the one of the greatest (occurred_at, event_id).

CREATE TABLE analytics.user_skill_agg (
  user_id           uuid        NOT NULL,
  skill             text        NOT NULL,
  event_count       bigint      NOT NULL CONSTRAINT user_skill_agg_event_count_positive CHECK (event_count > 0),
  score_sum         numeric     NOT NULL CONSTRAINT user_skill_agg_score_sum_range CHECK (score_sum BETWEEN 0 AND 100 * event_count),
  score_sum_squares numeric     NOT NULL CONSTRAINT user_skill_agg_score_sum_squares_range CHECK (score_sum_squares BETWEEN 0 AND 10000 * event_count),
  first_occurred_at timestamptz NOT NULL,
  last_occurred_at  timestamptz NOT NULL,
  last_event_id     uuid        NOT NULL,
  last_score        numeric(5,2) NOT NULL CONSTRAINT user_skill_agg_last_score_range CHECK (last_score BETWEEN 0 AND 100),
  updated_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT user_skill_agg_pkey PRIMARY KEY (user_id, skill),
  CONSTRAINT user_skill_agg_first_before_last CHECK (first_occurred_at <= last_occurred_at)
);

COMMENT ON TABLE analytics.user_skill_agg IS
  'Longitudinal Analytics Store rollup: per learner and skill, order-independent aggregates of session_events (rebuildable from them at any time).';
COMMENT ON COLUMN analytics.user_skill_agg.user_id IS 'The learner.';
COMMENT ON COLUMN analytics.user_skill_agg.skill IS 'The skill, as in session_events.skill.';
COMMENT ON COLUMN analytics.user_skill_agg.event_count IS 'How many distinct events of this learner and skill are stored.';
COMMENT ON COLUMN analytics.user_skill_agg.score_sum IS 'Sum of their scores (exact): mean = score_sum / event_count.';
COMMENT ON COLUMN analytics.user_skill_agg.score_sum_squares IS
  'Sum of their squared scores (exact): variance = score_sum_squares / event_count - mean^2.';
COMMENT ON COLUMN analytics.user_skill_agg.first_occurred_at IS 'occurred_at of the earliest event: when the learner first practised the skill.';
COMMENT ON COLUMN analytics.user_skill_agg.last_occurred_at IS 'occurred_at of the latest event.';
COMMENT ON COLUMN analytics.user_skill_agg.last_event_id IS
  'event_id of the latest event, the tie-break when two events share last_occurred_at (the greater event_id wins).';
COMMENT ON COLUMN analytics.user_skill_agg.last_score IS
  'Score of the latest event by occurred_at (not by arrival): a late event with an older occurred_at never replaces it.';
COMMENT ON COLUMN analytics.user_skill_agg.updated_at IS 'When this row last changed (server clock).';

-- Down Migration
DROP TABLE analytics.user_skill_agg;
