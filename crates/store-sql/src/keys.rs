//! Key rotation in the database: which master-key generation seals how many
//! values, and re-sealing every value under the newest generation.
//!
//! Re-sealing runs while the server serves: a page of rows at a time, each
//! page in its own short write transaction, and each row only if its sealed
//! value is still the one read (a value changed meanwhile was sealed anew
//! by that change). The plaintext never changes, so the log's commitments
//! stay valid.

use lantern_domain::case::{CaseId, CaseNoteId};
use lantern_domain::evidence::EvidenceId;
use lantern_domain::person::PersonId;
use lantern_domain::tracing::RequestId;
use lantern_store::{KeyUsage, StoreError, StoreResult};
use lantern_vault::Keyring;

use crate::sql::Backend;
use crate::util::parse_id;
use crate::{params, SqlStore};

/// Rows re-sealed per transaction.
const PAGE: usize = 500;

/// A column of sealed values: its table, the row's key, a second column its
/// place needs (or the key again), the keyring purpose, and the place.
struct SealedColumn {
    table: &'static str,
    key: &'static str,
    other: &'static str,
    column: &'static str,
    purpose: &'static str,
    place: fn(&str, &str) -> StoreResult<String>,
}

const SEALED: &[SealedColumn] = &[
    SealedColumn {
        table: "people",
        key: "id",
        other: "id",
        column: "protected",
        purpose: crate::people::PROTECTED_PURPOSE,
        place: |id, _| Ok(crate::people::place(PersonId(parse_id(id)?))),
    },
    SealedColumn {
        table: "person_photos",
        key: "person_id",
        other: "person_id",
        column: "sealed",
        purpose: crate::people::PHOTO_PURPOSE,
        place: |id, _| Ok(crate::people::place(PersonId(parse_id(id)?))),
    },
    SealedColumn {
        table: "case_notes",
        key: "id",
        other: "case_id",
        column: "sealed",
        purpose: crate::cases::NOTE_PURPOSE,
        place: |id, case| {
            Ok(crate::cases::note_place(
                CaseId(parse_id(case)?),
                CaseNoteId(parse_id(id)?),
            ))
        },
    },
    SealedColumn {
        table: "tracing_requests",
        key: "id",
        other: "id",
        column: "requester",
        purpose: crate::tracing::REQUESTER_PURPOSE,
        place: |id, _| Ok(crate::tracing::place(RequestId(parse_id(id)?))),
    },
    SealedColumn {
        table: "request_photos",
        key: "request_id",
        other: "request_id",
        column: "sealed",
        purpose: crate::tracing::PHOTO_PURPOSE,
        place: |id, _| Ok(crate::tracing::photo_place(RequestId(parse_id(id)?))),
    },
    SealedColumn {
        table: "request_messages",
        key: "id",
        other: "request_id",
        column: "sealed",
        purpose: crate::tracing::MESSAGE_PURPOSE,
        place: |id, request| {
            Ok(crate::tracing::message_place(
                RequestId(parse_id(request)?),
                lantern_domain::tracing::MessageId(parse_id(id)?),
            ))
        },
    },
    SealedColumn {
        table: "visits",
        key: "id",
        other: "id",
        column: "visitors",
        purpose: crate::visits::VISITORS_PURPOSE,
        place: |id, _| {
            Ok(crate::visits::visitors_place(lantern_domain::tracing::VisitId(
                parse_id(id)?,
            )))
        },
    },
    SealedColumn {
        table: "evidence",
        key: "id",
        other: "id",
        column: "protected",
        purpose: crate::evidence::DETAILS_PURPOSE,
        place: |id, _| Ok(crate::evidence::place(EvidenceId(parse_id(id)?))),
    },
    SealedColumn {
        table: "testimonies",
        key: "id",
        other: "id",
        column: "protected",
        purpose: crate::testimony::TESTIMONY_PURPOSE,
        place: |id, _| {
            Ok(crate::testimony::testimony_place(
                lantern_domain::testimony::TestimonyId(parse_id(id)?),
            ))
        },
    },
    SealedColumn {
        table: "events",
        key: "id",
        other: "id",
        column: "exact_place",
        purpose: crate::testimony::PLACE_PURPOSE,
        place: |id, _| {
            Ok(crate::testimony::event_place(lantern_domain::testimony::EventId(
                parse_id(id)?,
            )))
        },
    },
    SealedColumn {
        table: "vault_objects",
        key: "name",
        other: "name",
        column: "wrapped_key",
        purpose: lantern_vault::objects::DATA_KEY_PURPOSE,
        place: |name, _| Ok(format!("object/{name}")),
    },
];

/// One page of a sealed column after `after`: key, other, sealed value.
fn page<B: Backend>(store: &SqlStore<B>, c: &SealedColumn, after: &str) -> StoreResult<Vec<(String, String, Vec<u8>)>> {
    store.read(|tx| {
        tx.query(
            &format!(
                "SELECT {key}, {other}, {column} FROM {table} WHERE {key} > ?1 AND {column} IS NOT NULL
                 ORDER BY {key} LIMIT {PAGE}",
                key = c.key,
                other = c.other,
                column = c.column,
                table = c.table
            ),
            params![after],
        )?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect()
    })
}

impl<B: Backend> SqlStore<B> {
    pub(crate) fn usage(&self) -> StoreResult<Vec<KeyUsage>> {
        let mut out: Vec<KeyUsage> = Vec::new();
        for c in SEALED {
            let mut counts = std::collections::BTreeMap::<u32, u64>::new();
            let mut after = String::new();
            loop {
                let rows = page(self, c, &after)?;
                let Some(last) = rows.last() else { break };
                after = last.0.clone();
                for (_, _, sealed) in &rows {
                    *counts.entry(Keyring::generation_of(sealed).unwrap_or(0)).or_default() += 1;
                }
            }
            out.extend(counts.into_iter().map(|(generation, values)| KeyUsage {
                table: c.table.to_string(),
                generation,
                values,
            }));
        }
        Ok(out)
    }

    pub(crate) fn reseal_all(&self) -> StoreResult<u64> {
        let current = self.keys().current_generation();
        let mut resealed = 0;
        for c in SEALED {
            let mut after = String::new();
            loop {
                let rows = page(self, c, &after)?;
                let Some(last) = rows.last() else { break };
                after = last.0.clone();
                let stale: Vec<_> = rows
                    .into_iter()
                    .filter(|(_, _, sealed)| Keyring::generation_of(sealed) != Some(current))
                    .collect();
                if stale.is_empty() {
                    continue;
                }
                resealed += self.write(|tx| {
                    let mut n = 0;
                    for (key, other, sealed) in &stale {
                        let place = (c.place)(key, other)?;
                        let plain = self.keys().open(c.purpose, &place, sealed).map_err(|e| {
                            StoreError::backend(std::io::Error::other(format!("{} {key}: {e}", c.table)))
                        })?;
                        let fresh = self
                            .keys()
                            .seal(c.purpose, &place, &plain)
                            .map_err(StoreError::backend)?;
                        n += tx.execute(
                            &format!(
                                "UPDATE {table} SET {column} = ?1 WHERE {key} = ?2 AND {column} = ?3",
                                table = c.table,
                                column = c.column,
                                key = c.key
                            ),
                            params![fresh, key.as_str(), sealed.clone()],
                        )?;
                    }
                    Ok(n)
                })?;
            }
        }
        Ok(resealed)
    }
}
