//! The pending-event set: a binary heap of packed `(time, sequence, slot)` keys over a slab of
//! payloads.
//!
//! Use it through `Simulation`; it is public only so that benchmarks can measure it alone.
//! It allocates only when the number of simultaneously pending events reaches a new maximum.

/// Bits of a key that hold the slab slot of the payload.
const SLOT_BITS: u32 = 24;
/// Bits of a key that hold the insertion sequence number.
const SEQ_BITS: u32 = 64 - SLOT_BITS;
/// Most events that can be pending at once.
pub const MAX_PENDING: usize = 1 << SLOT_BITS;
const SLOT_MASK: u128 = (1 << SLOT_BITS) - 1;
const SEQ_LIMIT: u64 = 1 << SEQ_BITS;

/// A min-queue of events ordered by time, then by insertion order.
///
/// A key packs the time in its high 64 bits, a 40-bit sequence number and a 24-bit slot in its
/// low 64 bits, so the heap compares one `u128` per step and ties at equal times resolve in
/// insertion order: the total order that makes runs reproducible.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// A binary min-heap of keys.
    heap: Vec<u128>,
    slab: Vec<E>,
    free_slots: Vec<u32>,
    next_seq: u64,
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
            slab: Vec::new(),
            free_slots: Vec::new(),
            next_seq: 0,
        }
    }

    /// Adds `event` at `time` (microseconds).
    ///
    /// # Panics
    /// If more than `MAX_PENDING` events are pending at once or more than 2^40 events are ever
    /// pushed: both mean a runaway model, not a valid run.
    #[inline(always)]
    pub fn push(&mut self, time: u64, event: E) {
        let slot = match self.free_slots.pop() {
            Some(slot) => {
                self.slab[slot as usize] = event;
                slot as u128
            }
            None => {
                assert!(
                    self.slab.len() < MAX_PENDING,
                    "more than {MAX_PENDING} simultaneously pending events"
                );
                self.slab.push(event);
                (self.slab.len() - 1) as u128
            }
        };
        assert!(
            self.next_seq < SEQ_LIMIT,
            "event sequence numbers exhausted"
        );
        let key = (u128::from(time) << 64) | (u128::from(self.next_seq) << SLOT_BITS) | slot;
        self.next_seq += 1;
        // Sift up from the new leaf, moving larger parents down into the hole.
        let mut hole = self.heap.len();
        self.heap.push(key);
        let heap = self.heap.as_mut_slice();
        while hole > 0 {
            let parent = (hole - 1) / 2;
            // SAFETY: parent < hole < heap.len().
            let parent_key = unsafe { *heap.get_unchecked(parent) };
            if parent_key <= key {
                break;
            }
            // SAFETY: hole < heap.len(): it starts at the last index and only decreases.
            unsafe { *heap.get_unchecked_mut(hole) = parent_key };
            hole = parent;
        }
        heap[hole] = key;
    }

    /// Removes and returns the earliest event, with its time, if it is due no later than
    /// `horizon`.
    #[inline]
    pub fn pop_until(&mut self, horizon: u64) -> Option<(u64, E)> {
        if (*self.heap.first()? >> 64) as u64 > horizon {
            return None;
        }
        self.pop()
    }

    /// Removes and returns the earliest event, with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, E)> {
        let last = self.heap.pop()?;
        let heap = self.heap.as_mut_slice();
        let n = heap.len();
        let key = if n == 0 {
            last
        } else {
            let top = heap[0];
            // Sift the former last key down from the root, stopping as soon as it fits: in a
            // small heap it usually belongs near the top, so this beats sifting to the bottom.
            let mut hole = 0;
            loop {
                let left = 2 * hole + 1;
                if left >= n {
                    break;
                }
                let right = left + 1;
                let mut child = left;
                // SAFETY: left < n and right < n are checked before each read.
                let mut child_key = unsafe { *heap.get_unchecked(left) };
                if right < n {
                    let right_key = unsafe { *heap.get_unchecked(right) };
                    if right_key < child_key {
                        child = right;
                        child_key = right_key;
                    }
                }
                if last <= child_key {
                    break;
                }
                // SAFETY: hole is 0 or a child index already checked to be < n.
                unsafe { *heap.get_unchecked_mut(hole) = child_key };
                hole = child;
            }
            heap[hole] = last;
            top
        };
        let slot = (key & SLOT_MASK) as u32;
        self.free_slots.push(slot);
        Some(((key >> 64) as u64, self.slab[slot as usize]))
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<u64> {
        self.heap.first().map(|key| (key >> 64) as u64)
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
    fn slots_are_reused_without_mixing_payloads() {
        let mut q = EventQueue::new();
        for round in 0..1_000u64 {
            q.push(round * 2 + 1, round);
            q.push(round * 2, round + 10_000);
            assert_eq!(q.pop(), Some((round * 2, round + 10_000)));
            assert_eq!(q.pop(), Some((round * 2 + 1, round)));
        }
        assert!(q.is_empty());
        assert!(q.slab.len() <= 2, "slab grew to {}", q.slab.len());
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
