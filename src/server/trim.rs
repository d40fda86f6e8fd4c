//! Gives back to the system the memory a finished sync freed. A sync's index writer, crawl buffers and
//! extraction results are freed when it ends, but glibc's malloc keeps freed pages in the arena of the
//! thread that freed them for later reuse; threads of the blocking pool come and go, so that memory was
//! kept, sync after sync, and a server's resident memory kept growing (measured with `permdex bench soak`;
//! README, "Load and soak"). `malloc_trim` returns every arena's free pages to the kernel.
//!
//! Only glibc has `malloc_trim`; elsewhere this does nothing. It frees nothing in use and is not a fix for
//! a leak (the soak also watches for those: threads, and index files mapped after deletion).

/// Returns malloc's free pages to the kernel (a few milliseconds; call it off the async workers).
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only hands free pages of malloc's own heaps back to the kernel; no live
    // allocation is touched, and it takes malloc's locks like any allocation.
    unsafe {
        libc::malloc_trim(0);
    }
}
