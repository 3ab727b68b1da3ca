-- A photo of the person sought, given by the family (sealed at rest).
CREATE TABLE request_photos (
    request_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES tracing_requests(id),
    content_type TEXT COLLATE "C" NOT NULL,
    sealed       BYTEA NOT NULL,
    uploaded_at  TEXT COLLATE "C" NOT NULL
);
