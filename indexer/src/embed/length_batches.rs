//! Which inputs share a forward pass. A batch is padded to its longest
//! member, so mixing a 10-token chunk with a 250-token one makes the short
//! one cost 250 tokens of attention and matmuls; grouping inputs of similar
//! length first removes most of that padding.
//!
//! A batch is also capped in padded tokens, not only in inputs: the
//! attention tensors grow with batch × length², and on a small CPU a pass
//! over a few long chunks runs faster (and in far less memory) than one over
//! 32 of them, while short chunks still share a pass by the dozen.

/// Splits input indices into batches, shortest inputs first: at most
/// `batch_size` inputs and at most `max_tokens` padded tokens (inputs ×
/// longest) per batch, but always at least one input. Every index in
/// `0..lengths.len()` appears exactly once.
pub fn by_length(lengths: &[usize], batch_size: usize, max_tokens: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable: equal lengths keep input order, so runs are reproducible.
    order.sort_by_key(|&i| lengths[i]);
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        // Ascending order: the newcomer is the batch's longest member.
        let padded = (current.len() + 1) * lengths[i];
        if !current.is_empty() && (current.len() >= batch_size.max(1) || padded > max_tokens) {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

/// Padded tokens a plan costs: each batch pays its longest member per row.
pub fn padded_tokens(lengths: &[usize], batches: &[Vec<usize>]) -> usize {
    batches
        .iter()
        .map(|b| b.len() * b.iter().map(|&i| lengths[i]).max().unwrap_or(0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_hold_similar_lengths_and_every_input_once() {
        let lengths = [250, 10, 12, 240, 11, 245];
        let batches = by_length(&lengths, 3, usize::MAX);
        assert_eq!(batches, vec![vec![1, 4, 2], vec![3, 5, 0]]);
        let mut all: Vec<usize> = batches.concat();
        all.sort_unstable();
        assert_eq!(all, (0..lengths.len()).collect::<Vec<_>>());
    }

    #[test]
    fn sorting_cuts_padding() {
        let lengths = [250, 10, 12, 240, 11, 245];
        let naive: Vec<Vec<usize>> = vec![vec![0, 1, 2], vec![3, 4, 5]];
        assert_eq!(padded_tokens(&lengths, &naive), 3 * 250 + 3 * 245);
        assert_eq!(
            padded_tokens(&lengths, &by_length(&lengths, 3, usize::MAX)),
            3 * 12 + 3 * 250
        );
    }

    #[test]
    fn a_last_short_batch_and_a_zero_batch_size() {
        assert_eq!(
            by_length(&[3, 2, 1], 2, usize::MAX),
            vec![vec![2, 1], vec![0]]
        );
        assert_eq!(by_length(&[1, 2], 0, usize::MAX), vec![vec![0], vec![1]]);
        assert!(by_length(&[], 8, 1024).is_empty());
    }

    #[test]
    fn the_token_budget_keeps_long_inputs_in_small_batches() {
        // 20-token inputs: 8 fit in 160 tokens; 100-token ones: one at a time.
        let lengths = [100, 20, 20, 20, 20, 20, 20, 20, 20, 20, 100];
        let batches = by_length(&lengths, 32, 160);
        assert_eq!(
            batches.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![8, 1, 1, 1]
        );
        for b in &batches {
            let longest = b.iter().map(|&i| lengths[i]).max().unwrap_or(0);
            assert!(b.len() == 1 || b.len() * longest <= 160);
        }
    }

    #[test]
    fn an_input_longer_than_the_budget_still_gets_its_own_batch() {
        assert_eq!(by_length(&[500, 10], 8, 100), vec![vec![1], vec![0]]);
    }
}
