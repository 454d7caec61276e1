-- Up Migration
-- Readiness Score snapshots: a composite 0–100 score per learner over time. The primary key leads
-- with user_id, so the latest snapshot is one backward scan of the primary key index.

CREATE TABLE analytics.user_readiness (
  user_id       uuid         NOT NULL,
  computed_at   timestamptz  NOT NULL DEFAULT now(),
  score         numeric(5,2) NOT NULL CONSTRAINT user_readiness_score_range CHECK (score BETWEEN 0 AND 100),
  components    jsonb        NOT NULL DEFAULT '{}'::jsonb CONSTRAINT user_readiness_components_object CHECK (jsonb_typeof(components) = 'object'),
  model_version text         NOT NULL CONSTRAINT user_readiness_model_version_not_blank CHECK (length(model_version) BETWEEN 1 AND 64),
  CONSTRAINT user_readiness_pkey PRIMARY KEY (user_id, computed_at)
);

COMMENT ON TABLE analytics.user_readiness IS
  'Readiness Score snapshots: one row per learner per computation; the history of a learner''s readiness over time.';
COMMENT ON COLUMN analytics.user_readiness.user_id IS 'The learner.';
COMMENT ON COLUMN analytics.user_readiness.computed_at IS 'When the score was computed (server clock): the time axis of the readiness history.';
COMMENT ON COLUMN analytics.user_readiness.score IS 'The composite Readiness Score, 0 to 100.';
COMMENT ON COLUMN analytics.user_readiness.components IS
  'The inputs and partial scores the composite was computed from, as a JSON object, so a score can be explained later.';
COMMENT ON COLUMN analytics.user_readiness.model_version IS
  'Version of the readiness model that computed the score: scores of different versions are not comparable.';

-- Down Migration
DROP TABLE analytics.user_readiness;
