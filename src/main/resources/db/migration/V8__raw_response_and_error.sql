-- Issue 19 (API.md section 13): the raw record and the error of each answer. Portable SQL: H2 2.x and PostgreSQL 13+.
--
-- messages.raw_response: the upstream response's raw record (each event's data as received, with its arrival time,
-- bounded by SLUICE_RAW_MAX_BYTES), written once with the answer at the end of its stream: one gzipped JSON value
-- (io.sluice.providers.control.RawCapture), never a row per chunk. The request beside it is upstream_request (V1).
-- NULL for user messages, for answers saved before this migration, and with SLUICE_RAW_MAX_BYTES=0.
ALTER TABLE messages ADD COLUMN raw_response BYTEA;
-- messages.error_message: the message of the error event a failed answer's stream ended with (its code is
-- end_reason); NULL when the stream did not end in error.
ALTER TABLE messages ADD COLUMN error_message VARCHAR(1000);
