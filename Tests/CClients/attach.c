#define _DEFAULT_SOURCE /* usleep */
/* A debugger's first step, for the --ta-debug test (CI has no gdb): attach to PID with
 * PTRACE_SEIZE (the process is not stopped; its TracerPid becomes ours), hold it for a moment,
 * detach. Exits 0 if the attach succeeded and the detach did or the process had ended. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 64;
    pid_t pid = (pid_t)atoi(argv[1]);
    if (ptrace(PTRACE_SEIZE, pid, NULL, NULL) != 0) {
        perror("PTRACE_SEIZE");
        return 1;
    }
    usleep(300 * 1000);
    /* Detaching needs the tracee stopped; it may have ended meanwhile (its TA ran and closed). */
    int status;
    if (ptrace(PTRACE_INTERRUPT, pid, NULL, NULL) == 0 && waitpid(pid, &status, __WALL) == pid && WIFSTOPPED(status) &&
        ptrace(PTRACE_DETACH, pid, NULL, NULL) != 0 && errno != ESRCH) {
        perror("PTRACE_DETACH");
        return 1;
    }
    printf("attached and detached %d\n", (int)pid);
    return 0;
}
