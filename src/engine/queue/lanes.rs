//! The lane heap: an indexed binary min-heap holding at most one pending event per lane, whose
//! key can be moved or removed in place.
//!
//! A lane is a recurring source with exactly one next event: a Poisson stream's next arrival, or
//! a pod's next completion under processor sharing. A pod's next completion moves whenever the
//! CPU it gets changes, so the heap keeps each lane's position and moves its key up or down
//! instead of leaving a stale event behind. Keys are the queue's packed `(time, sequence, lane)`
//! `u128`s; the lane is in the low `SLOT_BITS` bits.

use super::{SLOT_MASK, raise, sink};

/// Position of an idle lane.
const IDLE: u32 = u32::MAX;

/// An indexed min-heap of lane keys with one payload per lane.
#[derive(Debug)]
pub(super) struct LaneHeap<E> {
    /// Min-heap of keys; the slot bits of a key are its lane.
    keys: Vec<u128>,
    /// Index in `keys` of each lane's key, or `IDLE`.
    position: Vec<u32>,
    /// Each lane's pending event (meaningful only while the lane is not idle).
    events: Vec<Option<E>>,
    /// Whether the root key belongs to an event already popped. A popped source usually
    /// schedules its next event at once; leaving its key in place until then turns a removal
    /// and an insertion into one replacement of the root.
    stale_root: bool,
}

impl<E: Copy> LaneHeap<E> {
    /// An empty heap.
    pub(super) fn new() -> Self {
        LaneHeap {
            keys: Vec::new(),
            position: Vec::new(),
            events: Vec::new(),
            stale_root: false,
        }
    }

    /// The smallest key, if any.
    #[inline(always)]
    pub(super) fn first(&mut self) -> Option<u128> {
        self.settle();
        self.keys.first().copied()
    }

    /// Keys pending.
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.keys.len() - usize::from(self.stale_root)
    }

    /// Removes the popped event's key from the root, if it is still there.
    #[inline(always)]
    fn settle(&mut self) {
        if self.stale_root {
            self.stale_root = false;
            self.fill_hole(0);
        }
    }

    /// Whether `lane` holds a pending event.
    #[inline]
    pub(super) fn is_pending(&self, lane: usize) -> bool {
        self.position.get(lane).is_some_and(|&p| p != IDLE)
    }

    /// Makes `key` (whose slot bits are `lane`) the lane's pending key and `event` its payload,
    /// replacing any pending one.
    #[inline(always)]
    pub(super) fn set(&mut self, lane: usize, key: u128, event: E) {
        if lane >= self.position.len() {
            self.position.resize(lane + 1, IDLE);
            self.events.resize(lane + 1, None);
        }
        self.events[lane] = Some(event);
        if self.stale_root {
            self.stale_root = false;
            if (self.keys[0] & SLOT_MASK) as usize == lane {
                // The lane just popped schedules its next event: replace the root.
                self.sift_down(0, key);
                return;
            }
            self.fill_hole(0);
        }
        let at = self.position[lane];
        if at == IDLE {
            let hole = self.keys.len();
            self.keys.push(key);
            self.sift_up(hole, key);
        } else {
            let hole = at as usize;
            let old = self.keys[hole];
            if key < old {
                self.sift_up(hole, key);
            } else {
                self.sift_down(hole, key);
            }
        }
    }

    /// Removes the lane's pending event, if any; returns whether there was one.
    #[inline]
    pub(super) fn remove(&mut self, lane: usize) -> bool {
        self.settle();
        let Some(&at) = self.position.get(lane) else {
            return false;
        };
        if at == IDLE {
            return false;
        }
        self.position[lane] = IDLE;
        self.events[lane] = None;
        self.fill_hole(at as usize);
        true
    }

    /// Removes the smallest key and returns it with its event.
    #[inline(always)]
    pub(super) fn pop_min(&mut self) -> Option<(u128, E)> {
        self.settle();
        let key = *self.keys.first()?;
        let lane = (key & SLOT_MASK) as usize;
        self.position[lane] = IDLE;
        let event = self.events[lane]
            .take()
            .expect("a lane whose key is in the heap holds its event");
        self.stale_root = true;
        Some((key, event))
    }

    /// Fills the hole at `hole` (whose key has been taken out) with the last key.
    #[inline(always)]
    fn fill_hole(&mut self, hole: usize) {
        let Some(last) = self.keys.pop() else {
            return;
        };
        if hole == self.keys.len() {
            return;
        }
        if hole > 0 && last < self.keys[(hole - 1) / 2] {
            self.sift_up(hole, last);
        } else {
            self.sift_down(hole, last);
        }
    }

    /// Places `key` at `hole` (`< keys.len()`) or above it, moving larger parents down.
    #[inline(always)]
    fn sift_up(&mut self, hole: usize, key: u128) {
        let position = &mut self.position;
        raise(&mut self.keys, hole, key, |at, k| record(position, at, k));
    }

    /// Places `key` at `hole` (`< keys.len()`) or below it, moving smaller children up.
    #[inline(always)]
    fn sift_down(&mut self, hole: usize, key: u128) {
        let position = &mut self.position;
        sink(&mut self.keys, hole, key, |at, k| record(position, at, k));
    }
}

/// Records that `key` now stands at `at` of the heap.
#[inline(always)]
fn record(position: &mut [u32], at: usize, key: u128) {
    let lane = (key & SLOT_MASK) as usize;
    // SAFETY: every key in the heap was set through `set`, which sized `position` to hold its
    // lane.
    unsafe { *position.get_unchecked_mut(lane) = at as u32 };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(time: u64, seq: u64, lane: usize) -> u128 {
        (u128::from(time) << 64) | (u128::from(seq) << super::super::SLOT_BITS) | lane as u128
    }

    #[test]
    fn moved_and_removed_keys_pop_in_order() {
        // Pseudo-random sets and removals against a reference map of lane -> key.
        let mut heap = LaneHeap::new();
        let mut reference: Vec<Option<u128>> = vec![None; 40];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for seq in 0..30_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let lane = (x % 40) as usize;
            match x % 7 {
                0 | 1 => {
                    let had = reference[lane].take().is_some();
                    assert_eq!(heap.remove(lane), had);
                }
                2 => {
                    let expected = reference
                        .iter()
                        .enumerate()
                        .filter_map(|(l, k)| k.map(|k| (k, l)))
                        .min();
                    let popped = heap.pop_min();
                    assert_eq!(popped, expected);
                    if let Some((_, l)) = expected {
                        reference[l] = None;
                    }
                }
                _ => {
                    let k = key((x >> 20) % 100, seq, lane);
                    heap.set(lane, k, lane);
                    reference[lane] = Some(k);
                }
            }
            assert_eq!(heap.len(), reference.iter().flatten().count());
            for (l, k) in reference.iter().enumerate() {
                assert_eq!(heap.is_pending(l), k.is_some());
            }
        }
    }
}
