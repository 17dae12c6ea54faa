-- Answer versions and user titles (README, "Extensions to API.md"). Portable SQL: H2 2.x and PostgreSQL 13+.
--
-- messages.parent_id: for a chat answer, the user message it answers. Regenerate adds an answer with the same
-- parent (a version); exactly one version per parent is active, and the history sent upstream uses the active
-- ones. Agents' messages keep parent_id NULL.
ALTER TABLE messages ADD COLUMN parent_id VARCHAR(36);
ALTER TABLE messages ADD COLUMN active BOOLEAN DEFAULT TRUE NOT NULL;
-- Answers saved before versions existed answer the closest user message before them.
UPDATE messages SET parent_id = (
    SELECT u.id FROM messages u
    WHERE u.conversation_id = messages.conversation_id AND u.role = 'user'
      AND u.seq = (SELECT MAX(p.seq) FROM messages p
                   WHERE p.conversation_id = messages.conversation_id AND p.role = 'user' AND p.seq < messages.seq))
WHERE role = 'assistant' AND agent IS NULL;
CREATE INDEX messages_parent ON messages (parent_id);

-- conversations.title_by_user: the user chose the title (POST /api/conversations with a title, or a rename);
-- a generated title never replaces it.
ALTER TABLE conversations ADD COLUMN title_by_user BOOLEAN DEFAULT FALSE NOT NULL;
