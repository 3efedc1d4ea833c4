/* lionmuon.h - the public header of liblionmuon.a, the LionMuon reference.
 *
 * Include this one header from C or C++ and link with
 *   liblionmuon.a -llapacke -lopenblas -lgsl -ljansson -lm -fopenmp
 * (installed: `pkg-config --static --libs lionmuon`) to call the reference
 * directly from a test harness:
 *   msign()            exact (SVD) and Newton-Schulz polar factors   msign.h
 *   opt_*              LionMuon, its special cases, AdamW, schedule   optim.h
 *   la_*               matrix norms and helpers                       linalg.h
 *   st_*               safetensors read/write                         safetensors.h
 *   optstate_*         optimizer state as safetensors tensors         optstate.h
 *   stepfile_run       one optimizer step on a safetensors file       stepfile.h
 *   cmp_files          compare two files: the verdicts of `compare`   compare.h
 *   lp_*               f32/bf16/f16 rounding, the emulated product,
 *                      the measured envelope of a correct implementation  lowprec.h
 *   lm_error           the error mechanism                            common.h
 *   lm_msign, lm_opt_*, lm_st_*, lm_compare   the stable C API, the
 *                      only one liblionmuon.so exports (-llionmuon)   api.h
 * Matrices are row-major doubles, as a PyTorch tensor's storage.
 * LIONMUON_VERSION is defined in api.h. */
#ifndef LIONMUON_H
#define LIONMUON_H

#include "api.h"
#include "common.h"
#include "compare.h"
#include "linalg.h"
#include "lowprec.h"
#include "msign.h"
#include "optim.h"
#include "optstate.h"
#include "safetensors.h"
#include "stepfile.h"

/* LIONMUON_VERSION: common.h */

#endif
