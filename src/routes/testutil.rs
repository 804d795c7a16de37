//! Deterministic randomness for the property tests of the route parsers: a xorshift
//! generator, so failures reproduce from the seed without adding a crate.

/// Marsaglia's xorshift64*: fast, deterministic and good enough to explore inputs.
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// Random bytes, biased towards the punctuation parsers care about.
    pub fn bytes(&mut self, len: usize, alphabet: &[u8]) -> Vec<u8> {
        (0..len)
            .map(|_| {
                if self.chance(70) { *self.pick(alphabet) } else { (self.next_u64() & 0xff) as u8 }
            })
            .collect()
    }

    /// Random text of up to `max_len` bytes (lossily decoded, so it may hold U+FFFD).
    pub fn text(&mut self, max_len: usize, alphabet: &[u8]) -> String {
        let len = self.below(max_len + 1);
        String::from_utf8_lossy(&self.bytes(len, alphabet)).into_owned()
    }

    /// A copy of `text` with a few random edits: bytes deleted, duplicated, swapped for
    /// punctuation, or spans repeated. The result may not be UTF-8; callers use
    /// `String::from_utf8_lossy` to feed it to a `&str` parser.
    pub fn mutate(&mut self, text: &[u8], alphabet: &[u8]) -> Vec<u8> {
        let mut out = text.to_vec();
        for _ in 0..=self.below(4) {
            let len = out.len();
            let at = self.below(len + 1);
            match self.below(5) {
                0 if at < len => {
                    out.remove(at);
                }
                1 => out.insert(at, *self.pick(alphabet)),
                2 if at < len => out[at] = *self.pick(alphabet),
                3 if len > 0 => {
                    let start = self.below(len);
                    let end = (start + self.below(16)).min(len);
                    let span = out[start..end].to_vec();
                    let at = self.below(out.len() + 1);
                    out.splice(at..at, span);
                }
                _ => out.truncate(at),
            }
        }
        out
    }
}
