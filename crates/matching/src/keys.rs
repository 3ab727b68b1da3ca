//! Name tokens and their cross-script representations.
//!
//! A name is normalised (the registry's search key: case folded, Arabic and
//! Persian letter variants unified, vowel marks, tatweel and zero-width
//! characters removed), split into words, and each word gets a **consonant
//! skeleton**: a short string over one alphabet of sound classes computed
//! the same way from Arabic script and from Latin spellings, so that محمد,
//! Mohammad and Muhammad all give `MHMD`, and مسعود, Masoud and Mas'ud give
//! `MSD`. Short vowels are not written in Arabic script and are spelled in
//! many ways in Latin, so the skeleton keeps consonants only; letters that
//! Latin spellings render in several ways share a class (ق/غ/گ/ک and q, g,
//! gh, k; ذ/ز/ض/ظ and z, dh).

use lantern_domain::text::search_key;
use std::sync::Arc;

/// Particles and honorifics: they carry little evidence about who someone
/// is, so they weigh little (al-, bin, ibn, seyed, haj …).
const PARTICLES: &[&str] = &[
    "al",
    "el",
    "ul",
    "bin",
    "ben",
    "ibn",
    "bint",
    "abu",
    "abou",
    "um",
    "umm",
    "seyed",
    "seyyed",
    "sayed",
    "sayyid",
    "syed",
    "sayid",
    "haj",
    "hajj",
    "haji",
    "hajji",
    "mirza",
    "mulla",
    "molla",
    "mullah",
    "sheikh",
    "shaikh",
    "ال",
    "بن",
    "ابن",
    "بنت",
    "ابو",
    "ام",
    "سید",
    "سيد",
    "حاج",
    "حاجی",
    "میرزا",
    "ملا",
    "شیخ",
];

/// One word of a name, shared: a registry of millions uses a few tens of
/// thousands of distinct words, and [`crate::Matcher`] keeps one copy of
/// each (each record holds a pointer to it), so the index fits in memory
/// and scoring reads words already in the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token(Arc<Word>);

impl std::ops::Deref for Token {
    type Target = Word;
    fn deref(&self) -> &Word {
        &self.0
    }
}

/// What a [`Token`] knows of its word.
#[derive(Debug, PartialEq, Eq)]
pub struct Word {
    /// The normalised word.
    pub text: String,
    /// Its consonant skeleton.
    pub skeleton: String,
    /// True for particles and honorifics.
    pub particle: bool,
    /// Written in Arabic script.
    pub arabic: bool,
    /// For a Latin word with a v inside it, its skeleton with that v as
    /// an f (see [`v_as_f`]).
    pub(crate) v_as_f: Option<Box<[u8]>>,
    /// Its [`sounds`], ASCII, compared as bytes across scripts.
    pub(crate) sounds: Box<[u8]>,
    /// The word's characters, kept for comparisons (which run millions of
    /// times and should not decode UTF-8 each time; the skeleton is ASCII
    /// and compared as bytes).
    pub(crate) chars: Box<[char]>,
    /// The name-dictionary groups the word belongs to, as the index of
    /// their set (see [`Token::group_ids`]; 0 when the dictionary does not
    /// know it).
    pub(crate) groups: u32,
    /// A hash of the text, for numbering names by their words (see
    /// `name_hash` in the crate root).
    pub(crate) hash: u64,
}

impl Token {
    /// True when both are the one shared copy of a word (see
    /// [`crate::Matcher`]), or the same word.
    pub(crate) fn same_word(&self, other: &Token) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.text == other.text
    }

    /// True when both are the one shared copy of a word.
    #[cfg(test)]
    pub(crate) fn is_shared_with(&self, other: &Token) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// True when the dictionary knows both words as forms of one name
    /// (مسعود and Massoud; Mohammad-Taghi and محمدتقی).
    pub fn same_name(&self, other: &Token) -> bool {
        let d = dictionary();
        match (d.sets.get(self.groups as usize), d.sets.get(other.groups as usize)) {
            (Some(a), Some(b)) if self.groups != 0 && other.groups != 0 => a.iter().any(|g| b.contains(g)),
            _ => false,
        }
    }

    /// The dictionary groups of this word (empty when it knows none).
    pub(crate) fn group_ids(&self) -> &'static [u32] {
        dictionary().sets.get(self.groups as usize).map_or(&[], |s| &s[..])
    }
}

/// The name-equivalence dictionary: person names with their Arabic-script
/// and Latin-script forms, derived from Wikidata by the rigour package
/// (`data/name-groups.txt`, `tools/derive-name-groups.py`; MIT licence,
/// `data/LICENSE.rigour-mit.txt`).
const GROUPS: &str = include_str!("../data/name-groups.txt");

/// The dictionary, read once: for each normalised word, the index of its
/// set of groups.
struct Dictionary {
    by_word: std::collections::HashMap<String, u32>,
    /// Sets of group numbers; index 0 is the empty set.
    sets: Vec<Box<[u32]>>,
}

fn dictionary() -> &'static Dictionary {
    static D: std::sync::OnceLock<Dictionary> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        let mut groups_of: std::collections::HashMap<String, Vec<u32>> = std::collections::HashMap::new();
        let lines = GROUPS.lines().filter(|l| !l.starts_with('#') && !l.is_empty());
        for (g, line) in lines.enumerate() {
            for form in line.split(',') {
                let key = search_key(form);
                if key.is_empty() || key.contains(' ') {
                    continue;
                }
                let word = without_article(&key).1.to_string();
                let set = groups_of.entry(word).or_default();
                if !set.contains(&(g as u32)) {
                    set.push(g as u32);
                }
            }
        }
        let mut sets: Vec<Box<[u32]>> = vec![Box::new([])];
        let mut index: std::collections::HashMap<Vec<u32>, u32> = std::collections::HashMap::new();
        let mut by_word = std::collections::HashMap::with_capacity(groups_of.len());
        for (word, set) in groups_of {
            let i = *index.entry(set.clone()).or_insert_with(|| {
                sets.push(set.into_boxed_slice());
                (sets.len() - 1) as u32
            });
            by_word.insert(word, i);
        }
        Dictionary { by_word, sets }
    })
}

/// A word with the Arabic definite article written together split off:
/// whether it was there, and the rest (`التمیمی` → `تمیمی`); short words
/// such as `الله` keep it.
fn without_article(word: &str) -> (bool, &str) {
    match word.strip_prefix("ال") {
        Some(rest) if rest.chars().count() >= 3 => (true, rest),
        _ => (false, word),
    }
}

/// Splits a name into tokens. Attached particles are split off (`al-Tamimi`,
/// `التمیمی`, `Abdollah` stays one word since it is a given name).
pub fn tokens(name: &str) -> Vec<Token> {
    let key = search_key(name);
    let mut out = Vec::new();
    for word in key.split(' ').filter(|w| !w.is_empty()) {
        // Arabic definite article written together with the word.
        let (article, rest) = without_article(word);
        if article {
            out.push(token("ال"));
        }
        out.push(token(rest));
    }
    out
}

fn token(text: &str) -> Token {
    use std::hash::{Hash, Hasher};
    let skeleton = skeleton(text);
    let mut hash = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hash);
    Token(Arc::new(Word {
        hash: hash.finish(),
        particle: PARTICLES.contains(&text),
        arabic: is_arabic(text),
        chars: text.chars().collect(),
        groups: dictionary().by_word.get(text).copied().unwrap_or(0),
        skeleton,
        sounds: sounds(text).into_bytes().into_boxed_slice(),
        v_as_f: v_as_f(text),
        text: text.to_string(),
    }))
}

/// The skeleton of a Latin word with a v inside it, that v read as an f:
/// Arabic script writes the v of a Persian name with و, a vowel letter
/// inside a word (Javad, جواد), and the v of a European name with ف
/// (Octave, اوکتاف). The skeleton follows the first; this is the second.
fn v_as_f(text: &str) -> Option<Box<[u8]>> {
    if is_arabic(text) || !text.chars().skip(1).any(|c| c == 'v') {
        return None;
    }
    let read: String = text
        .chars()
        .enumerate()
        .map(|(i, c)| if i > 0 && c == 'v' { 'f' } else { c })
        .collect();
    Some(skeleton(&read).into_bytes().into_boxed_slice())
}

/// True when the text has Arabic-script letters.
pub fn is_arabic(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c as u32, 0x0600..=0x06FF | 0x0750..=0x077F | 0xFB50..=0xFDFF | 0xFE70..=0xFEFF))
}

/// The consonant skeleton of one normalised word, from either script.
pub fn skeleton(word: &str) -> String {
    classes(word, false)
}

/// The word's sounds as far as its script writes them: the skeleton's
/// consonant classes with the vowels in between as `a`, `i` and `u` (Arabic
/// script writes its long vowels ا, و, ی; Latin writes every vowel), and
/// `e` for the vowel a final ه writes (a or e: فاطمه, Fatemeh, Fatima). Words
/// of two scripts with one skeleton still differ here (Annie is nearer آنی
/// than آنا), which breaks the skeleton's ties.
pub fn sounds(word: &str) -> String {
    classes(word, true)
}

/// The skeleton, or with `vowels` the sounds, of one normalised word.
fn classes(word: &str, vowels: bool) -> String {
    let raw = if is_arabic(word) {
        arabic_classes(word, vowels)
    } else {
        latin_classes(word, vowels)
    };
    // Doubled letters (shadda in Arabic, "mm" in Latin) count once.
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

fn arabic_classes(word: &str, vowels: bool) -> String {
    let chars: Vec<char> = word.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let initial = i == 0;
        let class = match c {
            'ب' | 'پ' => Some('B'),
            'ت' | 'ط' => Some('T'),
            'ث' | 'س' | 'ص' | 'ش' => Some('S'),
            'ج' => Some('J'),
            'چ' => Some('C'),
            'ح' | 'ه' | 'ة' => Some('H'),
            'خ' => Some('X'),
            'د' => Some('D'),
            'ذ' | 'ز' | 'ض' | 'ظ' | 'ژ' => Some('Z'),
            'ر' => Some('R'),
            'ف' => Some('F'),
            'ق' | 'غ' | 'ک' | 'ك' | 'گ' => Some('K'),
            'ل' => Some('L'),
            'م' => Some('M'),
            'ن' => Some('N'),
            // و and ی are consonants (v, y) only at the start of a word;
            // inside it they mostly write long vowels.
            'و' if initial => Some('V'),
            'ی' | 'ي' | 'ى' if initial => Some('Y'),
            // An alef before a long vowel at the start only carries it
            // (ایرین, Irene).
            'ا' if vowels && initial && matches!(chars.get(1), Some('و' | 'ی' | 'ي')) => None,
            'ا' | 'أ' | 'إ' | 'آ' if vowels => Some('a'),
            'و' if vowels => Some('u'),
            'ی' | 'ي' | 'ى' if vowels => Some('i'),
            _ => None,
        };
        if let Some(k) = class {
            out.push(k);
        }
    }
    // A final ه after a consonant is usually a vowel ending (فاطمه, Fatemeh).
    if out.ends_with('H') && chars.len() > 2 && chars.last() == Some(&'ه') {
        out.pop();
        // Which vowel it writes, a or e, the letter does not say.
        if vowels {
            out.push('e');
        }
    }
    out
}

fn latin_classes(word: &str, vowels: bool) -> String {
    let chars: Vec<char> = word.chars().filter(|c| c.is_alphanumeric()).collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        let pair = |a: char, b: char| c == a && next == Some(b);
        let (class, width) = if pair('t', 'c') && chars.get(i + 2) == Some(&'h') {
            (Some('C'), 3)
        } else if pair('k', 'h') {
            (Some('X'), 2)
        } else if pair('g', 'h') || pair('c', 'k') {
            (Some('K'), 2)
        } else if pair('s', 'h') {
            (Some('S'), 2)
        } else if pair('c', 'h') {
            (Some('C'), 2)
        } else if pair('z', 'h') || pair('d', 'h') {
            (Some('Z'), 2)
        } else if pair('t', 'h') {
            (Some('T'), 2)
        } else if pair('p', 'h') {
            (Some('F'), 2)
        } else if pair('d', 'j') {
            (Some('J'), 2)
        } else {
            let class = match c {
                'b' | 'p' => Some('B'),
                't' => Some('T'),
                's' => Some('S'),
                'j' => Some('J'),
                'h' => Some('H'),
                'x' => Some('X'),
                'd' => Some('D'),
                'z' => Some('Z'),
                'r' => Some('R'),
                'f' => Some('F'),
                'q' | 'k' | 'g' => Some('K'),
                'c' if matches!(next, Some('e' | 'i' | 'y')) => Some('S'),
                'c' => Some('K'),
                'l' => Some('L'),
                'm' => Some('M'),
                'n' => Some('N'),
                'v' | 'w' if i == 0 => Some('V'),
                'y' if i == 0 => Some('Y'),
                'a' if vowels => Some('a'),
                'e' | 'i' | 'y' if vowels => Some('i'),
                // Inside a word v and w are what Arabic script writes
                // with و, which stands for u there.
                'o' | 'u' | 'v' | 'w' if vowels => Some('u'),
                _ => None,
            };
            (class, 1)
        };
        if let Some(k) = class {
            out.push(k);
        }
        i += width;
    }
    // A final h after a vowel is a vowel ending (Fatemeh, Zahrah).
    if out.ends_with('H') && chars.len() > 2 && chars.last() == Some(&'h') && "aeiou".contains(chars[chars.len() - 2]) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sk(s: &str) -> String {
        skeleton(&search_key(s))
    }

    #[test]
    fn persian_and_latin_spellings_share_a_skeleton() {
        for group in [
            &["محمد", "Mohammad", "Muhammad", "Mohammed", "Mohamad"][..],
            &["مسعود", "Masoud", "Massoud", "Mas'ud", "Mas‘ud", "Masud"],
            &["حسینی", "Hosseini", "Hoseyni", "Husseini"],
            &["فاطمه", "Fatemeh", "Fatima"],
            &["قاسمی", "Ghasemi", "Qasemi", "Kasemi"],
            &["خدیجه", "Khadijeh", "Khadija"],
            &["جعفر", "Jafar", "Ja'far", "Jaafar"],
            &["رضا", "Reza", "Rza"],
            &["زهرا", "Zahra"],
        ] {
            let first = sk(group[0]);
            for name in &group[1..] {
                assert_eq!(sk(name), first, "{name} vs {}", group[0]);
            }
        }
    }

    #[test]
    fn the_sounds_keep_the_vowels_each_script_writes() {
        let so = |s: &str| sounds(&search_key(s));
        // The same skeleton, told apart by the long vowels written.
        assert_eq!(sk("Annie"), sk("آنا"));
        assert_eq!(sk("Annie"), sk("آنی"));
        assert_eq!(so("Annie"), so("آنی"));
        assert_ne!(so("Annie"), so("آنا"));
        // An alef that only carries a long vowel at the start is not one.
        assert_eq!(so("Irene"), "iRiNi");
        assert_eq!(so("ایرین"), "iRiN");
        assert_eq!(so("Emma"), so("إيما"));
        // Doubled letters count once; a vowel-ending h is dropped, a final
        // ه stands for the vowel it writes.
        assert_eq!(so("Massoud"), "MaSuD");
        assert_eq!(so("مسعود"), "MSuD");
        assert_eq!(so("Fatemeh"), "FaTiMi");
        assert_eq!(so("فاطمه"), "FaTMe");
    }

    #[test]
    fn a_latin_v_inside_a_word_is_also_read_as_an_f() {
        let read = |s: &str| v_as_f(&search_key(s)).map(|k| String::from_utf8(k.into_vec()).unwrap());
        assert_eq!(sk("Alves"), sk("ألیس"));
        assert_eq!(read("Alves"), Some(sk("ألفيس")));
        assert_eq!(read("Javad").as_deref(), Some("JFD"));
        assert_eq!(read("Vahid"), None, "an initial v is a consonant already");
        assert_eq!(read("جواد"), None);
    }

    #[test]
    fn arabic_letter_variants_do_not_matter() {
        assert_eq!(sk("علي"), sk("علی"));
        assert_eq!(sk("كريم"), sk("کریم"));
        assert_eq!(sk("مُحَمَّد"), sk("محمد"));
    }

    #[test]
    fn the_name_dictionary_joins_forms_of_one_name_across_scripts() {
        let word = |s: &str| tokens(s).remove(0);
        // Forms the skeleton alone would not join (a vowel written as a
        // consonant, a French spelling).
        assert!(word("Messaoud").same_name(&word("مسعود")));
        assert!(word("Masoud").same_name(&word("مسعود")));
        assert!(
            word("masʻūd").same_name(&word("Massoud")),
            "marks and modifier letters fold"
        );
        assert!(!word("Masoud").same_name(&word("Mahmoud")));
        assert!(
            !word("Zzyzzyx").same_name(&word("Zzyzzyx")),
            "unknown words are in no group"
        );
        // Every line of the derived file has an Arabic-script form first and
        // a Latin one after it.
        for line in GROUPS.lines().filter(|l| !l.starts_with('#')) {
            let forms: Vec<&str> = line.split(',').collect();
            assert!(
                forms.len() >= 2 && is_arabic(forms[0]) && !is_arabic(forms[forms.len() - 1]),
                "{line}"
            );
        }
    }

    #[test]
    fn particles_are_split_and_marked() {
        let t = tokens("Seyed Ali al-Tamimi");
        let parts: Vec<(&str, bool)> = t.iter().map(|t| (t.text.as_str(), t.particle)).collect();
        assert_eq!(
            parts,
            [("seyed", true), ("ali", false), ("al", true), ("tamimi", false)]
        );
        let t = tokens("علی التمیمی");
        assert_eq!(t.iter().filter(|t| t.particle).count(), 1);
        assert_eq!(t.last().unwrap().skeleton, sk("Tamimi"));
    }
}
