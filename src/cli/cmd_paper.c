/* cmd_paper.c - `lionmuon paper manifest|select|report`: the driver steps of
 * the paper-claims experiment (experiments/paper/paper.mk runs them in order),
 * and `lionmuon paper audit DIR`: the paper's released runs checked
 * (experiments/paper/audit.h). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "experiments/paper/audit.h"
#include "experiments/paper/paper.h"
#include "lionmuon/fs.h"

static const char USAGE[] =
    "lionmuon paper manifest --stage tune|main --dir DIR --manifest FILE [--quick]\n"
    "       lionmuon paper select --dir DIR [--quick]\n"
    "       lionmuon paper report --dir DIR --report FILE.md --plots PLOTDIR [--plots-link L]\n"
    "                             [--msign-csv F] [--audit-dir PAPER_RUNS] [--quick]\n"
    "       lionmuon paper audit DIR [--json] [--out FILE] [--headline-md FILE]\n"
    "                             [--cpu-report RESULTS_DIR]\n"
    "       lionmuon paper timed FILE.json train [train flags]";
static const char ABOUT[] =
    "The paper's claims at CPU scale (see experiments/paper/paper.h).  `manifest`\n"
    "writes the runs of a stage for `lionmuon sweep`; `select` picks each config's\n"
    "learning-rate factor from the tuning runs (DIR/tuned.json) and grows a config's\n"
    "factor-2 grid (DIR/grid.json) when the pick is at its end (exit 3: run the tuning\n"
    "stage again); `report` writes the Markdown report with 95% t intervals over seeds,\n"
    "Holm-adjusted paired t-tests on every verdict, CPU time, the tuning curves and\n"
    "the gnuplot figures.  `timed` runs `train` in this process and writes its CPU\n"
    "time (getrusage: user + system) to FILE.json (the manifests run every run so).\n"
    "`audit` reads the paper's released runs (DIR/NAME/summary.json, e.g. exps/ of the\n"
    "paper's repository): per run the label, best validation loss and total FLOPs by the\n"
    "paper's count (theory/algorithms.md §8); per (data set, model) the Pareto front in\n"
    "(FLOPs, loss) and whether LionMuon P=2 dominates Muon, Lion, Signum and AdamW; and\n"
    "the headline table of theory/algorithms.md §9 from the logs (--headline-md: that\n"
    "document, to print its values beside).  Exit 0 whatever the verdict, 2 on bad\n"
    "input.  --cpu-report RESULTS_DIR (audit) or --audit-dir PAPER_RUNS (report) adds\n"
    "the rank agreement (Spearman) between the CPU reproduction and the paper's 124M\n"
    "FineWeb runs of the same ten optimizers.";

/* The rank agreement appended to an audit report: a Markdown section, or a
 * "rank_agreement" key of the JSON object. */
static int audit_rank(const char *dir, const char *cpu, int json, lm_buf *b, lm_error *e)
{
    lm_buf md = {0};
    json_t *js = NULL;
    if (paper_rank_agreement(dir, cpu, json ? NULL : &md, json ? &js : NULL, e) != 0)
        return -1;
    if (!json) {
        lm_buf_printf(b, "%s", md.s ? md.s : "");
        lm_buf_free(&md);
        return 0;
    }
    json_t *root = json_loads(b->s, 0, NULL);
    json_object_set_new(root, "rank_agreement", js);
    char *txt = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    b->len = 0;
    lm_buf_printf(b, "%s\n", txt);
    free(txt);
    return 0;
}

/* `paper audit DIR`: exit 0, 1 when the output cannot be written, 2 on bad input. */
static int paper_audit(const char *dir, int json, const char *out, const char *headline_md,
                       const char *cpu)
{
    lm_error e = {{0}};
    audit_set s;
    lm_buf b = {0};
    if (audit_load(dir, &s, &e) != 0 || audit_render(&s, json, headline_md, &b, &e) != 0 ||
        (cpu && audit_rank(dir, cpu, json, &b, &e) != 0)) {
        audit_free(&s); /* audit_load leaves s empty on failure */
        lm_buf_free(&b);
        fprintf(stderr, "lionmuon paper audit: %s\n", e.msg);
        return 2;
    }
    audit_free(&s);
    int rc = 0;
    if (out)
        rc = lm_write_atomic(out, b.s, b.len, &e);
    else if (fwrite(b.s, 1, b.len, stdout) != b.len || fflush(stdout) != 0)
        rc = lm_fail(&e, "stdout: write failed");
    lm_buf_free(&b);
    if (rc != 0) {
        fprintf(stderr, "lionmuon paper audit: %s\n", e.msg);
        return 1;
    }
    return 0;
}

int cmd_paper(int argc, char **argv)
{
    lm_error e = {{0}};
    const char *stage = "tune", *dir = "results/paper", *manifest = NULL, *report = NULL,
               *plots = "plots/paper", *msign_csv = NULL, *link = NULL;
    const char *out = NULL, *headline_md = NULL, *audit_dir = NULL, *cpu = NULL;
    int quick = 0, json = 0;
    if (argc >= 2 && !strcmp(argv[1], "timed")) { /* the rest is train's command line */
        if (argc < 4 || strcmp(argv[3], "train")) {
            fprintf(stderr, "usage: lionmuon paper timed FILE.json train [train flags]\n");
            return 2;
        }
        return paper_timed(argv[2], argc - 3, argv + 3, cmd_train);
    }
    cli_flag flags[] = {
        {"--stage", FLAG_STRING, &stage, "manifest: tune | main", 0},
        {"--dir", FLAG_STRING, &dir, "results directory", 0},
        {"--manifest", FLAG_STRING, &manifest, "manifest: the file to write", 0},
        {"--report", FLAG_STRING, &report, "report: the Markdown file to write", 0},
        {"--plots", FLAG_STRING, &plots, "report: directory of the PNG figures", 0},
        {"--msign-csv", FLAG_STRING, &msign_csv, "report: the msign study (lionmuon msign-study)", 0},
        {"--plots-link", FLAG_STRING, &link, "report: the plots directory as the report links it", 0},
        {"--quick", FLAG_BOOL, &quick, "the small variant used by the tests", 0},
        {"--json", FLAG_BOOL, &json, "audit: one JSON object instead of text", 0},
        {"--out", FLAG_STRING, &out, "audit: write the report here (atomically), not stdout", 0},
        {"--headline-md", FLAG_STRING, &headline_md,
         "audit: Markdown with the headline table (theory/algorithms.md)", 0},
        {"--cpu-report", FLAG_STRING, &cpu,
         "audit: the CPU reproduction's results dir, for the rank agreement", 0},
        {"--audit-dir", FLAG_STRING, &audit_dir,
         "report: the paper's runs (paper audit DIR), for the rank agreement", 0},
    };
    int nflags = sizeof flags / sizeof flags[0], npos, help;
    const char *pos[2];
    if (cli_parse(argc, argv, flags, nflags, pos, 2, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon paper: %s\n", e.msg);
        return 2;
    }
    int audit = npos >= 1 && !strcmp(pos[0], "audit");
    if (help || npos != 1 + audit) {
        cli_print_help(help ? stdout : stderr, USAGE, ABOUT, flags, nflags);
        return help ? 0 : 2;
    }
    if (audit)
        return paper_audit(pos[1], json, out, headline_md, cpu);
    int rc;
    if (!strcmp(pos[0], "manifest")) {
        static const char *const STAGES[] = {"tune", "main"}; /* paper_stage order */
        int st = lm_name_lookup(STAGES, 2, stage);
        if (st < 0) {
            fprintf(stderr, "lionmuon paper: --stage: '%s' is not tune or main\n", stage);
            return 2;
        }
        if (!manifest) {
            fprintf(stderr, "lionmuon paper manifest: --manifest is required\n");
            return 2;
        }
        rc = paper_manifest(dir, (paper_stage)st, quick, manifest, &e);
    } else if (!strcmp(pos[0], "select")) {
        rc = paper_select(dir, quick, &e);
        if (rc == PAPER_EXTENDED)
            return PAPER_EXTENDED;
    } else if (!strcmp(pos[0], "report")) {
        if (!report) {
            fprintf(stderr, "lionmuon paper report: --report is required\n");
            return 2;
        }
        rc = paper_report(dir, quick, report, plots, link, msign_csv, audit_dir, &e);
    } else {
        fprintf(stderr, "lionmuon paper: unknown step '%s' (manifest, select, report, audit, "
                        "timed)\n",
                pos[0]);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "lionmuon paper: %s\n", e.msg);
        return 1;
    }
    return 0;
}
