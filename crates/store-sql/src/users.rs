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
use time::OffsetDateTime;

use crate::sql::{Backend, Conn, ConnExt, Row};
use crate::util::{fmt_ts, parse_id, parse_ts};
use crate::{insert_audit, params, SqlStore};

const USER_COLUMNS: &str = "id, username, display_name, role, language, disabled,
     CASE WHEN totp_secret IS NULL THEN 0 ELSE 1 END, must_change_password";

/// A user from the first columns of a row (in `USER_COLUMNS` order).
fn to_user(r: &Row) -> StoreResult<User> {
    let bad = |e: FieldError| StoreError::backend(e);
    Ok(User {
        id: UserId(parse_id(&r.get::<String>(0)?)?),
        username: Username::parse("username", &r.get::<String>(1)?).map_err(bad)?,
        display_name: r.get(2)?,
        role: Role::parse("role", &r.get::<String>(3)?).map_err(bad)?,
        language: UiLanguage::parse("language", &r.get::<String>(4)?).map_err(bad)?,
        disabled: r.get(5)?,
        totp_enabled: r.get(6)?,
        must_change_password: r.get(7)?,
    })
}

fn load_user(tx: &dyn Conn, id: UserId) -> StoreResult<Option<User>> {
    tx.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        params![id.to_string()],
    )?
    .map(|r| to_user(&r))
    .transpose()
}

fn insert_user(tx: &dyn Conn, user: &NewUser, at: OffsetDateTime) -> StoreResult<User> {
    let taken: bool = tx.query_value(
        "SELECT EXISTS(SELECT 1 FROM users WHERE username = ?1)",
        params![user.username.as_str()],
    )?;
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
            &user.display_name,
            user.role.code(),
            user.language.code(),
            &user.password_hash,
            fmt_ts(at),
            user.must_change_password,
        ],
    )?;
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

impl<B: Backend> SqlStore<B> {
    pub(crate) fn count_users(&self) -> StoreResult<u64> {
        self.read(|tx| tx.query_value("SELECT COUNT(*) FROM users", &[]))
    }

    pub(crate) fn add_setup_token(&self, hash: &str, expires_at: OffsetDateTime) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO setup_tokens (token_hash, expires_at) VALUES (?1, ?2)",
                params![hash, fmt_ts(expires_at)],
            )?;
            Ok(())
        })
    }

    pub(crate) fn setup(&self, hash: &str, user: NewUser, ctx: &AuditContext) -> StoreResult<User> {
        self.write(|tx| {
            let users: i64 = tx.query_value("SELECT COUNT(*) FROM users", &[])?;
            let used = tx.execute(
                "UPDATE setup_tokens SET used_at = ?2 WHERE token_hash = ?1 AND used_at IS NULL AND expires_at > ?2",
                params![hash, fmt_ts(ctx.at)],
            )?;
            if users > 0 || used != 1 {
                return Err(StoreError::SetupClosed);
            }
            let created = insert_user(tx, &user, ctx.at)?;
            let mut ctx = ctx.clone();
            ctx.actor_id = Some(created.id);
            ctx.actor_name = created.username.as_str().to_string();
            insert_audit(
                tx,
                &ctx.event(
                    AuditAction::SetupComplete,
                    "user",
                    Some(created.id.to_string()),
                    user.role.code(),
                ),
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
            let row = tx.query_opt(
                &format!("SELECT {USER_COLUMNS}, password_hash, totp_secret FROM users WHERE username = ?1"),
                params![username],
            )?;
            row.map(|r| {
                Ok(UserCredentials {
                    user: to_user(&r)?,
                    password_hash: r.get(8)?,
                    totp_secret: r.get(9)?,
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
            tx.query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"), &[])?
                .iter()
                .map(to_user)
                .collect()
        })
    }

    pub(crate) fn change_user(&self, id: UserId, change: UserChange, ctx: &AuditContext) -> StoreResult<User> {
        self.write(|tx| {
            load_user(tx, id)?.ok_or(StoreError::NotFound)?;
            let id_text = id.to_string();
            let set = |column: &str, value: crate::Value| -> StoreResult<()> {
                tx.execute(
                    &format!("UPDATE users SET {column} = ?2 WHERE id = ?1"),
                    &[id_text.as_str().into(), value],
                )?;
                Ok(())
            };
            let mut what = Vec::new();
            if let Some(role) = change.role {
                set("role", role.code().into())?;
                what.push(format!("role={}", role.code()));
            }
            if let Some(disabled) = change.disabled {
                set("disabled", disabled.into())?;
                if disabled {
                    tx.execute("DELETE FROM sessions WHERE user_id = ?1", params![id_text.as_str()])?;
                }
                what.push(format!("disabled={disabled}"));
            }
            if let Some(hash) = &change.password_hash {
                set("password_hash", hash.into())?;
                what.push("password".into());
            }
            if let Some(must) = change.must_change_password {
                set("must_change_password", must.into())?;
                what.push(format!("must_change_password={must}"));
            }
            if let Some(language) = change.language {
                set("language", language.code().into())?;
                what.push(format!("language={}", language.code()));
            }
            if let Some(secret) = &change.totp_secret {
                set("totp_secret", secret.clone().into())?;
                what.push(if secret.is_some() { "totp=on" } else { "totp=off" }.into());
            }
            let action = change.action.unwrap_or(AuditAction::UserUpdate);
            insert_audit(tx, &ctx.event(action, "user", Some(id_text.clone()), &what.join(" ")))?;
            load_user(tx, id)?.ok_or(StoreError::NotFound)
        })
    }

    pub(crate) fn add_session(&self, s: NewSession, ctx: &AuditContext) -> StoreResult<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![&s.id_hash, s.user_id.to_string(), &s.csrf_token, fmt_ts(s.created_at)],
            )?;
            insert_audit(tx, &ctx.event(AuditAction::Login, "user", Some(s.user_id.to_string()), ""))
        })
    }

    pub(crate) fn get_session(&self, id_hash: &str) -> StoreResult<Option<(SessionRecord, User)>> {
        self.read(|tx| {
            let row = tx.query_opt(
                "SELECT s.csrf_token, s.created_at, s.last_seen_at, s.user_id FROM sessions s
                 JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?1 AND u.disabled = 0",
                params![id_hash],
            )?;
            let Some(row) = row else {
                return Ok(None);
            };
            let user_id = UserId(parse_id(&row.get::<String>(3)?)?);
            let user = load_user(tx, user_id)?.ok_or(StoreError::NotFound)?;
            Ok(Some((
                SessionRecord {
                    id_hash: id_hash.to_string(),
                    csrf_token: row.get(0)?,
                    created_at: parse_ts(&row.get::<String>(1)?)?,
                    last_seen_at: parse_ts(&row.get::<String>(2)?)?,
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
            )?;
            Ok(())
        })
    }

    pub(crate) fn end_session(&self, id_hash: &str, ctx: Option<&AuditContext>) -> StoreResult<()> {
        self.write(|tx| {
            let user: Option<String> = tx
                .query_opt("SELECT user_id FROM sessions WHERE id_hash = ?1", params![id_hash])?
                .map(|r| r.get(0))
                .transpose()?;
            tx.execute("DELETE FROM sessions WHERE id_hash = ?1", params![id_hash])?;
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
                    &t.name,
                    &t.token_hash,
                    fmt_ts(t.created_at)
                ],
            )?;
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
            tx.query(
                "SELECT id, name, created_at, last_used_at, revoked FROM api_tokens WHERE user_id = ?1
                 ORDER BY created_at, id",
                params![user.to_string()],
            )?
            .into_iter()
            .map(|r| {
                Ok(ApiToken {
                    id: parse_id(&r.get::<String>(0)?)?,
                    name: r.get(1)?,
                    created_at: parse_ts(&r.get::<String>(2)?)?,
                    last_used_at: r.get::<Option<String>>(3)?.map(|u| parse_ts(&u)).transpose()?,
                    revoked: r.get(4)?,
                })
            })
            .collect()
        })
    }

    pub(crate) fn revoke_token(&self, user: UserId, token: uuid::Uuid, ctx: &AuditContext) -> StoreResult<()> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE api_tokens SET revoked = 1 WHERE id = ?1 AND user_id = ?2",
                params![token.to_string(), user.to_string()],
            )?;
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
                .query_opt(
                    "SELECT t.user_id FROM api_tokens t JOIN users u ON u.id = t.user_id
                     WHERE t.token_hash = ?1 AND t.revoked = 0 AND u.disabled = 0",
                    params![hash],
                )?
                .map(|r| r.get(0))
                .transpose()?;
            let Some(user) = user else { return Ok(None) };
            tx.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE token_hash = ?1",
                params![hash, fmt_ts(at)],
            )?;
            load_user(tx, UserId(parse_id(&user)?))
        })
    }

    pub(crate) fn all_sites(&self) -> StoreResult<Vec<Site>> {
        self.read(|tx| {
            tx.query("SELECT id, name FROM sites ORDER BY name", &[])?
                .into_iter()
                .map(|r| {
                    Ok(Site {
                        id: SiteId(parse_id(&r.get::<String>(0)?)?),
                        name: r.get(1)?,
                    })
                })
                .collect()
        })
    }

    pub(crate) fn add_site(&self, name: &str, ctx: &AuditContext) -> StoreResult<Site> {
        let name = lantern_domain::text::required_text("name", name, 100)?;
        self.write(|tx| {
            let taken: bool = tx.query_value("SELECT EXISTS(SELECT 1 FROM sites WHERE name = ?1)", params![&name])?;
            if taken {
                return Err(FieldError::new("name", Reason::Duplicate).into());
            }
            let id = SiteId::new();
            tx.execute(
                "INSERT INTO sites (id, name) VALUES (?1, ?2)",
                params![id.to_string(), &name],
            )?;
            insert_audit(
                tx,
                &ctx.event(AuditAction::SiteCreate, "site", Some(id.to_string()), &name),
            )?;
            Ok(Site { id, name })
        })
    }
}
