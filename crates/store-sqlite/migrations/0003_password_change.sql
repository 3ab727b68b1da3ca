-- Accounts whose password was chosen by someone else (an administrator, the
-- demo loader, the command line) must choose their own at first login.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
