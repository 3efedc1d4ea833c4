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
#include <stdio.h>

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* mkdir -p: create dir and every missing parent (mode 0755).  An empty
 * path, or a component that exists and is not a directory, is an error
 * naming the path. */
int lm_mkdir_p(const char *dir, lm_error *e);

/* lm_mkdir_p that also returns in *created (newly allocated, or NULL when
 * dir existed) the highest directory it created, so that a run that fails
 * can take back what it made with lm_rmdir_created: no empty directories
 * left behind by a failure. */
int lm_mkdir_new(const char *dir, char **created, lm_error *e);
/* Remove dir and its parents up to and including created, each only if it
 * is empty (rmdir), stopping at the first that is not; frees created.  A
 * NULL created does nothing. */
void lm_rmdir_created(const char *dir, char *created);

/* Read the regular file path whole into a new buffer (*buf, NUL-terminated
 * one byte past *len).  Anything else -- a directory, a device such as
 * /dev/zero, a FIFO -- is refused ("not a regular file"), as is a file of
 * more than max_bytes (0: no bound but the memory limit, lm_mem_limit) or
 * one that changes size while read.  Errors name the path. */
int lm_read_file(const char *path, size_t max_bytes, unsigned char **buf, size_t *len,
                 lm_error *e);

/* fopen(path, "r") for a regular file only (a FIFO does not block, a
 * directory or device is refused: "not a regular file"); NULL with e
 * filled otherwise.  For readers that stream a file line by line. */
FILE *lm_fopen_read(const char *path, lm_error *e);

/* Open path for writing as a log: created (0644) or truncated, but only as
 * a regular file reached without a symbolic link in the last component
 * (O_NOFOLLOW): a link named like an output is never written through.  The
 * descriptor is close-on-exec.  Returns it, or -1 with e filled. */
int lm_open_log(const char *path, lm_error *e);

/* Flush stdout and report a failed write (e.g. to /dev/full): 0, or -1 with
 * "standard output: write failed: REASON". */
int lm_flush_stdout(lm_error *e);

/* "dir/name", newly allocated (free it); dir "" gives "name". */
char *lm_path_join(const char *dir, const char *name);

/* Write buf to path atomically: a temporary file in the same directory
 * (NAME.tmp.XXXXXX, NAME shortened so that it fits the file-name limit),
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

/* A figure: lm_gnuplot on a script that writes its PNG to png + ".tmp"
 * (both relative to dir); the PNG is renamed into place only when gnuplot
 * succeeds and the file is not empty, and the temporary is removed
 * otherwise -- a failed figure never leaves a 0-byte or partial PNG, and an
 * earlier good one stays.  Returns as lm_gnuplot. */
int lm_gnuplot_png(const char *dir, const char *script, const char *png, lm_error *e);

#ifdef __cplusplus
}
#endif

#endif
