/* peak_rss: runs a command and writes its peak resident memory, so that a
 * benchmark can report the memory of a process that has already exited.
 *
 *   peak_rss --output FILE COMMAND [ARGUMENT...]
 *
 * FILE gets one line "peak_rss_kib=N": the ru_maxrss that wait4 returns
 * for the command, which Linux counts in KiB and which is the VmHWM the
 * process had in /proc/PID/status when it ended. The exit status is the
 * command's, or 1 when it could not be run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4 || strcmp(argv[1], "--output") != 0) {
        fprintf(stderr,
                "Usage: peak_rss --output FILE COMMAND [ARGUMENT...]\n");
        return 2;
    }
    pid_t child = fork();
    if (child < 0) {
        fprintf(stderr, "peak_rss: fork failed: %s\n", strerror(errno));
        return 1;
    }
    if (child == 0) {
        execvp(argv[3], argv + 3);
        fprintf(stderr, "peak_rss: cannot run %s: %s\n", argv[3],
                strerror(errno));
        _exit(127);
    }
    int status;
    struct rusage usage;
    while (wait4(child, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "peak_rss: wait failed: %s\n", strerror(errno));
            return 1;
        }
    }
    FILE *out = fopen(argv[2], "w");
    if (!out || fprintf(out, "peak_rss_kib=%ld\n", usage.ru_maxrss) < 0 ||
        fclose(out) != 0) {
        fprintf(stderr, "peak_rss: cannot write %s\n", argv[2]);
        return 1;
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    return 128 + WTERMSIG(status);
}
