-- Interviewers' languages: the same table as SQLite's migration 12.
CREATE TABLE interviewer_languages (
    user_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES users(id),
    languages TEXT COLLATE "C" NOT NULL
);
