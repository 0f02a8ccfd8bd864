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
/// Copies `count` bytes between two files in the kernel (copy_file_range), without mapping
/// either: 0, or -1 (the caller copies another way).
int cteep_copy_range(int in, uint64_t in_offset, int out, uint64_t out_offset, size_t count);
/// Seals a memfd against shrinking and growing only (more seals may follow). 0 or -1.
int cteep_memfd_seal_size(int fd);
/// The last seals of a window: F_SEAL_SEAL, and F_SEAL_FUTURE_WRITE unless `writable` (then
/// no new writable mapping or write() is possible; mappings made before stay writable). 0 or -1.
int cteep_memfd_seal_final(int fd, int writable);
/// Whether a peer's memfd is sealed for good against shrinking and any further seal, with no
/// write seal (F_SEAL_SHRINK and F_SEAL_SEAL set, F_SEAL_WRITE and F_SEAL_FUTURE_WRITE not).
/// 0, or -1 with errno EPERM.
int cteep_memfd_check_seals(int fd);
/// Makes sure a memfd of our own caller can never change size or be write-sealed under our mappings:
/// refuses one that carries F_SEAL_WRITE or F_SEAL_FUTURE_WRITE, or F_SEAL_SEAL without
/// F_SEAL_SHRINK; otherwise adds SHRINK | GROW | SEAL (a memfd already sealed so is accepted).
/// 0, or -1 with errno.
int cteep_memfd_lock_seals(int fd);

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

/// The peer's supplementary groups as captured at connect (SO_PEERGROUPS): the count written
/// into `groups`; -(needed) when `capacity` is too small; -1 on another error.
int cteep_peer_groups(int sock, uint32_t *groups, int capacity);

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
/// it runs (POSIX_SPAWN + closefrom: a host never inherits another client's memory); its
/// standard input is /dev/null and its standard output and error are `output`. Returns
/// the child's pid, or -1 with errno.
int cteep_spawn_host(const char *path, char *const argv[], char *const envp[], int fd3, int fd4, int output);
/// A SOCK_SEQPACKET socket pair, both ends close-on-exec. 0 or -1.
int cteep_socketpair(int fds[2]);
/// The calling process gets SIGKILL when the thread that started it ends
/// (PR_SET_PDEATHSIG). 0 or -1.
int cteep_die_with_parent(void);
/// Names the calling thread and, for the main thread, the process as `ps` and `top` show it
/// (PR_SET_NAME: at most 15 bytes are kept). 0 or -1.
int cteep_set_name(const char *name);

/// A pipe, both ends close-on-exec. 0 or -1.
int cteep_pipe(int fds[2]);
/// PR_SET_DUMPABLE: 0 makes the process's /proc files root's and refuses ptrace to its own
/// user. 0 or -1.
int cteep_set_dumpable(int dumpable);
/// Becomes uid/gid for good (real, effective and saved), with no supplementary groups and, if
/// the caller was root, an empty capability bounding set. 0 or -1 with errno.
int cteep_drop_privileges(uint32_t uid, uint32_t gid);
/// A TA host under --ta-debug: dumpable, and any process of its uid may ptrace it (Yama). 0 or -1.
int cteep_allow_debugger(void);
/// PR_SET_NO_NEW_PRIVS (no exec can ever grant privileges) and an empty ambient set. 0 or -1.
int cteep_no_new_privileges(void);
/// Installs the TA host's seccomp filter on every thread of the process (TSYNC). `self` is
/// the process's pid (the only target of kill/tgkill it allows). Every system call not on the
/// list fails with EPERM. 0, or -1 with errno.
int cteep_install_host_filter(int32_t self);

/// The folder under which a TA host's loader finds what the core sent it (OpenBroker.c).
#define CTEEP_BROKER_FOLDER "/rproc-tee-ta"
/// Lets a read-only open of `name` succeed after the filter, as a duplicate of `fd` (kept open
/// by the caller). At most 32 names; -1 when full.
int cteep_broker_register(const char *name, int fd);
/// Installs the SIGSYS handler that answers the filter's trapped opens.
int cteep_broker_install(void);
/// `--ta-coverage`: starts the coverage helper (a process of this host's user that holds
/// `directory` and runs none of the TA's code), after which an open of an absolute path ending
/// in `.gcda` opens `directory` + that path, read-write, created with its folders. Before the
/// filter; 0 or -1 (errno).
int cteep_coverage_start(const char *directory);
/// Installs the coverage helper's own seccomp filter (called in the helper).
int cteep_install_coverage_filter(void);

/// How many forks lie between the calling process and the one that loaded this library (0 in
/// that one): a connection made before a fork belongs to the parent.
uint32_t cteep_fork_generation(void);

#endif
