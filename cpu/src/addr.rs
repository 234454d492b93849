//! Address newtypes: a guest virtual address is never confused with a
//! position in machine memory.

/// Size of a guest page and of a machine frame.
pub const PAGE_SIZE: u32 = 4096;
/// Number of bits in a page offset.
pub const PAGE_SHIFT: u32 = 12;
/// Mask of the offset within a page.
pub const PAGE_MASK: u32 = PAGE_SIZE - 1;

/// A guest virtual address (what the guest program sees).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
#[repr(transparent)]
pub struct GuestAddr(pub u32);

impl GuestAddr {
    /// Guest page number (address >> 12).
    #[inline]
    pub fn page(self) -> u32 {
        self.0 >> PAGE_SHIFT
    }

    /// Offset inside the page.
    #[inline]
    pub fn offset(self) -> u32 {
        self.0 & PAGE_MASK
    }

    /// Address `n` bytes further, wrapping at 4 GiB like the hardware.
    #[inline]
    #[must_use]
    #[allow(clippy::should_implement_trait)] // wrapping, unlike ops::Add
    pub fn add(self, n: u32) -> GuestAddr {
        GuestAddr(self.0.wrapping_add(n))
    }

    /// Start of the page containing this address.
    #[inline]
    #[must_use]
    pub fn page_start(self) -> GuestAddr {
        GuestAddr(self.0 & !PAGE_MASK)
    }
}

impl std::fmt::LowerHex for GuestAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::LowerHex::fmt(&self.0, f)
    }
}

/// A byte position in machine memory (the one region that holds frames,
/// page tables and CPU state; a wasm linear-memory offset in the browser).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
#[repr(transparent)]
pub struct MachAddr(pub u32);

impl MachAddr {
    /// Address `n` bytes further.
    #[inline]
    #[must_use]
    #[allow(clippy::should_implement_trait)] // by value, like GuestAddr::add
    pub fn add(self, n: u32) -> MachAddr {
        MachAddr(self.0 + n)
    }
}
