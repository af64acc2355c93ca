//! Accounts: password hashing (Argon2id, OWASP's minimum of m = 19 MiB, t = 2, p = 1, run off the
//! async threads) and the demo logins that `serve --demo` creates and prints.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
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

/// Hashes `password` into a PHC string, on a blocking thread.
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        hasher().hash_password(password.as_bytes(), &salt).expect("Argon2 hashes any input").to_string()
    })
    .await
    .expect("the hashing thread does not panic")
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
        if !store.user_exists(&user.email).await? {
            let hash = hash_password(password.to_string()).await;
            store.add_user(&user, &hash).await?;
        }
        created.push(DemoLogin { email: user.email, password, who });
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn hashes_are_salted_argon2id_with_the_required_cost() {
        let a = super::hash_password("correct horse".into()).await;
        let b = super::hash_password("correct horse".into()).await;
        assert!(a.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{a}");
        assert_ne!(a, b, "each hash has its own salt");
    }
}
