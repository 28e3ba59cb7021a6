//! Seeded randomness for datasets and faults: SplitMix64, small and stable
//! across versions, so a seed gives the same data and the same fault
//! sequence on every machine and every release.

#[derive(Clone, Debug)]
pub struct SeededRng {
    state: u64,
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl SeededRng {
    pub fn new(seed: u64) -> SeededRng {
        SeededRng { state: mix(seed) }
    }

    /// An independent stream for item `index` of stream `stream`, so that
    /// document N is the same whatever the size of the dataset.
    pub fn for_item(seed: u64, stream: u64, index: u64) -> SeededRng {
        SeededRng::new(mix(
            seed ^ mix(stream.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ mix(index))
        ))
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_bounded() {
        let a: Vec<u64> = (0..5).map(|_| SeededRng::new(42).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut r = SeededRng::for_item(42, 1, 7);
        let mut s = SeededRng::for_item(42, 1, 7);
        for _ in 0..100 {
            let v = r.between(3, 9);
            assert_eq!(v, s.between(3, 9));
            assert!((3..=9).contains(&v));
            assert!(r.unit() < 1.0);
            s.unit();
        }
        assert_ne!(
            SeededRng::for_item(42, 1, 7).next_u64(),
            SeededRng::for_item(42, 1, 8).next_u64()
        );
    }
}
