-- Photos of people, sealed like the protected fields (purpose person-photo).
CREATE TABLE person_photos (
    person_id    TEXT PRIMARY KEY REFERENCES people(id),
    content_type TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    uploaded_at  TEXT NOT NULL
);
