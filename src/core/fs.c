/* fs.c - directories, atomic writes, gnuplot without a shell (fs.h). */
#include "lionmuon/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* One component of mkdir -p: create p, or accept an existing directory. */
static int mkdir_one(const char *p, const char *dir, lm_error *e)
{
    if (mkdir(p, 0755) == 0)
        return 0;
    int err = errno;
    struct stat st;
    if (err == EEXIST && stat(p, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return 0;
        return lm_fail(e, "%s: cannot create directory: %s exists and is not a directory", dir, p);
    }
    return lm_fail(e, "%s: cannot create directory %s: %s", dir, p, strerror(err));
}

int lm_mkdir_p(const char *dir, lm_error *e)
{
    if (!dir || !*dir)
        return lm_fail(e, "empty directory name");
    char *p = lm_strdup(dir);
    int rc = 0;
    for (char *s = p + 1; rc == 0 && *s; s++)
        if (*s == '/' && s[-1] != '/') {
            *s = '\0';
            rc = mkdir_one(p, dir, e);
            *s = '/';
        }
    if (rc == 0)
        rc = mkdir_one(p, dir, e);
    free(p);
    return rc;
}

char *lm_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = lm_malloc(a + b + 2);
    if (a == 0) {
        memcpy(p, name, b + 1);
        return p;
    }
    memcpy(p, dir, a);
    size_t k = a;
    if (dir[a - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, name, b + 1);
    return p;
}

int lm_write_atomic(const char *path, const void *buf, size_t len, lm_error *e)
{
    /* Only a regular file (or nothing) may be replaced: renaming over
     * /dev/full or a FIFO would replace the node itself. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return lm_fail(e, "%s: not a regular file; refusing to replace it", path);
    size_t plen = strlen(path);
    char *tmp = lm_malloc(plen + 16);
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        lm_fail(e, "%s: cannot create temporary file: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    const char *p = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            lm_fail(e, "%s: write failed: %s", path, strerror(errno));
            goto fail;
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0) {
        lm_fail(e, "%s: fsync failed: %s", path, strerror(errno));
        goto fail;
    }
    /* mkstemp creates 0600; results should be readable like any other file. */
    fchmod(fd, 0644);
    if (close(fd) != 0) {
        fd = -1;
        lm_fail(e, "%s: close failed: %s", path, strerror(errno));
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        lm_fail(e, "%s: rename failed: %s", path, strerror(errno));
        goto fail;
    }
    free(tmp);
    return 0;
fail:
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    free(tmp);
    return -1;
}

int lm_write_in_dir(const char *dir, const char *name, const void *buf, size_t len,
                    lm_error *e)
{
    char *path = lm_path_join(dir, name);
    int rc = lm_write_atomic(path, buf, len, e);
    free(path);
    return rc;
}

int lm_gnuplot(const char *dir, const char *script, lm_error *e)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return lm_fail(e, "gnuplot %s: fork failed: %s", script, strerror(errno));
    if (pid == 0) {
        if (chdir(dir) != 0)
            _exit(127);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        char *const argv[] = {"gnuplot", (char *)script, NULL};
        execvp("gnuplot", argv);
        _exit(127);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return lm_fail(e, "gnuplot %s: wait failed: %s", script, strerror(errno));
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
}
