/* startup.h - what lionmuon does first (src/cli/startup.c). */
#ifndef LM_CLI_STARTUP_H
#define LM_CLI_STARTUP_H

/* At most one re-execution of the program (argv as main got it) with
 * OMP_WAIT_POLICY=passive and/or a better OpenBLAS kernel; in an image
 * that runs a kernel the tool selected, the DGEMM self-check.  Returns
 * when nothing is to be done or the re-execution failed. */
void cli_startup(char **argv);

#endif
