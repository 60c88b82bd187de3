//! Configuration in three layers: `hongdun.toml` → `HONGDUN_*` environment →
//! command-line flags, each overriding the one before. Passwords in database
//! URLs are never printed.
use serde::Deserialize;
use std::path::Path;

#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub db: String,
    pub bind: String,
    pub log: String,
    pub cookie_secure: bool,
    pub trust_forwarded_for: bool,
    pub session_hours: i64,
    pub lockout_threshold: i64,
    pub lockout_minutes: i64,
    /// Requests per minute per client address on public pages (0 = no limit).
    pub public_rate_per_minute: u32,
    /// The address the public reaches the server at (for QR codes).
    pub public_url: Option<String>,
    /// Where uploads wait while their import runs (default: the temp
    /// directory's `hongdun-uploads`). Somewhere that survives a restart lets
    /// a server resume an import cut off by a reboot.
    pub upload_dir: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            db: "sqlite://hongdun.db".into(),
            bind: "127.0.0.1:8080".into(),
            log: "info".into(),
            cookie_secure: false,
            trust_forwarded_for: false,
            session_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
            public_rate_per_minute: 120,
            public_url: None,
            upload_dir: None,
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("db", &redact_url(&self.db))
            .field("bind", &self.bind)
            .field("log", &self.log)
            .field("cookie_secure", &self.cookie_secure)
            .field("trust_forwarded_for", &self.trust_forwarded_for)
            .field("session_hours", &self.session_hours)
            .field("lockout_threshold", &self.lockout_threshold)
            .field("lockout_minutes", &self.lockout_minutes)
            .field("public_rate_per_minute", &self.public_rate_per_minute)
            .field("public_url", &self.public_url)
            .field("upload_dir", &self.upload_dir)
            .finish()
    }
}

/// The file layer: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    db: Option<String>,
    bind: Option<String>,
    log: Option<String>,
    cookie_secure: Option<bool>,
    trust_forwarded_for: Option<bool>,
    public_rate_per_minute: Option<i64>,
    public_url: Option<String>,
    upload_dir: Option<std::path::PathBuf>,
    auth: Option<FileAuth>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileAuth {
    session_hours: Option<i64>,
    lockout_threshold: Option<i64>,
    lockout_minutes: Option<i64>,
}

/// The flag layer (only what the command line offers).
#[derive(Debug, Default, Clone)]
pub struct Flags {
    pub db: Option<String>,
    pub bind: Option<String>,
    pub log: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("cannot read {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path}: {reason}")]
    Parse { path: String, reason: String },
    #[error("{key}: {reason}")]
    Invalid { key: String, reason: String },
}

/// Replaces the password in `scheme://user:password@host/…` with `***`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (auth_end, tail) = match rest.find(['/', '?']) {
        Some(i) => (i, &rest[i..]),
        None => (rest.len(), ""),
    };
    let authority = &rest[..auth_end];
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    let user = userinfo.split(':').next().unwrap_or("");
    let masked = if userinfo.contains(':') {
        format!("{user}:***")
    } else {
        user.to_owned()
    };
    // A password may also hide in the query (`?password=…`).
    let tail = match tail.split_once('?') {
        Some((path, q)) => {
            let q: Vec<String> = q
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", q.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{masked}@{host}{tail}")
}

fn parse_bool(key: &str, v: &str) -> Result<bool, ConfigError> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Invalid {
            key: key.into(),
            reason: format!("expected true or false, got {v:?}"),
        }),
    }
}

fn parse_int(key: &str, v: &str, range: std::ops::RangeInclusive<i64>) -> Result<i64, ConfigError> {
    let n: i64 = v.trim().parse().map_err(|_| ConfigError::Invalid {
        key: key.into(),
        reason: format!("expected an integer, got {v:?}"),
    })?;
    check_range(key, n, range)
}

fn check_range(
    key: &str,
    n: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ConfigError> {
    if range.contains(&n) {
        Ok(n)
    } else {
        Err(ConfigError::Invalid {
            key: key.into(),
            reason: format!("must be between {} and {}", range.start(), range.end()),
        })
    }
}

impl Config {
    /// Layers `file_text` (the contents of `path`), then `env`, then `flags`.
    pub fn layer(
        file: Option<(&str, &str)>,
        env: &dyn Fn(&str) -> Option<String>,
        flags: &Flags,
    ) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        if let Some((path, text)) = file {
            let f: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
                path: path.into(),
                reason: e.message().to_owned(),
            })?;
            let auth = f.auth.unwrap_or_default();
            c.db = f.db.unwrap_or(c.db);
            c.bind = f.bind.unwrap_or(c.bind);
            c.log = f.log.unwrap_or(c.log);
            c.cookie_secure = f.cookie_secure.unwrap_or(c.cookie_secure);
            c.trust_forwarded_for = f.trust_forwarded_for.unwrap_or(c.trust_forwarded_for);
            if let Some(v) = f.public_rate_per_minute {
                c.public_rate_per_minute =
                    check_range("public_rate_per_minute", v, 0..=1_000_000_000)? as u32;
            }
            c.public_url = f.public_url.or(c.public_url);
            c.upload_dir = f.upload_dir.or(c.upload_dir);
            if let Some(v) = auth.session_hours {
                c.session_hours = check_range("auth.session_hours", v, 1..=720)?;
            }
            if let Some(v) = auth.lockout_threshold {
                c.lockout_threshold = check_range("auth.lockout_threshold", v, 3..=20)?;
            }
            if let Some(v) = auth.lockout_minutes {
                c.lockout_minutes = check_range("auth.lockout_minutes", v, 1..=1440)?;
            }
        }
        if let Some(v) = env("HONGDUN_DB") {
            c.db = v;
        }
        if let Some(v) = env("HONGDUN_BIND") {
            c.bind = v;
        }
        if let Some(v) = env("HONGDUN_LOG") {
            c.log = v;
        }
        if let Some(v) = env("HONGDUN_COOKIE_SECURE") {
            c.cookie_secure = parse_bool("HONGDUN_COOKIE_SECURE", &v)?;
        }
        if let Some(v) = env("HONGDUN_TRUST_FORWARDED_FOR") {
            c.trust_forwarded_for = parse_bool("HONGDUN_TRUST_FORWARDED_FOR", &v)?;
        }
        if let Some(v) = env("HONGDUN_PUBLIC_RATE_PER_MINUTE") {
            c.public_rate_per_minute =
                parse_int("HONGDUN_PUBLIC_RATE_PER_MINUTE", &v, 0..=1_000_000_000)? as u32;
        }
        if let Some(v) = env("HONGDUN_PUBLIC_URL") {
            c.public_url = Some(v);
        }
        if let Some(v) = env("HONGDUN_UPLOAD_DIR") {
            c.upload_dir = Some(v.into());
        }
        if let Some(v) = env("HONGDUN_SESSION_HOURS") {
            c.session_hours = parse_int("HONGDUN_SESSION_HOURS", &v, 1..=720)?;
        }
        if let Some(v) = env("HONGDUN_LOCKOUT_THRESHOLD") {
            c.lockout_threshold = parse_int("HONGDUN_LOCKOUT_THRESHOLD", &v, 3..=20)?;
        }
        if let Some(v) = env("HONGDUN_LOCKOUT_MINUTES") {
            c.lockout_minutes = parse_int("HONGDUN_LOCKOUT_MINUTES", &v, 1..=1440)?;
        }
        if let Some(v) = &flags.db {
            c.db = v.clone();
        }
        if let Some(v) = &flags.bind {
            c.bind = v.clone();
        }
        if let Some(v) = &flags.log {
            c.log = v.clone();
        }
        c.validate()?;
        Ok(c)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !(self.db.starts_with("sqlite:")
            || self.db.starts_with("postgres://")
            || self.db.starts_with("postgresql://"))
        {
            return Err(ConfigError::Invalid {
                key: "db".into(),
                reason: format!(
                    "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
                    redact_url(&self.db)
                ),
            });
        }
        if self.bind.parse::<std::net::SocketAddr>().is_err() {
            return Err(ConfigError::Invalid {
                key: "bind".into(),
                reason: format!(
                    "expected HOST:PORT such as 127.0.0.1:8080, got {:?}",
                    self.bind
                ),
            });
        }
        Ok(())
    }

    /// Reads `path` (or `./hongdun.toml` when present), the process environment and `flags`.
    pub fn load(path: Option<&Path>, flags: &Flags) -> Result<Config, ConfigError> {
        let (path, required) = match path {
            Some(p) => (p.to_path_buf(), true),
            None => match std::env::var_os("HONGDUN_CONFIG") {
                Some(p) => (p.into(), true),
                None => ("hongdun.toml".into(), false),
            },
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => Some(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => None,
            Err(e) => {
                return Err(ConfigError::Read {
                    path: path.display().to_string(),
                    reason: e.to_string(),
                })
            }
        };
        let shown = path.display().to_string();
        Config::layer(
            text.as_deref().map(|t| (shown.as_str(), t)),
            &|k| std::env::var(k).ok(),
            flags,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn layers_override_in_order() {
        let file =
            "db = \"sqlite://file.db\"\nbind = \"127.0.0.1:9000\"\n[auth]\nlockout_threshold = 7\n";
        let c = Config::layer(Some(("t.toml", file)), &env(&[]), &Flags::default()).unwrap();
        assert_eq!(
            (c.db.as_str(), c.bind.as_str(), c.lockout_threshold),
            ("sqlite://file.db", "127.0.0.1:9000", 7)
        );
        let c = Config::layer(
            Some(("t.toml", file)),
            &env(&[("HONGDUN_DB", "sqlite://env.db")]),
            &Flags::default(),
        )
        .unwrap();
        assert_eq!(c.db, "sqlite://env.db");
        let flags = Flags {
            db: Some("sqlite://flag.db".into()),
            ..Default::default()
        };
        let c = Config::layer(
            Some(("t.toml", file)),
            &env(&[("HONGDUN_DB", "sqlite://env.db")]),
            &flags,
        )
        .unwrap();
        assert_eq!(c.db, "sqlite://flag.db");
        assert_eq!(c.bind, "127.0.0.1:9000");
        assert_eq!(c.upload_dir, None);
        let with_dir = "upload_dir = \"/var/lib/hongdun/uploads\"\n";
        let c = Config::layer(Some(("t.toml", with_dir)), &env(&[]), &Flags::default()).unwrap();
        assert_eq!(c.upload_dir, Some("/var/lib/hongdun/uploads".into()));
        let c = Config::layer(
            Some(("t.toml", with_dir)),
            &env(&[("HONGDUN_UPLOAD_DIR", "/srv/uploads")]),
            &Flags::default(),
        )
        .unwrap();
        assert_eq!(c.upload_dir, Some("/srv/uploads".into()));
    }

    #[test]
    fn clear_errors() {
        let e =
            Config::layer(Some(("t.toml", "dbb = 1")), &env(&[]), &Flags::default()).unwrap_err();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
        let e = Config::layer(
            None,
            &env(&[("HONGDUN_LOCKOUT_THRESHOLD", "x")]),
            &Flags::default(),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "HONGDUN_LOCKOUT_THRESHOLD: expected an integer, got \"x\""
        );
        let e = Config::layer(
            None,
            &env(&[("HONGDUN_DB", "mysql://u:pw@h/db")]),
            &Flags::default(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("mysql://u:***@h/db"), "{e}");
        assert!(!e.to_string().contains("pw"), "{e}");
        let e = Config::layer(
            None,
            &env(&[]),
            &Flags {
                bind: Some("8080".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("bind:"), "{e}");
    }

    #[test]
    fn passwords_never_print() {
        assert_eq!(
            redact_url("postgres://hd:s3cret@db.local:5432/hongdun"),
            "postgres://hd:***@db.local:5432/hongdun"
        );
        assert_eq!(
            redact_url("postgres://hd@db/x?password=s3cret&sslmode=require"),
            "postgres://hd@db/x?password=***&sslmode=require"
        );
        assert_eq!(redact_url("sqlite://hongdun.db"), "sqlite://hongdun.db");
        let c = Config {
            db: "postgres://a:topsecret@h/d".into(),
            ..Default::default()
        };
        assert!(!format!("{c:?}").contains("topsecret"));
    }

    proptest! {
        #[test]
        fn file_parser_never_panics(text in "\\PC{0,200}") {
            let _ = Config::layer(Some(("t.toml", &text)), &env(&[]), &Flags::default());
        }

        #[test]
        fn env_parser_never_panics(k in "HONGDUN_(DB|BIND|LOG|COOKIE_SECURE|SESSION_HOURS|LOCKOUT_THRESHOLD|LOCKOUT_MINUTES)", v in "\\PC{0,40}") {
            let _ = Config::layer(None, &env(&[(&k, &v)]), &Flags::default());
        }

        #[test]
        fn redaction_hides_any_password(user in "[a-z]{1,8}", pw in "[A-Z0-9!#%]{4,16}", host in "[a-z]{1,8}") {
            let url = format!("postgres://{user}:{pw}@{host}/db");
            prop_assert!(!redact_url(&url).contains(&pw));
        }
    }
}
