//! How a failed command's error reads: the context chain on one line, each
//! cause once.

/// Like anyhow's `{:#}` (every cause, joined by `: `), except a cause whose
/// text its parent's message already contains is left out. Library errors
/// often say `"...: {0}"` *and* expose the same error as their source, which
/// `{:#}` would print twice ("No such file or directory (os error 2): No such
/// file or directory (os error 2)").
pub fn error_chain(err: &anyhow::Error) -> String {
    let messages: Vec<String> = err.chain().map(ToString::to_string).collect();
    dedup_chain(&messages)
}

/// Pure part of [`error_chain`]: `messages` from outermost to innermost.
/// Each is compared with its immediate parent only; a cause the parent
/// repeated is skipped, but its own causes are still compared with it.
fn dedup_chain(messages: &[String]) -> String {
    let mut shown: Vec<&str> = Vec::with_capacity(messages.len());
    let mut parent: Option<&str> = None;
    for message in messages {
        let message = message.trim();
        let repeated = parent.is_some_and(|p| message.is_empty() || p.contains(message));
        if !repeated {
            shown.push(message);
        }
        parent = Some(message);
    }
    shown.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_cause_the_parent_already_says_is_printed_once() {
        let chain = strings(&[
            "reading the vault",
            "cannot read /v: No such file or directory (os error 2)",
            "No such file or directory (os error 2)",
        ]);
        assert_eq!(
            dedup_chain(&chain),
            "reading the vault: cannot read /v: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn distinct_causes_are_all_kept_in_order() {
        let chain = strings(&["loading configuration", "config file /x does not exist"]);
        assert_eq!(
            dedup_chain(&chain),
            "loading configuration: config file /x does not exist"
        );
    }

    #[test]
    fn a_skipped_cause_still_hides_what_it_repeated() {
        // outer includes middle, middle includes inner: only outer is shown.
        let chain = strings(&[
            "db: migrate: io: refused",
            "migrate: io: refused",
            "io: refused",
        ]);
        assert_eq!(dedup_chain(&chain), "db: migrate: io: refused");
    }

    #[test]
    fn matches_anyhow_for_a_real_chain() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let text = io.to_string();
        #[derive(Debug)]
        struct Doubling(std::io::Error);
        impl std::fmt::Display for Doubling {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "cannot open: {}", self.0)
            }
        }
        impl std::error::Error for Doubling {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = anyhow::Error::new(Doubling(io)).context("outer");
        assert_eq!(format!("{err:#}").matches(text.as_str()).count(), 2);
        assert_eq!(error_chain(&err).matches(text.as_str()).count(), 1);
        assert_eq!(error_chain(&err), format!("outer: cannot open: {text}"));
    }
}
