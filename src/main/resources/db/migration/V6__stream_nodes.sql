-- Issue 10: which node generates a stream or runs an agent run (its random id per start), so that in a cluster the
-- streams of a node whose Redis lease expired are closed by another node, and the start-up of one node closes
-- nothing of the others'. The index serves "the nodes with open streams" and "a node's open streams".
ALTER TABLE streams ADD COLUMN node_id VARCHAR(36);
ALTER TABLE agent_runs ADD COLUMN node_id VARCHAR(36);
CREATE INDEX streams_open_by_node ON streams (ended_at, node_id);
