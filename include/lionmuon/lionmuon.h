/* lionmuon.h - the public header of liblionmuon.a, the LionMuon reference.
 *
 * Include this one header from C or C++ and link with
 *   liblionmuon.a -llapacke -lopenblas -lgsl -ljansson -lm -fopenmp
 * to call the reference directly from a test harness:
 *   msign()            exact (SVD) and Newton-Schulz polar factors   msign.h
 *   opt_*              LionMuon, its special cases, AdamW, schedule   optim.h
 *   la_*               matrix norms and helpers                       linalg.h
 *   st_*               safetensors read/write                         safetensors.h
 *   optstate_*         optimizer state as safetensors tensors         optstate.h
 *   stepfile_run       one optimizer step on a safetensors file       stepfile.h
 *   lm_error           the error mechanism                            common.h
 * Matrices are row-major doubles, as a PyTorch tensor's storage. */
#ifndef LIONMUON_H
#define LIONMUON_H

#include "common.h"
#include "linalg.h"
#include "msign.h"
#include "optim.h"
#include "optstate.h"
#include "safetensors.h"
#include "stepfile.h"

/* LIONMUON_VERSION: common.h */

#endif
