-- The tamper-evident log (crates/ledger): one row per leaf, in order.
CREATE TABLE ledger_entries (
    seq       INTEGER PRIMARY KEY,  -- leaf index, from 0
    entry     BLOB NOT NULL,        -- canonical entry bytes
    leaf_hash BLOB NOT NULL         -- SHA-256(0x00 || entry)
);

-- The salts of each entry's field commitments: private, so a field can be
-- disclosed and proven later; never published with the entries.
CREATE TABLE ledger_salts (
    seq   INTEGER NOT NULL REFERENCES ledger_entries(seq),
    field TEXT NOT NULL,
    salt  BLOB NOT NULL,
    PRIMARY KEY (seq, field)
) WITHOUT ROWID;

-- The latest entry of each record, to compare records with the log.
CREATE TABLE ledger_heads (
    record_kind TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    seq         INTEGER NOT NULL REFERENCES ledger_entries(seq),
    PRIMARY KEY (record_kind, record_id)
) WITHOUT ROWID;

-- Signed checkpoints (C2SP signed notes), the history kept.
CREATE TABLE ledger_checkpoints (
    size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    note TEXT NOT NULL,
    at   TEXT NOT NULL
);

CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_salts_no_update BEFORE UPDATE ON ledger_salts
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_salts_no_delete BEFORE DELETE ON ledger_salts
BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END;
CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
