//! Accounts: the password rules, password hashing and checking (Argon2id, OWASP's minimum of
//! m = 19 MiB, t = 2, p = 1, run off the async threads), and the demo logins that
//! `serve --demo` creates and prints.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::delivery::impact::{Buckets, Scope};
use crate::delivery::replay;
use crate::store::rows::NewUser;
use crate::store::{Store, StoreError};

/// Argon2id with the parameters every password hash uses.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Password lengths accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// The 1,000 most common passwords, most common first: the start of the password frequency list
/// that zxcvbn 3.1.1 ships (`frequency_lists.rs`, MIT licence), one per line, lower case.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Why a password is refused, in words for the person choosing it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("the password is too short: at least {MIN_PASSWORD_CHARS} characters, this one has {0}")]
    TooShort(usize),
    #[error("the password is too long: at most {MAX_PASSWORD_CHARS} characters, this one has {0}")]
    TooLong(usize),
    #[error("the password is one of the 1,000 most common passwords; choose another")]
    Common,
}

/// Checks a new password against the rules: 8 to 128 characters, not a common password
/// (compared without regard to case).
pub fn check_password(password: &str) -> Result<(), PasswordError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort(chars));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(PasswordError::TooLong(chars));
    }
    let lower = password.to_lowercase();
    if COMMON_PASSWORDS.lines().any(|common| common == lower) {
        return Err(PasswordError::Common);
    }
    Ok(())
}

/// Hashes `password` into a PHC string, on a blocking thread.
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher().hash_password(password.as_bytes(), &salt).expect("Argon2 hashes any input").to_string()
    })
    .await
    .expect("the hashing thread does not panic")
}

/// A hash of a password nobody has, checked when the address is unknown so that an unknown
/// address and a wrong password take the same time.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(b"no one has this password", &salt).expect("Argon2 hashes any input").to_string()
});

/// Whether `password` matches `hash` (a PHC string); with no hash (unknown user), checks
/// against a decoy so that the answer takes as long. Runs on a blocking thread.
pub async fn verify_password(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| DECOY_HASH.clone());
        let matches = PasswordHash::new(&hash)
            .is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok());
        known && matches
    })
    .await
    .expect("the hashing thread does not panic")
}

/// Prepares the decoy hash ahead of the first login, so that it costs no first request.
pub fn warm_up() {
    LazyLock::force(&DECOY_HASH);
}

/// A login that demo mode creates.
pub struct DemoLogin {
    pub email: String,
    pub password: &'static str,
    pub who: String,
}

/// Creates the demo logins that do not exist yet: one staff member, and one user of the company
/// the reference incident hit hardest. Returns all of them, to print.
pub async fn ensure_demo_logins(store: &dyn Store) -> Result<Vec<DemoLogin>, StoreError> {
    let (from, to) = replay::window();
    let scope = Scope {
        error_class: Some(crate::delivery::impact::ErrorClass::SenderDomainUnverified),
        ..Scope::window(from, to)
    };
    let impact = store.impact(&scope, &Buckets::default()).await?;
    let mut logins = vec![(
        NewUser { company: None, email: "staff@demo.example".into(), name: "Demo Staff".into() },
        "demo-staff-password",
        "support staff".to_string(),
    )];
    if let Some(company) = impact.per_company.first() {
        logins.push((
            NewUser {
                company: Some(company.company.clone()),
                email: format!("pr@{}.example", company.company),
                name: "Demo PR".into(),
            },
            "demo-company-password",
            format!("user of {} ({}), hit by the reference incident", company.name, company.company),
        ));
    }
    let mut created = Vec::new();
    for (user, password, who) in logins {
        if store.user_by_email(&user.email).await?.is_none() {
            let hash = hash_password(password.to_string()).await;
            store.add_user(&user, &hash).await?;
        }
        created.push(DemoLogin { email: user.email, password, who });
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_follow_the_rules() {
        assert_eq!(check_password("short"), Err(PasswordError::TooShort(5)));
        assert_eq!(check_password("パスワード"), Err(PasswordError::TooShort(5)), "characters, not bytes");
        assert_eq!(check_password(&"x".repeat(129)), Err(PasswordError::TooLong(129)));
        assert_eq!(check_password("password"), Err(PasswordError::Common));
        assert_eq!(check_password("PassWord1"), Err(PasswordError::Common), "case does not matter");
        assert_eq!(check_password("qwertyuiop"), Err(PasswordError::Common));
        assert_eq!(check_password("1qaz2wsx3edc"), Err(PasswordError::Common), "the 1,000th");
        assert_eq!(check_password("correct horse battery"), Ok(()));
        assert_eq!(check_password(&"x".repeat(128)), Ok(()));
        assert_eq!(COMMON_PASSWORDS.lines().count(), 1_000);
    }

    #[tokio::test]
    async fn only_the_right_password_of_a_known_user_verifies() {
        let hash = hash_password("correct horse battery".into()).await;
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("correct horse batterY".into(), Some(hash)).await);
        assert!(!verify_password("no one has this password".into(), None).await, "the decoy never lets in");
        assert!(!verify_password("x".into(), Some("not a hash".into())).await);
    }

    #[tokio::test]
    async fn hashes_are_salted_argon2id_with_the_required_cost() {
        let a = super::hash_password("correct horse".into()).await;
        let b = super::hash_password("correct horse".into()).await;
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
    }
}
