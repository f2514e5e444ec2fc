//! Message templates: `{name}` placeholders filled in, for the SPA's catalogs and the
//! worker's texts (both read the same `i18n/` files).

/// `template` with each `{name}` replaced by `value(name)`. A placeholder `value` does not
/// know, and a `{` that opens none, stay as they are.
pub fn fill<S: AsRef<str>>(template: &str, value: impl Fn(&str) -> Option<S>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, value(&after[..close])?)))
        {
            Some((close, filled)) => {
                out.push_str(filled.as_ref());
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with<'a>(args: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<&'a str> {
        move |name| args.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
    }

    #[test]
    fn placeholders_are_filled_and_the_rest_kept() {
        assert_eq!(
            fill("{a} and {b}", with(&[("b", "2"), ("a", "1")])),
            "1 and 2"
        );
        assert_eq!(fill("{a} of {a}", with(&[("a", "x")])), "x of x");
        assert_eq!(fill("{missing} stays", with(&[])), "{missing} stays");
        assert_eq!(fill("a { b", with(&[("b", "x")])), "a { b");
        assert_eq!(fill("{x {b}", with(&[("b", "2")])), "{x 2");
        assert_eq!(fill("no braces", with(&[("a", "x")])), "no braces");
        assert_eq!(fill("{n} rows", |_| Some(String::from("3"))), "3 rows");
    }
}
