-- The languages an interviewer holds interviews in (language tags,
-- comma-separated), shown when booking and planning.
CREATE TABLE interviewer_languages (
    user_id   TEXT PRIMARY KEY REFERENCES users(id),
    languages TEXT NOT NULL
);
