//! A fixed-capacity history that drops its oldest entry when full.

use std::collections::VecDeque;

#[derive(Debug, Clone)]
pub struct Ring<T> {
    items: VecDeque<T>,
    capacity: usize,
}

impl<T> Ring<T> {
    pub fn new(capacity: usize) -> Self {
        // Grow on demand: most containers never live long enough to fill a ring.
        Ring { items: VecDeque::new(), capacity: capacity.max(1) }
    }

    pub fn push(&mut self, item: T) {
        if self.items.len() == self.capacity {
            self.items.pop_front();
        }
        self.items.push_back(item);
    }

    /// Inserts `item` at `index` (0 is the oldest). A full ring then drops its oldest
    /// entry, which is the new one when it sorts first; returns whether one was dropped.
    pub fn insert(&mut self, index: usize, item: T) -> bool {
        let index = index.min(self.items.len());
        if self.items.len() < self.capacity {
            self.items.insert(index, item);
            return false;
        }
        if index > 0 {
            self.items.pop_front();
            self.items.insert(index - 1, item);
        }
        true
    }

    /// The first index whose item does not satisfy `before` (items must be partitioned).
    pub fn partition_point(&self, before: impl FnMut(&T) -> bool) -> usize {
        self.items.partition_point(before)
    }

    pub fn get(&self, index: usize) -> Option<&T> {
        self.items.get(index)
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn last(&self) -> Option<&T> {
        self.items.back()
    }

    /// Oldest first.
    pub fn iter_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut T> + ExactSizeIterator {
        self.items.iter_mut()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.items.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;

    #[test]
    fn drops_oldest_when_full() {
        let mut ring = Ring::new(3);
        for i in 0..5 {
            ring.push(i);
        }
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![2, 3, 4]);
        assert_eq!(ring.last(), Some(&4));
        assert_eq!(ring.len(), 3);
    }

    #[test]
    fn insert_keeps_order_and_capacity() {
        let mut ring = Ring::new(3);
        for i in [1, 3, 5] {
            ring.push(i);
        }
        let at = ring.partition_point(|x| *x <= 4);
        assert!(ring.insert(at, 4), "full: the oldest goes");
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![3, 4, 5]);
        assert!(ring.insert(0, 0), "older than everything kept: dropped at once");
        assert_eq!(ring.iter().copied().collect::<Vec<_>>(), vec![3, 4, 5]);
        let mut small = Ring::new(4);
        small.push(2);
        assert!(!small.insert(0, 1));
        assert_eq!(small.iter().copied().collect::<Vec<_>>(), vec![1, 2]);
    }
}
