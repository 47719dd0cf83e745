//! A file's path relative to the vault root as the text that goes into its
//! document id.
//!
//! A UTF-8 path is used exactly as it is, so existing ids never change. A
//! name that is not UTF-8 (Latin-1 names from an old archive, say) is
//! written with its invalid bytes percent-encoded (`%E9`) and its own `%`
//! signs as `%25`: two different names can never share an id, and the id
//! stays the same from run to run. Replacement characters would collapse
//! `caf\xe9.md` and `caf\xe8.md` into one id.

use std::path::Path;

use percent_encoding::{percent_encode, NON_ALPHANUMERIC};

/// The id text of `rel`, and whether any part of it had to be encoded.
pub fn rel_path_text(rel: &Path) -> (String, bool) {
    let mut encoded = false;
    let parts: Vec<String> = rel
        .components()
        .map(|c| {
            let os = c.as_os_str();
            match os.to_str() {
                Some(s) => s.to_string(),
                None => {
                    encoded = true;
                    percent_encode_invalid(os.as_encoded_bytes())
                }
            }
        })
        .collect();
    (parts.join("/"), encoded)
}

fn percent_encode_invalid(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        // Valid text stays as it is (so `Grüße` is not escaped); only its
        // `%` is, so that it cannot pass for an encoded byte.
        out.push_str(&chunk.valid().replace('%', "%25"));
        // Invalid bytes are never ASCII, and percent_encode escapes every
        // non-ASCII byte whatever the set.
        out.extend(percent_encode(chunk.invalid(), NON_ALPHANUMERIC));
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    use super::*;

    fn text(bytes: &[u8]) -> (String, bool) {
        rel_path_text(Path::new(OsStr::from_bytes(bytes)))
    }

    #[test]
    fn utf8_paths_are_unchanged() {
        assert_eq!(
            text("notes/Grüße 100%.md".as_bytes()),
            ("notes/Grüße 100%.md".into(), false)
        );
    }

    #[test]
    fn invalid_bytes_are_percent_encoded_and_distinct() {
        assert_eq!(text(b"dir/caf\xe9.md"), ("dir/caf%E9.md".into(), true));
        assert_eq!(text(b"dir/caf\xe8.md"), ("dir/caf%E8.md".into(), true));
        // A literal '%' in an encoded name cannot pass for an encoded byte.
        assert_eq!(text(b"50%\xff.md"), ("50%25%FF.md".into(), true));
        assert_eq!(text(b"\xe9t\xe9/n.md"), ("%E9t%E9/n.md".into(), true));
    }
}
