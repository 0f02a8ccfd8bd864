// Coverage for a C TA built with --coverage (`secure-world --ta-coverage DIR`): the .gcda files
// gcov's runtime writes when the TA's instance ends, without opening the host's sandbox.
//
// The runtime (libgcov, linked into the TA) opens each object's `<path>.gcda` read-write and
// creates it, merges its counters in, and writes it back. A sandboxed host opens no file, so the
// host starts a helper before its filter closes: a process forked from it (its user, not
// dumpable, dying with it) that holds DIR and runs none of the TA's code — the TA is loaded
// after. The open broker (OpenBroker.c) sends the helper the path of any open of an absolute
// `….gcda` and gets back a descriptor of DIR/<path>, created with its folders. That is the whole
// of what coverage adds to a TA's reach: creating and rewriting `.gcda` files under DIR.
#define _GNU_SOURCE
#include "CTEEPlatform.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define COVERAGE_PATH_MAX 1024
#define COVERAGE_DEPTH_MAX 64
#define COVERAGE_NAME_MAX 255

/// The host's end of the helper's socket (-1: no coverage).
int cteep_coverage_socket = -1;
static volatile int coverage_busy;

static int ends_with_gcda(const char *path, size_t len)
{
    return len > 5 && memcmp(path + len - 5, ".gcda", 5) == 0;
}

/// In the helper. DIR + `path`: every folder opened without following links (created if
/// missing), the file opened read-write (created), a regular file. A descriptor or -errno.
static int open_under(int dir, const char *path, size_t len)
{
    // Attacker: the TA, which can write any bytes to this socket itself, not only what gcov's
    // runtime sends. Absolute, at most COVERAGE_PATH_MAX bytes, no NUL, a `.gcda` name, no `.`
    // or `..` component, at most COVERAGE_DEPTH_MAX folders of at most COVERAGE_NAME_MAX bytes:
    // nothing resolves outside DIR, and no link is followed (O_NOFOLLOW at every step).
    if (len == 0 || len >= COVERAGE_PATH_MAX || path[0] != '/' || memchr(path, 0, len) || !ends_with_gcda(path, len))
        return -EINVAL;
    char name[COVERAGE_NAME_MAX + 1];
    int current = dup(dir);
    if (current < 0)
        return -errno;
    size_t i = 0;
    int depth = 0;
    for (;;) {
        while (i < len && path[i] == '/')
            i++;
        size_t start = i;
        while (i < len && path[i] != '/')
            i++;
        size_t n = i - start;
        if (n == 0 || n > COVERAGE_NAME_MAX || ++depth > COVERAGE_DEPTH_MAX) {
            close(current);
            return -EINVAL;
        }
        memcpy(name, path + start, n);
        name[n] = 0;
        if (!strcmp(name, ".") || !strcmp(name, "..")) {
            close(current);
            return -EINVAL;
        }
        if (i == len) {
            int fd = openat(current, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
            int error = errno;
            close(current);
            if (fd < 0)
                return -error;
            struct stat st;
            if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                close(fd);
                return -EINVAL;
            }
            return fd;
        }
        int next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && (mkdirat(current, name, 0755) == 0 || errno == EEXIST))
            next = openat(current, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int error = errno;
        close(current);
        if (next < 0)
            return -error;
        current = next;
    }
}

/// The helper: one request (a path) → one answer (an int: 0 or an errno, with the descriptor).
static void serve(int sock, int dir) __attribute__((noreturn));
static void serve(int sock, int dir)
{
    char path[COVERAGE_PATH_MAX];
    for (;;) {
        ssize_t n = recv(sock, path, sizeof(path), 0);
        if (n <= 0)
            _exit(0);   // the host is gone
        int fd = open_under(dir, path, (size_t)n);
        int answer = fd < 0 ? -fd : 0;
        struct iovec iov = { .iov_base = &answer, .iov_len = sizeof(answer) };
        union {
            char buffer[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (fd >= 0) {
            memset(&control, 0, sizeof(control));
            msg.msg_control = control.buffer;
            msg.msg_controllen = sizeof(control.buffer);
            struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        ssize_t sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
        if (fd >= 0)
            close(fd);
        if (sent < 0)
            _exit(0);
    }
}

int cteep_coverage_start(const char *directory)
{
    int dir = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir < 0)
        return -1;
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
        close(dir);
        return -1;
    }
    pid_t parent = getpid();
    pid_t child = fork();
    if (child < 0) {
        int error = errno;
        close(dir);
        close(pair[0]);
        close(pair[1]);
        errno = error;
        return -1;
    }
    if (child == 0) {
        // Only system calls from here (the host may have had other threads when it forked):
        // every descriptor but the socket and DIR closed, death with the host, its own filter.
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != parent)
            _exit(0);
        for (int fd = 0; fd < 4096; fd++)
            if (fd != pair[1] && fd != dir)
                close(fd);
        if (cteep_install_coverage_filter() != 0)
            _exit(70);
        serve(pair[1], dir);
    }
    close(dir);
    close(pair[1]);
    cteep_coverage_socket = pair[0];
    return 0;
}

/// In the host's SIGSYS handler (async-signal-safe): an open of `path` through the helper, if
/// coverage is on and `path` is a `.gcda`. Returns 1 and sets `*result` (a descriptor or
/// -errno) when it answered, 0 when the open is not its.
int cteep_coverage_open(const char *path, long *result)
{
    int sock = cteep_coverage_socket;
    if (sock < 0)
        return 0;
    size_t len = strnlen(path, COVERAGE_PATH_MAX);
    if (len == COVERAGE_PATH_MAX || !ends_with_gcda(path, len))
        return 0;
    // One request at a time (gcov's runtime writes from one thread; another thread's open
    // waits its turn).
    while (__atomic_exchange_n(&coverage_busy, 1, __ATOMIC_ACQUIRE))
        syscall(SYS_sched_yield);
    long answer = -EIO;
    if (write(sock, path, len) == (ssize_t)len) {
        int code = 0;
        struct iovec iov = { .iov_base = &code, .iov_len = sizeof(code) };
        union {
            char buffer[CMSG_SPACE(sizeof(int))];
            struct cmsghdr align;
        } control;
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buffer, .msg_controllen = sizeof(control.buffer) };
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        struct cmsghdr *c = n == sizeof(code) ? CMSG_FIRSTHDR(&msg) : NULL;
        if (n != sizeof(code)) {
            answer = -EIO;
        } else if (code != 0) {
            answer = -code;
        } else if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
            int fd;
            memcpy(&fd, CMSG_DATA(c), sizeof(int));
            answer = fd;
        }
    }
    __atomic_store_n(&coverage_busy, 0, __ATOMIC_RELEASE);
    *result = answer;
    return 1;
}
