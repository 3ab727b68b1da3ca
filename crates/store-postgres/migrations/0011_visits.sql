-- Family visits: the same tables as SQLite's migration 16.
CREATE TABLE visit_rooms (
    id         TEXT COLLATE "C" PRIMARY KEY,
    site_id    TEXT COLLATE "C" NOT NULL REFERENCES sites(id),
    name       TEXT COLLATE "C" NOT NULL,
    capacity   BIGINT NOT NULL CHECK (capacity > 0),
    hours      TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (site_id, name)
);

CREATE TABLE visits (
    id             TEXT COLLATE "C" PRIMARY KEY,
    request_id     TEXT COLLATE "C" NOT NULL REFERENCES tracing_requests(id),
    room_id        TEXT COLLATE "C" NOT NULL REFERENCES visit_rooms(id),
    starts_at      TEXT COLLATE "C" NOT NULL,
    ends_at        TEXT COLLATE "C" NOT NULL,
    visitors       BYTEA NOT NULL,
    visitor_count  BIGINT NOT NULL,
    status         TEXT COLLATE "C" NOT NULL,
    outcome_by     TEXT COLLATE "C",
    outcome_reason TEXT COLLATE "C",
    booked_by      TEXT COLLATE "C" NOT NULL,
    booked_at      TEXT COLLATE "C" NOT NULL,
    closed_at      TEXT COLLATE "C"
);
CREATE INDEX visits_room ON visits(room_id, starts_at);
CREATE INDEX visits_request ON visits(request_id, starts_at);
