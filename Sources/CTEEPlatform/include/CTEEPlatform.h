// What Swift cannot import from Glibc: futexes on shared memory, memfd_create, SCM_RIGHTS
// descriptor passing, SO_PEERCRED, and C11 atomics on memory another process maps. Only
// TEETransport imports this module (DESIGN.md §1).
#ifndef CTEEPLATFORM_H
#define CTEEPLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING); -1 and errno on failure.
int cteep_memfd_create(const char *name);
/// Seals a memfd against shrinking and growing (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), so
/// the other side's mapping can never turn into SIGBUS. 0 or -1.
int cteep_memfd_seal(int fd);
/// Whether `fd` is sealed against shrinking (a peer cannot truncate it under our mapping).
int cteep_memfd_is_sealed(int fd);

/// Sends `len` bytes and, if fd >= 0, one descriptor (SCM_RIGHTS). Retries EINTR. Returns 0 or -1.
int cteep_send(int sock, const void *buf, size_t len, int fd);
/// Receives one message of at most `cap` bytes and at most one descriptor (-1 if none; any
/// extra descriptors are closed). Returns the byte count, 0 on orderly close, -1 on error;
/// a truncated message or control data is an error (errno EMSGSIZE).
ssize_t cteep_recv(int sock, void *buf, size_t cap, int *fd);

/// Whether the peer of `sock` has closed its end (POLLHUP / POLLRDHUP / POLLERR), without
/// consuming anything. 1 or 0.
int cteep_peer_gone(int sock);

/// The peer's credentials (SO_PEERCRED). 0 or -1.
int cteep_peer_credentials(int sock, uint32_t *uid, uint32_t *gid, int32_t *pid);

/// Atomics on shared memory (sequentially consistent where it matters: release/acquire).
uint32_t cteep_load_acquire(const uint32_t *addr);
void cteep_store_release(uint32_t *addr, uint32_t value);
uint32_t cteep_fetch_add(uint32_t *addr, uint32_t value);

/// Waits until *addr != old: spins `spins` times (with a pause, and a sched_yield every 32), then futex-waits (shared, not
/// private: the word is in memory two processes map) in slices of `slice_ms`. Returns the new
/// value, or `old` if `timeout_ms` (>= 0) passed first. Spurious wakeups are absorbed.
uint32_t cteep_wait_change(const uint32_t *addr, uint32_t old, int spins, int timeout_ms);
/// Wakes every waiter on addr.
void cteep_wake(uint32_t *addr);
/// As cteep_wait_change, and before each futex sleep sets *waiting to 1 (cleared on return):
/// the other side's cteep_publish then knows a FUTEX_WAKE is needed. One waiter per flag.
uint32_t cteep_wait_change_flagged(const uint32_t *addr, uint32_t old, uint32_t *waiting, int spins, int timeout_ms);
/// As cteep_wait_change_flagged, and while spinning prefetches `lines` cache lines from `frame`
/// (the message the word announces) right behind each read of the word.
uint32_t cteep_wait_change_prefetching(const uint32_t *addr, uint32_t old, uint32_t *waiting, int spins, int timeout_ms,
                                       const void *frame, int lines);
/// Stores value into *addr and wakes its waiter only if *waiting says one sleeps (a waiter that
/// is still spinning needs no system call).
void cteep_publish(uint32_t *addr, uint32_t value, const uint32_t *waiting);

/// Starts `path` with `argv` and `envp` as a TA host: `fd3` becomes descriptor 3 and `fd4`
/// descriptor 4 of the child, and every other descriptor above 2 is closed in the child before
/// it runs (POSIX_SPAWN + closefrom: a host never inherits another client's memory). Returns
/// the child's pid, or -1 with errno.
int cteep_spawn_host(const char *path, char *const argv[], char *const envp[], int fd3, int fd4);
/// A SOCK_SEQPACKET socket pair, both ends close-on-exec. 0 or -1.
int cteep_socketpair(int fds[2]);
/// The calling process gets SIGKILL when the thread that started it ends
/// (PR_SET_PDEATHSIG). 0 or -1.
int cteep_die_with_parent(void);
/// Names the calling thread and, for the main thread, the process as `ps` and `top` show it
/// (PR_SET_NAME: at most 15 bytes are kept). 0 or -1.
int cteep_set_name(const char *name);

#endif
