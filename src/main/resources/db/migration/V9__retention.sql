-- Retention (issue 19, API.md section 13; README "Retention"): the daily job finds conversations untouched for
-- SLUICE_RETENTION_DAYS by updated_at, deletes the stream records and agent runs of each by conversation_id, and the
-- records with no conversation left by creation time. Portable SQL: H2 2.x and PostgreSQL 13+.
CREATE INDEX conversations_updated ON conversations (updated_at);
CREATE INDEX streams_conversation ON streams (conversation_id);
CREATE INDEX streams_created ON streams (created_at, id);
CREATE INDEX agent_runs_conversation ON agent_runs (conversation_id);
CREATE INDEX agent_runs_created ON agent_runs (created_at, id);
