-- Messages: the same table as SQLite's migration 15.
CREATE TABLE request_messages (
    id           TEXT COLLATE "C" PRIMARY KEY,
    request_id   TEXT COLLATE "C" NOT NULL REFERENCES tracing_requests(id),
    direction    TEXT COLLATE "C" NOT NULL,
    sealed       BYTEA NOT NULL,
    written_at   TEXT COLLATE "C" NOT NULL,
    written_by   TEXT COLLATE "C" NOT NULL,
    delivered_at TEXT COLLATE "C",
    delivered_by TEXT COLLATE "C"
);
CREATE INDEX request_messages_request ON request_messages(request_id, written_at);
CREATE TRIGGER request_messages_fixed
BEFORE UPDATE OF id, request_id, direction, written_at, written_by OR DELETE ON request_messages
FOR EACH ROW EXECUTE FUNCTION lantern_append_only('a message is never changed');
CREATE FUNCTION lantern_delivered_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.delivered_at IS NOT NULL THEN
        RAISE EXCEPTION 'a delivery is recorded once';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER request_messages_delivered_once
BEFORE UPDATE OF delivered_at, delivered_by ON request_messages
FOR EACH ROW EXECUTE FUNCTION lantern_delivered_once();
CREATE TRIGGER request_messages_no_truncate BEFORE TRUNCATE ON request_messages
FOR EACH STATEMENT EXECUTE FUNCTION lantern_append_only('a message is never changed');
