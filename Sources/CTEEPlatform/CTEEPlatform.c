#define _GNU_SOURCE
#include "CTEEPlatform.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <grp.h>
#include <sys/prctl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int cteep_memfd_create(const char *name) {
    return (int)syscall(SYS_memfd_create, name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
}

int cteep_memfd_seal(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

int cteep_copy_range(int in, uint64_t in_offset, int out, uint64_t out_offset, size_t count) {
    loff_t from = (loff_t)in_offset, to = (loff_t)out_offset;
    while (count > 0) {
        ssize_t n = copy_file_range(in, &from, out, &to, count, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        count -= (size_t)n;
    }
    return 0;
}

int cteep_memfd_seal_size(int fd) {
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW);
}

int cteep_memfd_seal_final(int fd, int writable) {
    return fcntl(fd, F_ADD_SEALS, writable ? F_SEAL_SEAL : (F_SEAL_FUTURE_WRITE | F_SEAL_SEAL));
}

int cteep_memfd_check_seals(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return -1;
    // Attacker: the client that sent the descriptor. Without F_SEAL_SEAL it could add
    // F_SEAL_FUTURE_WRITE after registering (a TA's writable window would then fail to map);
    // without F_SEAL_SHRINK it could truncate the memfd under our mapping (SIGBUS).
    if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) { errno = EPERM; return -1; }
    if ((seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) != (F_SEAL_SHRINK | F_SEAL_SEAL)) { errno = EPERM; return -1; }
    return 0;
}

int cteep_memfd_lock_seals(int fd) {
    int seals = fcntl(fd, F_GET_SEALS);
    if (seals < 0) return -1;
    // Attacker: the client that sent the descriptor. A write seal would make a TA host's
    // writable mapping fail; a missing F_SEAL_SEAL would let the client add one later.
    if (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) { errno = EPERM; return -1; }
    if ((seals & (F_SEAL_SHRINK | F_SEAL_SEAL)) == (F_SEAL_SHRINK | F_SEAL_SEAL)) return 0;
    if (seals & F_SEAL_SEAL) { errno = EPERM; return -1; }   // sealed without SHRINK: can shrink under us
    // F_ADD_SEALS works on any descriptor of the memfd open for writing; from now on nobody
    // (the client included) can add WRITE/FUTURE_WRITE, shrink or grow it.
    return fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
}

int cteep_send(int sock, const void *buf, size_t len, int fd) {
    struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
    union { char bytes[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    if (fd >= 0) {
        memset(&control, 0, sizeof control);
        msg.msg_control = control.bytes;
        msg.msg_controllen = sizeof control.bytes;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    for (;;) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if ((size_t)n != len) { errno = EMSGSIZE; return -1; }
        return 0;
    }
}

ssize_t cteep_recv(int sock, void *buf, size_t cap, int *fd) {
    struct iovec iov = { .iov_base = buf, .iov_len = cap };
    union { char bytes[CMSG_SPACE(4 * sizeof(int))]; struct cmsghdr align; } control;
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.bytes, .msg_controllen = sizeof control.bytes };
    *fd = -1;
    ssize_t n;
    do { n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC); } while (n < 0 && errno == EINTR);
    if (n < 0) return -1;
    int received = -1, extra = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; i++) {
            int d;
            memcpy(&d, CMSG_DATA(c) + i * sizeof(int), sizeof d);
            // Attacker: the peer. One descriptor per message at most; the rest are closed.
            if (received < 0) received = d; else { close(d); extra = 1; }
        }
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || extra) {
        if (received >= 0) close(received);
        errno = EMSGSIZE;
        return -1;
    }
    *fd = received;
    return n;
}

int cteep_peer_gone(int sock) {
    struct pollfd p = { .fd = sock, .events = POLLRDHUP, .revents = 0 };
    int n = poll(&p, 1, 0);
    return n > 0 && (p.revents & (POLLHUP | POLLRDHUP | POLLERR | POLLNVAL)) != 0;
}

int cteep_peer_credentials(int sock, uint32_t *uid, uint32_t *gid, int32_t *pid) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *uid = cred.uid;
    *gid = cred.gid;
    *pid = cred.pid;
    return 0;
}

int cteep_peer_groups(int sock, uint32_t *groups, int capacity) {
    socklen_t len = (socklen_t)(capacity * (int)sizeof(gid_t));
    if (getsockopt(sock, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0) return (int)(len / sizeof(gid_t));
    if (errno == ERANGE) return -(int)(len / sizeof(gid_t));
    return -1;
}

uint32_t cteep_load_acquire(const uint32_t *addr) { return __atomic_load_n(addr, __ATOMIC_ACQUIRE); }
void cteep_store_release(uint32_t *addr, uint32_t value) { __atomic_store_n(addr, value, __ATOMIC_RELEASE); }
uint32_t cteep_fetch_add(uint32_t *addr, uint32_t value) { return __atomic_fetch_add(addr, value, __ATOMIC_ACQ_REL); }

static void cpu_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

uint32_t cteep_wait_change(const uint32_t *addr, uint32_t old, int spins, int timeout_ms) {
    return cteep_wait_change_flagged(addr, old, NULL, spins, timeout_ms);
}

uint32_t cteep_wait_change_flagged(const uint32_t *addr, uint32_t old, uint32_t *waiting, int spins, int timeout_ms) {
    return cteep_wait_change_prefetching(addr, old, waiting, spins, timeout_ms, NULL, 0);
}

uint32_t cteep_wait_change_prefetching(const uint32_t *addr, uint32_t old, uint32_t *waiting, int spins, int timeout_ms,
                                       const void *frame, int lines) {
    for (int i = 0; i < spins; i++) {
        uint32_t v = __atomic_load_n(addr, __ATOMIC_ACQUIRE);
        // The frame's lines are asked for right behind the word, in the same iteration: the
        // other side writes them before it bumps the word, so when the word's line comes back
        // changed, theirs are already on the way (one cross-core transfer per call instead of
        // two: see the comment on ChannelLayout). A prefetch is only a hint: it reads nothing.
        for (int l = 0; l < lines; l++) __builtin_prefetch((const char *)frame + 64 * l, 0, 3);
        if (v != old) return v;
        cpu_pause();
        // A spinning waiter yields now and then: with a TA host there are three threads per call
        // (client, core, host) and two cores here, and a spinner that never yields keeps the
        // one doing the work off its core; one that sleeps pays a wake-up (an IPI to a halted
        // virtual CPU) on every call. Measured: isolated null invoke p50 16 → 9 µs, p99 89 → 13 µs.
        if ((i & 31) == 31) sched_yield();
    }
    long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
    uint32_t v;
    for (;;) {
        // Going to sleep: say so first (the waker skips its FUTEX_WAKE while nobody sleeps), then
        // look again. Both sides order their store before their load (seq_cst: a full fence on
        // x86, dmb on Arm), so the waker either sees the flag or this load sees its value; and
        // FUTEX_WAIT itself refuses to sleep if the word moved in between.
        if (waiting) __atomic_store_n(waiting, 1, __ATOMIC_SEQ_CST);
        v = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
        if (v != old) break;
        long left = 50;
        if (timeout_ms >= 0) {
            left = deadline - now_ms();
            if (left <= 0) { v = old; break; }
            if (left > 50) left = 50;
        }
        struct timespec slice = { .tv_sec = 0, .tv_nsec = left * 1000000 };
        syscall(SYS_futex, addr, FUTEX_WAIT, old, &slice, NULL, 0);
    }
    if (waiting) __atomic_store_n(waiting, 0, __ATOMIC_RELEASE);
    return v;
}

void cteep_wake(uint32_t *addr) {
    syscall(SYS_futex, addr, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

void cteep_publish(uint32_t *addr, uint32_t value, const uint32_t *waiting) {
    __atomic_store_n(addr, value, __ATOMIC_SEQ_CST);
    // The flag is the other process's word: whatever it holds costs this side at most one
    // needless FUTEX_WAKE (a 1) or the other side its own wake-up latency (a 0 it forged while
    // asleep: it then sleeps out its 50 ms slice; only its own calls wait).
    if (__atomic_load_n(waiting, __ATOMIC_SEQ_CST) != 0)
        syscall(SYS_futex, addr, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

int cteep_spawn_host(const char *path, char *const argv[], char *const envp[], int fd3, int fd4, int output) {
    posix_spawn_file_actions_t actions;
    if (posix_spawn_file_actions_init(&actions) != 0) return -1;
    // Nothing of the daemon's standard descriptors: input is /dev/null, output and errors go
    // to a pipe the daemon reads into the secure log.
    int rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, output, 1);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, output, 2);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, fd3, 3);
    if (rc == 0) rc = posix_spawn_file_actions_adddup2(&actions, fd4, 4);
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 5);
    posix_spawnattr_t attr;
    if (rc == 0) rc = posix_spawnattr_init(&attr);
    if (rc == 0) {
        // The daemon blocks SIGTERM/SIGINT/SIGPIPE for sigwait: the host starts with none blocked
        // and default handlers.
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        posix_spawnattr_setsigmask(&attr, &none);
        posix_spawnattr_setsigdefault(&attr, &all);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid = -1;
        rc = posix_spawn(&pid, path, &actions, &attr, argv, envp);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&actions);
        if (rc == 0) return (int)pid;
    } else {
        posix_spawn_file_actions_destroy(&actions);
    }
    errno = rc;
    return -1;
}

int cteep_socketpair(int fds[2]) {
    return socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds);
}

int cteep_set_name(const char *name) {
    return prctl(PR_SET_NAME, name, 0, 0, 0);
}

int cteep_die_with_parent(void) {
    return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
}

int cteep_pipe(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int cteep_allow_debugger(void) {
    if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) return -1;
#ifdef PR_SET_PTRACER
    // Yama's ptrace_scope 1: any process of this uid may attach (a debugger is no ancestor).
    (void)prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
#endif
    return 0;
}

int cteep_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
}

int cteep_drop_privileges(uint32_t uid, uint32_t gid) {
    // Root only: the bounding set first (that needs CAP_SETPCAP, which the uid change drops),
    // then groups, gid, uid — all three ids of each, so nothing can be regained.
    if (geteuid() == 0) {
        for (int cap = 0; cap <= 63; cap++) {
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) return -1;
        }
        if (setgroups(0, NULL) != 0) return -1;
    }
    if (setresgid(gid, gid, gid) != 0) return -1;
    if (setresuid(uid, uid, uid) != 0) return -1;
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != uid || e != uid || s != uid) { errno = EPERM; return -1; }
    return 0;
}

int cteep_no_new_privileges(void) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    // The ambient set is empty for a non-root process, and after a uid change from root: made
    // sure of anyway (EINVAL on kernels without ambient capabilities is fine).
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return -1;
    return 0;
}

/* A process's fork generation: 0 in the process that loaded this code, bumped in every child
   of a fork (pthread_atfork; posix_spawn runs no fork handlers). A client connection remembers
   the generation it was made in: a child must not use its parent's channels and socket. */
static uint32_t fork_generation;

static void fork_child(void) { __atomic_fetch_add(&fork_generation, 1, __ATOMIC_RELAXED); }

__attribute__((constructor)) static void register_fork_handler(void) { pthread_atfork(NULL, NULL, fork_child); }

uint32_t cteep_fork_generation(void) { return __atomic_load_n(&fork_generation, __ATOMIC_RELAXED); }
