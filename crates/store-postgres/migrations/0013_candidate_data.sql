-- What a proposed pair was judged on: a hash of the person's identifying
-- fields and of the request's description of the person sought. A rejected
-- pair is proposed again only when this changes.
ALTER TABLE request_candidates ADD COLUMN data_key TEXT;
