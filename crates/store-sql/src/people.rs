//! People, households, family links, search and history.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

use lantern_domain::audit::AuditAction;
use lantern_domain::family::{check_new_link, FamilyLink, LinkKind};
use lantern_domain::person::{
    HouseholdId, PersonCore, PersonDraft, PersonId, Photo, ProtectedFields, ResidenceStatus, SiteId,
};
use lantern_domain::text::{required_text, search_key};
use lantern_domain::{FieldError, Reason};
use lantern_store::{
    AuditContext, Household, LinkView, Page, PageRequest, Person, PersonQuery, PersonSummary, PersonVersion,
    StoreError, StoreResult,
};

use crate::sql::{Backend, Conn, ConnExt, Row, Value};
use crate::util::{fmt_ts, json, parse_id, parse_ts};
use crate::{insert_audit, params, SqlStore};

/// Name searches count matches up to this many.
const SEARCH_COUNT_CAP: u64 = 1_000;
/// Up to this many people with the rarest word, a search with other filters
/// collects and sorts them, and so does a search by one word whose prefix
/// covers many different words; with more, it walks the people in name
/// order (measured on 100,000 people: sorting 6,000 matches takes about
/// 20 ms, walking is faster only when matches are dense).
const SORT_LIMIT: u64 = 8_000;
/// Lists by birth year without a name count up to this many (the others
/// without a name read the kept counts).
const BROWSE_COUNT_CAP: u64 = 10_000;

/// Purpose under which protected person fields are sealed.
pub(crate) const PROTECTED_PURPOSE: &str = "person-protected";
/// Purpose under which photos are sealed.
pub(crate) const PHOTO_PURPOSE: &str = "person-photo";

pub(crate) fn place(id: PersonId) -> String {
    format!("person/{id}")
}

fn exists(tx: &dyn Conn, sql: &str, id: &str) -> StoreResult<bool> {
    tx.query_value(sql, params![id])
}

/// Checks that the site and household a record points to exist.
fn check_refs(tx: &dyn Conn, core: &PersonCore) -> StoreResult<()> {
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
    for (name, v) in person_values(core)? {
        let salt = salts(&name)?;
        c.add(&name, &v, salt);
    }
    c.add("protected", protected, salts("protected")?);
    Ok(c)
}

/// The unprotected fields a person's log entry commits to, each with its
/// value: the fields of the record's JSON form.
pub(crate) fn person_values(core: &PersonCore) -> StoreResult<Vec<(String, serde_json::Value)>> {
    match serde_json::to_value(core).map_err(json)? {
        serde_json::Value::Object(fields) => Ok(fields.into_iter().collect()),
        _ => Err(StoreError::backend(std::io::Error::other(
            "a person is not a JSON object",
        ))),
    }
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
        household_id,
        not_to_be_traced
    );
    out
}

impl<B: Backend> SqlStore<B> {
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
        tx: &dyn Conn,
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
        let id_text = id.to_string();
        tx.execute(
            "INSERT INTO people (id, version, core, protected, display_name, sort_key, status, site_id, household_id,
                                 birth_from, birth_to, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
             ON CONFLICT (id) DO UPDATE SET version = ?2, core = ?3, protected = ?4, display_name = ?5,
                 sort_key = ?6, status = ?7, site_id = ?8, household_id = ?9, birth_from = ?10, birth_to = ?11,
                 updated_at = ?12",
            params![
                id_text.as_str(),
                version,
                core_json.as_str(),
                sealed,
                primary.text.as_str(),
                primary.text.key(),
                core.status.code(),
                core.site_id.map(|s| s.to_string()),
                core.household_id.map(|h| h.to_string()),
                from,
                to,
                now.as_str(),
            ],
        )?;
        tx.execute(
            "DELETE FROM name_tokens WHERE person_id = ?1",
            params![id_text.as_str()],
        )?;
        tx.execute("DELETE FROM name_pairs WHERE person_id = ?1", params![id_text.as_str()])?;
        let keys: Vec<String> = core.names.iter().map(|n| n.text.key()).collect();
        let mut tokens: Vec<&str> = keys
            .iter()
            .flat_map(|k| k.split(' '))
            .filter(|t| !t.is_empty())
            .collect();
        tokens.sort_unstable();
        tokens.dedup();
        let sort_key = primary.text.key();
        let rows: Vec<Vec<Value>> = tokens
            .iter()
            .map(|t| vec![(*t).into(), id_text.as_str().into(), sort_key.as_str().into()])
            .collect();
        tx.insert_rows("name_tokens", "token, person_id, sort_key", &rows)?;
        // Sorted: each pair in byte order, as the search looks it up.
        let pairs: Vec<Vec<Value>> = tokens
            .iter()
            .enumerate()
            .flat_map(|(i, a)| tokens[i + 1..].iter().map(move |b| (*a, *b)))
            .map(|(a, b)| vec![a.into(), b.into(), id_text.as_str().into(), sort_key.as_str().into()])
            .collect();
        tx.insert_rows("name_pairs", "first, second, person_id, sort_key", &pairs)?;
        tx.execute(
            "INSERT INTO person_versions (person_id, version, at, actor_id, actor_name, action, core, protected_changed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id_text.as_str(),
                version,
                now.as_str(),
                ctx.actor_id.map(|a| a.to_string()),
                &ctx.actor_name,
                action.code(),
                core_json.as_str(),
                protected_changed,
            ],
        )?;
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

    fn insert_new_person(&self, tx: &dyn Conn, draft: &PersonDraft, ctx: &AuditContext) -> StoreResult<PersonId> {
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

    fn current(&self, tx: &dyn Conn, id: PersonId) -> StoreResult<(i64, PersonCore, Option<Vec<u8>>)> {
        let row = tx
            .query_opt(
                "SELECT version, core, protected FROM people WHERE id = ?1 AND deleted_at IS NULL",
                params![id.to_string()],
            )?
            .ok_or(StoreError::NotFound)?;
        let core: String = row.get(1)?;
        Ok((row.get(0)?, serde_json::from_str(&core).map_err(json)?, row.get(2)?))
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
            if draft.core.not_to_be_traced && !old_core.not_to_be_traced {
                crate::tracing::withdraw_proposals(tx, id, ctx)?;
            }
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
                params![id.to_string(), now.as_str(), version + 1],
            )?;
            let links = tx.execute(
                "DELETE FROM family_links WHERE person_id = ?1 OR relative_id = ?1",
                params![id.to_string()],
            )?;
            tx.execute("DELETE FROM name_tokens WHERE person_id = ?1", params![id.to_string()])?;
            tx.execute("DELETE FROM name_pairs WHERE person_id = ?1", params![id.to_string()])?;
            tx.execute(
                "INSERT INTO person_versions (person_id, version, at, actor_id, actor_name, action, core, protected_changed)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0)",
                params![
                    id.to_string(),
                    version + 1,
                    now.as_str(),
                    ctx.actor_id.map(|a| a.to_string()),
                    &ctx.actor_name,
                    AuditAction::PersonDelete.code(),
                    serde_json::to_string(&core).map_err(json)?,
                ],
            )?;
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
            let row = tx.query_opt(
                "SELECT version, core, CASE WHEN protected IS NULL THEN 0 ELSE 1 END, created_at, updated_at,
                    CASE WHEN EXISTS(SELECT 1 FROM person_photos f WHERE f.person_id = people.id) THEN 1 ELSE 0 END
                 FROM people WHERE id = ?1 AND deleted_at IS NULL",
                params![id.to_string()],
            )?;
            let Some(row) = row else {
                return Ok(None);
            };
            let links = tx
                .query(
                    "SELECT l.kind, l.relative_id, r.display_name FROM family_links l
                     JOIN people r ON r.id = l.relative_id WHERE l.person_id = ?1 ORDER BY l.kind, r.sort_key",
                    params![id.to_string()],
                )?
                .into_iter()
                .map(|r| {
                    Ok(LinkView {
                        kind: LinkKind::parse("kind", &r.get::<String>(0)?).map_err(StoreError::backend)?,
                        relative: PersonId(parse_id(&r.get::<String>(1)?)?),
                        relative_name: r.get(2)?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Some(Person {
                id,
                version: row.get(0)?,
                core: serde_json::from_str(&row.get::<String>(1)?).map_err(json)?,
                has_protected: row.get(2)?,
                has_photo: row.get(5)?,
                links,
                created_at: parse_ts(&row.get::<String>(3)?)?,
                updated_at: parse_ts(&row.get::<String>(4)?)?,
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
            )?;
            let detail = format!("{} {} bytes", photo.content_type, photo.bytes.len());
            insert_audit(
                tx,
                &ctx.event(AuditAction::PersonPhoto, "person", Some(id.to_string()), &detail),
            )
        })
    }

    pub(crate) fn load_photo(&self, id: PersonId) -> StoreResult<Option<Photo>> {
        let row = self.read(|tx| {
            tx.query_opt(
                "SELECT f.content_type, f.sealed FROM person_photos f JOIN people p ON p.id = f.person_id
                 WHERE f.person_id = ?1 AND p.deleted_at IS NULL",
                params![id.to_string()],
            )
        })?;
        let Some(row) = row else {
            return Ok(None);
        };
        self.open_photo(PHOTO_PURPOSE, &place(id), &row).map(Some)
    }

    /// A sealed photo read back from a row of `content_type, sealed`: opened
    /// under `purpose` at `place`, checked again, and its stored type
    /// compared with what its bytes say.
    pub(crate) fn open_photo(&self, purpose: &str, place: &str, row: &Row) -> StoreResult<Photo> {
        let (content_type, sealed): (String, Vec<u8>) = (row.get(0)?, row.get(1)?);
        let bytes = self.keys().open(purpose, place, &sealed).map_err(StoreError::backend)?;
        let photo = Photo::parse("photo", bytes.to_vec()).map_err(StoreError::backend)?;
        if photo.content_type != content_type {
            return Err(StoreError::backend(std::io::Error::other(
                "stored photo type does not match its content",
            )));
        }
        Ok(photo)
    }

    /// Every person not deleted, in the order of their ids, `page` rows at
    /// a time (see `Store::match_people`).
    pub(crate) fn each_core(&self, page: usize, each: &mut dyn FnMut(PersonId, PersonCore)) -> StoreResult<()> {
        self.read(|tx| {
            let mut after = String::new();
            loop {
                let rows = tx.query(
                    "SELECT id, core FROM people WHERE deleted_at IS NULL AND id > ?1 ORDER BY id LIMIT ?2",
                    params![after.as_str(), page as i64],
                )?;
                let full = rows.len() == page;
                for r in rows {
                    let id: String = r.get(0)?;
                    let core: PersonCore = serde_json::from_str(&r.get::<String>(1)?).map_err(json)?;
                    each(PersonId(parse_id(&id)?), core);
                    after = id;
                }
                if !full {
                    return Ok(());
                }
            }
        })
    }

    pub(crate) fn summaries(&self, ids: &[PersonId]) -> StoreResult<Vec<PersonSummary>> {
        self.read(|tx| summaries_in(tx, ids))
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
        let mut args: Vec<Value> = Vec::new();
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
            // Each word must start a word of one of the person's names. By
            // name alone, the token table gives the people in list order
            // (names_only_page). With other filters: few matches are collected
            // through the token index and sorted; many (a common name) are
            // found by walking the people in name order, testing each and
            // stopping after one page.
            // Walking the list in order is left to a word so short that its
            // prefix covers many different words.
            if filters.len() == 1 && !tokens.is_empty() {
                if let Some(found) = names_only_page(tx, &tokens, page)? {
                    return Ok(found);
                }
            }
            // The longest word is the likeliest to be rare. By one word
            // alone, names_only_page gave up because more than SORT_LIMIT
            // people have it: that is all the count needs to say.
            let estimate = match tokens.iter().max_by_key(|t| t.len()) {
                Some(_) if filters.len() == 1 => Some(SORT_LIMIT + 1),
                Some(rarest) => Some(people_with(tx, rarest, SORT_LIMIT)?),
                None => None,
            };
            let few = estimate.is_some_and(|n| n <= SORT_LIMIT);
            let mut args = args.clone();
            // Two forms of the same condition per word: through the token
            // index (IN: cheap to count, and to sort when few match) and per
            // person (EXISTS: lets a page be read in name order and stop).
            let (mut through_index, mut per_person) = (filters.clone(), filters.clone());
            for token in &tokens {
                args.push(token.as_str().into());
                args.push(prefix_end(token).into());
                let n = args.len();
                let range = format!("token >= ?{} AND token < ?{n}", n - 1);
                through_index.push(format!("p.id IN (SELECT person_id FROM name_tokens WHERE {range})"));
                per_person.push(format!(
                    "EXISTS (SELECT 1 FROM name_tokens t WHERE t.person_id = p.id AND t.{range})"
                ));
            }
            let kept_count = estimate.is_none() && q.birth_year.is_none();
            let cap = if tokens.is_empty() {
                BROWSE_COUNT_CAP
            } else {
                SEARCH_COUNT_CAP
            };
            let counted = match estimate {
                // One word and no other filter: the estimate is the count.
                Some(n) if tokens.len() == 1 && filters.len() == 1 => n,
                // No name and no birth year: the kept counts, exact.
                None if kept_count => counted_people(tx, q.status, q.site)?,
                _ => tx.query_value::<u64>(
                    &format!(
                        "SELECT COUNT(*) FROM (SELECT 1 FROM people p WHERE {} LIMIT {}) AS matched",
                        through_index.join(" AND "),
                        cap + 1
                    ),
                    &args,
                )?,
            };
            let where_sql = if few {
                through_index.join(" AND ")
            } else {
                per_person.join(" AND ")
            };
            // The page's ids first, then their rows: the rows skipped to
            // reach the page are then read from the ordered index alone
            // (a join or a column of the row for each of them, to throw it
            // away, made a late page cost many times an early one).
            let sql = format!(
                "SELECT p.id FROM people p WHERE {where_sql} ORDER BY p.sort_key, p.id LIMIT {} OFFSET {}",
                page.size,
                page.offset()
            );
            let ids = tx
                .query(&sql, &args)?
                .into_iter()
                .map(|r| Ok(PersonId(parse_id(&r.get::<String>(0)?)?)))
                .collect::<StoreResult<Vec<_>>>()?;
            let items = summaries_in(tx, &ids)?;
            Ok(Page {
                items,
                page: page.page,
                size: page.size,
                total: if kept_count { counted } else { counted.min(cap) },
                total_is_lower_bound: !kept_count && counted > cap,
            })
        })
    }

    pub(crate) fn history(&self, id: PersonId) -> StoreResult<Vec<PersonVersion>> {
        self.read(|tx| {
            let rows = tx.query(
                "SELECT version, at, actor_name, action, core, protected_changed FROM person_versions
                 WHERE person_id = ?1 ORDER BY version",
                params![id.to_string()],
            )?;
            let versions = rows
                .into_iter()
                .map(|r| {
                    Ok(PersonVersion {
                        version: r.get(0)?,
                        at: parse_ts(&r.get::<String>(1)?)?,
                        actor_name: r.get(2)?,
                        action: r.get(3)?,
                        core: serde_json::from_str(&r.get::<String>(4)?).map_err(json)?,
                        protected_changed: r.get(5)?,
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
                )?;
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
                removed += tx.execute(
                    "DELETE FROM family_links WHERE person_id = ?1 AND relative_id = ?2 AND kind = ?3",
                    params![l.person.to_string(), l.relative.to_string(), l.kind.code()],
                )?;
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
                params![
                    id.to_string(),
                    label.as_str(),
                    site.map(|s| s.to_string()),
                    fmt_ts(ctx.at)
                ],
            )?;
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
            let total: i64 = tx.query_value("SELECT COUNT(*) FROM households", &[])?;
            let items = tx
                .query(
                    &format!(
                        "SELECT h.id, h.label, h.site_id,
                            (SELECT COUNT(*) FROM people p WHERE p.household_id = h.id AND p.deleted_at IS NULL)
                         FROM households h ORDER BY h.label, h.id LIMIT {} OFFSET {}",
                        page.size,
                        page.offset()
                    ),
                    &[],
                )?
                .into_iter()
                .map(to_household)
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
            let row = tx.query_opt(
                "SELECT h.id, h.label, h.site_id,
                    (SELECT COUNT(*) FROM people p WHERE p.household_id = h.id AND p.deleted_at IS NULL)
                 FROM households h WHERE h.id = ?1",
                params![id.to_string()],
            )?;
            let Some(row) = row else { return Ok(None) };
            let household = to_household(row)?;
            let members = tx
                .query(
                    "SELECT p.id, p.core, s.name FROM people p LEFT JOIN sites s ON s.id = p.site_id
                     WHERE p.household_id = ?1 AND p.deleted_at IS NULL ORDER BY p.birth_from, p.sort_key, p.id",
                    params![id.to_string()],
                )?
                .into_iter()
                .map(|r| summary_row(&r))
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(Some((household, members)))
        })
    }
}

fn to_household(r: Row) -> StoreResult<Household> {
    Ok(Household {
        id: HouseholdId(parse_id(&r.get::<String>(0)?)?),
        label: r.get(1)?,
        site_id: r
            .get::<Option<String>>(2)?
            .map(|s| parse_id(&s).map(SiteId))
            .transpose()?,
        member_count: r.get(3)?,
    })
}

/// The least string greater than every string that starts with `prefix`
/// (in code-point order, which both backends' "C" collation use): a prefix
/// search is then a range scan on the index.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// A summary from a row of (id, core, site name).
fn summary_row(r: &Row) -> StoreResult<PersonSummary> {
    summary(
        PersonId(parse_id(&r.get::<String>(0)?)?),
        &r.get::<String>(1)?,
        r.get(2)?,
    )
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
fn links_between(tx: &dyn Conn, link: FamilyLink) -> StoreResult<Vec<FamilyLink>> {
    let rows = tx.query(
        "SELECT person_id, relative_id, kind FROM family_links
         WHERE (person_id = ?1 AND relative_id = ?2) OR (person_id = ?2 AND relative_id = ?1)",
        params![link.person.to_string(), link.relative.to_string()],
    )?;
    rows.into_iter()
        .map(|r| {
            Ok(FamilyLink {
                person: PersonId(parse_id(&r.get::<String>(0)?)?),
                relative: PersonId(parse_id(&r.get::<String>(1)?)?),
                kind: LinkKind::parse("kind", &r.get::<String>(2)?).map_err(StoreError::backend)?,
            })
        })
        .collect()
}

fn parents(tx: &dyn Conn, person: PersonId) -> StoreResult<Vec<PersonId>> {
    let rows = tx.query(
        "SELECT relative_id FROM family_links WHERE person_id = ?1 AND kind = 'parent'",
        params![person.to_string()],
    )?;
    rows.into_iter()
        .map(|r| Ok(PersonId(parse_id(&r.get::<String>(0)?)?)))
        .collect()
}

/// Summaries of these people, in the given order (missing or deleted ones
/// left out): one lookup by key each.
fn summaries_in(tx: &dyn Conn, ids: &[PersonId]) -> StoreResult<Vec<PersonSummary>> {
    let mut found = std::collections::HashMap::with_capacity(ids.len());
    for batch in ids.chunks(LIST_SIZES[LIST_SIZES.len() - 1]) {
        let texts: Vec<String> = batch.iter().map(|id| id.to_string()).collect();
        let (marks, args) = in_list(1, &texts);
        let sql = format!(
            "SELECT p.id, p.core, s.name FROM people p LEFT JOIN sites s ON s.id = p.site_id
             WHERE p.id IN ({marks}) AND p.deleted_at IS NULL"
        );
        for r in tx.query(&sql, &args)? {
            let summary = summary_row(&r)?;
            found.insert(summary.id, summary);
        }
    }
    // In the order asked (a page's order), deleted people left out.
    Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
}

/// Lengths of the `IN` lists the searches bind: each length is a statement
/// of its own in the connection's cache, and one per number of values
/// would crowd the others out.
const LIST_SIZES: [usize; 3] = [16, 64, 500];

/// Placeholders `?first`, `?first+1`, … for `values` (at most the largest
/// of [`LIST_SIZES`]), padded to the next of those lengths by repeating the
/// last value, with the values to bind.
fn in_list(first: usize, values: &[String]) -> (String, Vec<Value>) {
    let size = padded(&LIST_SIZES, values.len());
    let marks: Vec<String> = (0..size).map(|i| format!("?{}", first + i)).collect();
    let args = (0..size)
        .map(|i| Value::from(values[i.min(values.len().saturating_sub(1))].as_str()))
        .collect();
    (marks.join(", "), args)
}

/// The least of `sizes` (ascending) that holds `n`, or `n` past the
/// largest: the searches bind lists and unions of a few lengths only, so
/// that few statement texts exist.
fn padded(sizes: &[usize], n: usize) -> usize {
    sizes.iter().copied().find(|s| *s >= n).unwrap_or(n)
}

/// The live people, of one status and one site when given, from the counts
/// the database keeps (table `people_counts`).
fn counted_people(tx: &dyn Conn, status: Option<ResidenceStatus>, site: Option<SiteId>) -> StoreResult<u64> {
    let mut filters = vec!["1 = 1".to_string()];
    let mut args: Vec<Value> = Vec::new();
    if let Some(status) = status {
        args.push(status.code().into());
        filters.push(format!("status = ?{}", args.len()));
    }
    if let Some(site) = site {
        args.push(site.to_string().into());
        filters.push(format!("site_id = ?{}", args.len()));
    }
    tx.query_value::<u64>(
        &format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM people_counts WHERE {}",
            filters.join(" AND ")
        ),
        &args,
    )
}

/// The people with a word starting with `prefix`, counted up to `limit` + 1
/// (from the token index alone; deleted people have no tokens).
///
/// The first rows of the prefix's range are read and their people told
/// apart here: `SELECT DISTINCT … LIMIT` made PostgreSQL read and sort the
/// whole range before it counted the first row (a first name's 100,000
/// rows and more at 1,000,000 people). A person has one row per word, so
/// rows repeat a person only where the prefix covers two of their words:
/// twice the limit in rows nearly always holds enough people to decide.
/// When it does not, the people are counted in the statement after all.
fn people_with(tx: &dyn Conn, prefix: &str, limit: u64) -> StoreResult<u64> {
    let rows_cap = 2 * (limit + 1);
    let mut people = Ids::default();
    let mut rows = 0u64;
    tx.query_each(
        "SELECT person_id FROM name_tokens WHERE token >= ?1 AND token < ?2 LIMIT ?3",
        params![prefix, prefix_end(prefix), rows_cap as i64],
        &mut |r| {
            rows += 1;
            people.insert(id_number(r.text(0)?)?);
            Ok(())
        },
    )?;
    let found = people.len() as u64;
    if found > limit || rows < rows_cap {
        return Ok(found.min(limit + 1));
    }
    tx.query_value::<u64>(
        "SELECT COUNT(*) FROM (SELECT DISTINCT person_id FROM name_tokens
         WHERE token >= ?1 AND token < ?2 LIMIT ?3) AS matched",
        params![prefix, prefix_end(prefix), limit as i64 + 1],
    )
}

/// Rows of the token table whose word starts with `prefix`, counted up to
/// `limit` + 1 (index only).
fn rows_with(tx: &dyn Conn, prefix: &str, limit: u64) -> StoreResult<u64> {
    tx.query_value::<u64>(
        "SELECT COUNT(*) FROM (SELECT 1 FROM name_tokens WHERE token >= ?1 AND token < ?2 LIMIT ?3) AS matched",
        params![prefix, prefix_end(prefix), limit as i64 + 1],
    )
}

/// A person's id as a number: sets of thousands of people are kept as
/// numbers rather than strings.
fn id_number(text: &str) -> StoreResult<u128> {
    Ok(parse_id(text)?.as_u128())
}

/// A set of people by id number.
type Ids = HashSet<u128, BuildHasherDefault<IdHasher>>;

/// Hashes an id number by folding its halves with one multiplication
/// instead of SipHash: ids are made here (UUID version 7, RFC 9562: 62
/// random bits in the low half), not chosen by whoever searches, and a
/// search by two common words hashes thousands of them.
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u128(&mut self, i: u128) {
        // Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4) of the folded halves.
        self.0 = ((i as u64) ^ ((i >> 64) as u64)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The people with a word starting with `prefix` (those of `among` only,
/// when given), read from the word's range in the token table; `None` when
/// the range holds more than `limit` rows. With `keys`, each person found
/// is also pushed there once with their sort key.
fn word_people(
    tx: &dyn Conn,
    prefix: &str,
    among: Option<&Ids>,
    limit: Option<u64>,
    mut keys: Option<&mut Vec<(String, u128)>>,
) -> StoreResult<Option<Ids>> {
    let mut found = Ids::default();
    let mut rows = 0u64;
    let mut args: Vec<Value> = vec![prefix.into(), prefix_end(prefix).into()];
    // The sort keys only when asked: each column read is copied.
    let columns = if keys.is_some() {
        "person_id, sort_key"
    } else {
        "person_id"
    };
    let mut sql = format!("SELECT {columns} FROM name_tokens WHERE token >= ?1 AND token < ?2");
    if let Some(limit) = limit {
        args.push((limit as i64 + 1).into());
        sql.push_str(" LIMIT ?3");
    }
    tx.query_each(&sql, &args, &mut |r| {
        rows += 1;
        let id = id_number(r.text(0)?)?;
        if among.is_none_or(|a| a.contains(&id)) && found.insert(id) {
            if let Some(keys) = keys.as_deref_mut() {
                keys.push((r.get::<String>(1)?, id));
            }
        }
        Ok(())
    })?;
    Ok((limit.is_none_or(|l| rows <= l)).then_some(found))
}

/// Those of `people` with a word starting with `prefix`: a seek each in the
/// per-person token index, up to 500 to a statement. With `keys`, each is
/// also pushed there with their sort key.
fn people_among(
    tx: &dyn Conn,
    prefix: &str,
    people: &Ids,
    mut keys: Option<&mut Vec<(String, u128)>>,
) -> StoreResult<Ids> {
    let mut found = Ids::default();
    let texts: Vec<String> = people.iter().map(|id| uuid::Uuid::from_u128(*id).to_string()).collect();
    for batch in texts.chunks(LIST_SIZES[LIST_SIZES.len() - 1]) {
        let (marks, list) = in_list(3, batch);
        let mut args: Vec<Value> = vec![prefix.into(), prefix_end(prefix).into()];
        args.extend(list);
        let sql = format!(
            "SELECT DISTINCT person_id, sort_key FROM name_tokens
             WHERE token >= ?1 AND token < ?2 AND person_id IN ({marks})"
        );
        tx.query_each(&sql, &args, &mut |r| {
            let id = id_number(r.text(0)?)?;
            if found.insert(id) {
                if let Some(keys) = keys.as_deref_mut() {
                    keys.push((r.get::<String>(1)?, id));
                }
            }
            Ok(())
        })?;
    }
    Ok(found)
}

/// A page of a search by name alone, from the token table (each token
/// carries its person's sort key, so the people come in list order without
/// reading `people`; only the page's people are read). `tokens` are the
/// query's words.
///
/// - One word: per word its prefix covers, the run of people in list order
///   (index `name_tokens_sorted`), as far as the page reaches, merged. When
///   the prefix covers more than [`MAX_RUNS`] words: all its people, sorted,
///   if few have it; else `None` (the caller walks the list instead).
/// - Several words: the people holding a pair of words the two longest
///   start ([`pair_people`]), the other words looked up for them; counted,
///   sorted and paged here.
/// - Several words one of which is a prefix of more than [`MAX_RUNS`]
///   words, or one such word with few people: the people of the longest
///   word with few rows from one range scan, then of each next word from
///   its range or, when it is much commoner, looked up for the people
///   left; counted, sorted and paged here.
fn names_only_page(tx: &dyn Conn, tokens: &[String], page: PageRequest) -> StoreResult<Option<Page<PersonSummary>>> {
    let wanted = page.offset() as usize + page.size as usize;
    // The distinct words the prefix covers (see words_of).
    let words: Vec<String> = match tokens {
        [token] => words_of(tx, token)?,
        _ => Vec::new(),
    };
    let runs = tokens.len() == 1 && words.len() <= MAX_RUNS;
    // One word's people are counted only as far as the page shows the
    // count, unless the runs cannot be merged: then whether few enough
    // have it to sort them all.
    let mut rarest_count = match tokens {
        // One word covered: its rows are its people (one row per word and
        // person), counted without the temporary index DISTINCT builds.
        [token] if words.len() == 1 => rows_with(tx, token, SEARCH_COUNT_CAP)?,
        [token] => people_with(tx, token, SEARCH_COUNT_CAP)?,
        _ => 0,
    };
    if tokens.len() == 1 && !runs && rarest_count > SEARCH_COUNT_CAP {
        rarest_count = people_with(tx, &tokens[0], SORT_LIMIT)?;
        if rarest_count > SORT_LIMIT {
            return Ok(None);
        }
    }
    let (counted, ids): (u64, Vec<String>) = if runs {
        let mut run: Vec<(String, String)> = Vec::new();
        if !words.is_empty() {
            let (sql, args) = runs_statement(&words, wanted);
            tx.query_each(&sql, &args, &mut |r| {
                run.push((r.get(0)?, r.get(1)?));
                Ok(())
            })?;
        }
        // A person whose names hold two of the words is in two runs.
        run.sort_unstable();
        run.dedup();
        (
            rarest_count,
            run.into_iter()
                .skip(page.offset() as usize)
                .take(page.size as usize)
                .map(|(_, id)| id)
                .collect(),
        )
    } else if let Some(keyed) = pair_people(tx, tokens)? {
        paged(keyed, page)
    } else {
        // The people of the longest word that fits under PROBE_CAP rows
        // (the likeliest to be rare; if none fits, the longest, whole),
        // then those of them each next word has: read from the word's
        // range while that holds no more than PROBE_RATIO rows per person
        // left, else looked up for them (a seek each, in batches), as a
        // rare family name beside a first name shared by tens of thousands.
        // People are kept as numbers, not strings: a common word has
        // thousands of rows. Only the last word gives their sort keys.
        let mut order: Vec<&String> = tokens.iter().collect();
        order.sort_by_key(|t| std::cmp::Reverse(t.len()));
        let only = order.len() == 1;
        let mut keyed: Vec<(String, u128)> = Vec::new();
        let mut first = None;
        for (i, token) in order.iter().enumerate() {
            // A scan stopped at its limit leaves partial keys.
            keyed.clear();
            if let Some(people) = word_people(tx, token, None, Some(PROBE_CAP), only.then_some(&mut keyed))? {
                first = Some((i, people));
                break;
            }
        }
        let (start, mut people) = match first {
            Some(found) => found,
            None => {
                keyed.clear();
                let all = word_people(tx, order[0], None, None, only.then_some(&mut keyed))?;
                (0, all.unwrap_or_default())
            }
        };
        // With one word that word filled `keyed`; with more, only the last
        // one does (when no one is left before it, it stays empty).
        order.remove(start);
        let rest = order.len();
        for (n, token) in order.into_iter().enumerate() {
            if people.is_empty() {
                break;
            }
            let last = n + 1 == rest;
            let limit = people.len() as u64 * PROBE_RATIO;
            people = match word_people(tx, token, Some(&people), Some(limit), last.then_some(&mut keyed))? {
                Some(with) => with,
                None => {
                    // The scan stopped at its limit: its keys are partial.
                    keyed.clear();
                    people_among(tx, token, &people, last.then_some(&mut keyed))?
                }
            };
        }
        paged(keyed, page)
    };
    let ids = ids
        .iter()
        .map(|id| Ok(PersonId(parse_id(id)?)))
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(Some(Page {
        items: summaries_in(tx, &ids)?,
        page: page.page,
        size: page.size,
        total: counted.min(SEARCH_COUNT_CAP),
        total_is_lower_bound: counted > SEARCH_COUNT_CAP,
    }))
}

/// Fills `name_pairs` from `name_tokens` (as the migrations that made the
/// table did): every two distinct words of a person, in byte order.
pub(crate) const REBUILD_NAME_PAIRS: &str = "INSERT INTO name_pairs (first, second, person_id, sort_key)
     SELECT a.token, b.token, a.person_id, a.sort_key
     FROM name_tokens a JOIN name_tokens b ON b.person_id = a.person_id AND a.token < b.token";

/// The distinct registered words starting with `prefix`, in order; at most
/// [`MAX_RUNS`] + 1 of them. One statement: a recursive query seeks each
/// next word after the last in the token index (a common word has tens of
/// thousands of rows but few distinct longer forms), so a server reached
/// over the network answers in one round trip instead of one per word.
fn words_of(tx: &dyn Conn, prefix: &str) -> StoreResult<Vec<String>> {
    let sql = format!(
        "WITH RECURSIVE covered(word, n) AS (
             SELECT (SELECT token FROM name_tokens WHERE token >= ?1 AND token < ?2 ORDER BY token LIMIT 1), 1
             UNION ALL
             SELECT (SELECT token FROM name_tokens WHERE token > covered.word AND token < ?2 ORDER BY token LIMIT 1),
                    covered.n + 1
             FROM covered WHERE covered.word IS NOT NULL AND covered.n < {}
         )
         SELECT word FROM covered WHERE word IS NOT NULL ORDER BY n",
        MAX_RUNS + 1
    );
    tx.query(&sql, params![prefix, prefix_end(prefix)])?
        .into_iter()
        .map(|r| r.get::<String>(0))
        .collect()
}

/// One statement reading, for each of `words`, the first `wanted` people
/// with that word in list order (index `name_tokens_sorted`), with its
/// arguments: one round trip for all the runs. The words are padded to the
/// next of [`RUN_COUNTS`] by repeating the last (its rows come twice; the
/// caller removes duplicates anyway), so few statement texts exist.
fn runs_statement(words: &[String], wanted: usize) -> (String, Vec<Value>) {
    let arms = padded(&RUN_COUNTS, words.len());
    let limit = arms + 1;
    let sql = (1..=arms)
        .map(|i| {
            format!(
                "SELECT sort_key, person_id FROM (SELECT sort_key, person_id FROM name_tokens WHERE token = ?{i}
                 ORDER BY sort_key, person_id LIMIT ?{limit}) AS run{i}"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut args: Vec<Value> = (0..arms)
        .map(|i| Value::from(words[i.min(words.len() - 1)].as_str()))
        .collect();
    args.push((wanted as i64).into());
    (sql, args)
}

/// Numbers of words one statement of [`runs_statement`] reads.
const RUN_COUNTS: [usize; 4] = [1, 4, 12, MAX_RUNS];

/// The people matching a search by two words or more, each with their
/// sort key, from the pairs of words their names hold (table
/// `name_pairs`): for the two longest words of the query, every pair of
/// registered words they start (a registered word that both start counts
/// from the token table), then the query's other words looked up for the
/// people found. `None` when either word starts more than [`MAX_RUNS`]
/// registered words (a short prefix: the caller intersects the words'
/// people instead).
fn pair_people(tx: &dyn Conn, tokens: &[String]) -> StoreResult<Option<Vec<(String, u128)>>> {
    let mut order: Vec<&String> = tokens.iter().collect();
    order.sort_by_key(|t| std::cmp::Reverse(t.len()));
    let [a, b, rest @ ..] = order.as_slice() else {
        return Ok(None);
    };
    let (of_a, of_b) = (words_of(tx, a)?, words_of(tx, b)?);
    if of_a.len() > MAX_RUNS || of_b.len() > MAX_RUNS {
        return Ok(None);
    }
    let mut keys: std::collections::HashMap<u128, String, BuildHasherDefault<IdHasher>> = Default::default();
    let mut take = |r: &Row| {
        let id = id_number(r.text(0)?)?;
        let key = r.text(1)?;
        keys.entry(id).or_insert_with(|| key.to_string());
        Ok(())
    };
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for x in &of_a {
        for y in &of_b {
            if x == y {
                tx.query_each(
                    "SELECT person_id, sort_key FROM name_tokens WHERE token = ?1",
                    params![x.as_str()],
                    &mut take,
                )?;
            } else if x < y {
                pairs.push((x, y));
            } else {
                pairs.push((y, x));
            }
        }
    }
    // The pairs' lookups a statement at a time (one round trip each on a
    // database server), not one per pair.
    for chunk in pairs.chunks(PAIR_COUNTS[PAIR_COUNTS.len() - 1]) {
        let (sql, args) = pairs_statement(chunk);
        tx.query_each(&sql, &args, &mut take)?;
    }
    let mut people: Ids = keys.keys().copied().collect();
    for token in rest {
        if people.is_empty() {
            break;
        }
        let limit = people.len() as u64 * PROBE_RATIO;
        people = match word_people(tx, token, Some(&people), Some(limit), None)? {
            Some(with) => with,
            None => people_among(tx, token, &people, None)?,
        };
    }
    Ok(Some(
        keys.into_iter()
            .filter(|(id, _)| people.contains(id))
            .map(|(id, key)| (key, id))
            .collect(),
    ))
}

/// One statement looking up the people holding each of `pairs` (at most
/// the largest of [`PAIR_COUNTS`]) in `name_pairs`, with its arguments;
/// padded to the next of those counts by repeating the last pair (its
/// people come twice; the caller keeps each once).
fn pairs_statement(pairs: &[(&str, &str)]) -> (String, Vec<Value>) {
    let arms = padded(&PAIR_COUNTS, pairs.len());
    let sql = (0..arms)
        .map(|i| {
            format!(
                "SELECT person_id, sort_key FROM name_pairs WHERE first = ?{} AND second = ?{}",
                2 * i + 1,
                2 * i + 2
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let args = (0..arms)
        .flat_map(|i| {
            let (first, second) = pairs[i.min(pairs.len() - 1)];
            [Value::from(first), Value::from(second)]
        })
        .collect();
    (sql, args)
}

/// Numbers of pairs one statement of [`pairs_statement`] looks up.
const PAIR_COUNTS: [usize; 4] = [1, 4, 16, 64];

/// The count and the ids of one page of people given with their sort
/// keys, in list order.
fn paged(mut keyed: Vec<(String, u128)>, page: PageRequest) -> (u64, Vec<String>) {
    keyed.sort_unstable();
    (
        keyed.len() as u64,
        keyed
            .into_iter()
            .skip(page.offset() as usize)
            .take(page.size as usize)
            .map(|(_, id)| uuid::Uuid::from_u128(id).to_string())
            .collect(),
    )
}

/// A search by several words starts from the longest word with at most
/// this many rows in the token table (when every word has more, from the
/// longest, read whole).
const PROBE_CAP: u64 = 8_000;
/// A word with this many times more rows than the people still matching is
/// looked up per person rather than read whole (measured on a made-up table
/// of 3,000,000 tokens: 562 people looked up in a first name's 86,532 rows,
/// 3 ms; the rows read, 30 ms before any are decoded).
const PROBE_RATIO: u64 = 8;

/// The most distinct words one searched prefix may cover for a search by
/// name to merge their ordered runs.
const MAX_RUNS: usize = 32;
