//! Sentence vectors from a transformer's token vectors, the way
//! sentence-transformers builds them for all-MiniLM-L6-v2 (its `Pooling`
//! module with `pooling_mode_mean_tokens`, then `Normalize`): the mean of the
//! token vectors the attention mask keeps, scaled to unit length.

/// Mean-pools one row of `hidden` (`seq` token vectors of `dim` floats,
/// row-major) over the tokens whose `mask` is 1, then L2-normalises.
/// Padding tokens must not dilute the mean, so they are skipped, not zeroed.
pub fn mean_pool_normalised(hidden: &[f32], mask: &[i64], dim: usize) -> Vec<f32> {
    let mut sum = vec![0f32; dim];
    let mut count = 0usize;
    for (token, &keep) in hidden.chunks_exact(dim).zip(mask) {
        if keep != 0 {
            count += 1;
            sum.iter_mut().zip(token).for_each(|(s, t)| *s += t);
        }
    }
    // sentence-transformers clamps the count at 1e-9: an all-padding row
    // (impossible with [CLS] and [SEP]) would give zeros, not NaN.
    let count = (count as f32).max(1e-9);
    sum.iter_mut().for_each(|s| *s /= count);
    normalise(&mut sum);
    sum
}

/// Scales `v` to unit length; torch's `F.normalize` clamps the norm at 1e-12.
fn normalise(v: &mut [f32]) {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    v.iter_mut().for_each(|x| *x /= norm);
}

/// Cosine similarity of two vectors (1.0 for identical directions).
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let na = a.iter().map(|x| x * x).sum::<f32>().sqrt();
    let nb = b.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (na * nb).max(1e-12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_does_not_dilute_the_mean() {
        // Tokens (3, 0) and (1, 0) kept, a huge padding vector skipped:
        // the mean (2, 0) normalises to (1, 0).
        let hidden = [3.0, 0.0, 1.0, 0.0, 100.0, 100.0];
        let v = mean_pool_normalised(&hidden, &[1, 1, 0], 2);
        assert_eq!(v, vec![1.0, 0.0]);
    }

    #[test]
    fn result_has_unit_length_and_the_mean_direction() {
        let hidden = [1.0, 2.0, 3.0, 4.0];
        let v = mean_pool_normalised(&hidden, &[1, 1], 2);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6);
        // Mean (2, 3): direction 2/√13, 3/√13.
        assert!((v[0] - 2.0 / 13f32.sqrt()).abs() < 1e-6);
        assert!((v[1] - 3.0 / 13f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn an_all_padding_row_is_zeros_not_nan() {
        let v = mean_pool_normalised(&[5.0, 5.0], &[0], 2);
        assert_eq!(v, vec![0.0, 0.0]);
    }

    #[test]
    fn cosine_of_same_and_orthogonal_vectors() {
        assert!((cosine(&[1.0, 2.0], &[2.0, 4.0]) - 1.0).abs() < 1e-6);
        assert!(cosine(&[1.0, 0.0], &[0.0, 3.0]).abs() < 1e-6);
    }
}
