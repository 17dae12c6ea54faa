-- Multi-agent runs (API.md section 5): written when a run starts and when it ends, never in between.
-- The run's messages (the task as the user message, one assistant message per agent, with its name in
-- messages.agent) live in the conversation the run created.
CREATE TABLE agent_runs (
    id              VARCHAR(36)  NOT NULL PRIMARY KEY,
    owner           VARCHAR(255) NOT NULL,
    conversation_id VARCHAR(36),
    task            TEXT         NOT NULL,
    agents          TEXT         NOT NULL,
    model           VARCHAR(200),
    status          VARCHAR(16)  NOT NULL,
    end_reason      VARCHAR(64),
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    ended_at        TIMESTAMP WITH TIME ZONE
);
CREATE INDEX agent_runs_owner_created ON agent_runs (owner, created_at);
