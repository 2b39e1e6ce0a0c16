//! A vector whose slots are reused once released, so that an index handed out stays the
//! entry's name for its life and the vector's size follows the peak count, not the number ever
//! added: the tables of per-node CPU and memory.

use std::ops::{Index, IndexMut};

/// Entries by slot, with the released slots to reuse first.
#[derive(Debug, Clone)]
pub(super) struct Slots<T> {
    entries: Vec<T>,
    free: Vec<u32>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            entries: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slots<T> {
    /// Stores `entry` in a released slot, or a new one; returns the slot.
    pub(super) fn insert(&mut self, entry: T) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = entry;
                slot
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        }
    }

    /// Releases `slot` for reuse; its entry stays until then.
    pub(super) fn release(&mut self, slot: u32) {
        self.free.push(slot);
    }
}

impl<T> Index<usize> for Slots<T> {
    type Output = T;

    #[inline(always)]
    fn index(&self, slot: usize) -> &T {
        &self.entries[slot]
    }
}

impl<T> IndexMut<usize> for Slots<T> {
    #[inline(always)]
    fn index_mut(&mut self, slot: usize) -> &mut T {
        &mut self.entries[slot]
    }
}
