-- A chat stream's record says, from its start, where its answer goes (messages.id, seq and parent), so that the
-- start-up after a crash can show the lost answer as interrupted instead of missing (issue 11, rule 4).
ALTER TABLE streams ADD COLUMN answer_seq INTEGER;
ALTER TABLE streams ADD COLUMN parent_id VARCHAR(36);
