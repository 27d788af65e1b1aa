//! Text search for short documents in Chinese and English without database extensions.
//!
//! Text is normalised (lowercased, full-width ASCII folded to ASCII) and a query is cut into
//! terms: latin words, and CJK runs as overlapping character bigrams, since Chinese puts no
//! spaces between words. The database pre-filters candidates with `LIKE` on the normalised
//! text; [`rank`] scores them here, where title hits weigh more than tag hits, and tag hits
//! more than body hits.

/// At most this many terms of a query are used; the rest are ignored.
pub const MAX_TERMS: usize = 16;
/// Only the start of a long query (a plugin may pass a whole ticket) is tokenized.
const MAX_QUERY_CHARS: usize = 2_000;

/// The weight of a term found in the title, in a tag, and in the body.
const TITLE_WEIGHT: u32 = 10;
const TAG_WEIGHT: u32 = 5;
const BODY_WEIGHT: u32 = 1;
/// Body occurrences past this many add nothing, so a long article cannot win by repetition.
const BODY_HITS_COUNTED: u32 = 3;

/// English words too common to tell articles apart.
const STOPWORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from",
    "has", "have", "how", "i", "if", "in", "is", "it", "its", "me", "my", "no", "not", "of", "on",
    "or", "our", "so", "that", "the", "then", "there", "this", "to", "was", "we", "what", "when",
    "where", "which", "who", "why", "will", "with", "you", "your",
];

/// Chinese function characters; they split CJK runs like punctuation does, so bigrams such
/// as `我的` or `了吗` never become terms.
const CJK_STOP_CHARS: &str = "的了是我你他她它们在和与吗呢吧啊也就都很这那么";

/// `text` lowercased, with full-width ASCII (`ＡＢＣ１２３`) folded to ASCII.
pub fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `c` is written without spaces between words (Han, kana, Hangul).
fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF      // hiragana, katakana
        | 0x3400..=0x4DBF    // CJK extension A
        | 0x4E00..=0x9FFF    // CJK unified ideographs
        | 0xAC00..=0xD7AF    // Hangul syllables
        | 0xF900..=0xFAFF    // CJK compatibility ideographs
        | 0x20000..=0x2FFFF) // CJK extensions B and later
}

/// What a character is to the tokenizer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Letters and digits of space-separated scripts.
    Latin,
    /// CJK characters other than function characters.
    Cjk,
    /// Everything else: spaces, punctuation, CJK function characters.
    Separator,
}

fn kind(c: char) -> Kind {
    if is_cjk(c) {
        if CJK_STOP_CHARS.contains(c) {
            Kind::Separator
        } else {
            Kind::Cjk
        }
    } else if c.is_alphanumeric() {
        Kind::Latin
    } else {
        Kind::Separator
    }
}

/// The search terms of `query`, in order of first appearance, without duplicates, at most
/// [`MAX_TERMS`]. Latin words (letters and digits) are lowercased and kept when they have two
/// or more characters and are not stopwords; a CJK run becomes its character bigrams, or
/// itself when it is one character long.
pub fn terms(query: &str) -> Vec<String> {
    let start: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let chars: Vec<char> = normalize(&start).chars().collect();
    let mut terms: Vec<String> = Vec::new();
    let mut push = |term: String| {
        if terms.len() < MAX_TERMS && !terms.contains(&term) {
            terms.push(term);
        }
    };
    for run in chars.chunk_by(|a, b| kind(*a) == kind(*b)) {
        match kind(run[0]) {
            Kind::Latin => {
                let word: String = run.iter().collect();
                if run.len() >= 2 && !STOPWORDS.contains(&word.as_str()) {
                    push(word);
                }
            }
            Kind::Cjk if run.len() == 1 => push(run[0].to_string()),
            Kind::Cjk => run.windows(2).for_each(|pair| push(pair.iter().collect())),
            Kind::Separator => {}
        }
    }
    terms
}

/// A `LIKE` pattern matching `term` anywhere, with `\` as the escape character.
pub fn like_pattern(term: &str) -> String {
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The parts of a document that are searched, each weighed differently.
#[derive(Clone, Copy, Debug)]
pub struct Document<'a> {
    pub title: &'a str,
    pub tags: &'a [String],
    pub body: &'a str,
}

/// How well a document matches a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Match {
    /// Higher is better; 0 means no term matched.
    pub score: u32,
    /// How many of the query's distinct terms the document contains anywhere.
    pub matched_terms: usize,
    /// A short piece of the body around the first body hit, or its start.
    pub excerpt: String,
}

/// Scores `document` against `terms` (from [`terms`]).
pub fn rank(document: Document<'_>, terms: &[String], excerpt_chars: usize) -> Match {
    let title = normalize(document.title);
    let tags: Vec<String> = document.tags.iter().map(|tag| normalize(tag)).collect();
    let body = normalize(document.body);
    let mut score = 0;
    let mut matched_terms = 0;
    let mut first_body_hit: Option<usize> = None;
    for term in terms {
        let before = score;
        if title.contains(term.as_str()) {
            score += TITLE_WEIGHT;
        }
        if tags.iter().any(|tag| tag.contains(term.as_str())) {
            score += TAG_WEIGHT;
        }
        if let Some(at) = body.find(term.as_str()) {
            first_body_hit = Some(first_body_hit.map_or(at, |first| first.min(at)));
            let counted = body.matches(term.as_str()).take(BODY_HITS_COUNTED as usize);
            score += BODY_WEIGHT * counted.count() as u32;
        }
        if score > before {
            matched_terms += 1;
        }
    }
    // Normalising can change byte lengths (e.g. `İ`), so the hit offset is found in the
    // normalised body and mapped back by character count.
    let hit_char = first_body_hit.map(|at| body[..at].chars().count());
    Match {
        score,
        matched_terms,
        excerpt: excerpt(document.body, hit_char, excerpt_chars),
    }
}

/// The fewest query terms a document must contain before an answer is sent on its
/// strength alone (an auto-reply to a customer): one shared Chinese bigram, such as 异响
/// in a door-noise complaint and a brake-noise article, is not enough.
pub const CONFIDENT_TERMS: usize = 2;

/// Whether a match of `matched` terms out of `query_terms` is strong enough to answer a
/// customer without an agent: at least [`CONFIDENT_TERMS`], or every term of a shorter
/// query.
pub fn confident(matched: usize, query_terms: usize) -> bool {
    matched >= CONFIDENT_TERMS.min(query_terms)
}

/// About `max_chars` characters of `body` around character `hit` (or from its start), on one
/// line, with `…` where text was cut.
pub fn excerpt(body: &str, hit: Option<usize>, max_chars: usize) -> String {
    let flat: Vec<char> = body
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .collect();
    // Whitespace collapsing shifts offsets; the hit is approximate and only picks a window.
    let hit = hit.unwrap_or(0).min(flat.len());
    let start = hit.saturating_sub(max_chars / 4);
    let start = if flat.len() <= max_chars { 0 } else { start };
    let end = (start + max_chars).min(flat.len());
    let start = end.saturating_sub(max_chars);
    let mut text: String = flat[start..end].iter().collect();
    if start > 0 {
        text.insert(0, '…');
    }
    if end < flat.len() {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod confidence_tests {
    use super::*;

    #[test]
    fn one_shared_bigram_is_not_a_confident_answer_but_several_terms_are() {
        let brake = Document {
            title: "刹车异响或踏板发软怎么办",
            tags: &[],
            body: "踏板发软时请立即靠边停车。",
        };
        let door = terms("车门异响");
        let found = rank(brake, &door, 40);
        assert!(found.score > 0);
        assert_eq!(found.matched_terms, 1);
        assert!(!confident(found.matched_terms, door.len()));

        let pedal = terms("刹车踏板发软");
        let found = rank(brake, &pedal, 40);
        assert!(found.matched_terms >= 2);
        assert!(confident(found.matched_terms, pedal.len()));
        assert!(confident(1, 1), "a one-term query needs its one term");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc<'a>(title: &'a str, tags: &'a [String], body: &'a str) -> Document<'a> {
        Document { title, tags, body }
    }

    #[test]
    fn latin_words_are_lowercased_and_stopwords_dropped() {
        assert_eq!(
            terms("How do I fix the Brake NOISE?"),
            vec!["fix", "brake", "noise"]
        );
    }

    #[test]
    fn cjk_runs_become_bigrams_and_single_chars_stay() {
        assert_eq!(terms("刹车异响"), vec!["刹车", "车异", "异响"]);
        assert_eq!(terms("车"), vec!["车"]);
    }

    #[test]
    fn mixed_text_splits_at_script_changes_and_function_chars() {
        assert_eq!(
            terms("我的CarPlay连不上了"),
            vec!["carplay", "连不", "不上"]
        );
    }

    #[test]
    fn full_width_letters_fold_to_ascii() {
        assert_eq!(terms("ＣａｒＰｌａｙ"), vec!["carplay"]);
    }

    #[test]
    fn duplicate_terms_are_dropped_and_the_count_is_capped() {
        assert_eq!(terms("brake brake BRAKE"), vec!["brake"]);
        let long = (0..40).map(|i| format!("word{i}")).collect::<Vec<_>>();
        assert_eq!(terms(&long.join(" ")).len(), MAX_TERMS);
    }

    #[test]
    fn queries_without_usable_terms_have_none() {
        assert!(terms("").is_empty());
        assert!(terms("  ?! 的 the a ").is_empty());
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern("50%_off"), "%50\\%\\_off%");
        assert_eq!(like_pattern("a\\b"), "%a\\\\b%");
    }

    #[test]
    fn title_hits_outrank_tag_hits_which_outrank_body_hits() {
        let terms = terms("brake");
        let none: Vec<String> = Vec::new();
        let tagged = vec!["brake".to_owned()];
        let in_title = rank(doc("Brake noise", &none, "Squeal."), &terms, 80);
        let in_tag = rank(doc("Noise", &tagged, "Squeal."), &terms, 80);
        let in_body = rank(doc("Noise", &none, "The brake squeals."), &terms, 80);
        assert!(in_title.score > in_tag.score);
        assert!(in_tag.score > in_body.score);
        assert!(in_body.score > 0);
    }

    #[test]
    fn repeated_body_hits_are_capped() {
        let terms = terms("brake");
        let none: Vec<String> = Vec::new();
        let body = "brake ".repeat(50);
        let many = rank(doc("Noise", &none, &body), &terms, 80);
        assert_eq!(many.score, BODY_HITS_COUNTED * BODY_WEIGHT);
    }

    #[test]
    fn chinese_query_matches_chinese_text() {
        let terms = terms("充电桩无法充电");
        let none: Vec<String> = Vec::new();
        let hit = rank(
            doc("家用充电桩故障", &none, "充电桩指示灯闪红时请重启。"),
            &terms,
            80,
        );
        assert!(hit.score >= TITLE_WEIGHT);
        let miss = rank(doc("保养预约", &none, "在 App 中预约保养。"), &terms, 80);
        assert_eq!(miss.score, 0);
    }

    #[test]
    fn excerpt_is_cut_around_the_first_body_hit() {
        let body = format!("{} brake pads {}", "intro ".repeat(40), "outro ".repeat(40));
        let none: Vec<String> = Vec::new();
        let found = rank(doc("t", &none, &body), &terms("pads"), 40);
        assert!(found.excerpt.contains("pads"), "{}", found.excerpt);
        assert!(found.excerpt.starts_with('…') && found.excerpt.ends_with('…'));
    }

    #[test]
    fn short_bodies_are_their_own_excerpt() {
        assert_eq!(excerpt("两行\n文本", None, 80), "两行 文本");
        assert_eq!(excerpt("充电桩充电故障说明", Some(3), 4), "…桩充电故…");
    }
}
