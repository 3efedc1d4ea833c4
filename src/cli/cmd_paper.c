/* cmd_paper.c - `lionmuon paper manifest|select|report`: the driver steps of
 * the paper-claims experiment (experiments/paper/paper.mk runs them in order). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "experiments/paper/paper.h"

static const char USAGE[] =
    "lionmuon paper manifest --stage tune|main --dir DIR --manifest FILE [--quick]\n"
    "       lionmuon paper select --dir DIR [--quick]\n"
    "       lionmuon paper report --dir DIR --report FILE.md --plots PLOTDIR [--plots-link L]\n"
    "                             [--msign-csv F] [--quick]";
static const char ABOUT[] =
    "The paper's claims at CPU scale (see experiments/paper/paper.h).  `manifest`\n"
    "writes the runs of a stage for `lionmuon sweep`; `select` picks each config's\n"
    "learning-rate factor from the tuning runs (DIR/tuned.json); `report` writes the\n"
    "Markdown report with 95% t intervals over seeds and the gnuplot figures.";

int cmd_paper(int argc, char **argv)
{
    lm_error e = {{0}};
    const char *stage = "tune", *dir = "results/paper", *manifest = NULL, *report = NULL,
               *plots = "plots/paper", *msign_csv = NULL, *link = NULL;
    int quick = 0;
    cli_flag flags[] = {
        {"--stage", FLAG_STRING, &stage, "manifest: tune | main", 0},
        {"--dir", FLAG_STRING, &dir, "results directory", 0},
        {"--manifest", FLAG_STRING, &manifest, "manifest: the file to write", 0},
        {"--report", FLAG_STRING, &report, "report: the Markdown file to write", 0},
        {"--plots", FLAG_STRING, &plots, "report: directory of the PNG figures", 0},
        {"--msign-csv", FLAG_STRING, &msign_csv, "report: the msign study (lionmuon msign-study)", 0},
        {"--plots-link", FLAG_STRING, &link, "report: the plots directory as the report links it", 0},
        {"--quick", FLAG_BOOL, &quick, "the small variant used by the tests", 0},
    };
    int nflags = sizeof flags / sizeof flags[0], npos, help;
    const char *pos[1];
    if (cli_parse(argc, argv, flags, nflags, pos, 1, &npos, &help, &e) != 0) {
        fprintf(stderr, "lionmuon paper: %s\n", e.msg);
        return 2;
    }
    if (help || npos != 1) {
        cli_print_help(help ? stdout : stderr, USAGE, ABOUT, flags, nflags);
        return help ? 0 : 2;
    }
    int rc;
    if (!strcmp(pos[0], "manifest")) {
        paper_stage st;
        if (!strcmp(stage, "tune"))
            st = PAPER_TUNE;
        else if (!strcmp(stage, "main"))
            st = PAPER_MAIN;
        else {
            fprintf(stderr, "lionmuon paper: --stage: '%s' is not tune or main\n", stage);
            return 2;
        }
        if (!manifest) {
            fprintf(stderr, "lionmuon paper manifest: --manifest is required\n");
            return 2;
        }
        rc = paper_manifest(dir, st, quick, manifest, &e);
    } else if (!strcmp(pos[0], "select")) {
        rc = paper_select(dir, quick, &e);
    } else if (!strcmp(pos[0], "report")) {
        if (!report) {
            fprintf(stderr, "lionmuon paper report: --report is required\n");
            return 2;
        }
        rc = paper_report(dir, quick, report, plots, link, msign_csv, &e);
    } else {
        fprintf(stderr, "lionmuon paper: unknown step '%s' (manifest, select, report)\n", pos[0]);
        return 2;
    }
    if (rc != 0) {
        fprintf(stderr, "lionmuon paper: %s\n", e.msg);
        return 1;
    }
    return 0;
}
