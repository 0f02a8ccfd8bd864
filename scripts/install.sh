#!/bin/sh
# install.sh install|uninstall PREFIX BUILD_DIR
# Lays out (or removes exactly) what `make install` promises a C developer:
#   PREFIX/bin/rproc-tee, PREFIX/include/tee_client_api.h, tee_client_api_extensions.h and
#   tee_plugin_method.h (for tee-supplicant plugins),
#   PREFIX/lib/libteec.so.2 (+ libteec.so), PREFIX/lib/pkgconfig/teec.pc.
# The tests use the same script on the debug build, so the layout is checked in CI.
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
    echo "installed in $prefix: $files"
    ;;
uninstall)
    for f in $files; do rm -f "$prefix/$f"; done
    echo "removed from $prefix: $files"
    ;;
*)
    echo "usage: install.sh install|uninstall PREFIX [BUILD_DIR]" >&2
    exit 64
    ;;
esac
