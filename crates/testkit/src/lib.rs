//! Test support: a real Lantern server on `127.0.0.1:0` with a fresh
//! database (SQLite in a temporary folder; or, when `LANTERN_TEST_POSTGRES`
//! names a PostgreSQL server, a new database there), a clock the test moves
//! by hand, one user per role, and an evidence vault (a temporary folder;
//! or, when `LANTERN_TEST_S3_ENDPOINT` names an S3-compatible server, a
//! fresh prefix in the bucket `LANTERN_TEST_S3_BUCKET`, with
//! `LANTERN_TEST_S3_REGION`, `LANTERN_TEST_S3_KEY_ID` and
//! `LANTERN_TEST_S3_SECRET`).
//!
//! Tests talk to the server over HTTP like any client, so they exercise the
//! middleware, the extractors, the templates and the store together.

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use lantern_domain::clock::{Clock, ManualClock};
use lantern_domain::policy::Role;
use lantern_domain::user::{UiLanguage, Username};
use lantern_store::{AuditContext, AuditFilter, NewApiToken, NewUser, Store};
use lantern_web::security::{hash_password, random_token, token_hash};
use lantern_web::{AppState, WebConfig};
use time::macros::datetime;
use time::OffsetDateTime;

/// The password of every test user.
pub const PASSWORD: &str = "a long test passphrase";

/// The log origin the test server signs under (the `ledger_origin` default).
pub const ORIGIN: &str = "lantern.local/ledger";

/// Where the test clock starts.
pub const START: OffsetDateTime = datetime!(2026-03-02 08:00 UTC);

/// The login name of the test user of a role (`family-liaison` …).
pub fn username(role: Role) -> String {
    role.code().replace('_', "-")
}

fn password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password(PASSWORD).expect("hash")).clone()
}

/// What a test server is made of.
type Prepared = (
    tempfile::TempDir,
    Arc<dyn Store>,
    lantern_vault::objects::ObjectVault,
    Option<String>,
    AppState,
);

/// The S3-compatible server the tests use, if the environment names one.
pub fn test_s3() -> Option<lantern_vault::objects::S3Config> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let endpoint = var("LANTERN_TEST_S3_ENDPOINT")?;
    Some(lantern_vault::objects::S3Config {
        bucket: var("LANTERN_TEST_S3_BUCKET").expect("LANTERN_TEST_S3_BUCKET"),
        prefix: format!("test-{}", random_token()[..12].to_ascii_lowercase()),
        endpoint,
        region: var("LANTERN_TEST_S3_REGION").unwrap_or_else(|| "garage".into()),
        access_key_id: var("LANTERN_TEST_S3_KEY_ID").expect("LANTERN_TEST_S3_KEY_ID"),
        secret_access_key: var("LANTERN_TEST_S3_SECRET").expect("LANTERN_TEST_S3_SECRET"),
    })
}

/// Where a test server keeps evidence: the test S3 server, else a folder.
fn test_objects(dir: &std::path::Path) -> lantern_vault::objects::Location {
    match test_s3() {
        Some(c) => lantern_vault::objects::Location::S3(c),
        None => lantern_vault::objects::Location::Local(dir.join("objects")),
    }
}

/// A running server.
pub struct TestServer {
    /// Its address.
    pub addr: SocketAddr,
    /// `http://addr`.
    pub base: String,
    /// Its store, for arranging data and checking what was written.
    pub store: Arc<dyn Store>,
    /// Its clock.
    pub clock: Arc<ManualClock>,
    /// Its evidence vault.
    pub vault: lantern_vault::objects::ObjectVault,
    /// Its PostgreSQL database, when it runs on one (else SQLite in the data folder).
    pub database_url: Option<String>,
    /// Its application state (the in-memory indexes), for tests of what
    /// the server does at start.
    pub state: AppState,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// A server with one user per role (password [`PASSWORD`]).
    pub async fn start() -> Self {
        Self::start_with(WebConfig::default(), true).await
    }

    /// A server without any user (first-run state).
    pub async fn empty() -> Self {
        Self::start_with(WebConfig::default(), false).await
    }

    /// A server with the given web settings.
    pub async fn start_with(config: WebConfig, users: bool) -> Self {
        Self::start_custom(config, users, None).await
    }

    /// A server with the given web settings and evidence storage (default:
    /// the test S3 server if there is one, else a temporary folder).
    pub async fn start_custom(
        config: WebConfig,
        users: bool,
        objects: Option<lantern_vault::objects::Location>,
    ) -> Self {
        let clock = Arc::new(ManualClock::new(START));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        // The store is synchronous; it is set up on a blocking thread, as
        // the server calls it.
        let (dir, store, vault, database_url, state) =
            tokio::task::spawn_blocking(move || Self::prepare(users, dyn_clock, config, objects))
                .await
                .expect("prepare");
        state.build_search_index().await.expect("search index");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = state.clone();
        tokio::spawn(async move {
            let _ = lantern_app::serve(listener, state, async {
                let _ = rx.await;
            })
            .await;
        });
        TestServer {
            addr,
            base: format!("http://{addr}"),
            store,
            clock,
            vault,
            database_url,
            state: app,
            _dir: dir,
            shutdown: Some(tx),
        }
    }

    fn prepare(
        users: bool,
        clock: Arc<dyn Clock>,
        config: WebConfig,
        objects: Option<lantern_vault::objects::Location>,
    ) -> Prepared {
        let dir = tempfile::tempdir().expect("temp dir");
        lantern_app::prepare_data_dir(dir.path()).expect("data dir");
        let (keys, _) = lantern_app::load_or_create_keys(dir.path()).expect("keys");
        let keys = Arc::new(keys);
        let database_url = lantern_store_postgres::fresh_test_database().expect("test database");
        let store: Arc<dyn Store> = match &database_url {
            Some(url) => Arc::new(lantern_store_postgres::open(url, keys.clone()).expect("store")),
            None => Arc::new(lantern_store_sqlite::open(&dir.path().join("lantern.db"), keys.clone()).expect("store")),
        };
        let keys_for_signer = keys.clone();
        let vault =
            lantern_vault::objects::ObjectVault::open(&objects.unwrap_or_else(|| test_objects(dir.path())), keys)
                .expect("vault");
        if users {
            let ctx = AuditContext::system("testkit", START);
            for role in Role::ALL {
                store
                    .create_user(
                        NewUser {
                            username: Username::parse("username", &username(*role)).expect("name"),
                            display_name: format!("Test {}", role.code()),
                            role: *role,
                            language: UiLanguage::En,
                            password_hash: password_hash(),
                            must_change_password: false,
                        },
                        &ctx,
                    )
                    .expect("user");
            }
        }
        let state = AppState::new(store.clone(), vault.clone(), clock, config).expect("state");
        let signer = lantern_app::ledger::load_or_create_signer(dir.path(), &keys_for_signer, ORIGIN).expect("signer");
        state.set_signer(Arc::new(signer));
        (dir, store, vault, database_url, state)
    }

    /// The log's verifier key (`name+keyid+base64`), as `lantern ledger key` prints it.
    pub fn ledger_key(&self) -> String {
        let keys = lantern_app::load_or_create_keys(self._dir.path()).expect("keys").0;
        lantern_app::ledger::load_or_create_signer(self._dir.path(), &keys, ORIGIN)
            .expect("signer")
            .verifier_key()
    }

    /// Its data folder (keys, SQLite database, objects).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// Settings that name this server's data folder and database, as a
    /// second process (a `lantern` command) would be given.
    pub fn settings(&self) -> lantern_app::settings::Settings {
        use lantern_app::settings::{FileSettings, SettingArgs, Settings};
        let mut s = Settings::resolve(&SettingArgs::default(), &FileSettings::default());
        s.data_dir = self.data_dir().to_path_buf();
        s.database_url = self.database_url.clone().unwrap_or_default();
        s
    }

    /// Runs `f` on the store from a blocking thread (the store is
    /// synchronous, and a PostgreSQL client must not block an async task).
    pub async fn db<T: Send + 'static>(&self, f: impl FnOnce(&dyn Store) -> T + Send + 'static) -> T {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .expect("store task")
    }

    /// An HTTP client with its own cookie jar that does not follow redirects.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// The full URL of a path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a JSON API request with `token`; returns the status and the
    /// body as JSON (`null` when it is not JSON).
    pub async fn api(
        &self,
        token: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let mut req = self.client().request(method, self.url(path)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    /// A browser-like session: fetches the login form (for its CSRF
    /// cookie), logs in as the role's user, and keeps the session's token.
    pub async fn login(&self, role: Role) -> Session {
        self.login_as(&username(role), PASSWORD).await.expect("login")
    }

    /// Logs in with any credentials; `Err(status)` when refused.
    pub async fn login_as(&self, name: &str, password: &str) -> Result<Session, reqwest::StatusCode> {
        let mut s = Session::anonymous(self);
        s.refresh_csrf("/login").await;
        let r = s
            .post_form("/login", &[("username", name), ("password", password), ("next", "/")])
            .await;
        if r.status() != reqwest::StatusCode::SEE_OTHER {
            return Err(r.status());
        }
        s.refresh_csrf("/account").await;
        Ok(s)
    }

    /// A fresh API token of the role's user.
    pub async fn api_token(&self, role: Role) -> String {
        let secret = random_token();
        let (hash, now) = (token_hash(&secret), self.clock.now());
        self.db(move |store| {
            let user = store
                .user_credentials(&username(role))
                .expect("store")
                .expect("user")
                .user;
            store
                .create_api_token(
                    NewApiToken {
                        user_id: user.id,
                        name: "test".into(),
                        token_hash: hash,
                        created_at: now,
                    },
                    &AuditContext::system("testkit", now),
                )
                .expect("token")
        })
        .await;
        secret
    }

    /// How many audit events have this action code.
    pub async fn audit_count(&self, action: &str) -> u64 {
        let action = action.to_string();
        self.db(move |store| {
            store
                .audit_events(&AuditFilter {
                    action: Some(action),
                    ..Default::default()
                })
                .expect("audit")
                .total
        })
        .await
    }

    /// The newest 200 audit events with this action code.
    pub async fn audit(&self, action: &str) -> Vec<lantern_store::AuditEvent> {
        let action = action.to_string();
        self.db(move |store| {
            store
                .audit_events(&AuditFilter {
                    action: Some(action),
                    page: lantern_store::PageRequest::new(1, 200),
                    ..Default::default()
                })
                .expect("audit")
                .items
        })
        .await
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A logged-in (or anonymous) browser session.
pub struct Session {
    /// The client, holding the cookies.
    pub client: reqwest::Client,
    base: String,
    /// The CSRF token forms of this session carry.
    pub csrf: String,
}

impl Session {
    /// A session without a login (no cookies yet).
    pub fn anonymous(server: &TestServer) -> Session {
        Session {
            client: server.client(),
            base: server.base.clone(),
            csrf: String::new(),
        }
    }

    /// Reads the CSRF token from a page's forms.
    pub async fn refresh_csrf(&mut self, path: &str) {
        let html = self.get(path).await.text().await.expect("body");
        if let Some(token) = csrf_in(&html) {
            self.csrf = token;
        }
    }

    /// GET.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request")
    }

    /// POST a form with this session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = vec![("csrf_token", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// POST a form exactly as given (no token added).
    pub async fn post_raw(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("request")
    }
}

/// The value of the first `csrf_token` field in a page.
pub fn csrf_in(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf_token\" value=\"")?;
    let rest = &html[at + "name=\"csrf_token\" value=\"".len()..];
    Some(rest[..rest.find('"')?].to_string())
}

/// The fields a browser would submit from the form of a page whose
/// `action` is this path: text and hidden inputs, checked boxes, the
/// selected option of each select (the first when none is marked) and
/// textareas, in page order, with HTML character references decoded.
/// `None` when the page has no such form. Enough for the server's own
/// templates (attributes in double quotes), not a general HTML parser.
pub fn form_fields(html: &str, action: &str) -> Option<Vec<(String, String)>> {
    let start = html.find(&format!("action=\"{action}\""))?;
    let body = &html[start..];
    let body = &body[..body.find("</form>").unwrap_or(body.len())];
    let mut fields = Vec::new();
    let mut rest = body;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let tag_end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..tag_end];
        let after = &rest[(tag_end + 1).min(rest.len())..];
        let Some(name) = attribute(tag, "name") else { continue };
        if tag.starts_with("input") {
            let kind = attribute(tag, "type").unwrap_or_default();
            let checked = has_flag(tag, "checked");
            let value = attribute(tag, "value").unwrap_or_default();
            match kind.as_str() {
                "submit" | "button" | "file" | "reset" => {}
                "checkbox" | "radio" if !checked => {}
                _ => fields.push((name, value)),
            }
        } else if tag.starts_with("textarea") {
            let text = &after[..after.find("</textarea>").unwrap_or(after.len())];
            fields.push((name, unescape(text)));
        } else if tag.starts_with("select") {
            let options = &after[..after.find("</select>").unwrap_or(after.len())];
            let mut first = None;
            let mut chosen = None;
            for option in options.split("<option").skip(1) {
                let option_tag = &option[..option.find('>').unwrap_or(option.len())];
                let value = attribute(option_tag, "value").unwrap_or_default();
                first.get_or_insert_with(|| value.clone());
                if has_flag(option_tag, "selected") {
                    chosen = Some(value);
                }
            }
            fields.push((name, chosen.or(first).unwrap_or_default()));
        }
    }
    Some(fields)
}

/// The decoded value of `name="…"` in a tag.
fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')? + at;
    Some(unescape(&tag[at..end]))
}

/// Whether a tag carries a bare attribute such as `checked`.
fn has_flag(tag: &str, flag: &str) -> bool {
    tag.split(|c: char| c.is_whitespace() || c == '>')
        .any(|word| word == flag || word.starts_with(&format!("{flag}=")))
}

/// Decodes the character references askama's HTML escaping writes.
fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::form_fields;

    #[test]
    fn form_fields_reads_what_a_browser_submits() {
        let html = r#"<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="x"></form>
<form method="post" action="/people/1/edit">
<input type="hidden" name="csrf_token" value="t&amp;k">
<input id="a" name="names[0].text" value="Mas&#39;ud &quot;K&quot;" dir="auto">
<select id="sex" name="sex"><option value="female">F</option><option value="male" selected>M</option></select>
<select name="site_id"><option value="">none</option><option value="s1">One</option></select>
<textarea id="notes" name="notes" rows="4">a &lt;b&gt;</textarea>
<input type="checkbox" name="not_to_be_traced" value="yes">
<input type="checkbox" name="confirmed" value="yes" checked>
<button type="submit">Save</button></form>"#;
        let fields = form_fields(html, "/people/1/edit").expect("form");
        let expected: Vec<(String, String)> = [
            ("csrf_token", "t&k"),
            ("names[0].text", "Mas'ud \"K\""),
            ("sex", "male"),
            ("site_id", ""),
            ("notes", "a <b>"),
            ("confirmed", "yes"),
        ]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
        assert_eq!(fields, expected);
        assert!(form_fields(html, "/nowhere").is_none());
    }
}
