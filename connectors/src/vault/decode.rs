//! A note file's bytes as text: UTF-8 as is, anything else decoded with
//! replacement characters and flagged, and files that are not text at all
//! (an image or a PDF renamed to `.md`) recognised so they are skipped
//! instead of indexed as noise.

use std::borrow::Cow;

/// How much of the start of a file is sniffed for binary content (git
/// looks at the same amount).
const SNIFF_BYTES: usize = 8000;

/// Share of undecodable bytes, in percent, above which the sniffed start is
/// taken for binary rather than text in a legacy encoding (Latin-1 text has
/// a few invalid bytes per word at most; random data has about half).
const MAX_INVALID_PERCENT: usize = 30;

#[derive(Debug, PartialEq)]
pub enum Decoded<'a> {
    Text(Cow<'a, str>),
    /// Not valid UTF-8: invalid sequences became U+FFFD.
    Lossy(String),
    /// NUL bytes or mostly undecodable: not a note.
    Binary,
}

pub fn decode(bytes: &[u8]) -> Decoded<'_> {
    let sniff = &bytes[..bytes.len().min(SNIFF_BYTES)];
    if sniff.contains(&0) {
        return Decoded::Binary;
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Decoded::Text(Cow::Borrowed(text)),
        Err(_) => {
            let invalid: usize = sniff.utf8_chunks().map(|c| c.invalid().len()).sum();
            if invalid * 100 > sniff.len() * MAX_INVALID_PERCENT {
                Decoded::Binary
            } else {
                Decoded::Lossy(String::from_utf8_lossy(bytes).into_owned())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_text_is_borrowed_unchanged() {
        assert_eq!(
            decode("# Grüße\n".as_bytes()),
            Decoded::Text(Cow::Borrowed("# Grüße\n"))
        );
    }

    #[test]
    fn latin1_text_is_decoded_lossily() {
        assert_eq!(
            decode(b"Caf\xe9 au lait, cr\xe8me br\xfbl\xe9e\n"),
            Decoded::Lossy("Caf\u{fffd} au lait, cr\u{fffd}me br\u{fffd}l\u{fffd}e\n".into())
        );
    }

    #[test]
    fn nul_bytes_or_mostly_invalid_bytes_are_binary() {
        // A PNG header: NUL bytes right after the signature.
        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            Decoded::Binary
        );
        let noise: Vec<u8> = (0..4096u32).map(|i| (0x80 + i % 0x7f) as u8).collect();
        assert_eq!(decode(&noise), Decoded::Binary);
    }
}
