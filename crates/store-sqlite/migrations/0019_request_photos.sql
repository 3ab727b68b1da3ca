-- A photo of the person sought, given by the family (sealed at rest).
CREATE TABLE request_photos (
    request_id   TEXT PRIMARY KEY REFERENCES tracing_requests(id),
    content_type TEXT NOT NULL,
    sealed       BLOB NOT NULL,
    uploaded_at  TEXT NOT NULL
);
