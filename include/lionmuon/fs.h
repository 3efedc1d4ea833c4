/* fs.h - the file-system helpers every layer writes its outputs with
 * (prefix lm_): directories, atomic writes, and gnuplot run without a shell.
 *
 * Outputs are written whole or not at all: a temporary file in the target's
 * directory, fsync, rename.  gnuplot is spawned with an argument vector
 * (fork + execvp), never through a shell, and runs inside the output
 * directory so that scripts name their files relatively.
 */
#ifndef LM_FS_H
#define LM_FS_H

#include <stddef.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mkdir -p: create dir and every missing parent (mode 0755).  An empty
 * path, or a component that exists and is not a directory, is an error
 * naming the path. */
int lm_mkdir_p(const char *dir, lm_error *e);

/* "dir/name", newly allocated (free it); dir "" gives "name". */
char *lm_path_join(const char *dir, const char *name);

/* Write buf to path atomically: a temporary file in the same directory,
 * fsync, then rename over path.  On failure nothing is left at path (an
 * earlier file there is untouched) and the temporary file is removed.
 * Only a regular file (or nothing) at path may be replaced. */
int lm_write_atomic(const char *path, const void *buf, size_t len, lm_error *e);

/* lm_write_atomic(dir/name). */
int lm_write_in_dir(const char *dir, const char *name, const void *buf, size_t len,
                    lm_error *e);

/* Run `gnuplot SCRIPT` with dir as its working directory (SCRIPT is a name
 * relative to dir), stdout and stderr to /dev/null, no shell.  Returns 0 on
 * success, 1 if gnuplot is missing or fails (a figure is never required:
 * the caller reports it), -1 on a system error with e filled. */
int lm_gnuplot(const char *dir, const char *script, lm_error *e);

#ifdef __cplusplus
}
#endif

#endif
