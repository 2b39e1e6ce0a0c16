//! The pending-event set: binary heaps of packed `(time, sequence, slot)` keys, one over a slab
//! of payloads and one over *lanes*, each holding the single pending event of a recurring source.
//!
//! Use it through `Clock`; it is public only so that benchmarks can measure it alone. It
//! allocates only when the number of simultaneously pending events or of lanes reaches a new
//! maximum.
//!
//! Lanes exist for speed: a Poisson source always has exactly one pending arrival, scheduled
//! shortly after the previous one fires, so keeping those in a heap of their own (as large as
//! the number of sources) spares the main heap, which holds every in-flight request's completion,
//! half of its pushes and pops. Both heaps draw keys from one sequence counter, so the order
//! of events is exactly that of a single queue.

mod lanes;

use lanes::LaneHeap;

/// Bits of a key that hold the slab slot or lane of the payload.
const SLOT_BITS: u32 = 24;
/// Bits of a key that hold the insertion sequence number.
const SEQ_BITS: u32 = 64 - SLOT_BITS;
/// Most events that can be pending at once outside lanes, and most lanes.
pub const MAX_PENDING: usize = 1 << SLOT_BITS;
const SLOT_MASK: u128 = (1 << SLOT_BITS) - 1;
const SEQ_LIMIT: u64 = 1 << SEQ_BITS;

/// A min-queue of events ordered by time, then by insertion order.
///
/// A key packs the time in its high 64 bits, a 40-bit sequence number and a 24-bit slot in its
/// low 64 bits, so a heap compares one `u128` per step and ties at equal times resolve in
/// insertion order: the total order that makes runs reproducible.
#[derive(Debug)]
pub struct EventQueue<E> {
    /// Min-heap of keys of slab events.
    heap: Vec<u128>,
    /// Whether the root of `heap` belongs to an event already popped. A handler often
    /// schedules a new event at once (a finished request's worker starts the next one);
    /// leaving the popped key in place until then turns a removal and an insertion into one
    /// replacement of the root, as in the classic hold model.
    stale_root: bool,
    slab: Vec<E>,
    free_slots: Vec<u32>,
    /// The pending event of each lane, in an indexed heap of their keys.
    lanes: LaneHeap<E>,
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
            stale_root: false,
            slab: Vec::new(),
            free_slots: Vec::new(),
            lanes: LaneHeap::new(),
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
        let key = self.key(time, slot);
        if self.stale_root {
            self.stale_root = false;
            replace_root(&mut self.heap, key);
        } else {
            sift_up(&mut self.heap, key);
        }
    }

    /// Removes the popped event's key from the root of the slab heap, if it is still there.
    #[inline(always)]
    fn settle(&mut self) {
        if self.stale_root {
            self.stale_root = false;
            pop_min(&mut self.heap);
        }
    }

    /// Adds `event` at `time` as the pending event of `lane`.
    ///
    /// # Panics
    /// If the lane already holds a pending event, or `lane >= MAX_PENDING`: a recurring source
    /// schedules its next event only once its current one has fired.
    #[inline(always)]
    pub fn push_lane(&mut self, lane: u32, time: u64, event: E) {
        assert!(
            !self.lanes.is_pending(lane as usize),
            "lane {lane} already holds a pending event"
        );
        self.set_lane(lane, time, event);
    }

    /// Makes `event` at `time` the pending event of `lane`, replacing the one it holds, if any.
    /// The replaced event never happens; the new one is ordered as if scheduled now.
    ///
    /// # Panics
    /// If `lane >= MAX_PENDING`.
    #[inline(always)]
    pub fn set_lane(&mut self, lane: u32, time: u64, event: E) {
        assert!(
            (lane as usize) < MAX_PENDING,
            "lane {lane} beyond {MAX_PENDING}"
        );
        let key = self.key(time, u128::from(lane));
        self.lanes.set(lane as usize, key, event);
    }

    /// Drops the pending event of `lane`, if any; returns whether there was one.
    #[inline]
    pub fn cancel_lane(&mut self, lane: u32) -> bool {
        self.lanes.remove(lane as usize)
    }

    #[inline(always)]
    fn key(&mut self, time: u64, slot: u128) -> u128 {
        assert!(
            self.next_seq < SEQ_LIMIT,
            "event sequence numbers exhausted"
        );
        let key = (u128::from(time) << 64) | (u128::from(self.next_seq) << SLOT_BITS) | slot;
        self.next_seq += 1;
        key
    }

    /// Removes and returns the earliest event, with its time, if it is due no later than
    /// `horizon`.
    #[inline]
    pub fn pop_until(&mut self, horizon: u64) -> Option<(u64, E)> {
        self.settle();
        let (from_lanes, key) = match (self.heap.first(), self.lanes.first()) {
            (Some(&h), Some(l)) => (l < h, h.min(l)),
            (Some(&h), None) => (false, h),
            (None, Some(l)) => (true, l),
            (None, None) => return None,
        };
        if (key >> 64) as u64 > horizon {
            return None;
        }
        let slot = (key & SLOT_MASK) as usize;
        let event = if from_lanes {
            let Some((_, event)) = self.lanes.pop_min() else {
                unreachable!("the lane heap's first key was just read");
            };
            event
        } else {
            self.stale_root = true;
            self.free_slots.push(slot as u32);
            self.slab[slot]
        };
        Some(((key >> 64) as u64, event))
    }

    /// Removes and returns the earliest event, with its time.
    #[inline]
    pub fn pop(&mut self) -> Option<(u64, E)> {
        self.pop_until(u64::MAX)
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&mut self) -> Option<u64> {
        self.settle();
        let earliest = match (self.heap.first(), self.lanes.first()) {
            (Some(&h), Some(l)) => h.min(l),
            (Some(&h), None) => h,
            (None, Some(l)) => l,
            (None, None) => return None,
        };
        Some((earliest >> 64) as u64)
    }

    /// Events pending.
    pub fn len(&self) -> usize {
        self.heap.len() - usize::from(self.stale_root) + self.lanes.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Pushes `key` onto the binary min-heap `heap`: the queue's own sift, for a model's small
/// heaps of packed keys (such as a pod's requests in service ordered by finishing time).
#[inline(always)]
pub fn push_key(heap: &mut Vec<u128>, key: u128) {
    sift_up(heap, key);
}

/// Removes and returns the smallest key of the binary min-heap `heap`, if any.
#[inline(always)]
pub fn pop_key(heap: &mut Vec<u128>) -> Option<u128> {
    let first = *heap.first()?;
    pop_min(heap);
    Some(first)
}

/// Inserts `key` into the min-heap `heap`, moving larger parents down into the hole.
#[inline(always)]
fn sift_up(heap: &mut Vec<u128>, key: u128) {
    let hole = heap.len();
    heap.push(key);
    raise(heap, hole, key, |_, _| {});
}

/// Replaces the smallest key of the non-empty min-heap `heap` with `key`, moving smaller
/// children up into the hole.
#[inline(always)]
fn replace_root(heap: &mut [u128], key: u128) {
    sink(heap, 0, key, |_, _| {});
}

/// Places `key` at `hole` (`< heap.len()`) of the min-heap `heap` or above it, moving larger
/// parents down; `placed(index, key)` hears of every key written, for heaps that index their
/// keys' positions.
#[inline(always)]
pub(super) fn raise(
    heap: &mut [u128],
    mut hole: usize,
    key: u128,
    mut placed: impl FnMut(usize, u128),
) {
    assert!(hole < heap.len(), "a hole inside the heap");
    while hole > 0 {
        let parent = (hole - 1) / 2;
        // SAFETY: parent < hole < heap.len().
        let parent_key = unsafe { *heap.get_unchecked(parent) };
        if parent_key <= key {
            break;
        }
        // SAFETY: hole < heap.len(): checked on entry, and it only decreases.
        unsafe { *heap.get_unchecked_mut(hole) = parent_key };
        placed(hole, parent_key);
        hole = parent;
    }
    // SAFETY: as above.
    unsafe { *heap.get_unchecked_mut(hole) = key };
    placed(hole, key);
}

/// Places `key` at `hole` (`< heap.len()`) of the min-heap `heap` or below it, moving smaller
/// children up; `placed` as for `raise`.
#[inline(always)]
pub(super) fn sink(
    heap: &mut [u128],
    mut hole: usize,
    key: u128,
    mut placed: impl FnMut(usize, u128),
) {
    let n = heap.len();
    assert!(hole < n, "a hole inside the heap");
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
        if key <= child_key {
            break;
        }
        // SAFETY: hole < n: checked on entry, and every later hole is a child checked < n.
        unsafe { *heap.get_unchecked_mut(hole) = child_key };
        placed(hole, child_key);
        hole = child;
    }
    // SAFETY: as above.
    unsafe { *heap.get_unchecked_mut(hole) = key };
    placed(hole, key);
}

/// Removes the smallest key of the non-empty min-heap `heap`: the last key fills the root's
/// place and sinks, stopping as soon as it fits (in a small heap it usually belongs near the
/// top, so this beats sifting to the bottom first).
#[inline(always)]
fn pop_min(heap: &mut Vec<u128>) {
    let Some(last) = heap.pop() else {
        return;
    };
    if !heap.is_empty() {
        replace_root(heap, last);
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
            if !x.is_multiple_of(3) || reference.is_empty() {
                let time = x % 64; // many equal times
                // Lane 0 takes an event whenever it is free; the rest go to the heap.
                if x.is_multiple_of(5) && !reference.iter().any(|(_, _, p)| p % 2 == 1) {
                    let payload = step * 2 + 1;
                    q.push_lane(0, time, payload);
                    reference.push((time, seq, payload));
                } else {
                    q.push(time, step * 2);
                    reference.push((time, seq, step * 2));
                }
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
    fn lanes_interleave_with_the_heap_in_scheduling_order() {
        let mut q = EventQueue::new();
        q.push(10, 'a');
        q.push_lane(0, 10, 'b');
        q.push_lane(3, 5, 'c');
        q.push(10, 'd');
        q.push_lane(1, 10, 'e');
        assert_eq!(q.len(), 5);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![(5, 'c'), (10, 'a'), (10, 'b'), (10, 'd'), (10, 'e')]
        );
        // A lane is free again once its event has been popped.
        q.push_lane(0, 20, 'f');
        assert_eq!(q.pop_until(19), None);
        assert_eq!(q.pop_until(20), Some((20, 'f')));
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
