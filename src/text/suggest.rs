//! "Did you mean …?": the accepted name closest to a mistyped one.
//!
//! Use `closest` wherever an error names something unknown (a scenario field or choice, a
//! summary metric in an `expect` assertion) so that every message suggests by the same rule.
//! This module knows nothing of where the names come from and never decides whether a name is
//! valid: it only ranks candidates.

/// The candidate closest to `name` by edit distance, ignoring case, when it is close enough to
/// be a typo: at most a third of `name`'s characters apart, and always within 2 edits. Ties go
/// to the candidate met first.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let lower = name.to_lowercase();
    let (best, distance) = candidates
        .into_iter()
        .map(|candidate| (candidate, edit_distance(&lower, &candidate.to_lowercase())))
        .min_by_key(|&(_, d)| d)?;
    let limit = (name.chars().count() / 3).max(2);
    (distance <= limit).then(|| best.to_string())
}

/// Levenshtein distance between two strings, counted in characters: the fewest insertions,
/// deletions and substitutions that turn `a` into `b`.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_insertions_deletions_substitutions() {
        let cases = [
            ("", "", 0),
            ("abc", "abc", 0),
            ("abc", "abd", 1),
            ("abc", "ab", 1),
            ("ab", "abc", 1),
            ("", "abc", 3),
            ("kitten", "sitting", 3),
            ("µs", "us", 1),
        ];
        for (a, b, d) in cases {
            assert_eq!(edit_distance(a, b), d, "{a} -> {b}");
            assert_eq!(edit_distance(b, a), d, "{b} -> {a}");
        }
    }

    #[test]
    fn closest_suggests_only_near_names() {
        let allowed = ["least-waste", "most-pods", "random", "price", "priority"];
        // One deletion; case does not count.
        assert_eq!(
            closest("least-wast", allowed).as_deref(),
            Some("least-waste")
        );
        assert_eq!(closest("Price", allowed).as_deref(), Some("price"));
        // Short names still get 2 edits: "prise" -> "price" is 1, "rnadom" -> "random" is 2.
        assert_eq!(closest("rnadom", allowed).as_deref(), Some("random"));
        assert_eq!(closest("zzzzzzzzzz", allowed), None);
        assert_eq!(closest("x", []), None);
    }

    #[test]
    fn closest_helps_with_metric_paths() {
        let names = ["services.web.latency_ms.p99", "cost.total_usd"];
        // 3 edits in 24 characters (limit 8).
        assert_eq!(
            closest("services.web.latency.p99", names).as_deref(),
            Some("services.web.latency_ms.p99")
        );
        assert_eq!(closest("nothing.like.it.at.all.really", names), None);
    }

    #[test]
    fn ties_go_to_the_first_candidate() {
        assert_eq!(closest("ab", ["ax", "ay"]).as_deref(), Some("ax"));
        assert_eq!(closest("ab", ["ay", "ax"]).as_deref(), Some("ay"));
    }
}
