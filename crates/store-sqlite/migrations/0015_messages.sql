-- Messages between a family and the person sought (crates/domain/src/tracing.rs):
-- the text sealed (purpose request-message), delivery recorded once.
CREATE TABLE request_messages (
    id           TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES tracing_requests(id),
    direction    TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    written_at   TEXT NOT NULL,
    written_by   TEXT NOT NULL,
    delivered_at TEXT,
    delivered_by TEXT
);
CREATE INDEX request_messages_request ON request_messages(request_id, written_at);
CREATE TRIGGER request_messages_fixed
BEFORE UPDATE OF id, request_id, direction, written_at, written_by ON request_messages
BEGIN SELECT RAISE(ABORT, 'a message is never changed'); END;
CREATE TRIGGER request_messages_delivered_once
BEFORE UPDATE OF delivered_at, delivered_by ON request_messages WHEN OLD.delivered_at IS NOT NULL
BEGIN SELECT RAISE(ABORT, 'a delivery is recorded once'); END;
CREATE TRIGGER request_messages_no_delete BEFORE DELETE ON request_messages
BEGIN SELECT RAISE(ABORT, 'a message is never changed'); END;
