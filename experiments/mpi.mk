# MPI: the measured speed-up of a sweep and of data-parallel training with 2
# ranks against one process (results/mpi/speedup.json).
.PHONY: mpi-speedup
mpi-speedup: lionmuon mpi
	sh experiments/mpi/speedup.sh
