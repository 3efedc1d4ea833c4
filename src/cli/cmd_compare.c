/* cmd_compare.c - `lionmuon compare A B`: flags in, cmp_files
 * (core/compare.c) out.  Parsing and dispatch only. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "lionmuon/compare.h"

static const char USAGE[] =
    "lionmuon compare A B [--precision f64|f32|bf16|f16] [--baseline IN] [--json]\n"
    "                        [--tol T] [--rtol R --atol A] [--kind muon|sign|adamw|state]";
static const char ABOUT[] =
    "Compares every tensor of the safetensors file A (under test) with the tensor of\n"
    "the same name in B (the reference).  Per tensor: max_abs_err = max |a - b|,\n"
    "rel_fro_err = ||a - b||_F / ||b||_F, the threshold, max_rel_err (elementwise\n"
    "|a - b| / |b|: near-zero entries dominate it, so it is shown, not judged), the\n"
    "worst element's index (row, column) and PASS or FAIL.  A tensor passes when\n"
    "rel_fro_err <= tol.  NaN in either file always fails, even against NaN; an\n"
    "infinity passes only against the same infinity; integer tensors compare exactly,\n"
    "and an integer against a float exactly.\n"
    "--precision (default: the coarsest floating dtype stored in A) picks tol: 3 x the\n"
    "measured relative Frobenius error of a correct implementation in that precision\n"
    "(the envelope; include/lionmuon/lowprec.h, README \"Verdicts\"); the header prints\n"
    "it.  A precision finer than A stores (f64 on an F32 file) is refused.\n"
    "--baseline IN compares updates instead: ||(a - in) - (b - in)||_F / ||b - in||_F\n"
    "against a threshold by precision and by step kind (muon, sign, adamw, state),\n"
    "read from B's __metadata__ step_kinds (as `lionmuon step` writes them; --kind\n"
    "for tensors B records none for), plus the rounding of A's stored values.  A step\n"
    "that changes nothing, or drops the weight decay of a sign step, fails in every\n"
    "precision.  Every tensor of A must be in IN (state.* absent from IN is zeros).\n"
    "--rtol/--atol add numpy's elementwise rule |a - b| <= atol + rtol |b|; --tol\n"
    "replaces the threshold.  --json prints the same table as one JSON object.\n"
    "A tensor of A missing from B, or of another shape there, fails; tensors only in\n"
    "B are listed as notes.  Metadata is not compared.\n"
    "Exit status: 0 every tensor passes; 1 some tensor fails (named on stderr);\n"
    "2 bad usage, an unreadable file, a precision A cannot hold, a baseline or step\n"
    "kind missing for a tensor (named), with nothing printed on stdout.";

int cmd_compare(int argc, char **argv)
{
    lm_error e = {{0}};
    cmp_opts o = {0};
    const char *precision = NULL, *kind = NULL;
    int json = 0;
    cli_flag flags[] = {
        {"--precision", FLAG_STRING, &precision, "f64 | f32 | bf16 | f16 (default: A's dtype)", 0},
        {"--baseline", FLAG_STRING, &o.baseline, "IN: compare the updates A - IN and B - IN", 0},
        {"--kind", FLAG_STRING, &kind, "muon | sign | adamw | state, where B records none", 0},
        {"--tol", FLAG_DOUBLE, &o.tol, "threshold on rel_fro_err; 0 = by precision", 0},
        {"--rtol", FLAG_DOUBLE, &o.rtol, "elementwise relative tolerance (times |b|)", 0},
        {"--atol", FLAG_DOUBLE, &o.atol, "elementwise absolute tolerance", 0},
        {"--json", FLAG_BOOL, &json, "print the table as JSON", 0},
    };
    int nflags = sizeof flags / sizeof flags[0];
    const char *pos[2];
    int npos, help;
    if (cli_parse(argc, argv, flags, nflags, pos, 2, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon compare: %s\n", e.msg);
        return 2;
    }
    if (help) {
        cli_print_help(stdout, USAGE, ABOUT, flags, nflags);
        return 0;
    }
    if (npos != 2) {
        fprintf(stderr, "lionmuon compare: expected two files A and B\nusage: %s\n", USAGE);
        return 2;
    }
    if (o.rtol < 0 || o.atol < 0 || o.tol < 0) {
        fprintf(stderr, "lionmuon compare: %s must be >= 0\n",
                o.rtol < 0 ? "--rtol" : o.atol < 0 ? "--atol" : "--tol");
        return 2;
    }
    o.allclose = cli_find(flags, nflags, "--rtol")->given || cli_find(flags, nflags, "--atol")->given;
    o.precision_given = precision != NULL;
    if (precision && lp_parse(precision, &o.precision)) {
        fprintf(stderr, "lionmuon compare: --precision: unknown precision '%s' "
                        "(f64, f32, bf16, f16)\n", precision);
        return 2;
    }
    o.kind_given = kind != NULL;
    if (kind && (lp_kind_parse(kind, &o.kind) || o.kind == LP_KIND_VALUE)) {
        fprintf(stderr, "lionmuon compare: --kind: unknown kind '%s' (muon, sign, adamw, "
                        "state)\n", kind);
        return 2;
    }
    cmp_report r;
    if (cmp_files(&o, pos[0], pos[1], &r, &e) != 0) {
        fprintf(stderr, "lionmuon compare: %s\n", e.msg);
        return 2;
    }
    lm_buf out = {0}, err = {0};
    if (json) {
        char *s = cmp_format_json(&r);
        printf("%s\n", s);
        free(s);
    } else {
        cmp_format_table(&r, &out);
        fputs(out.s, stdout);
    }
    cmp_format_failures(&r, &err);
    if (err.s)
        fputs(err.s, stderr);
    int rc = r.passed == r.n ? 0 : 1;
    lm_buf_free(&out);
    lm_buf_free(&err);
    cmp_report_free(&r);
    return rc;
}
