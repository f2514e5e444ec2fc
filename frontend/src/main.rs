//! The SPA's entry point: everything else is in the library, where tests can reach it.

fn main() {
    frontend::run();
}
