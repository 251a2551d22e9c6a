//! Test support shared by the API tests (and, through `#[path]`, the CLI tests): a fresh
//! database per test on SQLite or PostgreSQL, and the real app on a random loopback port.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database that exists only for one test.
pub struct TestDb {
    pub url: String,
    pub backend: Backend,
    _dir: tempfile::TempDir,
}

impl TestDb {
    pub fn dir(&self) -> &std::path::Path {
        self._dir.path()
    }
}

/// The PostgreSQL server for tests, or None (loudly) when not configured.
/// With `VIGIE_TEST_REQUIRE_PG=1` (set by scripts/test.sh and so in CI) a missing server fails the test.
pub fn pg_admin_url() -> Option<String> {
    match std::env::var("VIGIE_TEST_PG_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("VIGIE_TEST_REQUIRE_PG").is_ok_and(|v| v == "1")
                || std::env::var("CI").is_ok_and(|v| v == "true")
            {
                panic!(
                    "VIGIE_TEST_PG_URL is not set but PostgreSQL is required: run scripts/test.sh"
                );
            }
            eprintln!("\n!!!!!!!!!! POSTGRESQL SKIPPED: VIGIE_TEST_PG_URL not set; run scripts/test.sh for both backends !!!!!!!!!!\n");
            None
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub async fn fresh_db(backend: Backend) -> Option<TestDb> {
    let dir = tempfile::tempdir().unwrap();
    match backend {
        Backend::Sqlite => Some(TestDb {
            url: format!("sqlite:{}", dir.path().join("vigie.db").display()),
            backend,
            _dir: dir,
        }),
        Backend::Postgres => {
            let admin = pg_admin_url()?;
            let name = format!(
                "vt_{}_{}_{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::SeqCst),
                rand_suffix()
            );
            let db = vigie_storage::Db::connect(&admin)
                .await
                .expect("connect to test PostgreSQL");
            vigie_storage::run!(&db.write, c => { sqlx_exec(c, &format!("CREATE DATABASE {name}")).await; });
            db.close().await;
            let url = match admin.rfind('/') {
                Some(i) => format!("{}/{name}", &admin[..i]),
                None => panic!("bad VIGIE_TEST_PG_URL"),
            };
            Some(TestDb {
                url,
                backend,
                _dir: dir,
            })
        }
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

async fn sqlx_exec<'c, E: sqlx::Executor<'c>>(e: E, sql: &str) {
    e.execute(sql).await.expect(sql);
}

/// Declares `mod NAME { sqlite(); postgres() }` running `async fn NAME(Backend)` on both backends.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::support::Backend;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { super::$name(Backend::Sqlite).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { super::$name(Backend::Postgres).await }
        }
    )*};
}

use vigie_domain::area::{AreaCode, AreaInput, AreaLevel};
use vigie_storage::audit::Actor;
use vigie_storage::Db;

/// The real app on a random loopback port, over a fresh database holding a small tree
/// (ML → ML-5 Mopti → ML-5-MOPTI, ML-5-KORO; ML → ML-6 Tombouctou) and an admin at the root.
pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub http: reqwest::Client,
    pub admin_token: String,
    pub tdb: TestDb,
    /// Added to the real time by the app's clock: tests move time forward instead of sleeping.
    pub offset: std::sync::Arc<std::sync::Mutex<chrono::Duration>>,
    pub state: vigie_server::AppState,
}

pub const PASSWORD: &str = "fleuve niger 2026";

impl TestApp {
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, vigie_server::ServerConfig::default()).await
    }

    pub async fn spawn_with(
        backend: Backend,
        config: vigie_server::ServerConfig,
    ) -> Option<TestApp> {
        let tdb = fresh_db(backend).await?;
        let db = Db::connect_and_migrate(&tdb.url)
            .await
            .expect("migrate")
            .with_keys(vigie_storage::crypto::Keyring::generate());
        let actor = Actor::system("test");
        let mut tx = db.begin().await.unwrap();
        for (code, parent, level, name) in [
            ("ML", None, AreaLevel::Country, "Mali"),
            ("ML-5", Some("ML"), AreaLevel::Region, "Mopti"),
            ("ML-5-MOPTI", Some("ML-5"), AreaLevel::Cercle, "Mopti"),
            ("ML-5-KORO", Some("ML-5"), AreaLevel::Cercle, "Koro"),
            ("ML-6", Some("ML"), AreaLevel::Region, "Tombouctou"),
            ("ML-6-GOUNDAM", Some("ML-6"), AreaLevel::Cercle, "Goundam"),
        ] {
            let input = AreaInput {
                code: AreaCode::parse(code).unwrap(),
                parent: parent.map(|p| AreaCode::parse(p).unwrap()),
                level,
                name: name.into(),
                tags: if code.starts_with("ML-5-") {
                    vec!["prosmed".into()]
                } else {
                    vec![]
                },
                point: None,
                geometry: None,
            };
            vigie_storage::areas::upsert(&mut tx, &input, &actor)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let offset = std::sync::Arc::new(std::sync::Mutex::new(chrono::Duration::zero()));
        let o = offset.clone();
        let clock: vigie_server::Clock =
            std::sync::Arc::new(move || vigie_storage::now() + *o.lock().unwrap());
        let state = vigie_server::AppState {
            db: db.clone(),
            config: std::sync::Arc::new(config.clone()),
            clock: clock.clone(),
        };
        let app_db = db.clone();
        tokio::spawn(async move {
            vigie_server::serve(listener, app_db, config, clock, std::future::pending())
                .await
                .unwrap();
        });
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .build()
            .unwrap();
        let mut app = TestApp {
            base,
            db,
            http,
            admin_token: String::new(),
            tdb,
            offset,
            state,
        };
        app.admin_token = app.user_token("admin", "admin", "ML").await;
        Some(app)
    }

    /// Creates an account with one grant and a password, and returns an API token for it.
    pub async fn user_token(&self, username: &str, role: &str, area: &str) -> String {
        let actor = Actor::system("test");
        let u = vigie_storage::users::create(
            &self.db,
            vigie_storage::users::NewUser {
                username,
                display_name: username,
                password: Some(PASSWORD),
                org_id: None,
                locale: vigie_domain::Lang::Fr,
                grants: vec![(role.into(), AreaCode::parse(area).unwrap())],
            },
            &actor,
        )
        .await
        .unwrap();
        vigie_storage::auth::create_token(&self.db, u.id, "test", None, &actor)
            .await
            .unwrap()
    }

    /// Moves the app's clock forward.
    pub fn advance(&self, by: chrono::Duration) {
        *self.offset.lock().unwrap() += by;
    }
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.state.now()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
    pub fn get(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.get(self.url(path)).bearer_auth(token)
    }
    pub fn post(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.post(self.url(path)).bearer_auth(token)
    }
    pub fn put(&self, path: &str, token: &str) -> reqwest::RequestBuilder {
        self.http.put(self.url(path)).bearer_auth(token)
    }

    pub async fn audit_count(&self) -> i64 {
        vigie_storage::audit::list(&self.db, &Default::default(), 1, 1)
            .await
            .unwrap()
            .total
    }
}

/// A browser-like client for the web pages: keeps cookies, does not follow redirects.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The value of the form field `name` in a page (hidden CSRF field, kept input).
pub fn field_of(html: &str, name: &str) -> String {
    let pat = format!(r#"name="{name}" value=""#);
    let i = html.find(&pat).unwrap_or_else(|| panic!("field {name} in {html}")) + pat.len();
    html[i..].split('"').next().unwrap().to_string()
}

/// Signs `user` in through the sign-in form; the client and the session's CSRF token.
pub async fn signed_in(app: &TestApp, user: &str) -> (reqwest::Client, String) {
    let c = browser();
    let page = c.get(app.url("/connexion")).send().await.unwrap().text().await.unwrap();
    let csrf = field_of(&page, "csrf");
    let res = c
        .post(app.url("/connexion"))
        .form(&[("username", user), ("password", PASSWORD), ("csrf", &csrf), ("suite", "/")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::SEE_OTHER);
    let home = c.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    (c, field_of(&home, "csrf"))
}
