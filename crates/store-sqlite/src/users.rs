//! Users, the setup token, sessions, API tokens and sites.

use lantern_domain::audit::AuditAction;
use lantern_domain::person::SiteId;
use lantern_domain::policy::Role;
use lantern_domain::user::{UiLanguage, UserId, Username};
use lantern_domain::{FieldError, Reason};
use lantern_store::{
    ApiToken, AuditContext, NewApiToken, NewSession, NewUser, SessionRecord, Site, StoreError, StoreResult, User,
    UserChange, UserCredentials,
};
use rusqlite::{params, OptionalExtension, Row, Transaction};
use time::OffsetDateTime;

use crate::util::{db, fmt_ts, parse_id, parse_ts};
use crate::{insert_audit, SqliteStore};

const USER_COLUMNS: &str =
    "id, username, display_name, role, language, disabled, totp_secret IS NOT NULL, must_change_password";

type UserRow = (String, String, String, String, String, bool, bool, bool);

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<UserRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn to_user(raw: UserRow) -> StoreResult<User> {
    let (id, username, display_name, role, language, disabled, totp_enabled, must_change_password) = raw;
    let bad = |e: FieldError| StoreError::backend(e);
    Ok(User {
        id: UserId(parse_id(&id)?),
        username: Username::parse("username", &username).map_err(bad)?,
        display_name,
        role: Role::parse("role", &role).map_err(bad)?,
        language: UiLanguage::parse("language", &language).map_err(bad)?,
        disabled,
        totp_enabled,
        must_change_password,
    })
}

fn load_user(tx: &Transaction<'_>, id: UserId) -> StoreResult<Option<User>> {
    tx.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        [id.to_string()],
        user_from_row,
    )
    .optional()
    .map_err(db)?
    .map(to_user)
    .transpose()
}

fn insert_user(tx: &Transaction<'_>, user: &NewUser, at: OffsetDateTime) -> StoreResult<User> {
    let taken: bool = tx
        .query_row(
            "SELECT EXISTS(SELECT 1 FROM users WHERE username = ?1)",
            [user.username.as_str()],
            |r| r.get(0),
        )
        .map_err(db)?;
    if taken {
        return Err(FieldError::new("username", Reason::Duplicate).into());
    }
    let id = UserId::new();
    tx.execute(
        "INSERT INTO users (id, username, display_name, role, language, password_hash, created_at, must_change_password)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            id.to_string(),
            user.username.as_str(),
            user.display_name,
            user.role.code(),
            user.language.code(),
            user.password_hash,
            fmt_ts(at),
            user.must_change_password,
        ],
    )
    .map_err(db)?;
    Ok(User {
        id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        language: user.language,
        disabled: false,
        totp_enabled: false,
        must_change_password: user.must_change_password,
    })
}

impl SqliteStore {
    pub(crate) fn count_users(&self) -> StoreResult<u64> {
        self.read(|tx| {
            tx.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0))
                .map(|n| n as u64)
                .map_err(db)
        })
    }

    pub(crate) fn add_setup_token(&self, hash: &str, expires_at: OffsetDateTime) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?1, ?2)",
                params![hash, fmt_ts(expires_at)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    pub(crate) fn setup(&self, hash: &str, user: NewUser, ctx: &AuditContext) -> StoreResult<User> {
        self.write(|tx| {
            let users: i64 = tx.query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0)).map_err(db)?;
            let used = tx
                .execute(
                    "UPDATE setup_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                    params![hash, fmt_ts(ctx.at)],
                )
                .map_err(db)?;
            if users > 0 || used != 1 {
                return Err(StoreError::SetupClosed);
            }
            let created = insert_user(tx, &user, ctx.at)?;
            let mut ctx = ctx.clone();
            ctx.actor_id = Some(created.id);
            ctx.actor_name = created.username.as_str().to_string();
            insert_audit(
                tx,
                &ctx.event(AuditAction::SetupComplete, "user", Some(created.id.to_string()), user.role.code()),
            )?;
            Ok(created)
        })
    }

    pub(crate) fn add_user(&self, user: NewUser, ctx: &AuditContext) -> StoreResult<User> {
        self.write(|tx| {
            let created = insert_user(tx, &user, ctx.at)?;
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::UserCreate,
                    "user",
                    Some(created.id.to_string()),
                    &format!("{} {}", created.username.as_str(), created.role.code()),
                ),
            )?;
            Ok(created)
        })
    }

    pub(crate) fn credentials(&self, username: &str) -> StoreResult<Option<UserCredentials>> {
        self.read(|tx| {
            let row = tx
                .query_row(
                    &format!("SELECT {USER_COLUMNS}, password_hash, totp_secret FROM users WHERE username = ?1"),
                    [username],
                    |r| {
                        Ok((
                            user_from_row(r)?,
                            r.get::<_, String>(8)?,
                            r.get::<_, Option<Vec<u8>>>(9)?,
                        ))
                    },
                )
                .optional()
                .map_err(db)?;
            row.map(|(u, password_hash, totp_secret)| {
                Ok(UserCredentials {
                    user: to_user(u)?,
                    password_hash,
                    totp_secret,
                })
            })
            .transpose()
        })
    }

    pub(crate) fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        self.read(|tx| load_user(tx, id))
    }

    pub(crate) fn all_users(&self) -> StoreResult<Vec<User>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"))
                .map_err(db)?;
            let rows = stmt.query_map([], user_from_row).map_err(db)?;
            rows.map(|r| to_user(r.map_err(db)?)).collect()
        })
    }

    pub(crate) fn change_user(&self, id: UserId, change: UserChange, ctx: &AuditContext) -> StoreResult<User> {
        self.write(|tx| {
            load_user(tx, id)?.ok_or(StoreError::NotFound)?;
            let mut what = Vec::new();
            if let Some(role) = change.role {
                tx.execute(
                    "UPDATE users SET role = ?2 WHERE id = ?1",
                    params![id.to_string(), role.code()],
                )
                .map_err(db)?;
                what.push(format!("role={}", role.code()));
            }
            if let Some(disabled) = change.disabled {
                tx.execute(
                    "UPDATE users SET disabled = ?2 WHERE id = ?1",
                    params![id.to_string(), disabled],
                )
                .map_err(db)?;
                if disabled {
                    tx.execute("DELETE FROM sessions WHERE user_id = ?1", [id.to_string()])
                        .map_err(db)?;
                }
                what.push(format!("disabled={disabled}"));
            }
            if let Some(hash) = &change.password_hash {
                tx.execute(
                    "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                    params![id.to_string(), hash],
                )
                .map_err(db)?;
                what.push("password".into());
            }
            if let Some(must) = change.must_change_password {
                tx.execute(
                    "UPDATE users SET must_change_password = ?2 WHERE id = ?1",
                    params![id.to_string(), must],
                )
                .map_err(db)?;
                what.push(format!("must_change_password={must}"));
            }
            if let Some(language) = change.language {
                tx.execute(
                    "UPDATE users SET language = ?2 WHERE id = ?1",
                    params![id.to_string(), language.code()],
                )
                .map_err(db)?;
                what.push(format!("language={}", language.code()));
            }
            if let Some(secret) = &change.totp_secret {
                tx.execute(
                    "UPDATE users SET totp_secret = ?2 WHERE id = ?1",
                    params![id.to_string(), secret],
                )
                .map_err(db)?;
                what.push(if secret.is_some() { "totp=on" } else { "totp=off" }.into());
            }
            let action = change.action.unwrap_or(AuditAction::UserUpdate);
            insert_audit(tx, &ctx.event(action, "user", Some(id.to_string()), &what.join(" ")))?;
            load_user(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn add_session(&self, s: NewSession, ctx: &AuditContext) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![s.id_hash, s.user_id.to_string(), s.csrf_token, fmt_ts(s.created_at)],
            )
            .map_err(db)?;
            insert_audit(tx, &ctx.event(AuditAction::Login, "user", Some(s.user_id.to_string()), ""))
        })
    }

    pub(crate) fn get_session(&self, id_hash: &str) -> StoreResult<Option<(SessionRecord, User)>> {
        self.read(|tx| {
            let row = tx
                .query_row(
                    "SELECT s.csrf_token, s.created_at, s.last_seen_at, s.user_id FROM sessions s
                     JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1 AND u.disabled = 0",
                    [id_hash],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    },
                )
                .optional()
                .map_err(db)?;
            let Some((csrf_token, created, seen, user_id)) = row else {
                return Ok(None);
            };
            let user = load_user(tx, UserId(parse_id(&user_id)?))?.ok_or(StoreError::NotFound)?;
            Ok(Some((
                SessionRecord {
                    id_hash: id_hash.to_string(),
                    csrf_token,
                    created_at: parse_ts(&created)?,
                    last_seen_at: parse_ts(&seen)?,
                },
                user,
            )))
        })
    }

    pub(crate) fn touch(&self, id_hash: &str, at: OffsetDateTime) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1",
                params![id_hash, fmt_ts(at)],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    pub(crate) fn end_session(&self, id_hash: &str, ctx: Option<&AuditContext>) -> StoreResult<()> {
        self.write(|tx| {
            let user: Option<String> = tx
                .query_row("SELECT user_id FROM sessions WHERE id_hash = ?1", [id_hash], |r| {
                    r.get(0)
                })
                .optional()
                .map_err(db)?;
            tx.execute("DELETE FROM sessions WHERE id_hash = ?1", [id_hash])
                .map_err(db)?;
            if let (Some(ctx), Some(user)) = (ctx, user) {
                insert_audit(tx, &ctx.event(AuditAction::Logout, "user", Some(user), ""))?;
            }
            Ok(())
        })
    }

    pub(crate) fn add_api_token(&self, t: NewApiToken, ctx: &AuditContext) -> StoreResult<ApiToken> {
        self.write(|tx| {
            let id = uuid::Uuid::now_v7();
            tx.execute(
                "INSERT INTO api_tokens (id, user_id, name, token_hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    id.to_string(),
                    t.user_id.to_string(),
                    t.name,
                    t.token_hash,
                    fmt_ts(t.created_at)
                ],
            )
            .map_err(db)?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::TokenCreate, "api_token", Some(id.to_string()), &t.name),
            )?;
            Ok(ApiToken {
                id,
                name: t.name,
                created_at: t.created_at,
                last_used_at: None,
                revoked: false,
            })
        })
    }

    pub(crate) fn list_api_tokens(&self, user: UserId) -> StoreResult<Vec<ApiToken>> {
        self.read(|tx| {
            let mut stmt = tx
                .prepare(
                    "SELECT id, name, created_at, last_used_at, revoked FROM api_tokens WHERE user_id = ?1 ORDER BY created_at",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([user.to_string()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, bool>(4)?,
                    ))
                })
                .map_err(db)?;
            rows.map(|r| {
                let (id, name, created, used, revoked) = r.map_err(db)?;
                Ok(ApiToken {
                    id: parse_id(&id)?,
                    name,
                    created_at: parse_ts(&created)?,
                    last_used_at: used.map(|u| parse_ts(&u)).transpose()?,
                    revoked,
                })
            })
            .collect()
        })
    }

    pub(crate) fn revoke_token(&self, user: UserId, token: uuid::Uuid, ctx: &AuditContext) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "UPDATE api_tokens SET revoked = 1 WHERE id = ?1 AND user_id = ?2",
                    params![token.to_string(), user.to_string()],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            insert_audit(
                tx,
                &ctx.event(AuditAction::TokenRevoke, "api_token", Some(token.to_string()), ""),
            )
        })
    }

    pub(crate) fn token_user(&self, hash: &str, at: OffsetDateTime) -> StoreResult<Option<User>> {
        self.write(|tx| {
            let user: Option<String> = tx
                .query_row(
                    "SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = ?1 AND t.revoked = 0 AND u.disabled = 0",
                    [hash],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            let Some(user) = user else { return Ok(None) };
            tx.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE token_hash = ?1",
                params![hash, fmt_ts(at)],
            )
            .map_err(db)?;
            load_user(tx, UserId(parse_id(&user)?))
        })
    }

    pub(crate) fn all_sites(&self) -> StoreResult<Vec<Site>> {
        self.read(|tx| {
            let mut stmt = tx.prepare("SELECT id, name FROM sites ORDER BY name").map_err(db)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db)?;
            rows.map(|r| {
                let (id, name) = r.map_err(db)?;
                Ok(Site {
                    id: SiteId(parse_id(&id)?),
                    name,
                })
            })
            .collect()
        })
    }

    pub(crate) fn add_site(&self, name: &str, ctx: &AuditContext) -> StoreResult<Site> {
        let name = lantern_domain::text::required_text("name", name, 100)?;
        self.write(|tx| {
            let taken: bool = tx
                .query_row("SELECT EXISTS(SELECT 1 FROM sites WHERE name = ?1)", [&name], |r| {
                    r.get(0)
                })
                .map_err(db)?;
            if taken {
                return Err(FieldError::new("name", Reason::Duplicate).into());
            }
            let id = SiteId::new();
            tx.execute(
                "INSERT INTO sites (id, name) VALUES (?1, ?2)",
                params![id.to_string(), name],
            )
            .map_err(db)?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::SiteCreate, "site", Some(id.to_string()), &name),
            )?;
            Ok(Site { id, name })
        })
    }
}
