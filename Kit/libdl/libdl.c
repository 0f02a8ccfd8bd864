// rproc-tee TA dev kit: lib/libdl.a, which a TA links with -ldl (before the C library's): the
// loader functions whose meaning OP-TEE's TAs rely on and glibc's differ from. Hidden and bound
// in the TA (-Bsymbolic): the TA's own calls reach these, nothing else's does.
//   dlopen("<uuid>", …)  loads the TA library of that UUID from the secure world's TA folders
//                        (verified there, as OP-TEE's ldelf asks its TA store);
//   dl_iterate_phdr      visits every module of the TA (not the host's) and returns the last
//                        callback's value, as OP-TEE's does (glibc stops at the first non-zero).
#include <dlfcn.h>
#include <link.h>

void *rproc_tee_dlopen(const char *name, int flags);
int rproc_tee_dl_iterate_phdr(int (*callback)(struct dl_phdr_info *, size_t, void *), void *data);

__attribute__((visibility("hidden"))) void *dlopen(const char *name, int flags)
{
    return rproc_tee_dlopen(name, flags);
}

__attribute__((visibility("hidden"))) int dl_iterate_phdr(int (*callback)(struct dl_phdr_info *, size_t, void *), void *data)
{
    return rproc_tee_dl_iterate_phdr(callback, data);
}
