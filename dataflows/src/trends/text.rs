//! Headline text → features: tokenisation, a generic English stopword list, light stemming.

/// The NLTK English stopword list (a standard list, not tuned to any data set).
pub const STOPWORDS: &[&str] = &[
    "i",
    "me",
    "my",
    "myself",
    "we",
    "our",
    "ours",
    "ourselves",
    "you",
    "you're",
    "you've",
    "you'll",
    "you'd",
    "your",
    "yours",
    "yourself",
    "yourselves",
    "he",
    "him",
    "his",
    "himself",
    "she",
    "she's",
    "her",
    "hers",
    "herself",
    "it",
    "it's",
    "its",
    "itself",
    "they",
    "them",
    "their",
    "theirs",
    "themselves",
    "what",
    "which",
    "who",
    "whom",
    "this",
    "that",
    "that'll",
    "these",
    "those",
    "am",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "have",
    "has",
    "had",
    "having",
    "do",
    "does",
    "did",
    "doing",
    "a",
    "an",
    "the",
    "and",
    "but",
    "if",
    "or",
    "because",
    "as",
    "until",
    "while",
    "of",
    "at",
    "by",
    "for",
    "with",
    "about",
    "against",
    "between",
    "into",
    "through",
    "during",
    "before",
    "after",
    "above",
    "below",
    "to",
    "from",
    "up",
    "down",
    "in",
    "out",
    "on",
    "off",
    "over",
    "under",
    "again",
    "further",
    "then",
    "once",
    "here",
    "there",
    "when",
    "where",
    "why",
    "how",
    "all",
    "any",
    "both",
    "each",
    "few",
    "more",
    "most",
    "other",
    "some",
    "such",
    "no",
    "nor",
    "not",
    "only",
    "own",
    "same",
    "so",
    "than",
    "too",
    "very",
    "s",
    "t",
    "can",
    "will",
    "just",
    "don",
    "don't",
    "should",
    "should've",
    "now",
    "d",
    "ll",
    "m",
    "o",
    "re",
    "ve",
    "y",
    "ain",
    "aren",
    "aren't",
    "couldn",
    "couldn't",
    "didn",
    "didn't",
    "doesn",
    "doesn't",
    "hadn",
    "hadn't",
    "hasn",
    "hasn't",
    "haven",
    "haven't",
    "isn",
    "isn't",
    "ma",
    "mightn",
    "mightn't",
    "mustn",
    "mustn't",
    "needn",
    "needn't",
    "shan",
    "shan't",
    "shouldn",
    "shouldn't",
    "wasn",
    "wasn't",
    "weren",
    "weren't",
    "won",
    "won't",
    "wouldn",
    "wouldn't",
];

fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w)
}

/// Folds a character: lowercase, typographic apostrophes to `'`, common Latin accents removed.
fn fold(c: char) -> Option<char> {
    let c = c.to_lowercase().next().unwrap_or(c);
    Some(match c {
        '\u{2019}' | '\u{2018}' | '\u{201a}' | '`' => '\'',
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' => 'a',
        'ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ý' | 'ÿ' => 'y',
        other => other,
    })
}

/// Light stemming: plural `-ies` → `-y`, and a final `-s` dropped (not after `s`, `u`, `i`).
pub fn stem(w: &str) -> String {
    if w.len() > 4 && w.ends_with("ies") {
        return format!("{}y", &w[..w.len() - 3]);
    }
    if w.len() > 3
        && w.ends_with('s')
        && !w.ends_with("ss")
        && !w.ends_with("us")
        && !w.ends_with("is")
    {
        return w[..w.len() - 1].to_string();
    }
    w.to_string()
}

/// Words of a headline: runs of `[a-z0-9]` joined by inner apostrophes, after folding; a
/// possessive `'s` is dropped, stopwords removed, remaining apostrophes removed, then stemmed.
pub fn tokens(title: &str) -> Vec<String> {
    let folded: String = title.chars().filter_map(fold).collect();
    let mut out = Vec::new();
    for word in split_words(&folded) {
        let mut w = word;
        if let Some(stripped) = w.strip_suffix("'s") {
            w = stripped;
        }
        if w.is_empty() || is_stopword(w) {
            continue;
        }
        let w = w.replace('\'', "");
        if w.is_empty() || is_stopword(&w) {
            continue;
        }
        out.push(stem(&w));
    }
    out
}

/// The features of a headline: its distinct tokens, sorted.
pub fn features(title: &str) -> Vec<String> {
    let mut f = tokens(title);
    f.sort();
    f.dedup();
    f
}

/// Splits on anything that is not `[a-z0-9]`, keeping apostrophes that sit between two
/// word characters (`[a-z0-9]+('[a-z0-9]+)*`).
fn split_words(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let is_word = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !is_word(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        loop {
            while i < bytes.len() && is_word(bytes[i]) {
                i += 1;
            }
            if i + 1 < bytes.len() && bytes[i] == b'\'' && is_word(bytes[i + 1]) {
                i += 1;
                continue;
            }
            break;
        }
        words.push(&text[start..i]);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenises_like_the_reference() {
        assert_eq!(
            tokens("GM's CEO Barra: \u{2018}We're sorry\u{2019} — Recalls rise in the U.S."),
            vec!["gm", "ceo", "barra", "sorry", "recall", "rise", "u"]
        );
        assert_eq!(
            tokens("Café owners' class-action"),
            vec!["cafe", "owner", "class", "action"]
        );
        assert_eq!(stem("companies"), "company");
        assert_eq!(stem("bus"), "bus");
        assert_eq!(stem("glass"), "glass");
    }
}
