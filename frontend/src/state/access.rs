//! Who may see a page: pure decisions, so they are tested without a browser session. The
//! guard component (`app::guard`) applies them; [`Access`] is what each route
//! (`ui::route::Route`) requires.

use crate::api::query::encode;

/// What a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in user.
    SignedIn,
    /// A signed-in, active admin.
    Admin,
}

/// Who is visiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visitor {
    /// No session.
    SignedOut,
    /// A session that still needs its two-step code (`aal1`, the user has a verified
    /// factor): not signed in yet, the database shows it nothing.
    NeedsCode,
    /// Signed in.
    SignedIn,
}

impl Visitor {
    /// Who holds `session` ([`crate::api::session::Session::needs_code`] decides).
    pub fn of(session: Option<&crate::api::session::Session>) -> Self {
        match session {
            None => Self::SignedOut,
            Some(session) if session.needs_code() => Self::NeedsCode,
            Some(_) => Self::SignedIn,
        }
    }
}

/// What to do with a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Show the page.
    Render,
    /// Send the visitor to this sign-in URL (which brings them back afterwards).
    Redirect(String),
    /// Send the visitor to the code step at this URL (which brings them back afterwards).
    NeedsCode(String),
    /// Signed in but not allowed: say so.
    Forbidden,
    /// The role is not known yet (profile loading).
    Wait,
}

/// Decides a visit to `path` (path + query) given who is there. `is_admin` is `None`
/// while the profile is loading. The code step is the sign-in page: it asks for the code
/// while the session needs one.
pub fn decide(access: Access, visitor: Visitor, is_admin: Option<bool>, path: &str) -> Decision {
    match (access, visitor) {
        (Access::Public, _) => Decision::Render,
        (_, Visitor::SignedOut) => Decision::Redirect(login_url(path)),
        (_, Visitor::NeedsCode) => Decision::NeedsCode(login_url(path)),
        (Access::SignedIn, Visitor::SignedIn) => Decision::Render,
        (Access::Admin, Visitor::SignedIn) => match is_admin {
            None => Decision::Wait,
            Some(true) => Decision::Render,
            Some(false) => Decision::Forbidden,
        },
    }
}

/// `/auth/login?next=<path>`.
pub fn login_url(next: &str) -> String {
    format!("/auth/login?next={}", encode(next))
}

/// Where to go after signing in: `next` when it is a path of this site, else the
/// dashboard. (`//evil.example` and `https://…` are refused: no open redirect.)
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.starts_with("/\\")
                && !path.starts_with("/auth/") =>
        {
            path.to_owned()
        }
        _ => "/dashboard".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn visitors_go_to_sign_in_and_back() {
        assert_eq!(
            decide(
                Access::SignedIn,
                Visitor::SignedOut,
                None,
                "/tasks?status=failed"
            ),
            Decision::Redirect("/auth/login?next=%2Ftasks%3Fstatus%3Dfailed".into())
        );
        assert_eq!(
            decide(Access::Admin, Visitor::SignedOut, None, "/admin"),
            Decision::Redirect("/auth/login?next=%2Fadmin".into())
        );
        assert_eq!(
            decide(Access::Public, Visitor::SignedOut, None, "/"),
            Decision::Render
        );
    }

    #[wasm_bindgen_test]
    fn admins_only_on_admin_pages() {
        assert_eq!(
            decide(Access::SignedIn, Visitor::SignedIn, None, "/tasks"),
            Decision::Render
        );
        assert_eq!(
            decide(Access::Admin, Visitor::SignedIn, None, "/admin"),
            Decision::Wait
        );
        assert_eq!(
            decide(Access::Admin, Visitor::SignedIn, Some(false), "/admin"),
            Decision::Forbidden
        );
        assert_eq!(
            decide(Access::Admin, Visitor::SignedIn, Some(true), "/admin"),
            Decision::Render
        );
    }

    #[wasm_bindgen_test]
    fn a_session_that_needs_its_code_goes_to_the_code_step() {
        for (access, path) in [
            (Access::SignedIn, "/dashboard"),
            (Access::SignedIn, "/tasks"),
            (Access::Admin, "/admin/users"),
        ] {
            // Whatever the profile says: an admin at aal1 is not an admin yet.
            for is_admin in [None, Some(true), Some(false)] {
                assert_eq!(
                    decide(access, Visitor::NeedsCode, is_admin, path),
                    Decision::NeedsCode(login_url(path)),
                    "{path}"
                );
            }
        }
        assert_eq!(
            decide(Access::SignedIn, Visitor::NeedsCode, None, "/tasks?q=x"),
            Decision::NeedsCode("/auth/login?next=%2Ftasks%3Fq%3Dx".into())
        );
        // The sign-in and reset pages are where the code is asked.
        assert_eq!(
            decide(Access::Public, Visitor::NeedsCode, None, "/auth/login"),
            Decision::Render
        );
    }

    #[wasm_bindgen_test]
    fn visitors_follow_the_sessions_assurance() {
        // {"sub":"x","aal":"aal1"} / {"sub":"x","aal":"aal2"}
        let aal1 = "e30.eyJzdWIiOiJ4IiwiYWFsIjoiYWFsMSJ9.s";
        let aal2 = "e30.eyJzdWIiOiJ4IiwiYWFsIjoiYWFsMiJ9.s";
        let user = |status: &str| crate::api::session::AuthUser {
            id: uuid::Uuid::nil(),
            email: None,
            user_metadata: serde_json::Value::Null,
            app_metadata: serde_json::Value::Null,
            factors: Some(vec![crate::api::session::Factor {
                id: "f".into(),
                factor_type: "totp".into(),
                status: status.into(),
                friendly_name: None,
                created_at: None,
            }]),
        };
        let session = |token: &str, status: &str| crate::api::session::Session {
            access_token: token.into(),
            refresh_token: "r".into(),
            expires_at: 0,
            user: user(status),
        };
        assert_eq!(Visitor::of(None), Visitor::SignedOut);
        assert_eq!(
            Visitor::of(Some(&session(aal1, "verified"))),
            Visitor::NeedsCode
        );
        assert_eq!(
            Visitor::of(Some(&session(aal1, "unverified"))),
            Visitor::SignedIn
        );
        assert_eq!(
            Visitor::of(Some(&session(aal2, "verified"))),
            Visitor::SignedIn
        );
    }

    #[wasm_bindgen_test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next(Some("/tasks/abc")), "/tasks/abc");
        assert_eq!(safe_next(Some("//evil.example/x")), "/dashboard");
        assert_eq!(safe_next(Some("https://evil.example")), "/dashboard");
        assert_eq!(safe_next(Some("/auth/login")), "/dashboard");
        assert_eq!(safe_next(None), "/dashboard");
    }
}
