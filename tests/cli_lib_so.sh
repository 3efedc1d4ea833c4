# cli_lib_so.sh - the shared library build/liblionmuon.so: soname and links,
# an export list of the lm_* API of include/lionmuon/api.h and nothing else
# (the library is built -fvisibility=hidden), and a C program linked against
# it alone that runs msign, an optimizer step and a safetensors round trip.
. tests/cli_lib.sh
SO=build/liblionmuon.so
if [ ! -e "$SO" ]; then
    bad "$SO is missing (run make)"
    cli_done lib-so
    exit 1
fi
soname=$(readelf -d "$SO" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = liblionmuon.so.0 ]; then ok "soname liblionmuon.so.0"; else bad "soname '$soname'"; fi
real=$(readlink -f "$SO")
case $real in */liblionmuon.so.0.1.*) ok "real name $(basename "$real") behind liblionmuon.so -> .so.0" ;;
    *) bad "real name $real" ;; esac

nm -D --defined-only "$SO" | awk '{print $NF}' | sort >"$CLI_TMP/syms"
n=$(wc -l <"$CLI_TMP/syms")
others=$(grep -v '^lm_' "$CLI_TMP/syms" | tr '\n' ' ')
if [ "$n" -gt 0 ] && [ -z "$others" ]; then ok "nm -D: $n exported symbols, all lm_"; else bad "exports other than lm_*: $others"; fi
# exactly the functions api.h declares (LM_API lm_NAME(...)), no more, no fewer
sed -n 's/^LM_API [^(]*[ *]\(lm_[a-z0-9_]*\)(.*/\1/p' include/lionmuon/api.h | sort >"$CLI_TMP/decl"
if cmp -s "$CLI_TMP/syms" "$CLI_TMP/decl"; then ok "the exports are exactly api.h's $(wc -l <"$CLI_TMP/decl") functions"
else bad "exports differ from api.h: $(diff "$CLI_TMP/decl" "$CLI_TMP/syms" | grep '^[<>]' | tr '\n' ' ')"; fi
leaked=
for internal in msign opt_step st_read la_norm_fro lm_fail lm_malloc; do
    grep -qx "$internal" "$CLI_TMP/syms" && leaked="$leaked $internal"
done
if [ -z "$leaked" ]; then ok "internal functions (msign, opt_step, st_read, la_norm_fro, lm_fail, lm_malloc) stay hidden"
else bad "internal functions exported:$leaked"; fi

cat >"$CLI_TMP/so.c" <<'C'
/* uses only lionmuon/api.h and the shared library */
#include <math.h>
#include <stdio.h>
#include "lionmuon/api.h"
int main(int argc, char **argv)
{
    (void)argc;
    double G[4] = {2, 0, 0, -0.5}, X[4], W[4] = {1, 2, 3, 4}, g[4] = {1, -1, 1, -1};
    if (lm_msign("svd", 2, 2, G, X, 0, 0, 0, NULL) || fabs(X[0] - 1) > 1e-15 || fabs(X[3] + 1) > 1e-15)
        return printf("msign: %s\n", lm_last_error()), 1;
    if (lm_msign("nope", 2, 2, G, X, 0, 0, 0, NULL) == 0 || !*lm_last_error())
        return printf("unknown method accepted\n"), 1;
    lm_opt *o;
    int64_t shape[2] = {2, 2};
    double *p[1] = {W};
    const double *gr[1] = {g};
    int took;
    if (lm_opt_new("{\"optimizer\": \"lion\"}", &o) || lm_opt_add_param(o, "w", 2, shape, LM_RULE_AUTO) ||
        lm_opt_step(o, 0, 1.0, 1, p, gr, &took))
        return printf("opt: %s\n", lm_last_error()), 1;
    /* lion, t = 0: C = 0.1 g; W <- W (1 - 5e-5 * 0.1) - 5e-5 sign(g) */
    if (took != 0 || fabs(W[0] - (1 * (1 - 5e-6) - 5e-5)) > 1e-16)
        return printf("lion step: took %d, W[0] = %.17g\n", took, W[0]), 1;
    lm_opt_free(o);
    /* a 2-D tensor outside torch's decay group, and a bad flag */
    if (lm_opt_new("{\"optimizer\": \"adamw\"}", &o) ||
        lm_opt_add_param_ex(o, "wte", 2, shape, LM_RULE_AUTO, LM_LINEAR_NO) ||
        lm_opt_add_param(o, "w", 2, shape, LM_RULE_AUTO) || lm_opt_param_linear(o, "wte") != 0 ||
        lm_opt_param_linear(o, "w") != 1 ||
        lm_opt_add_param_ex(o, "x", 2, shape, LM_RULE_AUTO, 2) == 0)
        return printf("linear: %s\n", lm_last_error()), 1;
    lm_opt_free(o);
    const char *names[1] = {"w"};
    int ndims[1] = {2};
    const int64_t *shapes[1] = {shape};
    const void *data[1] = {W};
    lm_st *f;
    if (lm_st_write(argv[1], 1, names, ndims, shapes, data, NULL, "{\"k\": \"v\"}", 0) ||
        lm_st_read(argv[1], &f))
        return printf("st: %s\n", lm_last_error()), 1;
    int good = lm_st_count(f) == 1 && lm_st_data_f64(f, 0)[3] == W[3] && lm_st_meta_count(f) == 1;
    lm_st_free(f);
    printf("%s %s\n", lm_version(), good ? "ok" : "bad");
    return !good;
}
C
expect_ok "a C program compiles and links against liblionmuon.so alone" \
    cc -std=c11 -Wall -Wextra -Werror -Iinclude "$CLI_TMP/so.c" -o "$CLI_TMP/so" -Lbuild -llionmuon -lm
if LD_LIBRARY_PATH=build "$CLI_TMP/so" "$CLI_TMP/x.safetensors" >"$CLI_TMP/so.out" 2>&1; then
    ok "it runs msign, a lion step and a safetensors round trip ($(cat "$CLI_TMP/so.out"))"
else
    bad "the program failed: $(cat "$CLI_TMP/so.out")"
fi
needed=$(readelf -d "$CLI_TMP/so" 2>/dev/null | grep -c 'liblionmuon.so.0')
if [ "$needed" -eq 1 ]; then ok "the program records NEEDED liblionmuon.so.0 (the soname)"; else bad "NEEDED lacks liblionmuon.so.0"; fi
cli_done lib-so
