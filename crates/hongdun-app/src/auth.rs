//! Sign-in: argon2id password hashes, lock-out after repeated failures,
//! server-side sessions (the cookie holds a random secret; the database holds
//! only its SHA-256), CSRF tokens, and hashed API tokens for machine clients.
use crate::{App, AppError, AppResult, Credential, Principal};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use chrono::{Duration, Utc};
use hongdun_core::ids::UserId;
use hongdun_store::{AuditCtx, LoginOutcome, NewLoginLog, Session, StoreError, User};
use sha2::{Digest, Sha256};

/// Prefix of every API token, so a leaked one is recognisable in logs and scanners.
pub const TOKEN_PREFIX: &str = "hdt_";

/// What a successful sign-in hands to the HTTP layer.
pub struct SignedIn {
    /// The cookie value; shown once, stored only hashed.
    pub session_secret: String,
    pub csrf_token: String,
    pub user: User,
    pub max_age_secs: i64,
}

/// Where a request came from, for the sign-in log.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system's random source failed");
    hex::encode(buf)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Checks a new password against the policy (等保 style: length and variety).
pub fn check_password_policy(field: &str, pw: &str) -> AppResult<()> {
    let n = pw.chars().count();
    let classes = [
        pw.chars().any(|c| c.is_ascii_lowercase()),
        pw.chars().any(|c| c.is_ascii_uppercase()),
        pw.chars().any(|c| c.is_ascii_digit()),
        pw.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if !(8..=128).contains(&n) || classes < 3 {
        return Err(AppError::field(
            field,
            "password_weak",
            "密码长度须为 8–128 位，且包含大写字母、小写字母、数字、符号中的至少三类",
        ));
    }
    Ok(())
}

/// argon2id with the library's recommended parameters, off the async threads.
pub async fn hash_password(pw: &str) -> AppResult<String> {
    let pw = pw.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| AppError::Internal(e.to_string()))?;
        let salt = SaltString::encode_b64(&salt).map_err(|e| AppError::Internal(e.to_string()))?;
        Argon2::default()
            .hash_password(pw.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

async fn verify_password(pw: &str, hash: &str) -> bool {
    let (pw, hash) = (pw.to_owned(), hash.to_owned());
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|h| Argon2::default().verify_password(pw.as_bytes(), &h).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified against when the username is unknown so
/// that the answer takes as long as for a real account.
static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

impl App {
    pub(crate) async fn setting_i64(
        &self,
        key: &str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> i64 {
        match self.store.get_setting(key).await {
            Ok(s) => s
                .value
                .trim()
                .parse()
                .ok()
                .filter(|v| range.contains(v))
                .unwrap_or(default),
            Err(_) => default,
        }
    }

    pub(crate) async fn lockout_policy(&self) -> (i64, i64) {
        (
            self.setting_i64(
                "auth.lockout_threshold",
                self.config.lockout_threshold,
                3..=20,
            )
            .await,
            self.setting_i64(
                "auth.lockout_minutes",
                self.config.lockout_minutes,
                1..=1440,
            )
            .await,
        )
    }

    /// Signs a user in. Every attempt lands in the sign-in log.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        origin: &Origin,
    ) -> AppResult<SignedIn> {
        let username = username.trim();
        let log = |user: Option<&User>, outcome| NewLoginLog {
            username: username.chars().take(64).collect(),
            user_id: user.map(|u| u.id),
            unit_id: user.map(|u| u.unit_id),
            outcome,
            ip: origin.ip.clone(),
            user_agent: origin.user_agent.clone(),
        };
        let creds = match self.store.credentials(username).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => {
                if DUMMY_HASH.get().is_none() {
                    let h = hash_password(&random_hex(16)).await?;
                    let _ = DUMMY_HASH.set(h);
                }
                verify_password(password, DUMMY_HASH.get().map(String::as_str).unwrap_or("")).await;
                self.store
                    .log_login(&log(None, LoginOutcome::Failure))
                    .await?;
                return Err(AppError::BadCredentials);
            }
            Err(e) => return Err(e.into()),
        };
        let user = self.store.get_user_unscoped(creds.user_id).await?;
        let now = Utc::now();
        let (threshold, minutes) = self.lockout_policy().await;
        if let Some(until) = creds.locked_until.filter(|u| *u > now) {
            self.store
                .log_login(&log(Some(&user), LoginOutcome::Locked))
                .await?;
            return Err(AppError::AccountLocked {
                minutes: (until - now).num_minutes().max(1),
            });
        }
        if !verify_password(password, &creds.password_hash).await {
            let (_, locked) = self
                .store
                .register_login_failure(creds.user_id, threshold, now + Duration::minutes(minutes))
                .await?;
            if locked.is_some_and(|u| u > now) {
                self.store
                    .log_login(&log(Some(&user), LoginOutcome::Locked))
                    .await?;
                return Err(AppError::AccountLocked { minutes });
            }
            self.store
                .log_login(&log(Some(&user), LoginOutcome::Failure))
                .await?;
            return Err(AppError::BadCredentials);
        }
        if !creds.enabled {
            self.store
                .log_login(&log(Some(&user), LoginOutcome::Disabled))
                .await?;
            return Err(AppError::AccountDisabled);
        }
        self.store.register_login_success(creds.user_id).await?;
        let hours = self
            .setting_i64("auth.session_hours", self.config.session_hours, 1..=720)
            .await;
        let secret = random_hex(32);
        let csrf = random_hex(32);
        self.store
            .create_session(&Session {
                id_hash: sha256_hex(&secret),
                user_id: creds.user_id,
                csrf_token: csrf.clone(),
                created_at: now,
                expires_at: now + Duration::hours(hours),
                ip: origin.ip.clone(),
            })
            .await?;
        self.store
            .log_login(&log(Some(&user), LoginOutcome::Success))
            .await?;
        Ok(SignedIn {
            session_secret: secret,
            csrf_token: csrf,
            user,
            max_age_secs: hours * 3600,
        })
    }

    pub async fn logout(&self, p: &Principal, origin: &Origin) -> AppResult<()> {
        if let Credential::Session { id_hash, .. } = &p.credential {
            self.store.delete_session(id_hash).await?;
            self.store
                .log_login(&NewLoginLog {
                    username: p.user.username.clone(),
                    user_id: Some(p.user.id),
                    unit_id: Some(p.user.unit_id),
                    outcome: LoginOutcome::Logout,
                    ip: origin.ip.clone(),
                    user_agent: origin.user_agent.clone(),
                })
                .await?;
        }
        Ok(())
    }

    /// A staff account acting from the command line (the demo loader, `hongdun
    /// import complaints`): its roles and scope apply as if it had signed in.
    pub async fn principal_of(&self, username: &str) -> AppResult<Principal> {
        let c = match self.store.credentials(username).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => {
                return Err(AppError::field(
                    "user",
                    "not_found",
                    format!("没有用户 {username}"),
                ))
            }
            Err(e) => return Err(e.into()),
        };
        self.principal_for(
            c.user_id,
            Credential::Session {
                id_hash: String::new(),
                csrf_token: String::new(),
            },
            &Origin::default(),
        )
        .await
    }

    pub(crate) async fn principal_for(
        &self,
        user_id: UserId,
        credential: Credential,
        origin: &Origin,
    ) -> AppResult<Principal> {
        let user = match self.store.get_user_unscoped(user_id).await {
            Ok(u) => u,
            Err(StoreError::NotFound) => return Err(AppError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        if !user.enabled {
            return Err(AppError::Unauthenticated);
        }
        let roles = self.store.roles_of_user(user_id).await?;
        Ok(Principal {
            user,
            roles,
            credential,
            request_id: origin.request_id.clone(),
            ip: origin.ip.clone(),
        })
    }

    /// The caller behind a session cookie.
    pub async fn session_principal(&self, secret: &str, origin: &Origin) -> AppResult<Principal> {
        let id_hash = sha256_hex(secret);
        let s = match self.store.get_session(&id_hash, Utc::now()).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => return Err(AppError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        self.principal_for(
            s.user_id,
            Credential::Session {
                id_hash,
                csrf_token: s.csrf_token,
            },
            origin,
        )
        .await
    }

    /// The caller behind `Authorization: Bearer hdt_…`.
    pub async fn token_principal(&self, token: &str, origin: &Origin) -> AppResult<Principal> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(AppError::Unauthenticated);
        }
        let t = match self.store.token_by_hash(&sha256_hex(token)).await {
            Ok(t) => t,
            Err(StoreError::NotFound) => return Err(AppError::Unauthenticated),
            Err(e) => return Err(e.into()),
        };
        let now = Utc::now();
        if t.revoked_at.is_some() || t.expires_at.is_some_and(|e| e <= now) {
            return Err(AppError::Unauthenticated);
        }
        // Recording use is best-effort: a busy database must not fail the request.
        if t.last_used_at
            .is_none_or(|at| now - at > Duration::minutes(1))
        {
            if let Err(e) = self.store.touch_token(t.id, now).await {
                tracing::warn!(error = %e, "could not record token use");
            }
        }
        self.principal_for(
            t.user_id,
            Credential::Token {
                id: t.id,
                permissions: t.permissions,
            },
            origin,
        )
        .await
    }

    /// The caller changes their own password; every session of theirs ends.
    pub async fn change_password(&self, p: &Principal, old: &str, new: &str) -> AppResult<()> {
        let creds = self.store.credentials(&p.user.username).await?;
        if !verify_password(old, &creds.password_hash).await {
            return Err(AppError::field(
                "old_password",
                "password_wrong",
                "原密码不正确",
            ));
        }
        check_password_policy("new_password", new)?;
        if old == new {
            return Err(AppError::field(
                "new_password",
                "password_unchanged",
                "新密码不能与原密码相同",
            ));
        }
        let hash = hash_password(new).await?;
        self.store
            .set_password(&p.audit_ctx(), p.user.id, &hash, false)
            .await?;
        Ok(())
    }

    /// Sets a password from the command line (`hongdun user passwd`).
    pub async fn set_password_cli(&self, username: &str, new: &str) -> AppResult<()> {
        check_password_policy("password", new)?;
        let creds = self.store.credentials(username).await?;
        let hash = hash_password(new).await?;
        self.store
            .set_password(&AuditCtx::system("cli"), creds.user_id, &hash, false)
            .await?;
        Ok(())
    }
}
