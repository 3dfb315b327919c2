//! A small deterministic generator, so benchmark runs are comparable: the same input every run.

/// An xorshift generator; seed it with anything but zero.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn word(&mut self) -> String {
        const WORDS: [&str; 16] = [
            "invoice", "customer", "total", "pending", "paid", "overdue", "acme", "globex", "draft", "sent", "amount",
            "due", "tax", "line", "item", "project",
        ];
        format!("{}{}", WORDS[self.below(16) as usize], self.below(1000))
    }
}
