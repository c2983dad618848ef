// AddressSanitizer's defaults for the unit-test binary (linked only in sanitized builds).
//
// A unit test allocates and frees far more than a command does. With ASan's defaults every
// allocation's first 4 KB is filled, and freed memory waits in a 256 MB quarantine, so nearly
// every allocation touched a fresh page: page faults were about a third of the binary's time
// (perf, 2026-12-05). A 16 MB quarantine still catches a use after free of anything freed in
// the last 16 MB of frees, and the fill only made reads of uninitialized heap memory show a
// pattern, which ASan does not report anyway. ASAN_OPTIONS in the environment still wins.

extern "C" __attribute__((used, visibility("default"))) const char* __asan_default_options();

extern "C" const char*
__asan_default_options()
{
  return "max_malloc_fill_size=0:quarantine_size_mb=16";
}
