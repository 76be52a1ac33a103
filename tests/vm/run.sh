#!/usr/bin/env bash
# Boots booth inside a small qemu VM whose kernel has real (virtual) devices: vivid, the
# kernel's V4L2 test camera, and snd-aloop, an ALSA loopback card. Used by tests/vm.rs.
#
#   tests/vm/run.sh BOOTH_BINARY INPUT_DIR OUTPUT_DIR
#
# INPUT_DIR is copied to /in in the guest (test signals). The guest runs tests/vm/guest.sh,
# which writes one folder per scenario under /out; those come back to OUTPUT_DIR/guest through a
# second virtual disk holding a plain tar archive (no filesystem to mount on either side).
# OUTPUT_DIR/console.log is the serial console. Exits non-zero, saying why, when the VM could
# not be built or booted, or did not finish; what the scenarios did is for the caller to judge.
#
# Cached under $BOOTH_VM_CACHE (default: .cache/vm in the checkout), keyed by what went in:
#   kernel/<package>/       vmlinuz and the modules the guest loads, from the Debian kernel
#                           package that linux-image-amd64 depends on (apt-get download)
#   base-<hash>.cpio.gz     busybox, the modules, v4l2-ctl and aplay with their libraries
# Only booth itself, its libraries and the scripts are packed on every run (a few seconds).
#
# KVM does not work on these machines (they are VMs themselves), so qemu emulates the CPU
# (TCG): slower, but the stock kernel boots in about 2 s. qemu is always run under `timeout`,
# because a wedged guest otherwise pauses forever.
set -euo pipefail

die() {
    printf 'vm: error: %s\n' "$*" >&2
    exit 1
}
say() { printf 'vm: %s\n' "$*" >&2; }

(($# == 3)) || die "usage: $0 BOOTH_BINARY INPUT_DIR OUTPUT_DIR"
booth="$(realpath "$1")"
inputs="$(realpath "$2")"
out="$(realpath -m "$3")"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="${BOOTH_VM_CACHE:-$repo/.cache/vm}"
# The whole guest run, boot to power-off. Scenarios take about a minute under TCG.
vm_timeout="${BOOTH_VM_TIMEOUT:-420}"

[[ -x "$booth" ]] || die "$booth is not an executable"
[[ -d "$inputs" ]] || die "$inputs is not a folder"

need() { # program, Debian package
    command -v "$1" >/dev/null 2>&1 ||
        die "'$1' is missing (Debian package '$2'): run scripts/setup.sh test, which installs it."
}
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
need depmod kmod
need modprobe kmod
need dpkg-deb dpkg
need apt-get apt
need strip binutils
need ldd libc-bin
need gzip gzip
need tar tar
[[ -x /bin/busybox ]] || die "/bin/busybox is missing (Debian package 'busybox-static'): run scripts/setup.sh test."
need v4l2-ctl v4l-utils
need aplay alsa-utils
need script bsdutils

mkdir -p "$cache" "$out"
# Two test runs at once (two checkouts sharing a cache or a target folder) would build the
# same cache entries and write the same results: the second waits for the first.
need flock util-linux
exec 8>"$cache/.lock" 9>"$out/.lock"
flock 9
flock 8
scratch="$(mktemp -d "${TMPDIR:-/tmp}/booth-vm.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT

# --- The kernel ----------------------------------------------------------------------------------
# The modules the guest loads, each with its dependencies (modprobe --show-depends gives them in
# load order): the camera, the sound card, and the virtio disk that carries results out.
modules=(vivid snd-aloop virtio_pci virtio_blk)

kernel_pkg="$(apt-cache depends linux-image-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
if [[ -z "$kernel_pkg" ]]; then
    say "apt knows no linux-image-amd64: running apt-get update"
    apt-get update -q >/dev/null || die "apt-get update failed"
    kernel_pkg="$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')"
    [[ -n "$kernel_pkg" ]] || die "apt-cache finds no kernel package behind linux-image-amd64"
fi
kdir="$cache/kernel/$kernel_pkg"
if [[ ! -f "$kdir/ok" ]]; then
    say "fetching the kernel: $kernel_pkg"
    rm -rf "$kdir"
    mkdir -p "$scratch/deb" "$kdir/modules"
    # apt-get download writes to the current folder; _apt cannot write to our scratch folder
    # and says so, harmlessly, so its warning is dropped.
    if ! (cd "$scratch/deb" && apt-get download -q "$kernel_pkg" 2>/dev/null >&2); then
        say "download failed: running apt-get update and trying again"
        apt-get update -q >/dev/null || die "apt-get update failed"
        (cd "$scratch/deb" && apt-get download -q "$kernel_pkg" >&2) ||
            die "apt-get download $kernel_pkg failed"
    fi
    dpkg-deb -x "$scratch"/deb/*.deb "$scratch/root"
    kver="$(ls "$scratch/root/lib/modules")"
    [[ -n "$kver" && -d "$scratch/root/lib/modules/$kver" ]] || die "no modules in $kernel_pkg"
    # The package ships no modules.dep (the postinst makes it): make one.
    depmod -b "$scratch/root" "$kver"
    for m in "${modules[@]}"; do
        modprobe -d "$scratch/root" -S "$kver" --show-depends "$m" ||
            die "modprobe cannot resolve module $m in $kernel_pkg"
    done | awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++' >"$scratch/order"
    while read -r ko; do
        cp "$ko" "$kdir/modules/"
        basename "$ko" >>"$kdir/modules/order"
    done <"$scratch/order"
    cp "$scratch/root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
    echo "$kver" >"$kdir/version"
    rm -rf "$scratch/root" "$scratch/deb"
    touch "$kdir/ok"
fi
# Compressed modules would need an insmod that decompresses; this kernel's are plain .ko.
grep -qv '\.ko$' "$kdir/modules/order" && die "unexpected module names in $kdir/modules/order"

# --- Helper programs for the guest ------------------------------------------------------------
# Copies a program and every shared library ldd lists (and the loader) into $1.
copy_with_libs() {
    local root="$1" bin="$2" dest="$3" lib
    mkdir -p "$root$(dirname "$dest")"
    cp -L "$bin" "$root$dest"
    ldd "$bin" | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' | while read -r lib; do
        mkdir -p "$root$(dirname "$lib")"
        cp -Ln "$lib" "$root$lib"
    done
}

helpers=(/usr/bin/v4l2-ctl /usr/bin/aplay /usr/bin/arecord /usr/bin/script)
versions="$(dpkg-query -W -f='${Package}=${Version}\n' busybox-static v4l-utils alsa-utils libasound2 libc6 libstdc++6 2>/dev/null | sort)"
base_key="$(printf '%s\n' "$kernel_pkg" "$versions" "${modules[*]}" "format 2" | sha256sum | cut -c1-16)"
base="$cache/base-$base_key.cpio.gz"
if [[ ! -f "$base" ]]; then
    say "building the base initramfs"
    root="$scratch/base"
    mkdir -p "$root"/{bin,sbin,lib/x86_64-linux-gnu,lib64,usr/bin,usr/share,modules,dev,proc,sys,tmp,in,out,run}
    ln -s lib "$root/usr/lib"
    cp /bin/busybox "$root/bin/busybox"
    for applet in $(/bin/busybox --list); do
        [[ -e "$root/bin/$applet" ]] || ln -s busybox "$root/bin/$applet"
    done
    for h in "${helpers[@]}"; do
        copy_with_libs "$root" "$h" "$h"
    done
    # ALSA's library parses device names such as hw:Loopback,1,0 with its configuration.
    cp -r /usr/share/alsa "$root/usr/share/alsa"
    cp "$kdir"/modules/*.ko "$kdir/modules/order" "$root/modules/"
    (cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) | gzip -6 >"$base.tmp"
    mv "$base.tmp" "$base"
    # Older bases are for other kernels or helper versions.
    find "$cache" -maxdepth 1 -name 'base-*.cpio.gz' ! -name "base-$base_key.cpio.gz" -delete
fi

# --- This run: booth, its libraries, the guest scripts and inputs -----------------------------
root="$scratch/run"
mkdir -p "$root/bin" "$root/in"
# Debug information is 90% of the binary and is never read in the guest.
strip -o "$scratch/booth" "$booth"
copy_with_libs "$root" "$scratch/booth" /bin/booth
cp "$here/guest.sh" "$root/init"
chmod 755 "$root/init"
cp -r "$inputs/." "$root/in/"
(cd "$root" && find . -print0 | sort -z | cpio --null -o -H newc --quiet) | gzip -1 >"$scratch/run.cpio.gz"
# The kernel unpacks concatenated archives in order, later files replacing earlier ones. A
# compressed archive may end anywhere; zero padding to 4 bytes is skipped by the kernel.
cp "$base" "$scratch/initrd"
truncate -s "%4" "$scratch/initrd"
cat "$scratch/run.cpio.gz" >>"$scratch/initrd"

# --- Boot -------------------------------------------------------------------------------------
# The results disk: the guest writes a tar archive straight onto it. Sparse, so free.
rm -rf "$out/guest" "$out/console.log"
mkdir -p "$out/guest"
truncate -s 512M "$scratch/results.img"
say "booting $(cat "$kdir/version") under qemu (TCG), at most $vm_timeout s"
started=$SECONDS
set +e
timeout --kill-after=10 "$vm_timeout" qemu-system-x86_64 \
    -accel tcg -cpu max -smp 2 -m 1024 \
    -nographic -no-reboot -nic none -monitor none -serial stdio \
    -kernel "$kdir/vmlinuz" -initrd "$scratch/initrd" \
    -drive "file=$scratch/results.img,format=raw,if=virtio" \
    -append "console=ttyS0 rdinit=/init panic=-1 quiet loglevel=4" \
    </dev/null >"$out/console.log" 2>&1
rc=$?
set -e
say "the VM ran for $((SECONDS - started)) s (qemu exit $rc)"
if ((rc == 124 || rc == 137)); then
    tail -n 30 "$out/console.log" >&2
    die "the VM did not finish within $vm_timeout s (console: $out/console.log)"
fi
((rc == 0)) || {
    tail -n 30 "$out/console.log" >&2
    die "qemu failed (exit $rc; console: $out/console.log)"
}
tar -xf "$scratch/results.img" -C "$out/guest" 2>"$scratch/tar.err" || {
    cat "$scratch/tar.err" >&2
    tail -n 30 "$out/console.log" >&2
    die "the guest left no results archive (console: $out/console.log)"
}
[[ -f "$out/guest/done" ]] || {
    tail -n 30 "$out/console.log" >&2
    die "the guest did not finish its scenarios (console: $out/console.log)"
}
