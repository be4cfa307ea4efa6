/* The sdx-directory command line: init, load, change-supplier, show and
 * serve. */
#ifndef SDX_DIRECTORY_CLI_H
#define SDX_DIRECTORY_CLI_H

/* Exit statuses. */
#define DIRECTORY_EXIT_OK     0
#define DIRECTORY_EXIT_FAILED 1 /* a failure, or rows rejected by load */
#define DIRECTORY_EXIT_USAGE  2

/* Runs the command in argv (argv[0] is the program) and returns the exit
 * status. */
int directory_cli_run(int argc, char **argv);

#endif
