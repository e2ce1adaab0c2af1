/* Callgrind markers for the C# side (CallgrindMode.cs calls these through function pointers): client
 * requests are a magic instruction sequence that only C (valgrind/callgrind.h) can emit. Outside
 * valgrind they do nothing. Built by ../run: gcc -O2 -shared -fPIC. */
#include <valgrind/callgrind.h>

void vgmark_zero(void) { CALLGRIND_ZERO_STATS; }
void vgmark_dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
