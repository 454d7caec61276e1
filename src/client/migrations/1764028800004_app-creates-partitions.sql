-- Up Migration
-- Ingest creates the partition of a month that has none when an event of that month arrives
-- (recordSessionEvents), so an event is never refused for lack of a partition and db:maintain is an
-- optimisation (the first write of a month then pays for no DDL), not a requirement. The function is
-- SECURITY DEFINER: it creates partitions only, owned by pulse_analytics_owner, whoever calls it.
GRANT EXECUTE ON FUNCTION analytics.ensure_session_event_partitions(integer, date) TO pulse_analytics_app;

-- Down Migration
REVOKE EXECUTE ON FUNCTION analytics.ensure_session_event_partitions(integer, date) FROM pulse_analytics_app;
