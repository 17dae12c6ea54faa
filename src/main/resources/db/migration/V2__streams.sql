-- Stream records, for audit: written when a stream starts and when it ends, never in between.
CREATE TABLE streams (
    id              VARCHAR(36)  NOT NULL PRIMARY KEY,
    type            VARCHAR(32)  NOT NULL,
    related_id      VARCHAR(200),
    owner           VARCHAR(255) NOT NULL,
    conversation_id VARCHAR(36),
    model           VARCHAR(200),
    status          VARCHAR(16)  NOT NULL,
    end_reason      VARCHAR(64),
    message_id      VARCHAR(36),
    content         TEXT,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    ended_at        TIMESTAMP WITH TIME ZONE
);
CREATE INDEX streams_owner_created ON streams (owner, created_at);
