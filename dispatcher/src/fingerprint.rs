//! A community's fingerprint: one hash over its members' ids and content
//! hashes, so any edit, addition or removal changes it and nothing else does.

use sha2::{Digest, Sha256};

/// `sha256:<hex>` of the sorted `id\tcontent_hash` lines.
pub fn fingerprint<'a>(members: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut lines: Vec<(&str, &str)> = members.into_iter().collect();
    lines.sort_unstable();
    let mut hasher = Sha256::new();
    for (id, hash) in lines {
        hasher.update(id.as_bytes());
        hasher.update(b"\t");
        hasher.update(hash.as_bytes());
        hasher.update(b"\n");
    }
    format!("sha256:{}", hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_free_and_sensitive_to_content_and_membership() {
        let a = fingerprint([("a", "h1"), ("b", "h2")]);
        assert_eq!(a, fingerprint([("b", "h2"), ("a", "h1")]));
        assert_ne!(a, fingerprint([("a", "h1"), ("b", "h3")]));
        assert_ne!(a, fingerprint([("a", "h1")]));
        assert_ne!(a, fingerprint([("a", "h1"), ("b", "h2"), ("c", "h3")]));
        assert!(a.starts_with("sha256:"));
    }
}
