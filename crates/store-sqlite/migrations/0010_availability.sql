-- Weekly availability of interviewers and interpreters (UTC). A person
-- with no window is available at any time.
CREATE TABLE availability (
    resource_kind TEXT NOT NULL,          -- interviewer or interpreter
    resource_id   TEXT NOT NULL,
    weekday       INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),  -- 0 = Monday
    starts        TEXT NOT NULL,          -- HH:MM
    ends          TEXT NOT NULL,
    PRIMARY KEY (resource_kind, resource_id, weekday, starts)
);
