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
    mkdir -p "$prefix/share/rproc-tee/firmware" "$prefix/share/rproc-tee/keys"
    install -m 0644 "$root"/Keys/dev-*.pem "$prefix/share/rproc-tee/keys/"
    for elf in "$root"/Examples/firmware/build/*.elf; do
        [ -f "$elf" ] && install -m 0644 "$elf" "$prefix/share/rproc-tee/firmware/"
    done
    echo "installed in $prefix: $files, lib/swift (the Swift runtime), share/rproc-tee"
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
    echo "removed from $prefix: $files, lib/swift, share/rproc-tee"
    ;;
*)
    echo "usage: install.sh install|uninstall PREFIX [BUILD_DIR]" >&2
    exit 64
    ;;
esac
