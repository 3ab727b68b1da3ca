-- Weekly availability: the same table as SQLite's migration 10.
CREATE TABLE availability (
    resource_kind TEXT COLLATE "C" NOT NULL,
    resource_id   TEXT COLLATE "C" NOT NULL,
    weekday       BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    starts        TEXT COLLATE "C" NOT NULL,
    ends          TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (resource_kind, resource_id, weekday, starts)
);
