/* blas.h - the one way to include CBLAS, LAPACKE and GSL together.
 *
 * GSL's headers (gsl_randist.h pulls in gsl_matrix.h) declare their own copy
 * of the CBLAS enums and prototypes, which clash with OpenBLAS's cblas.h.
 * Including OpenBLAS's header first and marking GSL's as already seen makes
 * GSL use OpenBLAS's (identical) enum definitions.  Include this header
 * instead of <cblas.h> in any file that also uses GSL. */
#ifndef LM_BLAS_H
#define LM_BLAS_H

#include <cblas.h>
#include <lapacke.h>
#ifndef __GSL_CBLAS_H__
#define __GSL_CBLAS_H__
#endif
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#endif
