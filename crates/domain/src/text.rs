//! Bounded free text and the normalised search key for names.

use unicode_normalization::UnicodeNormalization;

use crate::error::{FieldError, Reason};

/// Trims `raw` and checks it is at most `max` characters without control
/// characters (newlines are allowed only when `multiline`). Empty input gives
/// `None`, so optional fields stay optional.
pub fn optional_text(field: &str, raw: &str, max: usize, multiline: bool) -> Result<Option<String>, FieldError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if value.chars().count() > max {
        return Err(FieldError::new(field, Reason::TooLong { max }));
    }
    let bad = value
        .chars()
        .any(|c| c.is_control() && !(multiline && (c == '\n' || c == '\r' || c == '\t')));
    if bad {
        return Err(FieldError::new(field, Reason::ForbiddenCharacters));
    }
    Ok(Some(value.nfc().collect()))
}

/// Like [`optional_text`] but the value must be present.
pub fn required_text(field: &str, raw: &str, max: usize) -> Result<String, FieldError> {
    optional_text(field, raw, max, false)?.ok_or_else(|| FieldError::new(field, Reason::Required))
}

/// Zero-width non-joiner (U+200C): Persian writes compound parts with it
/// ("محمد‌رضا"); it must not split or change a search key.
const ZWNJ: char = '\u{200C}';
/// Arabic tatweel (U+0640), a purely typographic elongation.
const TATWEEL: char = '\u{0640}';

/// The key names are searched by (exact and prefix): compatibility
/// decomposition (NFKD, so "Ḥusayn" loses its dot like "مُحَمَّد" its vowels), case folded,
/// the Latin letters Unicode does not decompose spelled as names write them
/// in ASCII ([`ascii_spelling`]: Aydın as aydin, Łukasz as lukasz),
/// Arabic and Persian letter variants unified (ي/ى→ی, ك→ک, ة→ه, أ/إ/آ/ٱ→ا,
/// ؤ→و, ئ→ی), vowel marks, tatweel and zero-width characters removed,
/// apostrophes dropped, hyphens made spaces, Arabic-Indic digits made ASCII and
/// whitespace collapsed. Fuzzy and cross-script matching is the matching
/// engine's job; this key only makes spelling variants of the *same* script
/// meet.
pub fn search_key(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut last_space = true;
    for c in raw.nfkd().flat_map(char::to_lowercase) {
        if let Some(spelled) = ascii_spelling(c) {
            out.push_str(spelled);
            last_space = false;
            continue;
        }
        let mapped = match c {
            'ي' | 'ى' | 'ئ' => Some('ی'),
            'ك' => Some('ک'),
            'ة' => Some('ه'),
            'أ' | 'إ' | 'آ' | 'ٱ' => Some('ا'),
            'ؤ' => Some('و'),
            '٠'..='٩' => char::from_digit(c as u32 - '٠' as u32, 10),
            '۰'..='۹' => char::from_digit(c as u32 - '۰' as u32, 10),
            ZWNJ | '\u{200B}' | '\u{200D}' | '\u{FEFF}' | TATWEEL => None,
            '\'' | '’' | '‘' | 'ʼ' | 'ʻ' | '`' | '´' | 'ʿ' | 'ʾ' | '.' => None,
            // Arabic harakat, tanwin, shadda, sukun, superscript alef.
            '\u{064B}'..='\u{065F}' | '\u{0670}' => None,
            c if is_combining_mark(c) => None,
            c if c.is_whitespace() || matches!(c, ',' | '_' | '-' | '‐' | '/') => Some(' '),
            c => Some(c),
        };
        if let Some(m) = mapped {
            if m == ' ' {
                if !last_space {
                    out.push(' ');
                    last_space = true;
                }
            } else {
                out.push(m);
                last_space = false;
            }
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// How names write in ASCII a lower-case Latin letter that Unicode does
/// not decompose into a base letter and a mark, so that decomposition
/// leaves it whole where it takes é to e: a registrar typing Aydin or
/// Yildiz on a keyboard without Turkish letters must find Aydın and
/// Yıldız. Stored keys were made without it before schema version 24
/// (SQLite; 19 on PostgreSQL), whose migration folds them alike.
pub fn ascii_spelling(c: char) -> Option<&'static str> {
    Some(match c {
        'ł' => "l",
        // Serbian and Croatian đ is a dj (Đorđe, Djordje); Icelandic ð is
        // written d (Sigurðsson, Sigurdsson), þ th.
        'đ' => "dj",
        'ð' => "d",
        'þ' => "th",
        'ø' => "o",
        'æ' => "ae",
        'œ' => "oe",
        'ß' => "ss",
        // Turkish and Azerbaijani dotless ı.
        'ı' => "i",
        // Azerbaijani ə, written a in Latin (Məmmədov, Mammadov).
        'ə' => "a",
        'ħ' => "h",
        'ŋ' => "ng",
        _ => return None,
    })
}

/// Latin combining diacritics, stripped after decomposition.
fn is_combining_mark(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unifies_arabic_and_persian_letters() {
        assert_eq!(search_key("علي"), search_key("علی"));
        assert_eq!(search_key("كريم"), search_key("کریم"));
        assert_eq!(search_key("فاطمة"), search_key("فاطمه"));
        assert_eq!(search_key("أحمد"), search_key("احمد"));
    }

    #[test]
    fn removes_marks_tatweel_and_zwnj() {
        assert_eq!(search_key("مُحَمَّد"), search_key("محمد"));
        assert_eq!(search_key("محـــمد"), search_key("محمد"));
        assert_eq!(search_key("محمد\u{200C}رضا"), search_key("محمدرضا"));
    }

    #[test]
    fn folds_latin_case_apostrophes_and_diacritics() {
        assert_eq!(search_key("Mas'ud"), "masud");
        assert_eq!(search_key("Mas‘ud"), "masud");
        assert_eq!(search_key("  Ḥusayn   AL-Tikriti "), "husayn al tikriti");
    }

    #[test]
    fn letters_without_a_decomposition_are_spelled_in_ascii() {
        assert_eq!(search_key("Aydın YILDIZ"), "aydin yildiz");
        assert_eq!(search_key("Łukasz Søren Strauß"), "lukasz soren strauss");
        assert_eq!(search_key("Məmmədov Đorđe Þór"), "mammadov djordje thor");
        // The capital dotted İ decomposes into i and a dot, which goes.
        assert_eq!(search_key("İlkay"), "ilkay");
    }

    #[test]
    fn digits_become_ascii() {
        assert_eq!(search_key("۱۳۶۵"), "1365");
        assert_eq!(search_key("١٩٨٥"), "1985");
    }

    #[test]
    fn key_is_idempotent() {
        for s in ["Mohammad-Reza", "مُحَمَّد‌رضا", "ÉLODIE  d'Arc", "١٩٨٥", "Yıldız Łódź"] {
            let once = search_key(s);
            assert_eq!(search_key(&once), once, "{s}");
        }
    }

    #[test]
    fn text_limits_and_controls() {
        assert_eq!(optional_text("f", "  ", 5, false), Ok(None));
        assert_eq!(
            optional_text("f", "abcdef", 5, false).unwrap_err().reason,
            Reason::TooLong { max: 5 }
        );
        assert_eq!(
            optional_text("f", "a\u{0007}b", 5, false).unwrap_err().reason,
            Reason::ForbiddenCharacters
        );
        assert_eq!(optional_text("f", "a\nb", 5, true), Ok(Some("a\nb".to_string())));
        assert_eq!(
            optional_text("f", "a\nb", 5, false).unwrap_err().reason,
            Reason::ForbiddenCharacters
        );
        assert_eq!(required_text("f", "", 5).unwrap_err().reason, Reason::Required);
    }
}
