/* fuzz_sweep.c - libFuzzer target: the sweep manifest reader (sweep_parse)
 * and the properties of fuzz_targets.h. */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_sweep(data, size);
    return 0;
}
