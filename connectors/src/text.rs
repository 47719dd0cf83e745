//! Text clean-up every rich-text converter (Confluence storage, Jira wiki
//! markup) ends with.

/// Joins lines into paragraphs: trailing white space cut, leading and
/// trailing blank lines dropped, and each run of blank lines (left by
/// dropped macros and elements) folded into one.
pub(crate) fn fold_blank_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> String {
    let mut text = String::new();
    let mut blank = false;
    for line in lines {
        let line = line.trim_end();
        if line.trim().is_empty() {
            blank = true;
            continue;
        }
        if !text.is_empty() {
            text.push_str(if blank { "\n\n" } else { "\n" });
        }
        blank = false;
        text.push_str(line);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_blank_lines_become_one_and_ends_are_trimmed() {
        let lines = ["", "  ", "a  ", "b", "", " \t", "", "c", ""];
        assert_eq!(fold_blank_lines(lines), "a\nb\n\nc");
        assert_eq!(fold_blank_lines(["", " "]), "");
    }
}
