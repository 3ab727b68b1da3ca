//! People, households, family links, search and history.

use lantern_domain::audit::AuditAction;
use lantern_domain::family::{check_new_link, FamilyLink, LinkKind};
use lantern_domain::person::{HouseholdId, PersonCore, PersonDraft, PersonId, Photo, ProtectedFields, SiteId};
use lantern_domain::text::{required_text, search_key};
use lantern_domain::{FieldError, Reason};
use lantern_store::{
    AuditContext, Household, LinkView, Page, PageRequest, Person, PersonQuery, PersonSummary, PersonVersion,
    StoreError, StoreResult,
};
use rusqlite::{params, OptionalExtension, Transaction};

use crate::util::{db, fmt_ts, json, parse_id, parse_ts};
use crate::{insert_audit, SqliteStore};

/// Name searches count matches up to this many.
const SEARCH_COUNT_CAP: u64 = 1_000;
/// Up to this many people with the rarest word, a search collects and sorts
/// them; with more, it walks the people in name order (measured on 100,000
/// people: sorting 6,000 matches takes about 20 ms, walking is faster only
/// when matches are dense).
const SORT_LIMIT: u64 = 8_000;
/// Lists without a name count up to this many.
const BROWSE_COUNT_CAP: u64 = 10_000;

/// Purpose under which protected person fields are sealed.
const PROTECTED_PURPOSE: &str = "person-protected";
/// Purpose under which photos are sealed.
const PHOTO_PURPOSE: &str = "person-photo";

fn place(id: PersonId) -> String {
    format!("person/{id}")
}

fn exists(tx: &Transaction<'_>, sql: &str, id: &str) -> StoreResult<bool> {
    tx.query_row(sql, [id], |r| r.get(0)).map_err(db)
}

/// Checks that the site and household a record points to exist.
fn check_refs(tx: &Transaction<'_>, core: &PersonCore) -> StoreResult<()> {
    if let Some(site) = core.site_id {
        if !exists(
            tx,
            "SELECT EXISTS(SELECT 1 FROM sites WHERE id = ?1)",
            &site.to_string(),
        )? {
            return Err(FieldError::new("site_id", Reason::NotFound).into());
        }
    }
    if let Some(h) = core.household_id {
        if !exists(
            tx,
            "SELECT EXISTS(SELECT 1 FROM households WHERE id = ?1)",
            &h.to_string(),
        )? {
            return Err(FieldError::new("household_id", Reason::NotFound).into());
        }
    }
    Ok(())
}

/// The commitments a person's log entry carries: one per field of the
/// unprotected content, and one for the protected fields together.
pub(crate) fn person_commitments(
    core: &PersonCore,
    protected: &ProtectedFields,
    salts: &mut dyn FnMut(&str) -> StoreResult<[u8; 32]>,
) -> StoreResult<lantern_ledger::entry::Commitments> {
    let mut c = lantern_ledger::entry::Commitments::new();
    let value = serde_json::to_value(core).map_err(json)?;
    if let serde_json::Value::Object(fields) = value {
        for (name, v) in fields {
            let salt = salts(&name)?;
            c.add(&name, &v, salt);
        }
    }
    c.add("protected", protected, salts("protected")?);
    Ok(c)
}

/// What a write of a person records in its version row.
struct Change {
    version: i64,
    action: AuditAction,
    protected_changed: bool,
}

/// The names of the fields that differ between two versions.
fn changed_fields(old: &PersonCore, new: &PersonCore) -> Vec<&'static str> {
    let mut out = Vec::new();
    macro_rules! cmp {
        ($($f:ident),*) => { $( if old.$f != new.$f { out.push(stringify!($f)); } )* };
    }
    cmp!(
        names,
        father_name,
        mother_name,
        sex,
        birth_date,
        birth_place,
        nationality,
        status,
        site_id,
        block,
        room,
        household_id
    );
    out
}

impl SqliteStore {
    fn seal_protected(&self, id: PersonId, p: &ProtectedFields) -> StoreResult<Option<Vec<u8>>> {
        if p.is_empty() {
            return Ok(None);
        }
        let plain = serde_json::to_vec(p).map_err(json)?;
        self.keys()
            .seal(PROTECTED_PURPOSE, &place(id), &plain)
            .map(Some)
            .map_err(StoreError::backend)
    }

    /// Writes the row, its name tokens and a version; the caller writes the audit.
    fn write_person(
        &self,
        tx: &Transaction<'_>,
        id: PersonId,
        draft: &PersonDraft,
        ctx: &AuditContext,
        change: Change,
    ) -> StoreResult<()> {
        let Change {
            version,
            action,
            protected_changed,
        } = change;
        let core = &draft.core;
        let core_json = serde_json::to_string(core).map_err(json)?;
        let primary = core.primary_name();
        let sealed = self.seal_protected(id, &draft.protected)?;
        let (from, to) = core
            .birth_date
            .map(|d| (Some(d.earliest_year()), Some(d.latest_year())))
            .unwrap_or((None, None));
        let now = fmt_ts(ctx.at);
        tx.execute(
            "INSERT INTO people (id, version, core, protected, display_name, sort_key, status, site_id, household_id,
                                 birth_from, birth_to, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
             ON CONFLICT (id) DO UPDATE SET version = ?2, core = ?3, protected = ?4, display_name = ?5,
                 sort_key = ?6, status = ?7, site_id = ?8, household_id = ?9, birth_from = ?10, birth_to = ?11,
                 updated_at = ?12",
            params![
                id.to_string(),
                version,
                core_json,
                sealed,
                primary.text.as_str(),
                primary.text.key(),
                core.status.code(),
                core.site_id.map(|s| s.to_string()),
                core.household_id.map(|h| h.to_string()),
                from,
                to,
                now,
            ],
        )
        .map_err(db)?;
        tx.execute("DELETE FROM name_tokens WHERE person_id = ?1", [id.to_string()])
            .map_err(db)?;
        let mut insert = tx
            .prepare_cached("INSERT OR IGNORE INTO name_tokens (token, person_id) VALUES (?1, ?2)")
            .map_err(db)?;
        for name in &core.names {
            for token in name.text.key().split(' ').filter(|t| !t.is_empty()) {
                insert.execute(params![token, id.to_string()]).map_err(db)?;
            }
        }
        tx.execute(
            "INSERT INTO person_versions (person_id, version, at, actor_id, actor_name, action, core, protected_changed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id.to_string(),
                version,
                now,
                ctx.actor_id.map(|a| a.to_string()),
                ctx.actor_name,
                action.code(),
                core_json,
                protected_changed,
            ],
        )
        .map_err(db)?;
        let kind = if action == AuditAction::PersonCreate {
            "record.created"
        } else {
            "record.updated"
        };
        let commitments = person_commitments(core, &draft.protected, &mut |_| crate::ledger::salt())?;
        crate::ledger::append(
            tx,
            crate::ledger::EntryHead {
                kind,
                record_kind: "person",
                record_id: &id.to_string(),
                version: Some(version),
                at: ctx.at,
            },
            commitments,
        )?;
        Ok(())
    }

    fn insert_new_person(
        &self,
        tx: &Transaction<'_>,
        draft: &PersonDraft,
        ctx: &AuditContext,
    ) -> StoreResult<PersonId> {
        check_refs(tx, &draft.core)?;
        let id = PersonId::new();
        let change = Change {
            version: 1,
            action: AuditAction::PersonCreate,
            protected_changed: !draft.protected.is_empty(),
        };
        self.write_person(tx, id, draft, ctx, change)?;
        insert_audit(
            tx,
            &ctx.event(AuditAction::PersonCreate, "person", Some(id.to_string()), ""),
        )?;
        Ok(id)
    }

    pub(crate) fn new_person(&self, draft: &PersonDraft, ctx: &AuditContext) -> StoreResult<Person> {
        let id = self.write(|tx| self.insert_new_person(tx, draft, ctx))?;
        self.get_person(id)?.ok_or(StoreError::NotFound)
    }

    pub(crate) fn import(&self, drafts: &[PersonDraft], ctx: &AuditContext) -> StoreResult<Vec<PersonId>> {
        self.write(|tx| drafts.iter().map(|d| self.insert_new_person(tx, d, ctx)).collect())
    }

    fn current(&self, tx: &Transaction<'_>, id: PersonId) -> StoreResult<(i64, PersonCore, Option<Vec<u8>>)> {
        let row = tx
            .query_row(
                "SELECT version, core, protected FROM people WHERE id = ?1 AND deleted_at IS NULL",
                [id.to_string()],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<Vec<u8>>>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(db)?;
        let (version, core, sealed) = row.ok_or(StoreError::NotFound)?;
        Ok((version, serde_json::from_str(&core).map_err(json)?, sealed))
    }

    pub(crate) fn open_protected(&self, id: PersonId, sealed: Option<&[u8]>) -> StoreResult<ProtectedFields> {
        match sealed {
            None => Ok(ProtectedFields::default()),
            Some(bytes) => {
                let plain = self
                    .keys()
                    .open(PROTECTED_PURPOSE, &place(id), bytes)
                    .map_err(StoreError::backend)?;
                serde_json::from_slice(&plain).map_err(json)
            }
        }
    }

    pub(crate) fn change_person(
        &self,
        id: PersonId,
        expected: i64,
        draft: &PersonDraft,
        ctx: &AuditContext,
    ) -> StoreResult<Person> {
        self.write(|tx| {
            let (version, old_core, sealed) = self.current(tx, id)?;
            if version != expected {
                return Err(StoreError::Conflict { current: version });
            }
            check_refs(tx, &draft.core)?;
            let old_protected = self.open_protected(id, sealed.as_deref())?;
            let protected_changed = old_protected != draft.protected;
            let mut fields = changed_fields(&old_core, &draft.core);
            if protected_changed {
                fields.push("protected");
            }
            let change = Change {
                version: version + 1,
                action: AuditAction::PersonUpdate,
                protected_changed,
            };
            self.write_person(tx, id, draft, ctx, change)?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::PersonUpdate,
                    "person",
                    Some(id.to_string()),
                    &fields.join(" "),
                ),
            )?;
            Ok(())
        })?;
        self.get_person(id)?.ok_or(StoreError::NotFound)
    }

    pub(crate) fn remove_person(&self, id: PersonId, expected: i64, ctx: &AuditContext) -> StoreResult<()> {
        self.write(|tx| {
            let (version, core, _) = self.current(tx, id)?;
            if version != expected {
                return Err(StoreError::Conflict { current: version });
            }
            let now = fmt_ts(ctx.at);
            tx.execute(
                "UPDATE people SET deleted_at = ?2, updated_at = ?2, version = ?3 WHERE id = ?1",
                params![id.to_string(), now, version + 1],
            )
            .map_err(db)?;
            let links = tx
                .execute(
                    "DELETE FROM family_links WHERE person_id = ?1 OR relative_id = ?1",
                    [id.to_string()],
                )
                .map_err(db)?;
            tx.execute("DELETE FROM name_tokens WHERE person_id = ?1", [id.to_string()])
                .map_err(db)?;
            tx.execute(
                "INSERT INTO person_versions (person_id, version, at, actor_id, actor_name, action, core, protected_changed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                params![
                    id.to_string(),
                    version + 1,
                    now,
                    ctx.actor_id.map(|a| a.to_string()),
                    ctx.actor_name,
                    AuditAction::PersonDelete.code(),
                    serde_json::to_string(&core).map_err(json)?,
                ],
            )
            .map_err(db)?;
            let mut deleted = lantern_ledger::entry::Commitments::new();
            deleted.add("deleted", &true, crate::ledger::salt()?);
            crate::ledger::append(
                tx,
                crate::ledger::EntryHead {
                    kind: "record.deleted",
                    record_kind: "person",
                    record_id: &id.to_string(),
                    version: Some(version + 1),
                    at: ctx.at,
                },
                deleted,
            )?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::PersonDelete,
                    "person",
                    Some(id.to_string()),
                    &format!("links removed: {}", links / 2),
                ),
            )
        })
    }

    pub(crate) fn get_person(&self, id: PersonId) -> StoreResult<Option<Person>> {
        self.read(|tx| {
            let row = tx
                .query_row(
                    "SELECT version, core, protected IS NOT NULL, created_at, updated_at,
                        EXISTS(SELECT 1 FROM person_photos f WHERE f.person_id = people.id)
                     FROM people WHERE id = ?1 AND deleted_at IS NULL",
                    [id.to_string()],
                    |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, bool>(2)?,
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, bool>(5)?,
                        ))
                    },
                )
                .optional()
                .map_err(db)?;
            let Some((version, core, has_protected, created, updated, has_photo)) = row else {
                return Ok(None);
            };
            let mut stmt = tx
                .prepare_cached(
                    "SELECT l.kind, l.relative_id, r.display_name FROM family_links l
                     JOIN people r ON r.id = l.relative_id WHERE l.person_id = ?1 ORDER BY l.kind, r.sort_key",
                )
                .map_err(db)?;
            let links = stmt
                .query_map([id.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
                })
                .map_err(db)?
                .map(|r| {
                    let (kind, rel, name) = r.map_err(db)?;
                    Ok(LinkView {
                        kind: LinkKind::parse("kind", &kind).map_err(StoreError::backend)?,
                        relative: PersonId(parse_id(&rel)?),
                        relative_name: name,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Some(Person {
                id,
                version,
                core: serde_json::from_str(&core).map_err(json)?,
                has_protected,
                has_photo,
                links,
                created_at: parse_ts(&created)?,
                updated_at: parse_ts(&updated)?,
            }))
        })
    }

    pub(crate) fn protected_of(&self, id: PersonId, ctx: &AuditContext) -> StoreResult<ProtectedFields> {
        self.write(|tx| {
            let (_, _, sealed) = self.current(tx, id)?;
            let fields = self.open_protected(id, sealed.as_deref())?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::PersonReadProtected, "person", Some(id.to_string()), ""),
            )?;
            Ok(fields)
        })
    }

    pub(crate) fn store_photo(&self, id: PersonId, photo: &Photo, ctx: &AuditContext) -> StoreResult<()> {
        let sealed = self
            .keys()
            .seal(PHOTO_PURPOSE, &place(id), &photo.bytes)
            .map_err(StoreError::backend)?;
        self.write(|tx| {
            self.current(tx, id)?;
            tx.execute(
                "INSERT INTO person_photos (person_id, content_type, sealed, uploaded_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (person_id) DO UPDATE SET content_type = ?2, sealed = ?3, uploaded_at = ?4",
                params![id.to_string(), photo.content_type, sealed, fmt_ts(ctx.at)],
            )
            .map_err(db)?;
            let detail = format!("{} {} bytes", photo.content_type, photo.bytes.len());
            insert_audit(
                tx,
                &ctx.event(AuditAction::PersonPhoto, "person", Some(id.to_string()), &detail),
            )
        })
    }

    pub(crate) fn load_photo(&self, id: PersonId) -> StoreResult<Option<Photo>> {
        let row = self.read(|tx| {
            tx.query_row(
                "SELECT f.content_type, f.sealed FROM person_photos f JOIN people p ON p.id = f.person_id
                 WHERE f.person_id = ?1 AND p.deleted_at IS NULL",
                [id.to_string()],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, Vec<u8>>(1)?)),
            )
            .optional()
            .map_err(db)
        })?;
        let Some((content_type, sealed)) = row else {
            return Ok(None);
        };
        let bytes = self
            .keys()
            .open(PHOTO_PURPOSE, &place(id), &sealed)
            .map_err(StoreError::backend)?;
        let photo = Photo::parse("photo", bytes.to_vec()).map_err(StoreError::backend)?;
        if photo.content_type != content_type {
            return Err(StoreError::backend(std::io::Error::other(
                "stored photo type does not match its content",
            )));
        }
        Ok(Some(photo))
    }

    pub(crate) fn all_names(&self) -> StoreResult<Vec<(PersonId, Vec<String>)>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare("SELECT id, core FROM people WHERE deleted_at IS NULL")
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db)?;
            rows.map(|r| {
                let (id, core) = r.map_err(db)?;
                let core: PersonCore = serde_json::from_str(&core).map_err(json)?;
                let primary = core.primary_name().clone();
                let mut names = vec![primary.text.as_str().to_string()];
                names.extend(
                    core.names
                        .iter()
                        .filter(|n| **n != primary)
                        .map(|n| n.text.as_str().to_string()),
                );
                Ok((PersonId(parse_id(&id)?), names))
            })
            .collect()
        })
    }

    pub(crate) fn summaries(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonSummary>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT p.core, s.name FROM people p LEFT JOIN sites s ON s.id = p.site_id
                     WHERE p.id = ?1 AND p.deleted_at IS NULL",
                )
                .map_err(db)?;
            let mut out = Vec::with_capacity(ids.len());
            for id in ids {
                let row = stmt
                    .query_row([id.to_string()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                    })
                    .optional()
                    .map_err(db)?;
                if let Some((core, site)) = row {
                    out.push(summary(*id, &core, site)?);
                }
            }
            Ok(out)
        })
    }

    pub(crate) fn search(&self, q: &PersonQuery) -> StoreResult<Page<PersonSummary>> {
        let tokens: Vec<String> = q
            .name
            .as_deref()
            .map(|n| {
                search_key(n)
                    .split(' ')
                    .filter(|t| !t.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let mut filters = vec!["p.deleted_at IS NULL".to_string()];
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(status) = q.status {
            args.push(status.code().to_string().into());
            filters.push(format!("p.status = ?{}", args.len()));
        }
        if let Some(site) = q.site {
            args.push(site.to_string().into());
            filters.push(format!("p.site_id = ?{}", args.len()));
        }
        if let Some(year) = q.birth_year {
            args.push(i64::from(year).into());
            let n = args.len();
            filters.push(format!("p.birth_from <= ?{n} AND p.birth_to >= ?{n}"));
        }
        let page = q.page;
        self.read(|tx| {
            // Each word must start a word of one of the person's names. Few
            // matches: collect them through the token index and sort them.
            // Many matches (a common name): walk the people in name order and
            // test each, stopping after one page.
            // The longest word is the likeliest to be rare; the token index
            // counts its people cheaply (deleted people have no tokens).
            let estimate = match tokens.iter().max_by_key(|t| t.len()) {
                None => None,
                Some(rarest) => Some(
                    tx.query_row(
                        "SELECT COUNT(*) FROM (SELECT DISTINCT person_id FROM name_tokens
                         WHERE token >= ?1 AND token < ?1 || char(1114111) LIMIT ?2)",
                        params![rarest, SORT_LIMIT as i64 + 1],
                        |r| r.get::<_, i64>(0),
                    )
                    .map_err(db)? as u64,
                ),
            };
            let few = estimate.is_some_and(|n| n <= SORT_LIMIT);
            let mut args = args.clone();
            // Two forms of the same condition per word: through the token
            // index (IN: cheap to count, and to sort when few match) and per
            // person (EXISTS: lets a page be read in name order and stop).
            let (mut through_index, mut per_person) = (filters.clone(), filters.clone());
            for token in &tokens {
                args.push(token.clone().into());
                let n = args.len();
                let range = format!("token >= ?{n} AND token < ?{n} || char(1114111)");
                through_index.push(format!("p.id IN (SELECT person_id FROM name_tokens WHERE {range})"));
                per_person.push(format!(
                    "EXISTS (SELECT 1 FROM name_tokens t WHERE t.person_id = p.id AND t.{range})"
                ));
            }
            let cap = if tokens.is_empty() {
                BROWSE_COUNT_CAP
            } else {
                SEARCH_COUNT_CAP
            };
            let counted = match estimate {
                // One word and no other filter: the estimate is the count.
                Some(n) if tokens.len() == 1 && filters.len() == 1 => n,
                _ => tx
                    .query_row(
                        &format!(
                            "SELECT COUNT(*) FROM (SELECT 1 FROM people p WHERE {} LIMIT {})",
                            through_index.join(" AND "),
                            cap + 1
                        ),
                        rusqlite::params_from_iter(args.iter()),
                        |r| r.get::<_, i64>(0),
                    )
                    .map_err(db)? as u64,
            };
            let where_sql = if few {
                through_index.join(" AND ")
            } else {
                per_person.join(" AND ")
            };
            let sql = format!(
                "SELECT p.id, p.core, s.name FROM people p LEFT JOIN sites s ON s.id = p.site_id
                 WHERE {where_sql} ORDER BY p.sort_key, p.id LIMIT {} OFFSET {}",
                page.size,
                page.offset()
            );
            let mut stmt = tx.prepare_cached(&sql).map_err(db)?;
            let rows = stmt
                .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .map_err(db)?;
            let mut items = Vec::new();
            for row in rows {
                let (id, core, site) = row.map_err(db)?;
                items.push(summary(PersonId(parse_id(&id)?), &core, site)?);
            }
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total: counted.min(cap),
                total_is_lower_bound: counted > cap,
            })
        })
    }

    pub(crate) fn history(&self, id: PersonId) -> StoreResult<Vec<PersonVersion>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare(
                    "SELECT version, at, actor_name, action, core, protected_changed FROM person_versions
                     WHERE person_id = ?1 ORDER BY version",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([id.to_string()], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, bool>(5)?,
                    ))
                })
                .map_err(db)?;
            let versions = rows
                .map(|r| {
                    let (version, at, actor_name, action, core, protected_changed) = r.map_err(db)?;
                    Ok(PersonVersion {
                        version,
                        at: parse_ts(&at)?,
                        actor_name,
                        action,
                        core: serde_json::from_str(&core).map_err(json)?,
                        protected_changed,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            if versions.is_empty() {
                return Err(StoreError::NotFound);
            }
            Ok(versions)
        })
    }

    pub(crate) fn link(&self, link: FamilyLink, ctx: &AuditContext) -> StoreResult<()> {
        self.write(|tx| {
            let alive = "SELECT EXISTS(SELECT 1 FROM people WHERE id = ?1 AND deleted_at IS NULL)";
            if !exists(tx, alive, &link.person.to_string())? {
                return Err(StoreError::NotFound);
            }
            if !exists(tx, alive, &link.relative.to_string())? {
                return Err(FieldError::new("relative_id", Reason::NotFound).into());
            }
            let existing = links_between(tx, link)?;
            let mut failure = None;
            let mut parents_of = |p: PersonId| -> Vec<PersonId> {
                match parents(tx, p) {
                    Ok(v) => v,
                    Err(e) => {
                        failure = Some(e);
                        Vec::new()
                    }
                }
            };
            let checked = check_new_link(link, &existing, &mut parents_of);
            if let Some(e) = failure {
                return Err(e);
            }
            checked?;
            for l in [link, link.inverse()] {
                tx.execute(
                    "INSERT INTO family_links (person_id, relative_id, kind) VALUES (?1, ?2, ?3)",
                    params![l.person.to_string(), l.relative.to_string(), l.kind.code()],
                )
                .map_err(db)?;
            }
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::LinkAdd,
                    "person",
                    Some(link.person.to_string()),
                    &format!("{} {}", link.kind.code(), link.relative),
                ),
            )
        })
    }

    pub(crate) fn unlink(&self, link: FamilyLink, ctx: &AuditContext) -> StoreResult<()> {
        self.write(|tx| {
            let mut removed = 0;
            for l in [link, link.inverse()] {
                removed += tx
                    .execute(
                        "DELETE FROM family_links WHERE person_id = ?1 AND relative_id = ?2 AND kind = ?3",
                        params![l.person.to_string(), l.relative.to_string(), l.kind.code()],
                    )
                    .map_err(db)?;
            }
            if removed == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::LinkRemove,
                    "person",
                    Some(link.person.to_string()),
                    &format!("{} {}", link.kind.code(), link.relative),
                ),
            )
        })
    }

    pub(crate) fn add_household(
        &self,
        label: &str,
        site: Option<SiteId>,
        ctx: &AuditContext,
    ) -> StoreResult<Household> {
        let label = required_text("label", label, 200)?;
        self.write(|tx| {
            if let Some(site) = site {
                if !exists(
                    tx,
                    "SELECT EXISTS(SELECT 1 FROM sites WHERE id = ?1)",
                    &site.to_string(),
                )? {
                    return Err(FieldError::new("site_id", Reason::NotFound).into());
                }
            }
            let id = HouseholdId::new();
            tx.execute(
                "INSERT INTO households (id, label, site_id, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![id.to_string(), label, site.map(|s| s.to_string()), fmt_ts(ctx.at)],
            )
            .map_err(db)?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::HouseholdCreate, "household", Some(id.to_string()), &label),
            )?;
            Ok(Household {
                id,
                label,
                site_id: site,
                member_count: 0,
            })
        })
    }

    pub(crate) fn household_page(&self, page: PageRequest) -> StoreResult<Page<Household>> {
        self.read(|tx| {
            let total: i64 = tx
                .query_row("SELECT COUNT(*) FROM households", [], |r| r.get(0))
                .map_err(db)?;
            let mut stmt = tx
                .prepare(&format!(
                    "SELECT h.id, h.label, h.site_id,
                        (SELECT COUNT(*) FROM people p WHERE p.household_id = h.id AND p.deleted_at IS NULL)
                     FROM households h ORDER BY h.label, h.id LIMIT {} OFFSET {}",
                    page.size,
                    page.offset()
                ))
                .map_err(db)?;
            let items = stmt
                .query_map([], household_row)
                .map_err(db)?
                .map(|r| to_household(r.map_err(db)?))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total: total as u64,
                total_is_lower_bound: false,
            })
        })
    }

    pub(crate) fn household_with_members(
        &self,
        id: HouseholdId,
    ) -> StoreResult<Option<(Household, Vec<PersonSummary>)>> {
        self.read(|tx| {
            let row = tx
                .query_row(
                    "SELECT h.id, h.label, h.site_id,
                        (SELECT COUNT(*) FROM people p WHERE p.household_id = h.id AND p.deleted_at IS NULL)
                     FROM households h WHERE h.id = ?1",
                    [id.to_string()],
                    household_row,
                )
                .optional()
                .map_err(db)?;
            let Some(row) = row else { return Ok(None) };
            let household = to_household(row)?;
            let mut stmt = tx
                .prepare(
                    "SELECT p.id, p.core, s.name FROM people p LEFT JOIN sites s ON s.id = p.site_id
                     WHERE p.household_id = ?1 AND p.deleted_at IS NULL ORDER BY p.birth_from, p.sort_key",
                )
                .map_err(db)?;
            let members = stmt
                .query_map([id.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                    ))
                })
                .map_err(db)?
                .map(|r| {
                    let (pid, core, site) = r.map_err(db)?;
                    summary(PersonId(parse_id(&pid)?), &core, site)
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Some((household, members)))
        })
    }
}

type HouseholdRow = (String, String, Option<String>, i64);

fn household_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HouseholdRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_household((id, label, site, members): HouseholdRow) -> StoreResult<Household> {
    Ok(Household {
        id: HouseholdId(parse_id(&id)?),
        label,
        site_id: site.map(|s| parse_id(&s).map(SiteId)).transpose()?,
        member_count: members,
    })
}

fn summary(id: PersonId, core_json: &str, site: Option<String>) -> StoreResult<PersonSummary> {
    let core: PersonCore = serde_json::from_str(core_json).map_err(json)?;
    let primary = core.primary_name().clone();
    let other_names = core
        .names
        .iter()
        .filter(|n| **n != primary)
        .map(|n| n.text.as_str().to_string())
        .collect();
    Ok(PersonSummary {
        id,
        primary_name: primary,
        other_names,
        sex: core.sex,
        birth_date: core.birth_date.map(|d| d.to_string()),
        status: core.status,
        site,
        block: core.block,
    })
}

/// Links already recorded between the two people of `link`, either way.
fn links_between(tx: &Transaction<'_>, link: FamilyLink) -> StoreResult<Vec<FamilyLink>> {
    let mut stmt = tx
        .prepare_cached(
            "SELECT person_id, relative_id, kind FROM family_links
             WHERE (person_id = ?1 AND relative_id = ?2) OR (person_id = ?2 AND relative_id = ?1)",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map(params![link.person.to_string(), link.relative.to_string()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?))
        })
        .map_err(db)?;
    rows.map(|r| {
        let (p, rel, kind) = r.map_err(db)?;
        Ok(FamilyLink {
            person: PersonId(parse_id(&p)?),
            relative: PersonId(parse_id(&rel)?),
            kind: LinkKind::parse("kind", &kind).map_err(StoreError::backend)?,
        })
    })
    .collect()
}

fn parents(tx: &Transaction<'_>, person: PersonId) -> StoreResult<Vec<PersonId>> {
    let mut stmt = tx
        .prepare_cached("SELECT relative_id FROM family_links WHERE person_id = ?1 AND kind = 'parent'")
        .map_err(db)?;
    let rows = stmt
        .query_map([person.to_string()], |r| r.get::<_, String>(0))
        .map_err(db)?;
    rows.map(|r| Ok(PersonId(parse_id(&r.map_err(db)?)?))).collect()
}
