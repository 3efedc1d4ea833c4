/* tune.h - private to experiments/synth: tuning on lattices that extend
 * themselves at an edge (prefix vt_), shared by V4, V5 and V6 and by the
 * bound's side of V4, so that the runs and the bound search the same
 * lattice under the same rule.
 *
 * A lattice has up to three axes; axis d takes the values
 * anchor[d] * step[d]^i for integers i within the caps [min[d], max[d]].
 * The search starts from the box [lo[d], hi[d]] and extends itself: after
 * each round, every lattice neighbour (the 3^nd - 1 points one step away
 * in any combination of axes) of every best point that has not been run is
 * added (within the caps); the search ends when no best point has a
 * neighbour left to run, i.e. every best point is a local minimum of the
 * lattice with all its neighbours evaluated, or sits at a cap.  A pick at a
 * cap is flagged (edge = 1) in every report, unless that cap is a natural
 * end of the parameter's range (nat_lo / nat_hi: e.g. beta = 0).
 *
 * Runs: each group (one setting, e.g. one (lambda, P)) has a base job and
 * a lattice; every point of its box is run on the tuning seeds (noise seeds
 * VR_TUNE_BASE + s); a score function turns each run into nscore numbers,
 * lower is better (hitting times, censored as in vr_target_scores, or
 * final values); the mean over the tuning seeds ranks the points.  Picks
 * use the first npick scores.  vt_evaluate then runs each group's picks on
 * the evaluation seeds (VR_EVAL_BASE + s), disjoint from the tuning seeds,
 * with common random numbers across groups and points.
 */
#ifndef LM_SYNTH_TUNE_H
#define LM_SYNTH_TUNE_H

#include "runner.h"

#define VT_MAXDIM 3
#define VT_MAXSCORE 40

typedef struct {
    int nd;
    double anchor[VT_MAXDIM], step[VT_MAXDIM];
    int lo[VT_MAXDIM], hi[VT_MAXDIM];   /* the starting box, inclusive */
    int min[VT_MAXDIM], max[VT_MAXDIM]; /* the caps */
    int nat_lo[VT_MAXDIM], nat_hi[VT_MAXDIM]; /* 1: that cap is the range's natural end */
} vt_lattice;

/* anchor[d] step[d]^i */
double vt_value(const vt_lattice *L, int d, int i);

/* The neighbours of coord within the caps (at most 3^nd - 1) into nb
 * (VT_MAXDIM ints each); returns their number. */
int vt_neighbours(const vt_lattice *L, const int *coord, int *nb);

/* 1 when coord lies at a cap that is not a natural end of its range. */
int vt_at_cap(const vt_lattice *L, const int *coord);

/* Minimise a cheap function on a lattice under the same rule: evaluate the
 * starting box (coarse > 0: instead every coarse-th point of the whole
 * capped lattice, a global scan), then the neighbours of the best point,
 * repeat (at most max_rounds).  Writes the best point into coord and its
 * value; returns 1 when the best point is at a cap (not natural) or the
 * rounds ran out. */
int vt_minimise(vt_lattice *L, double (*f)(const double *vals, void *ctx), void *ctx,
                int coarse, int max_rounds, int *coord, double *best);

typedef struct vt_group {
    vr_job base;
    vt_lattice lat;
    /* put the lattice values into a job (vals[d] for d < lat.nd) */
    void (*apply)(vr_job *j, const double *vals);
    void *user;                  /* the check's data for this group */
    /* evaluated points: coords, tuning-seed scores, evaluation-seed scores */
    int n, cap;
    int *coord;                  /* [n * VT_MAXDIM] */
    double *tune;                /* [(n * tune_seeds + s) * nscore] */
    double *eval;                /* [(n * eval_seeds + s) * nscore], NAN until run */
    int pick[VT_MAXSCORE];       /* per pick score: the best point, or -1 */
    int edge[VT_MAXSCORE];       /* 1: that pick is at a capped face */
    int rounds;
} vt_group;

typedef void (*vt_score_fn)(const vt_group *g, const meas_trace *t, double *scores, void *ctx);

typedef struct {
    vt_group *groups;
    int ngroups;
    int nscore, npick;
    int tune_seeds, eval_seeds;
    vt_score_fn score;
    void *ctx;
    int max_rounds;
    const char *label;           /* progress lines on stderr, e.g. "V4" */
    double t0;                   /* when the check started (la_seconds; 0: at vt_tune) */
} vt_tuner;

/* Progress (stderr, in the runner's style): a line per round, one per point
 * once its tuning seeds are in, and one when the round ends:
 *   V4: tuning round 2: 40 new points x 2 tuning seeds
 *   V4: tuning round 2: config 3/40 done in 0.4 s (geometry(0), t(1.5), P=2, ...); 12.1 s elapsed
 *   V4: tuning round 2 done in 9.8 s; best points moved in 5 of 8 groups; 21.9 s elapsed
 * and the same for the evaluation stage ("V4: evaluation: config ..."). */

/* Tuning rounds until no pick is at an extendable face (or max_rounds). */
int vt_tune(vt_tuner *t, lm_error *e);
/* The picks (deduplicated per group) on the evaluation seeds. */
int vt_evaluate(vt_tuner *t, lm_error *e);

/* Mean over the tuning seeds of score k at point i. */
double vt_tune_mean(const vt_tuner *t, const vt_group *g, int i, int k);
/* Evaluation score k of point i at evaluation seed s. */
double vt_eval_score(const vt_tuner *t, const vt_group *g, int i, int s, int k);
/* The lattice values of point i. */
void vt_point_values(const vt_group *g, int i, double *vals);

void vt_group_free(vt_group *g);

#endif
