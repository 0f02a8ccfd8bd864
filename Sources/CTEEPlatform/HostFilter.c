// The TA host's seccomp filter: the one list of what a TA's process may ask the kernel for.
//
// A TA host holds its link to the core (shared memory and futexes), the socket the core sends a
// call's memory descriptors on, a pipe to the secure log, and whatever memory it maps. Anything
// a TA may do beyond computing — storage, other TAs, the log, the device identity — is a request
// to the core. So a host needs memory, threads, futexes, time, randomness, its descriptor socket
// and a way to end; everything else (open, socket, connect, ptrace, execve, fork, …) fails with
// EPERM. The filter is installed after the uid change and no_new_privs, on every thread (TSYNC),
// before any TA code runs, and cannot be lifted.
#define _GNU_SOURCE
#include "CTEEPlatform.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define HOST_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define HOST_ARCH AUDIT_ARCH_AARCH64
#else
#error "the TA host filter knows x86-64 and AArch64"
#endif

#define NR_OFFSET offsetof(struct seccomp_data, nr)
#define ARCH_OFFSET offsetof(struct seccomp_data, arch)
// Arguments are 64 bits, loaded as two 32-bit words (little-endian: low word first).
#define ARG_LOW(i) (offsetof(struct seccomp_data, args) + 8 * (i))
#define ARG_HIGH(i) (offsetof(struct seccomp_data, args) + 8 * (i) + 4)

#define MAX_FILTER 200

struct builder {
    struct sock_filter code[MAX_FILTER];
    unsigned short count;
    int overflow;
};

static void emit(struct builder *b, struct sock_filter f) {
    if (b->count >= MAX_FILTER) { b->overflow = 1; return; }
    b->code[b->count++] = f;
}

static void load_nr(struct builder *b) { emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFFSET)); }

/// nr → allow.
static void allow(struct builder *b, long nr) {
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

/// nr → fail with `error` (a call the C library falls back from).
static void refuse(struct builder *b, long nr, int error) {
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (error & SECCOMP_RET_DATA)));
}

/// nr → SIGSYS, answered in the process by OpenBroker.c's handler.
static void trap(struct builder *b, long nr) {
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP));
}

/// nr → allow only if argument `arg` equals `value` (both words); reloads nr after.
static void allow_if_arg(struct builder *b, long nr, int arg, uint32_t value) {
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 6));
    emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(arg)));
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 3));
    emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_HIGH(arg)));
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
}

/// nr → allow only if argument `arg`'s low word has every bit of `bits`.
static void allow_if_bits(struct builder *b, long nr, int arg, uint32_t bits) {
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 5));
    emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(arg)));
    emit(b, (struct sock_filter)BPF_STMT(BPF_ALU | BPF_AND | BPF_K, bits));
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, bits, 0, 1));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
}

/// nr → allow only if argument `arg`'s low word is one of `values` (the high word ignored: an
/// int argument); other values fail with EPERM.
static void allow_if_arg_in(struct builder *b, long nr, int arg, const uint32_t *values, unsigned char count) {
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, (unsigned char)(count + 3)));
    emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG_LOW(arg)));
    for (unsigned char i = 0; i < count; i++)
        emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, values[i], (unsigned char)(count - i), 0));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
}

static int install(struct builder *b) {
    if (b->overflow) { errno = E2BIG; return -1; }
    struct sock_fprog program = { .len = b->count, .filter = b->code };
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &program);
    if (rc != 0) {
        if (rc > 0) errno = EBUSY;   // TSYNC: a thread (rc) could not be synchronized
        return -1;
    }
    return 0;
}

static void start(struct builder *b) {
    // Another architecture's system call numbers (x32, a 32-bit entry) mean other calls: kill.
    emit(b, (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH_OFFSET));
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, HOST_ARCH, 1, 0));
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    load_nr(b);
#if defined(__x86_64__)
    emit(b, (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1));   // __X32_SYSCALL_BIT
    emit(b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
}

/// The coverage helper (CoverageBroker.c): its socket, folders and files under its one folder.
int cteep_install_coverage_filter(void) {
    struct builder b = { .count = 0, .overflow = 0 };
    start(&b);
    allow(&b, SYS_recvfrom);
    allow(&b, SYS_sendmsg);
    allow(&b, SYS_openat);
    allow(&b, SYS_mkdirat);
    allow(&b, SYS_fstat);
#ifdef SYS_newfstatat
    allow(&b, SYS_newfstatat);
#endif
    allow(&b, SYS_dup);
    allow(&b, SYS_close);
    allow(&b, SYS_rt_sigreturn);
    allow(&b, SYS_exit);
    allow(&b, SYS_exit_group);
    emit(&b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    return install(&b);
}

int cteep_install_host_filter(int32_t self) {
    struct builder b = { .count = 0, .overflow = 0 };
    start(&b);

    // The calls of every entry point first (the filter is a list tried in order): the link's
    // doorbells and every lock, the spinning wait's yield, a call's descriptors and windows.
    allow(&b, SYS_futex);
    allow(&b, SYS_sched_yield);
    allow(&b, SYS_recvmsg);
    // Memory: the heap, thread stacks, the call's windows (mapped from descriptors the core sent).
    allow(&b, SYS_mmap);
    allow(&b, SYS_munmap);
    allow(&b, SYS_mprotect);
    allow(&b, SYS_mremap);
    allow(&b, SYS_madvise);
    allow(&b, SYS_brk);
    // The thread library's robust lists and rseq.
    allow(&b, SYS_set_robust_list);
    allow(&b, SYS_get_robust_list);
#ifdef SYS_rseq
    allow(&b, SYS_rseq);
#endif
    // Threads, never processes: clone must share the thread group. clone3 passes its flags in
    // memory the filter cannot read: ENOSYS makes the C library fall back to clone.
    allow_if_bits(&b, SYS_clone, 0, CLONE_THREAD | CLONE_VM);
#ifdef SYS_clone3
    refuse(&b, SYS_clone3, ENOSYS);
#endif
    allow(&b, SYS_exit);
    allow(&b, SYS_exit_group);
    // Descriptors it already holds (the call's memory arrives by recvmsg, above); stdout and
    // stderr are the log pipe (a runtime's fatal message, a sanitizer's report); close.
    allow(&b, SYS_read);
    allow(&b, SYS_pread64);
    allow(&b, SYS_lseek);
    allow(&b, SYS_dup);
    allow(&b, SYS_write);
    allow(&b, SYS_writev);
    allow(&b, SYS_close);
    allow(&b, SYS_fstat);
#ifdef SYS_newfstatat
    allow(&b, SYS_newfstatat);
#endif
    // fcntl on those: the C library's fdopen asks a descriptor's flags, gcov's runtime locks
    // its .gcda (--ta-coverage); nothing else of fcntl (no leases, no directory notification).
    static const uint32_t fcntl_commands[] = { F_GETFD, F_SETFD, F_GETFL, F_GETLK, F_SETLK, F_SETLKW };
    allow_if_arg_in(&b, SYS_fcntl, 1, fcntl_commands, sizeof(fcntl_commands) / sizeof(fcntl_commands[0]));
#ifdef SYS_poll
    allow(&b, SYS_poll);
#endif
    allow(&b, SYS_ppoll);
#ifdef SYS_pause
    allow(&b, SYS_pause);
#endif
    // Signals on itself only: abort/raise (tgkill), the crash test's own SIGKILL (kill). tkill
    // names a thread of any process: refused.
    allow(&b, SYS_rt_sigaction);
    allow(&b, SYS_rt_sigprocmask);
    allow(&b, SYS_rt_sigreturn);
    allow(&b, SYS_sigaltstack);
    allow_if_arg(&b, SYS_tgkill, 0, (uint32_t)self);
    allow_if_arg(&b, SYS_kill, 0, (uint32_t)self);
    // Who and where it is: its own ids, its parent (is the daemon still there?).
    allow(&b, SYS_getpid);
    allow(&b, SYS_gettid);
    allow(&b, SYS_getppid);
    allow(&b, SYS_getuid);
    allow(&b, SYS_geteuid);
    allow(&b, SYS_getgid);
    allow(&b, SYS_getegid);
    allow(&b, SYS_uname);
    allow(&b, SYS_sysinfo);
    allow(&b, SYS_getrusage);
    // Time and scheduling: TEE_Wait, TEE_GetSystemTime, spinning waits.
    allow(&b, SYS_clock_gettime);
    allow(&b, SYS_clock_getres);
    allow(&b, SYS_gettimeofday);
    allow(&b, SYS_nanosleep);
    allow(&b, SYS_clock_nanosleep);
    allow(&b, SYS_sched_getaffinity);
    // Randomness for TEE_GenerateRandom and the crypto library's seeds.
    allow(&b, SYS_getrandom);
    // Its own limits (pid 0: itself); naming its threads for ps (PR_SET_NAME, nothing else of
    // prctl: no_new_privs, dumpable and the filter stay as set).
    allow_if_arg(&b, SYS_prlimit64, 0, 0);
    allow_if_arg(&b, SYS_prctl, 0, PR_SET_NAME);

    // Opening a file: only what the core sent, through OpenBroker.c (a native TA and the
    // libraries it needs, opened by the loader; anything else fails there).
    trap(&b, SYS_openat);
#ifdef SYS_open
    trap(&b, SYS_open);
#endif

    // Everything else: open/openat, socket, connect, ptrace, execve, fork, kill of others,
    // process_vm_*, io_uring, bpf, mount, … fail.
    emit(&b, (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    return install(&b);
}
