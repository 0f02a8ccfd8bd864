#!/bin/sh
# install.sh install|uninstall PREFIX BUILD_DIR
# Lays out (or removes exactly) what `make install` promises a C developer:
#   PREFIX/bin/rproc-tee, PREFIX/include/tee_client_api.h, tee_client_api_extensions.h and
#   tee_plugin_method.h (for tee-supplicant plugins),
#   PREFIX/lib/libteec.so.2 (+ libteec.so), PREFIX/lib/pkgconfig/teec.pc.
# The tests use the same script on the debug build, so the layout is checked in CI.
#   PREFIX/lib/swift/: the Swift runtime libraries the two binaries load (as ldd resolves them
#   into the toolchain), found through their $ORIGIN runpaths on a machine without Swift; the
#   list of what was copied is lib/swift/rproc-tee-runtime.txt (uninstall removes exactly it).
#   RPROC_TEE_INSTALL_RUNTIME=no leaves it out (the tests' many throwaway prefixes).
#   PREFIX/export-ta_x86_64/: the C TA dev kit (mk/, include/, lib/libutee.so built here with
#   the C compiler, src/, keys/, scripts/, host_include/), and PREFIX/lib/optee_armtz/, the
#   folder the daemon serves native TAs from by default (tee-supplicant's TA path).
#   PREFIX/share/rproc-tee/firmware/*.elf (when Examples/firmware/build has them) and
#   PREFIX/share/rproc-tee/keys/dev-*.pem: what `rproc-tee demo` uses from an installed prefix.
set -eu
action=$1
prefix=$2
build=${3:-.build/release}
root=$(cd "$(dirname "$0")/.." && pwd)
files="bin/rproc-tee include/tee_client_api.h include/tee_client_api_extensions.h include/tee_plugin_method.h lib/libteec.so.2 lib/libteec.so lib/pkgconfig/teec.pc"

case "$action" in
install)
    mkdir -p "$prefix/bin" "$prefix/include" "$prefix/lib/pkgconfig"
    prefix=$(cd "$prefix" && pwd)
    install -m 0755 "$build/rproc-tee" "$prefix/bin/rproc-tee"
    install -m 0644 "$root/Sources/CTEEClientAPI/include/tee_client_api.h" "$root/Sources/CTEEClientAPI/include/tee_client_api_extensions.h" \
        "$root/Sources/CTEEClientAPI/include/tee_plugin_method.h" "$prefix/include/"
    install -m 0755 "$build/libteec.so" "$prefix/lib/libteec.so.2"
    ln -sf libteec.so.2 "$prefix/lib/libteec.so"
    cat > "$prefix/lib/pkgconfig/teec.pc" <<PC
prefix=$prefix
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: teec
Description: rproc-tee's GlobalPlatform TEE Client API (a drop-in for OP-TEE's libteec)
Version: 2.0.0
Libs: -L\${libdir} -lteec -Wl,-rpath,\${libdir}
Cflags: -I\${includedir}
PC
    if [ "${RPROC_TEE_INSTALL_RUNTIME:-yes}" != no ]; then
        mkdir -p "$prefix/lib/swift"
        : > "$prefix/lib/swift/rproc-tee-runtime.txt"
        # Every library ldd resolves outside the system's folders is the toolchain's.
        for lib in $(ldd "$prefix/bin/rproc-tee" "$prefix/lib/libteec.so.2" | awk '$2 == "=>" && $3 ~ /^\// && $3 !~ /^\/(usr\/)?lib(64)?\// { print $3 }' | sort -u); do
            install -m 0644 "$lib" "$prefix/lib/swift/"
            basename "$lib" >> "$prefix/lib/swift/rproc-tee-runtime.txt"
        done
    fi
    kit="$prefix/export-ta_x86_64"
    mkdir -p "$kit/mk" "$kit/include" "$kit/lib" "$kit/src" "$kit/keys" "$kit/scripts" "$kit/host_include" "$prefix/lib/optee_armtz"
    install -m 0644 "$root"/Kit/mk/*.mk "$kit/mk/"
    install -m 0644 "$root"/Kit/include/*.h "$kit/include/"
    install -m 0644 "$root"/Kit/src/*.c "$kit/src/"
    install -m 0644 "$root"/Kit/keys/default_ta.pem "$root"/Kit/keys/default_ta.pub.pem "$root"/Kit/keys/default_ta_enc.key "$root"/Kit/keys/README.md "$kit/keys/"
    install -m 0755 "$root"/Kit/scripts/sign_encrypt "$kit/scripts/"
    install -m 0644 "$root"/Kit/host_include/conf.h "$root"/Kit/host_include/conf.mk "$root"/Kit/host_include/conf.cmake "$kit/host_include/"
    # As OP-TEE's export: the TA API's headers for normal-world programs too (xtest includes
    # tee_api_defines.h, utee_defines.h, pta_attestation.h … from host_include).
    install -m 0644 "$root"/Kit/include/*.h "$kit/host_include/"
    # libutee.so: C only (no Swift runtime in it), warnings are errors.
    ${CC:-cc} -shared -fPIC -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror ${RPROC_TEE_KIT_CFLAGS:-} \
        -I"$root/Kit/include" -I"$root/Sources/CTAHostABI/include" "$root"/Kit/libutee/*.c \
        -Wl,-soname,libutee.so -Wl,-z,defs -o "$kit/lib/libutee.so"
    chmod 0755 "$kit/lib/libutee.so"
    # libdl.a: OP-TEE's meaning of dlopen and dl_iterate_phdr for a TA (it links -ldl).
    ${CC:-cc} -c -fPIC -O2 -g -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror ${RPROC_TEE_KIT_CFLAGS:-} \
        "$root/Kit/libdl/libdl.c" -o "$kit/lib/libdl.o"
    rm -f "$kit/lib/libdl.a" && ar rcs "$kit/lib/libdl.a" "$kit/lib/libdl.o" && rm -f "$kit/lib/libdl.o"
    mkdir -p "$prefix/share/rproc-tee/firmware" "$prefix/share/rproc-tee/keys"
    install -m 0644 "$root"/Keys/dev-*.pem "$prefix/share/rproc-tee/keys/"
    for elf in "$root"/Examples/firmware/build/*.elf; do
        [ -f "$elf" ] && install -m 0644 "$elf" "$prefix/share/rproc-tee/firmware/"
    done
    echo "installed in $prefix: $files, lib/swift (the Swift runtime), export-ta_x86_64 (the C TA dev kit), lib/optee_armtz, share/rproc-tee"
    ;;
uninstall)
    for f in $files; do rm -f "$prefix/$f"; done
    if [ -f "$prefix/lib/swift/rproc-tee-runtime.txt" ]; then
        while read -r lib; do rm -f "$prefix/lib/swift/$lib"; done < "$prefix/lib/swift/rproc-tee-runtime.txt"
        rm -f "$prefix/lib/swift/rproc-tee-runtime.txt"
        rmdir "$prefix/lib/swift" 2>/dev/null || true
    fi
    for f in "$root"/Keys/dev-*.pem; do rm -f "$prefix/share/rproc-tee/keys/$(basename "$f")"; done
    for f in "$root"/Examples/firmware/build/*.elf; do [ -f "$f" ] && rm -f "$prefix/share/rproc-tee/firmware/$(basename "$f")"; done
    rmdir "$prefix/share/rproc-tee/keys" "$prefix/share/rproc-tee/firmware" "$prefix/share/rproc-tee" 2>/dev/null || true
    kit="$prefix/export-ta_x86_64"
    for f in "$root"/Kit/mk/*.mk; do rm -f "$kit/mk/$(basename "$f")"; done
    for f in "$root"/Kit/include/*.h; do rm -f "$kit/include/$(basename "$f")" "$kit/host_include/$(basename "$f")"; done
    for f in "$root"/Kit/src/*.c; do rm -f "$kit/src/$(basename "$f")"; done
    rm -f "$kit/keys/default_ta.pem" "$kit/keys/default_ta.pub.pem" "$kit/keys/default_ta_enc.key" "$kit/keys/README.md" "$kit/scripts/sign_encrypt" "$kit/host_include/conf.h" "$kit/host_include/conf.mk" \
        "$kit/host_include/conf.cmake" "$kit/lib/libutee.so" "$kit/lib/libdl.a"
    for d in mk include src keys scripts host_include lib; do rmdir "$kit/$d" 2>/dev/null || true; done
    rmdir "$kit" "$prefix/lib/optee_armtz" 2>/dev/null || true
    echo "removed from $prefix: $files, lib/swift, export-ta_x86_64, share/rproc-tee"
    ;;
*)
    echo "usage: install.sh install|uninstall PREFIX [BUILD_DIR]" >&2
    exit 64
    ;;
esac
