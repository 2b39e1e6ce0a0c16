//! `DefaultNormalizeScore`: the helper kube-scheduler's NodeAffinity and TaintToleration plugins
//! use to map raw per-node scores onto 0..=`MAX_NODE_SCORE`.
//!
//! Integer arithmetic exactly as in `pkg/scheduler/framework/plugins/helper/normalize_score.go`:
//! the division truncates, so normalized scores can tie where raw scores did not. Nothing else
//! lives here.

/// The highest score a plugin gives a node (`framework.MaxNodeScore`).
pub const MAX_NODE_SCORE: u64 = 100;

/// Normalizes raw scores in place over the candidate nodes, as kube-scheduler's
/// `DefaultNormalizeScore(MaxNodeScore, reverse, scores)`:
///
/// - if every score is 0, scores stay 0, or all become 100 when `reverse`;
/// - else each score becomes `score * 100 / max` (integer division), and with `reverse`
///   `100 - that`, so the node with the highest raw score gets 0.
///
/// `reverse` is for raw scores where less is better (TaintToleration counts untolerated taints).
pub fn default_normalize_score(scores: &mut [u64], reverse: bool) {
    let max = scores.iter().copied().max().unwrap_or(0);
    if max == 0 {
        if reverse {
            scores.fill(MAX_NODE_SCORE);
        }
        return;
    }
    for score in scores.iter_mut() {
        // u128 so that no raw score, however large, overflows the product; the quotient is at
        // most MAX_NODE_SCORE because score <= max.
        let scaled = (u128::from(MAX_NODE_SCORE) * u128::from(*score) / u128::from(max)) as u64;
        *score = if reverse {
            MAX_NODE_SCORE - scaled
        } else {
            scaled
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_kubernetes() {
        let cases: [(&[u64], bool, &[u64]); 9] = [
            // All zero: unchanged, or all MAX when reversed.
            (&[0, 0, 0], false, &[0, 0, 0]),
            (&[0, 0, 0], true, &[100, 100, 100]),
            // max = 2: 0*100/2 = 0, 1*100/2 = 50, 2*100/2 = 100.
            (&[0, 1, 2], false, &[0, 50, 100]),
            (&[0, 1, 2], true, &[100, 50, 0]),
            // max = 3: 1*100/3 = 33 (truncated), 2*100/3 = 66.
            (&[1, 2, 3], false, &[33, 66, 100]),
            (&[1, 2, 3], true, &[67, 34, 0]),
            // A single candidate with a non-zero raw score gets 100 (0 reversed).
            (&[7], false, &[100]),
            (&[7], true, &[0]),
            // No candidates at all.
            (&[], true, &[]),
        ];
        for (raw, reverse, want) in cases {
            let mut scores = raw.to_vec();
            default_normalize_score(&mut scores, reverse);
            assert_eq!(scores, want, "{raw:?} reverse={reverse}");
        }
    }

    #[test]
    fn huge_raw_scores_do_not_overflow() {
        let mut scores = [u64::MAX, u64::MAX / 2, 0];
        default_normalize_score(&mut scores, false);
        assert_eq!(scores, [100, 49, 0]);
    }
}
