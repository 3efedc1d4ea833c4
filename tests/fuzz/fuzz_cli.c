/* fuzz_cli.c - libFuzzer target: the input split on NUL bytes is argv for
 * cli_parse and for cli_optim_begin/finish (fuzz_targets.h). */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096) /* argv beyond this adds nothing but time */
        return 0;
    fz_cli(data, size);
    return 0;
}
