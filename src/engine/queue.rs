//! The pending-event set: a binary min-heap of events keyed by packed `(time, sequence)`.
//!
//! Use it through `Clock`; it is public only so that benchmarks can measure it alone. It
//! allocates only when the number of simultaneously pending events reaches a new maximum.

/// A min-queue of events ordered by time, then by insertion order.
///
/// Each entry carries a `u128` key, the time in its high 64 bits and an insertion sequence
/// number in its low 64 bits, so the heap compares one integer per step and ties at equal times
/// resolve in insertion order: the total order that makes runs reproducible. Payloads are
/// small `Copy` values stored inline beside their keys, so there is no side table to maintain.
#[derive(Debug)]
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
}

#[derive(Debug, Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    /// An empty queue.
    pub fn new() -> Self {
        EventQueue {
            heap: Vec::new(),
            next_seq: 0,
        }
    }

    /// Adds `event` at `time` (microseconds).
    #[inline]
    pub fn push(&mut self, time: u64, event: E) {
        let key = (u128::from(time) << 64) | u128::from(self.next_seq);
        self.next_seq += 1;
        let entry = Entry { key, event };
        // Sift up from the new leaf, moving parents down into the hole.
        let mut hole = self.heap.len();
        self.heap.push(entry);
        let heap = self.heap.as_mut_slice();
        while hole > 0 {
            let parent = (hole - 1) / 2;
            if heap[parent].key <= key {
                break;
            }
            heap[hole] = heap[parent];
            hole = parent;
        }
        heap[hole] = entry;
    }

    /// Removes and returns the earliest event, with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, E)> {
        let last = self.heap.pop()?;
        let heap = self.heap.as_mut_slice();
        let n = heap.len();
        if n == 0 {
            return Some(((last.key >> 64) as u64, last.event));
        }
        let top = heap[0];
        // Sift the former last entry down from the root, moving smaller children up.
        let mut hole = 0;
        loop {
            let left = 2 * hole + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && heap[right].key < heap[left].key {
                right
            } else {
                left
            };
            if last.key <= heap[child].key {
                break;
            }
            heap[hole] = heap[child];
            hole = child;
        }
        heap[hole] = last;
        Some(((top.key >> 64) as u64, top.event))
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.first().map(|e| (e.key >> 64) as u64)
    }

    /// Events pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_then_insertion_order() {
        let mut q = EventQueue::new();
        q.push(20, 'a');
        q.push(10, 'b');
        q.push(20, 'c');
        q.push(10, 'd');
        q.push(0, 'e');
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![(0, 'e'), (10, 'b'), (10, 'd'), (20, 'a'), (20, 'c')]
        );
    }

    #[test]
    fn matches_a_sorted_reference_under_random_interleaving() {
        // Pseudo-random pushes and pops against a reference that sorts by (time, insertion).
        let mut q = EventQueue::new();
        let mut reference: Vec<(u64, u64, u32)> = Vec::new();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut seq = 0;
        for step in 0..20_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if x % 3 != 0 || reference.is_empty() {
                let time = x % 64; // many equal times
                q.push(time, step);
                reference.push((time, seq, step));
                seq += 1;
            } else {
                reference.sort();
                let (time, _, payload) = reference.remove(0);
                assert_eq!(q.pop(), Some((time, payload)), "step {step}");
            }
            assert_eq!(q.len(), reference.len());
        }
    }

    #[test]
    fn large_times_keep_their_order() {
        let mut q = EventQueue::new();
        q.push(u64::MAX, 1);
        q.push(u64::MAX - 1, 2);
        assert_eq!(q.peek_time(), Some(u64::MAX - 1));
        assert_eq!(q.pop(), Some((u64::MAX - 1, 2)));
        assert_eq!(q.pop(), Some((u64::MAX, 1)));
    }
}
