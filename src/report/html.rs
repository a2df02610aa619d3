//! HTML escaping of text that comes from files or runs (names, units, the run's words).

/// `s` with `&`, `<` and `>` written as entities.
pub(crate) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
