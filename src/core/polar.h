/* polar.h - the exact polar factor at Newton-Schulz cost (private to the
 * library; msign.c dispatches MSIGN_QR_NEWTON here). */
#ifndef LM_CORE_POLAR_H
#define LM_CORE_POLAR_H

#include <lapacke.h>

#include "lionmuon/msign.h"

/* out (m x n) = msign(G) by Cholesky QR2 and a scaled Newton iteration on
 * the triangular factor (polar.c).  Buffers from the msign workspace, with
 * k = min(m, n), d = max(m, n): W, C, D hold k d doubles each, A and B
 * k^2, ipiv k.  Returns 0 on success; 1 when the matrix is too
 * ill-conditioned for this route (estimated condition number above 1e6,
 * Cholesky breakdown, or no convergence) or too small (max(m, n) < 3): the caller then computes the
 * factor by SVD; -1 never (kept for errors). */
int msign_qr_newton(int m, int n, const double *G, double *out, double *W, double *A,
                    double *B, double *C, double *D, lapack_int *ipiv, msign_info *info);

/* FLOPs of msign_qr_newton on an m x n matrix with `iters` Newton steps
 * (as LAPACK counts them: syrk k^2 d, potrf k^3/3, trsm k^2 d, getrf
 * 2k^3/3, getri 4k^3/3, gemm 2 k^2 d). */
double msign_qr_newton_flops(int m, int n, int iters);

#endif
