/* fuzz_step.c - libFuzzer target: `lionmuon step` and `lionmuon msign` on a
 * fuzzed safetensors file (fuzz_targets.h: fz_step_path).  The first byte
 * picks the subcommand and flags; the file goes into a memfd.  `step` goes
 * through its flag parser (src/cli/cmd_step.c) into the file format and the
 * step itself, stepfile_run (src/core/stepfile.c) with the optimizer state
 * of src/core/optstate.c: FUZZ_LIB_SRC in tests/hardening.mk lists all
 * three. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (size < 1)
        return 0;
    if (fd < 0) {
        /* the subcommands report refusals on stderr and results on stdout;
         * send the stdio streams (only) to /dev/null.  libFuzzer and the
         * sanitizers keep the real stderr for their own reports. */
        FILE *null = fopen("/dev/null", "w");
        if (null) {
            stdout = null;
            stderr = null;
        }
        fd = memfd_create("step", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1)) {
        perror("memfd write");
        abort();
    }
    fz_step_path(data[0], path);
    return 0;
}
