//! Fixed-window request counters per client IP and per account (an email address or a user
//! id), in memory (GoTrue keeps its per-IP limits in memory too).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What is being limited. Like GoTrue's limiters, each bucket counts on its own, even where
/// two share a setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Bucket {
    /// Password sign-ins per email address (localbase's own addition; GoTrue counts them per IP
    /// only, in `Token`).
    SignIn,
    /// `POST /token`, both grants (GoTrue's `limiterOpts.Token`).
    Token,
    /// `POST /signup` (`limiterOpts.Signups`).
    Signup,
    /// `PUT /user` (`limiterOpts.User`).
    User,
    /// `POST /recover`, `/otp`, `/magiclink` (`limiterOpts.Recover`, `Otp`, `MagicLink`).
    Otp,
    /// `GET/POST /verify` (`limiterOpts.Verify`).
    Verify,
    /// `POST /factors/{id}/challenge` (`limiterOpts.FactorChallenge`).
    Challenge,
    /// `POST /factors/{id}/verify` (`limiterOpts.FactorVerify`).
    FactorVerify,
    /// Mails sent (`limiterOpts.Email`), and the spacing of mails to one address.
    Email,
}

/// Per (bucket, IP or `account:<id>`): when the current window started and how many requests it has seen.
type Windows = HashMap<(Bucket, String), (Instant, u32)>;

/// Shared counters: cloning shares them.
#[derive(Clone, Default)]
pub struct RateLimiter {
    windows: Arc<Mutex<Windows>>,
}

impl std::fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimiter").finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// Counts one request from `key` (an IP or an account); false when the window's `limit` is
    /// already used up.
    pub fn allow(&self, bucket: Bucket, key: &str, limit: u32, window_secs: u64) -> bool {
        self.check(bucket, key, limit, window_secs).is_ok()
    }

    /// Like [`RateLimiter::allow`], telling how long until the window ends when refused.
    pub fn check(
        &self,
        bucket: Bucket,
        key: &str,
        limit: u32,
        window_secs: u64,
    ) -> Result<(), Duration> {
        let now = Instant::now();
        let window = Duration::from_secs(window_secs.max(1));
        let mut windows = match self.windows.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if windows.len() > 10_000 {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry((bucket, key.to_owned())).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= limit {
            return Err(window.saturating_sub(now.duration_since(entry.0)));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_allows_its_limit_then_refuses() {
        let limiter = RateLimiter::default();
        assert!(limiter.allow(Bucket::SignIn, "1.2.3.4", 2, 60));
        assert!(limiter.allow(Bucket::SignIn, "1.2.3.4", 2, 60));
        assert!(!limiter.allow(Bucket::SignIn, "1.2.3.4", 2, 60));
        // Other IPs and other buckets have their own counters.
        assert!(limiter.allow(Bucket::SignIn, "5.6.7.8", 2, 60));
        assert!(limiter.allow(Bucket::Email, "1.2.3.4", 2, 60));
        assert!(limiter.check(Bucket::Email, "account:a", 1, 60).is_ok());
        let left = limiter
            .check(Bucket::Email, "account:a", 1, 60)
            .expect_err("the second mail waits");
        assert!(left.as_secs() <= 60 && left.as_secs() >= 59);
    }
}
