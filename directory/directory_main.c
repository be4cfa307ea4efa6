/* sdx-directory: the central lookup service and its admin commands. */
#include "directory_cli.h"

int main(int argc, char **argv)
{
    return directory_cli_run(argc, argv);
}
