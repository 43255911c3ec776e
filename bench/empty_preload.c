/* B1's floor: a preload library that does nothing.  Loading any library
 * into every process costs the dynamic loader this much (open, mmap,
 * relocation); the shim's overhead is measured against it. */
__attribute__((visibility("default"))) int chromereaper_bench_empty_preload;
