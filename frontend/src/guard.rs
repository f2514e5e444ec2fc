//! Who may see a page: pure decisions, so they are tested without a browser session.

use crate::services::query::encode;

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

/// What to do with a visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Show the page.
    Render,
    /// Send the visitor to this sign-in URL (which brings them back afterwards).
    Redirect(String),
    /// Signed in but not allowed: say so.
    Forbidden,
    /// The role is not known yet (profile loading).
    Wait,
}

/// Decides a visit to `path` (path + query) given who is there. `is_admin` is `None`
/// while the profile is loading.
pub fn decide(access: Access, signed_in: bool, is_admin: Option<bool>, path: &str) -> Decision {
    match access {
        Access::Public => Decision::Render,
        _ if !signed_in => Decision::Redirect(login_url(path)),
        Access::SignedIn => Decision::Render,
        Access::Admin => match is_admin {
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
            decide(Access::SignedIn, false, None, "/tasks?status=failed"),
            Decision::Redirect("/auth/login?next=%2Ftasks%3Fstatus%3Dfailed".into())
        );
        assert_eq!(
            decide(Access::Admin, false, None, "/admin"),
            Decision::Redirect("/auth/login?next=%2Fadmin".into())
        );
        assert_eq!(decide(Access::Public, false, None, "/"), Decision::Render);
    }

    #[wasm_bindgen_test]
    fn admins_only_on_admin_pages() {
        assert_eq!(
            decide(Access::SignedIn, true, None, "/tasks"),
            Decision::Render
        );
        assert_eq!(decide(Access::Admin, true, None, "/admin"), Decision::Wait);
        assert_eq!(
            decide(Access::Admin, true, Some(false), "/admin"),
            Decision::Forbidden
        );
        assert_eq!(
            decide(Access::Admin, true, Some(true), "/admin"),
            Decision::Render
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
