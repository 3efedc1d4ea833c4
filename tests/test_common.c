/* test_common.c - the shared helpers the second hardening round (issue 14)
 * leans on: messages that keep their reason and stay one line, checked size
 * arithmetic, the memory limit, regular-file reads, the temporary name of an
 * atomic write, directories taken back after a failure, and the hashed
 * tensor lookup. */
#include <criterion/criterion.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lionmuon/common.h"
#include "lionmuon/fs.h"
#include "lionmuon/safetensors.h"

Test(common, long_message_keeps_its_beginning_and_reason)
{
    char *path = malloc(6001);
    memset(path, 'd', 6000);
    path[6000] = '\0';
    path[0] = '/';
    lm_error e = {{0}};
    lm_fail(&e, "%s: cannot open: No such file or directory", path);
    size_t n = strlen(e.msg);
    cr_assert_lt(n, sizeof e.msg);
    cr_assert(strncmp(e.msg, "/ddd", 4) == 0);
    cr_assert(strstr(e.msg, " [...] ") != NULL);
    cr_assert(strstr(e.msg, "dd: cannot open: No such file or directory") != NULL);
    /* wrapping again keeps the reason too */
    lm_wrap(&e, "%s", path);
    cr_assert(strstr(e.msg, "cannot open: No such file or directory") != NULL);
    free(path);
}

Test(common, messages_are_one_line_without_terminal_controls)
{
    lm_error e = {{0}};
    lm_fail(&e, "tensor '%s': bad", "a\nb\x1b[31m\tc\x7f\xc2\x9b\xff");
    cr_assert_str_eq(e.msg, "tensor 'a\\nb\\x1b[31m\\tc\\x7f\\u009b\\xff': bad");
    char *p = lm_printable("caf\xc3\xa9 ok");
    cr_assert_str_eq(p, "caf\xc3\xa9 ok"); /* valid UTF-8 stays */
    free(p);
    p = lm_printable(NULL);
    cr_assert_str_eq(p, "(null)");
    free(p);
    /* escaping is idempotent: an escaped message wrapped again is unchanged */
    char before[sizeof e.msg];
    strcpy(before, e.msg);
    lm_wrap(&e, "x");
    cr_assert_str_eq(e.msg + 3, before);
}

Test(common, size_arithmetic_is_checked)
{
    size_t r;
    cr_assert_eq(lm_mul_size(SIZE_MAX / 2, 2, &r), 0);
    cr_assert_eq(lm_mul_size(SIZE_MAX / 2 + 1, 2, &r), -1);
    cr_assert_eq(lm_add_size(SIZE_MAX, 1, &r), -1);
    cr_assert_eq(lm_add_size(1, 2, &r), 0);
    cr_assert_eq(r, 3);
}

Test(common, memory_limit_from_the_environment)
{
    setenv("LIONMUON_MEM_LIMIT", "3M", 1);
    cr_assert_eq(lm_mem_limit(), 3.0 * 1024 * 1024);
    lm_error e = {{0}};
    cr_assert_eq(lm_mem_check(1e6, "small", &e), 0);
    cr_assert_eq(lm_mem_check(1e7, "--flag 7", &e), -1);
    cr_assert(strstr(e.msg, "--flag 7 needs about") != NULL, "%s", e.msg);
    setenv("LIONMUON_MEM_LIMIT", "nonsense", 1); /* ignored */
    cr_assert_gt(lm_mem_limit(), 1e6);
    unsetenv("LIONMUON_MEM_LIMIT");
}

Test(common, only_regular_files_are_read)
{
    unsigned char *b;
    size_t n;
    lm_error e = {{0}};
    cr_assert_eq(lm_read_file("/dev/zero", 0, &b, &n, &e), -1);
    cr_assert(strstr(e.msg, "/dev/zero: not a regular file (a device)") != NULL, "%s", e.msg);
    cr_assert_eq(lm_read_file("/", 0, &b, &n, &e), -1);
    cr_assert(strstr(e.msg, "a directory") != NULL, "%s", e.msg);
    char path[] = "/tmp/lm-common.XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "hello", 5), 5);
    close(fd);
    cr_assert_eq(lm_read_file(path, 4, &b, &n, &e), -1); /* over the bound */
    cr_assert_eq(lm_read_file(path, 0, &b, &n, &e), 0);
    cr_assert_eq(n, 5);
    cr_assert_str_eq((char *)b, "hello"); /* NUL-terminated */
    free(b);
    unlink(path);
}

Test(common, atomic_write_of_a_name_at_the_limit)
{
    char dir[] = "/tmp/lm-common-dir.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char name[NAME_MAX + 1];
    memset(name, 'n', NAME_MAX);
    name[NAME_MAX] = '\0';
    lm_error e = {{0}};
    cr_assert_eq(lm_write_in_dir(dir, name, "x", 1, &e), 0, "%s", e.msg);
    char *p = lm_path_join(dir, name);
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    cr_assert_eq(st.st_size, 1);
    unlink(p);
    free(p);
    cr_assert_eq(lm_write_atomic("", "x", 1, &e), -1);
    cr_assert(strstr(e.msg, "empty output path") != NULL);
    rmdir(dir);
}

Test(common, directories_made_by_a_failed_run_are_taken_back)
{
    char dir[] = "/tmp/lm-common-mk.XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char *deep = lm_path_join(dir, "a/b/c/");
    char *created = NULL;
    lm_error e = {{0}};
    cr_assert_eq(lm_mkdir_new(deep, &created, &e), 0);
    cr_assert_not_null(created);
    lm_rmdir_created(deep, created); /* frees created */
    char *a = lm_path_join(dir, "a");
    struct stat st;
    cr_assert_neq(stat(a, &st), 0, "the made directories were removed");
    cr_assert_eq(stat(dir, &st), 0, "the existing parent stays");
    /* an existing directory is not "created" */
    cr_assert_eq(lm_mkdir_new(dir, &created, &e), 0);
    cr_assert_null(created);
    cr_assert_eq(lm_mkdir_new("", &created, &e), -1);
    free(a);
    free(deep);
    rmdir(dir);
}

Test(common, hashed_tensor_lookup_and_sorted_duplicate_check)
{
    st_file *f = st_new();
    lm_error e = {{0}};
    char name[32];
    for (int i = 0; i < 20000; i++) {
        snprintf(name, sizeof name, "t.%d", i);
        cr_assert_eq(st_add_f64(f, name, 0, NULL, NULL, &e), 0);
    }
    for (int i = 0; i < 20000; i += 997) {
        snprintf(name, sizeof name, "t.%d", i);
        st_tensor *t = st_get(f, name);
        cr_assert_not_null(t);
        cr_assert_str_eq(t->name, name);
    }
    cr_assert_null(st_get(f, "t.20000"));
    cr_assert_eq(st_add_f64(f, "t.5", 0, NULL, NULL, &e), -1);
    cr_assert(strstr(e.msg, "duplicate tensor name 't.5'") != NULL);
    st_free(f);
}
