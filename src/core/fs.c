/* fs.c - directories, atomic writes, gnuplot without a shell (fs.h). */
#include "lionmuon/fs.h"

#include <errno.h>
#include <limits.h>
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

/* One component of mkdir -p; *made = 1 when this call created it. */
static int mkdir_step(const char *p, const char *dir, int *made, lm_error *e)
{
    struct stat st;
    *made = 0;
    if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    if (mkdir(p, 0755) == 0) {
        *made = 1;
        return 0;
    }
    return mkdir_one(p, dir, e);
}

int lm_mkdir_new(const char *dir, char **created, lm_error *e)
{
    *created = NULL;
    if (!dir || !*dir)
        return lm_fail(e, "empty directory name");
    char *p = lm_strdup(dir);
    int rc = 0, made = 0;
    for (char *s = p + 1; rc == 0 && *s; s++)
        if (*s == '/' && s[-1] != '/') {
            *s = '\0';
            rc = mkdir_step(p, dir, &made, e);
            if (made && !*created)
                *created = lm_strdup(p);
            *s = '/';
        }
    if (rc == 0) {
        rc = mkdir_step(p, dir, &made, e);
        if (made && !*created)
            *created = lm_strdup(p);
    }
    free(p);
    if (rc) {
        lm_rmdir_created(dir, *created);
        *created = NULL;
    }
    return rc;
}

int lm_mkdir_p(const char *dir, lm_error *e)
{
    char *created;
    int rc = lm_mkdir_new(dir, &created, e);
    free(created);
    return rc;
}

void lm_rmdir_created(const char *dir, char *created)
{
    if (!created)
        return;
    char *p = lm_strdup(dir);
    size_t top = strlen(created);
    /* strip trailing slashes, then walk up one component at a time */
    for (size_t n = strlen(p); n > 1 && p[n - 1] == '/'; n--)
        p[n - 1] = '\0';
    while (strlen(p) >= top && rmdir(p) == 0 && strlen(p) > top) {
        char *slash = strrchr(p, '/');
        if (!slash || slash == p)
            break;
        while (slash > p && slash[-1] == '/')
            slash--;
        *slash = '\0';
    }
    free(p);
    free(created);
}

int lm_read_file(const char *path, size_t max_bytes, unsigned char **buf, size_t *len,
                 lm_error *e)
{
    *buf = NULL;
    *len = 0;
    /* O_NONBLOCK: opening a FIFO must not wait for a writer */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return lm_fail(e, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int err = errno;
        close(fd);
        return lm_fail(e, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return lm_fail(e, "%s: not a regular file (%s)", path,
                       S_ISDIR(st.st_mode) ? "a directory" : S_ISCHR(st.st_mode) ? "a device"
                       : S_ISFIFO(st.st_mode) ? "a FIFO" : "a special file");
    }
    size_t n = (size_t)st.st_size;
    if (max_bytes && n > max_bytes) {
        close(fd);
        return lm_fail(e, "%s: %zu bytes, more than the %zu this reader accepts", path, n,
                       max_bytes);
    }
    if (lm_mem_check((double)n, path, e)) {
        close(fd);
        return -1;
    }
    unsigned char *b = lm_malloc(n + 1);
    size_t got = 0;
    while (got <= n) {
        /* one byte more than the size: a file that grew is noticed */
        ssize_t r = read(fd, b + got, n + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int err = errno;
            close(fd);
            free(b);
            return lm_fail(e, "%s: read failed: %s", path, strerror(err));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != n) {
        free(b);
        return lm_fail(e, "%s: changed size while being read (%zu bytes, then %s%zu)", path, n,
                       got > n ? "more than " : "", got > n ? n : got);
    }
    b[n] = '\0';
    *buf = b;
    *len = n;
    return 0;
}

/* Open path read-only as a regular file: the descriptor, or -1 with e. */
static int open_regular(const char *path, lm_error *e)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return lm_fail(e, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        int dir = S_ISDIR(st.st_mode);
        close(fd);
        return lm_fail(e, "%s: not a regular file%s", path, dir ? " (a directory)" : "");
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

FILE *lm_fopen_read(const char *path, lm_error *e)
{
    int fd = open_regular(path, e);
    if (fd < 0)
        return NULL;
    FILE *fp = fdopen(fd, "r");
    if (!fp) {
        lm_fail(e, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return fp;
}

int lm_open_log(const char *path, lm_error *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY,
                  0644);
    if (fd < 0) {
        int err = errno;
        struct stat st;
        if (err == ELOOP && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
            return lm_fail(e, "%s: a symbolic link; refusing to write through it", path);
        return lm_fail(e, "%s: cannot open for writing: %s", path, strerror(err));
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return lm_fail(e, "%s: not a regular file; refusing to write to it", path);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 || ftruncate(fd, 0) != 0) {
        int err = errno;
        close(fd);
        return lm_fail(e, "%s: cannot truncate: %s", path, strerror(err));
    }
    return fd;
}

int lm_flush_stdout(lm_error *e)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int err = errno;
        clearerr(stdout);
        return lm_fail(e, "standard output: write failed: %s",
                       err ? strerror(err) : "error on the stream");
    }
    return 0;
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

/* PATH's temporary sibling DIR/NAME.tmp.XXXXXX, with NAME cut so that the
 * whole last component fits NAME_MAX (a legal 250-byte name stays legal). */
static char *temp_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    size_t blen = strlen(path + dlen);
    size_t room = NAME_MAX - (sizeof ".tmp.XXXXXX" - 1);
    if (blen > room) {
        blen = room;
        /* do not split a UTF-8 character */
        while (blen > 0 && ((unsigned char)path[dlen + blen] & 0xc0) == 0x80)
            blen--;
    }
    char *tmp = lm_malloc(dlen + blen + sizeof ".tmp.XXXXXX");
    memcpy(tmp, path, dlen + blen);
    memcpy(tmp + dlen + blen, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    return tmp;
}

int lm_write_atomic(const char *path, const void *buf, size_t len, lm_error *e)
{
    if (!*path)
        return lm_fail(e, "empty output path");
    /* Only a regular file (or nothing) may be replaced: renaming over
     * /dev/full or a FIFO would replace the node itself. */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return lm_fail(e, "%s: not a regular file; refusing to replace it", path);
    char *tmp = temp_name(path);
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

int lm_gnuplot_png(const char *dir, const char *script, const char *png, lm_error *e)
{
    lm_buf t = {0};
    lm_buf_printf(&t, "%s.tmp", png);
    char *tmp = lm_path_join(dir, t.s), *dst = lm_path_join(dir, png);
    lm_buf_free(&t);
    unlink(tmp);
    int rc = lm_gnuplot(dir, script, e);
    struct stat st;
    if (rc == 0 && !(lstat(tmp, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0))
        rc = 1; /* gnuplot said yes but drew nothing */
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = lm_fail(e, "%s: rename failed: %s", dst, strerror(errno));
    if (rc != 0)
        unlink(tmp);
    free(tmp);
    free(dst);
    return rc;
}
