//! Text as people type it: what an input method writes full-width means the same as its
//! half-width characters, in searches and dates alike.

/// `text` with full-width ASCII (`２０２１`, `ＡＢＣ`, the ideographic space) as its half-width
/// characters: what a Japanese input method types into a search or a date field means the same.
pub fn half_width(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::half_width;

    #[test]
    fn full_width_ascii_reads_as_half_width() {
        assert_eq!(half_width("２０２１－０２－２８"), "2021-02-28");
        assert_eq!(half_width("Ｎｏ．１１０２\u{3000}ｂｉｚ"), "No.1102 biz");
        assert_eq!(half_width("配信　停止"), "配信 停止");
        assert_eq!(half_width("ｶﾀｶﾅ カタカナ"), "ｶﾀｶﾅ カタカナ", "only ASCII's full-width forms");
    }
}
