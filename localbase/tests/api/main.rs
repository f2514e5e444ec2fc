//! localbase contract tests: one integration binary (zero2prod layout).
//! Each test gets a fresh database cloned from the seeded template and its own app.

mod attacks;
mod auth;
mod auth_hardening;
mod gateway;
mod helpers;
mod realtime;
mod rest;
mod storage;
