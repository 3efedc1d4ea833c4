/* fuzz_safetensors.c - libFuzzer target: st_parse on the input, then a
 * serialize/parse round trip of what it accepts (fuzz_targets.h). */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_safetensors(data, size);
    return 0;
}
