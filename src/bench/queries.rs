//! The benchmark's queries, in permdex's query language, drawn from the corpus with a seed.
//!
//! Words are drawn with ranks log-uniform between 10 and 2000 (never the commonest, never the rarest), so
//! single words match from a few hundred to a few percent of documents and unions more. Phrases are two
//! adjacent words of a random document, so each matches at least that document. Operators are written out
//! (`OR`, `AND`) so every shape means the same whatever the language does with bare words.
//!
//! This file runs no query.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::corpus::Corpus;
use super::Error;

/// What a query looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Shape {
    /// One word.
    Word,
    /// Two words, either.
    Or,
    /// Two words, both.
    And,
    /// Two adjacent words.
    Phrase,
    /// Ten words, any.
    OrTen,
    /// The empty query: everything the caller may read, newest first.
    Browse,
    /// One word, with facet counts.
    Facets,
}

impl Shape {
    pub const ALL: [Shape; 7] =
        [Shape::Word, Shape::Or, Shape::And, Shape::Phrase, Shape::OrTen, Shape::Browse, Shape::Facets];

    pub fn name(self) -> &'static str {
        match self {
            Shape::Word => "word",
            Shape::Or => "or",
            Shape::And => "and",
            Shape::Phrase => "phrase",
            Shape::OrTen => "or10",
            Shape::Browse => "browse",
            Shape::Facets => "facets",
        }
    }

    /// How the report describes it.
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Word => "1 word",
            Shape::Or => "2-word OR",
            Shape::And => "2-word AND",
            Shape::Phrase => "phrase",
            Shape::OrTen => "10-word OR",
            Shape::Browse => "browse (newest first)",
            Shape::Facets => "1 word + facets",
        }
    }

    pub fn parse(name: &str) -> Result<Shape, Error> {
        Shape::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| {
            let known: Vec<&str> = Shape::ALL.iter().map(|s| s.name()).collect();
            Error::Parameter(format!("unknown query shape {name:?} (known: {})", known.join(", ")))
        })
    }

    /// Results ranked by `updated` rather than by score.
    pub fn by_updated(self) -> bool {
        self == Shape::Browse
    }

    pub fn facets(self) -> bool {
        self == Shape::Facets
    }
}

/// One query of the benchmark.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BenchQuery {
    pub shape: Shape,
    pub text: String,
}

/// `per_shape` distinct queries of each of `shapes`.
pub fn draw(corpus: &Corpus, shapes: &[Shape], per_shape: usize, seed: u64) -> Vec<BenchQuery> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x9e3779b9);
    let top = corpus.params.vocabulary.min(2000);
    let low = 10.min(top - 1);
    let word = |rng: &mut ChaCha8Rng| {
        let rank =
            (f64::from(low).ln() + rng.gen::<f64>() * (f64::from(top).ln() - f64::from(low).ln())).exp();
        corpus.word(rank as u32).to_string()
    };
    let mut out = Vec::new();
    for &shape in shapes {
        let mut seen = std::collections::HashSet::new();
        let mut attempts = 0;
        while seen.len() < per_shape && attempts < per_shape * 50 {
            attempts += 1;
            let text = match shape {
                Shape::Word | Shape::Facets => word(&mut rng),
                Shape::Or => format!("{} OR {}", word(&mut rng), word(&mut rng)),
                Shape::And => format!("{} AND {}", word(&mut rng), word(&mut rng)),
                Shape::OrTen => (0..10).map(|_| word(&mut rng)).collect::<Vec<_>>().join(" OR "),
                Shape::Phrase => {
                    let n = rng.gen_range(0..corpus.params.docs);
                    let (_, body) = corpus.text(n);
                    let words: Vec<&str> = body.split(' ').collect();
                    let i = rng.gen_range(0..words.len().saturating_sub(1).max(1));
                    match (words.get(i), words.get(i + 1)) {
                        (Some(a), Some(b)) if a != b => format!("\"{a} {b}\""),
                        _ => continue,
                    }
                }
                Shape::Browse => String::new(),
            };
            if shape == Shape::Browse {
                // There is one empty query: it is repeated, to time it as often as the others.
                out.extend((0..per_shape).map(|_| BenchQuery { shape, text: String::new() }));
                break;
            }
            if seen.insert(text.clone()) {
                out.push(BenchQuery { shape, text });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::corpus::CorpusParams;

    #[test]
    fn shapes_parse_by_name() {
        for shape in Shape::ALL {
            assert_eq!(Shape::parse(shape.name()).expect("known"), shape);
        }
        assert!(Shape::parse("fuzzy").is_err());
    }

    #[test]
    fn draws_distinct_queries_of_each_shape() {
        let corpus = Corpus::generate(&CorpusParams::sized(2000, 1)).expect("corpus");
        let queries = draw(&corpus, &Shape::ALL, 5, 1);
        for shape in Shape::ALL {
            let n = queries.iter().filter(|q| q.shape == shape).count();
            assert_eq!(n, 5, "{shape:?}");
        }
        assert!(queries.iter().any(|q| q.text.contains(" OR ")));
        assert!(queries.iter().any(|q| q.text.starts_with('"')));
        assert_eq!(queries, draw(&corpus, &Shape::ALL, 5, 1));
    }
}
