/* fuzz_ckptmeta.c - libFuzzer target: the checks of a checkpoint's __metadata__ (ckpt_check_meta)
 * and the properties of fuzz_targets.h. */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_ckptmeta(data, size);
    return 0;
}
