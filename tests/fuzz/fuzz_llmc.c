/* fuzz_llmc.c - libFuzzer target: the llm.c token-file reader.
 *
 * data_read_llmc takes a path only, so the input goes into a memfd (an
 * anonymous in-memory file) opened through /proc/self/fd: no disk traffic
 * and nothing left behind. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("llmc", 0);
        if (fd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) != (ssize_t)size) {
        perror("memfd write");
        abort();
    }
    fz_llmc_path(path, size);
    return 0;
}
