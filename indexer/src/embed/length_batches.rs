//! Which inputs share a forward pass. A batch is padded to its longest
//! member, so mixing a 10-token chunk with a 250-token one makes the short
//! one cost 250 tokens of attention and matmuls; grouping inputs of similar
//! length first removes most of that padding.

/// Splits input indices into batches of at most `batch_size`, shortest
/// inputs first. Every index in `0..lengths.len()` appears exactly once.
pub fn by_length(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // Stable: equal lengths keep input order, so runs are reproducible.
    order.sort_by_key(|&i| lengths[i]);
    order
        .chunks(batch_size.max(1))
        .map(<[usize]>::to_vec)
        .collect()
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
        let batches = by_length(&lengths, 3);
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
            padded_tokens(&lengths, &by_length(&lengths, 3)),
            3 * 12 + 3 * 250
        );
    }

    #[test]
    fn a_last_short_batch_and_a_zero_batch_size() {
        assert_eq!(by_length(&[3, 2, 1], 2), vec![vec![2, 1], vec![0]]);
        assert_eq!(by_length(&[1, 2], 0), vec![vec![0], vec![1]]);
        assert!(by_length(&[], 8).is_empty());
    }
}
