// The one door a sandboxed TA host has to files: the loader's opens of a native TA and its
// libraries. After the seccomp filter, open/openat trap (SIGSYS) into the handler here instead of
// reaching the kernel. The handler answers a read-only open of a name the host registered (the
// TA's verified image and the libraries it needs, each a sealed memfd the core sent) with a
// duplicate of that descriptor, rewound; every other open fails (ENOENT under the TA folder's
// name, EACCES elsewhere). So glibc's dlopen loads exactly what the core verified — DT_NEEDED
// names resolve through the TA's RUNPATH $ORIGIN to the same folder — and a TA that calls open()
// itself gets no file the host did not already hold. A TA that replaces the SIGSYS handler gains
// nothing: the filter still refuses the call.
#define _GNU_SOURCE
#include "CTEEPlatform.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

int cteep_coverage_open(const char *path, long *result);   // CoverageBroker.c

#define BROKER_NAMES 32
#define BROKER_NAME_MAX 96

static struct {
    char name[BROKER_NAME_MAX];
    int fd;
} names[BROKER_NAMES];
static volatile int name_count;

int cteep_broker_register(const char *name, int fd)
{
    size_t len = strlen(name);
    if (len == 0 || len >= BROKER_NAME_MAX || fd < 0 || name_count >= BROKER_NAMES) {
        errno = EINVAL;
        return -1;
    }
    int i = name_count;
    memcpy(names[i].name, name, len + 1);
    names[i].fd = fd;
    __atomic_store_n(&name_count, i + 1, __ATOMIC_RELEASE);
    return 0;
}

/// Async-signal-safe: compares bytes, duplicates, seeks. Returns the result of the open (a
/// descriptor, or -errno).
static long broker_open(const char *path, long flags)
{
    // Attacker: the TA (or a loader acting for it) names any path with any flags.
    if (!path)
        return -EFAULT;
    long coverage;
    if (cteep_coverage_open(path, &coverage))
        return coverage;
    if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_CREAT | O_TRUNC | O_TMPFILE)))
        return -EACCES;
    int count = __atomic_load_n(&name_count, __ATOMIC_ACQUIRE);
    for (int i = 0; i < count; i++) {
        if (strncmp(path, names[i].name, BROKER_NAME_MAX) == 0) {
            long fd = syscall(SYS_dup, names[i].fd);
            if (fd < 0)
                return -errno;
            // A duplicate shares the file offset: every open starts at the beginning.
            syscall(SYS_lseek, (int)fd, 0L, SEEK_SET);
            return fd;
        }
    }
    return strncmp(path, CTEEP_BROKER_FOLDER "/", sizeof(CTEEP_BROKER_FOLDER)) == 0 ? -ENOENT : -EACCES;
}

static void on_sigsys(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    ucontext_t *uc = context;
    int saved = errno;
#if defined(__x86_64__)
    greg_t *r = uc->uc_mcontext.gregs;
    long nr = info->si_syscall;
    long result = -ENOSYS;
    if (nr == SYS_openat)
        result = broker_open((const char *)r[REG_RSI], r[REG_RDX]);
#ifdef SYS_open
    else if (nr == SYS_open)
        result = broker_open((const char *)r[REG_RDI], r[REG_RSI]);
#endif
    r[REG_RAX] = result;
#elif defined(__aarch64__)
    long nr = info->si_syscall;
    long result = -ENOSYS;
    if (nr == SYS_openat)
        result = broker_open((const char *)uc->uc_mcontext.regs[1], (long)uc->uc_mcontext.regs[2]);
    uc->uc_mcontext.regs[0] = (unsigned long)result;
#endif
    errno = saved;
}

int cteep_broker_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGSYS, &sa, NULL);
}
