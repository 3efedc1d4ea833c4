/* sweep.c - the manifest (see sweep.h): reading and checking it, the
 * normalised output directories, appending runs.  Executing it is
 * sweep_exec.c. */
#include "tools/sweep.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lionmuon/fs.h"

const char *const sweep_allowed[] = {"train",   "golden", "synth",       "predict",
                                     "synth-check", "msign", "msign-study", "step",
                                     "compare", "bench",  "demo",        "version", NULL};

static void free_run(sweep_run *r)
{
    free(r->out);
    free(r->key);
    for (int i = 0; i < r->argc; i++)
        free(r->argv[i]);
    free(r->argv);
}

void sweep_free(sweep_manifest *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++)
        free_run(&m->runs[i]);
    free(m->runs);
    free(m->key);
    free(m);
}

/* ---- normalised paths ------------------------------------------------------ */

/* Append the components of rel to the absolute path in b (no trailing
 * slash, "/" alone for the root): "" and "." vanish, ".." drops the last. */
static void push_components(lm_buf *b, const char *rel)
{
    const char *s = rel;
    while (*s) {
        const char *end = strchr(s, '/');
        size_t n = end ? (size_t)(end - s) : strlen(s);
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            char *slash = strrchr(b->s, '/');
            b->len = slash && slash != b->s ? (size_t)(slash - b->s) : 1;
            b->s[b->len] = '\0';
        } else if (n > 0 && !(n == 1 && s[0] == '.')) {
            if (b->len > 1)
                lm_buf_printf(b, "/");
            lm_buf_printf(b, "%.*s", (int)n, s);
        }
        s += n;
        while (*s == '/')
            s++;
    }
}

/* The longest prefix of the absolute path abs (cut at a '/') that exists,
 * resolved by realpath; the rest is applied to it component by component:
 * the directories still to be made are plain directories, so ".." among
 * them is lexical, while the existing part has its links resolved. */
char *sweep_normalise(const char *path)
{
    lm_buf abs = {0};
    if (path[0] != '/') {
        char *cwd = getcwd(NULL, 0);
        lm_buf_printf(&abs, "%s/", cwd ? cwd : ".");
        free(cwd);
    }
    lm_buf_printf(&abs, "%s", path);
    char *head = lm_strdup(abs.s);
    size_t cut = strlen(head);
    char *real = NULL;
    for (;;) {
        head[cut] = '\0';
        real = realpath(cut ? head : "/", NULL);
        if (real || cut == 0)
            break;
        while (cut > 0 && head[cut - 1] != '/')
            cut--;
        while (cut > 0 && head[cut - 1] == '/')
            cut--;
    }
    lm_buf out = {0};
    lm_buf_printf(&out, "%s", real ? real : "/");
    push_components(&out, abs.s + cut);
    free(real);
    free(head);
    lm_buf_free(&abs);
    return out.s;
}

/* ---- reading ----------------------------------------------------------------- */

static int allowed(const char *cmd)
{
    for (int i = 0; sweep_allowed[i]; i++)
        if (!strcmp(cmd, sweep_allowed[i]))
            return 1;
    return 0;
}

int sweep_argv_allowed(int argc, const char *const *argv)
{
    if (argc < 1)
        return 0;
    if (allowed(argv[0]))
        return 1;
    /* the paper experiment's runs: train, timed in its own process */
    return argc >= 4 && !strcmp(argv[0], "paper") && !strcmp(argv[1], "timed") &&
           !strcmp(argv[3], "train");
}

/* A JSON string without a NUL inside (C sees only up to the first). */
static int plain_string(const json_t *v)
{
    return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

/* The checks of one parsed line, then the copy into r. */
static int take_line(json_t *j, const char *path, int lineno, sweep_run *r, lm_error *e)
{
    json_t *out = json_object_get(j, "out"), *argv = json_object_get(j, "argv");
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
        if (strcmp(key, "out") && strcmp(key, "argv"))
            return lm_fail(e, "%s:%d: unknown key \"%s\" (a line has \"out\" and \"argv\")",
                           path, lineno, key);
    if (!plain_string(out) || !json_string_length(out))
        return lm_fail(e, "%s:%d: \"out\" must be a non-empty string", path, lineno);
    if (!json_is_array(argv) || json_array_size(argv) == 0)
        return lm_fail(e, "%s:%d: \"argv\" must be a non-empty array of strings", path, lineno);
    if (json_array_size(argv) > 4096)
        return lm_fail(e, "%s:%d: \"argv\" has %zu entries, more than 4096", path, lineno,
                       json_array_size(argv));
    for (size_t i = 0; i < json_array_size(argv); i++)
        if (!plain_string(json_array_get(argv, i)))
            return lm_fail(e, "%s:%d: \"argv\"[%zu] is not a string (without NUL)", path,
                           lineno, i);
    const char *cmd = json_string_value(json_array_get(argv, 0));
    const char *a[4] = {NULL, NULL, NULL, NULL};
    int na = json_array_size(argv) < 4 ? (int)json_array_size(argv) : 4;
    for (int i = 0; i < na; i++)
        a[i] = json_string_value(json_array_get(argv, (size_t)i));
    if (!sweep_argv_allowed(na, a)) {
        lm_buf list = {0};
        for (int i = 0; sweep_allowed[i]; i++)
            lm_buf_printf(&list, "%s%s", i ? ", " : "", sweep_allowed[i]);
        lm_fail(e, "%s:%d: \"argv\"[0] '%s' is not a subcommand a manifest may run (%s; "
                   "or paper timed FILE train ...)",
                path, lineno, cmd, list.s);
        lm_buf_free(&list);
        return -1;
    }
    r->out = lm_strdup(json_string_value(out));
    r->key = sweep_normalise(r->out);
    r->line = lineno;
    r->argc = (int)json_array_size(argv);
    r->argv = lm_calloc((size_t)r->argc + 1, sizeof *r->argv);
    for (int i = 0; i < r->argc; i++)
        r->argv[i] = lm_strdup(json_string_value(json_array_get(argv, (size_t)i)));
    return 0;
}

static int parse_line(const char *line, size_t len, const char *path, int lineno,
                      sweep_run *r, lm_error *e)
{
    json_error_t je;
    json_t *j = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!j || !json_is_object(j)) {
        int rc = lm_fail(e, "%s:%d: not a JSON object (%s)", path, lineno,
                         j ? "wrong type" : je.text);
        json_decref(j);
        return rc;
    }
    int rc = take_line(j, path, lineno, r, e);
    json_decref(j);
    return rc;
}

static int cmp_key(const void *a, const void *b)
{
    const sweep_run *x = *(const sweep_run *const *)a, *y = *(const sweep_run *const *)b;
    int c = strcmp(x->key, y->key);
    return c ? c : x->line - y->line;
}

/* Two runs writing one directory would race for its files: sort by the
 * normalised directory and compare neighbours. */
static int check_shared(const sweep_manifest *m, const char *path, lm_error *e)
{
    const sweep_run **s = lm_malloc((size_t)LM_MAX(m->n, 1) * sizeof *s);
    for (int i = 0; i < m->n; i++)
        s[i] = &m->runs[i];
    qsort(s, (size_t)m->n, sizeof *s, cmp_key);
    int rc = 0;
    for (int i = 1; i < m->n && rc == 0; i++)
        if (!strcmp(s[i - 1]->key, s[i]->key))
            rc = lm_fail(e, "%s: lines %d and %d share the output directory %s (\"%s\" and "
                            "\"%s\")", path, s[i - 1]->line, s[i]->line, s[i]->key,
                         s[i - 1]->out, s[i]->out);
    free(s);
    return rc;
}

int sweep_parse(const char *text, size_t len, const char *path, sweep_manifest **out,
                lm_error *e)
{
    *out = NULL;
    sweep_manifest *m = lm_calloc(1, sizeof *m);
    int cap = 0, lineno = 0, rc = 0;
    size_t at = 0;
    while (rc == 0 && at < len) {
        const char *line = text + at;
        const char *nl = memchr(line, '\n', len - at);
        size_t n = nl ? (size_t)(nl - line) : len - at;
        at += n + (nl ? 1 : 0);
        if (++lineno == INT_MAX)
            rc = lm_fail(e, "%s: too many lines", path);
        size_t k = 0;
        while (k < n && (line[k] == ' ' || line[k] == '\t' || line[k] == '\r'))
            k++;
        if (rc || k == n || line[k] == '#')
            continue;
        if (m->n == cap) {
            cap = cap ? 2 * cap : 64;
            sweep_run *nr = realloc(m->runs, (size_t)cap * sizeof *nr);
            if (!nr)
                abort();
            m->runs = nr;
        }
        memset(&m->runs[m->n], 0, sizeof m->runs[m->n]);
        rc = parse_line(line + k, n - k, path, lineno, &m->runs[m->n], e);
        if (rc == 0)
            m->n++;
    }
    if (rc == 0 && m->n == 0)
        rc = lm_fail(e, "%s: no runs (every line is blank or a comment)", path);
    if (rc == 0)
        rc = check_shared(m, path, e);
    if (rc != 0) {
        sweep_free(m);
        return -1;
    }
    m->key = sweep_normalise(path);
    *out = m;
    return 0;
}

int sweep_read(const char *path, sweep_manifest **out, lm_error *e)
{
    unsigned char *buf;
    size_t len;
    *out = NULL;
    if (lm_read_file(path, SWEEP_MAX_BYTES, &buf, &len, e))
        return -1;
    int rc = sweep_parse((const char *)buf, len, path, out, e);
    free(buf);
    return rc;
}

int sweep_check_summary(const sweep_manifest *m, const char *summary, lm_error *e)
{
    if (!summary)
        return 0;
    if (!*summary)
        return lm_fail(e, "--summary: empty path");
    char *k = sweep_normalise(summary);
    int rc = 0;
    if (m->key && !strcmp(k, m->key))
        rc = lm_fail(e, "--summary %s is the manifest itself; refusing to overwrite it",
                     summary);
    for (int i = 0; i < m->n && rc == 0; i++)
        if (!strcmp(k, m->runs[i].key))
            rc = lm_fail(e, "--summary %s is the output directory of line %d", summary,
                         m->runs[i].line);
    free(k);
    return rc;
}

int sweep_format_line(lm_buf *b, const char *out, int argc, const char *const *argv,
                      lm_error *e)
{
    json_t *arr = json_array();
    for (int i = 0; i < argc; i++)
        json_array_append_new(arr, json_string(argv[i]));
    json_t *j = json_pack("{s:s,s:o}", "out", out, "argv", arr);
    char *txt = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!txt)
        return lm_fail(e, "a run's out or argv is not valid UTF-8 (out %s)", out);
    lm_buf_printf(b, "%s\n", txt);
    free(txt);
    return 0;
}

int sweep_append(const char *path, const char *out, int argc, const char *const *argv,
                 lm_error *e)
{
    lm_buf b = {0};
    if (sweep_format_line(&b, out, argc, argv, e))
        return lm_wrap(e, "%s", path);
    FILE *fp = fopen(path, "a");
    int rc = 0;
    if (!fp)
        rc = lm_fail(e, "%s: cannot append: %s", path, strerror(errno));
    else {
        int bad = fwrite(b.s, 1, b.len, fp) != b.len;
        bad |= fclose(fp) != 0;
        if (bad)
            rc = lm_fail(e, "%s: cannot append: %s", path, strerror(errno));
    }
    lm_buf_free(&b);
    return rc;
}
