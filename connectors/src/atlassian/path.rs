//! Escaping of values that go into a REST path: issue keys, space keys,
//! page ids. They come from the server or the config, so anything that would
//! change the path (`/`, `..` with a slash, `?`, `#`, spaces) is escaped.

use std::fmt;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`)
/// is percent-encoded; non-ASCII text is encoded byte by byte as UTF-8.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// `segment` escaped to be one path segment (upper-case hex: `%2F`).
pub fn segment(segment: &str) -> impl fmt::Display + '_ {
    utf8_percent_encode(segment, PATH_SEGMENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_unreserved_characters_pass() {
        for b in 0u8..=0x7f {
            let c = char::from(b);
            let escaped = segment(&c.to_string()).to_string();
            if c.is_ascii_alphanumeric() || "-_.~".contains(c) {
                assert_eq!(escaped, c.to_string(), "{b:#04x}");
            } else {
                assert_eq!(escaped, format!("%{b:02X}"), "{b:#04x}");
            }
        }
        assert_eq!(segment("é/ü").to_string(), "%C3%A9%2F%C3%BC");
    }
}
