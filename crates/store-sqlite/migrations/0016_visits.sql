-- Family visits (crates/domain/src/tracing.rs): visiting rooms with their
-- capacity and weekly opening hours; visits with the visitors' names
-- sealed (purpose request-visitors), no two at once in a room.
CREATE TABLE visit_rooms (
    id         TEXT PRIMARY KEY,
    site_id    TEXT NOT NULL REFERENCES sites(id),
    name       TEXT NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity > 0),
    hours      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE visits (
    id             TEXT PRIMARY KEY,
    request_id     TEXT NOT NULL REFERENCES tracing_requests(id),
    room_id        TEXT NOT NULL REFERENCES visit_rooms(id),
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    visitors       BLOB NOT NULL,
    visitor_count  INTEGER NOT NULL,
    status         TEXT NOT NULL,
    outcome_by     TEXT,
    outcome_reason TEXT,
    booked_by      TEXT NOT NULL,
    booked_at      TEXT NOT NULL,
    closed_at      TEXT
);
CREATE INDEX visits_room ON visits(room_id, starts_at);
CREATE INDEX visits_request ON visits(request_id, starts_at);
