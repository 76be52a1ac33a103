#!/usr/bin/env bash
# cargo build, then make sure OpenH264 was compiled with its NASM assembly.
#
#   scripts/cargo-build.sh [cargo build arguments...]     e.g. --all-targets, --release
#
# openh264-sys2's build script does not fail when nasm is missing or fails: it prints
# "... not using any assembly." and builds a C-only encoder that is about 3x slower. This script
# takes the build script's out_dir from cargo's own messages (so it works with any
# CARGO_TARGET_DIR and profile), and fails if that output says so or if the assembly objects
# (e.g. satd_sad.o) are not there.
set -euo pipefail

die() {
    printf 'cargo-build: error: %s\n' "$*" >&2
    exit 1
}

cargo="${CARGO:-cargo}"
[[ -z "${OPENH264_NO_ASM+x}" ]] ||
    die "OPENH264_NO_ASM is set, which builds OpenH264 without assembly; unset it."
command -v nasm >/dev/null 2>&1 ||
    die "nasm is not installed (Debian package 'nasm'); run 'make build' or scripts/setup.sh build."

messages="$(mktemp)"
trap 'rm -f "$messages"' EXIT

# JSON messages go to stdout (kept), compiler diagnostics and progress to stderr as usual.
"$cargo" build --message-format=json-render-diagnostics "$@" >"$messages"

# Package ids look like "registry+https://...#openh264-sys2@0.9.9" (older cargo: "openh264-sys2 0.9.9 (...)").
out_dir="$(grep '"reason":"build-script-executed"' "$messages" |
    grep -E '[#"]openh264-sys2[@ ]' |
    sed -n 's/.*"out_dir":"\([^"]*\)".*/\1/p' | tail -n1)"
[[ -n "$out_dir" ]] ||
    die "cargo reported no openh264-sys2 build script run; cannot check that OpenH264 uses NASM."

output="$(dirname "$out_dir")/output"
fix="Install nasm (scripts/setup.sh build), then rebuild OpenH264 with: cargo clean -p openh264-sys2 && make build"
[[ -f "$output" ]] || die "missing $output (the openh264-sys2 build script's output)."
if grep -E "not using any assembly|NASM compilation disabled" "$output" >&2; then
    die "OpenH264 was built WITHOUT its NASM assembly (see $output). $fix"
fi
asm_object="$(find "$out_dir" -name '*satd_sad.o' -print -quit)"
[[ -n "$asm_object" ]] ||
    die "OpenH264's assembly objects (satd_sad.o) are missing from $out_dir. $fix"
printf 'cargo-build: OpenH264 built with NASM assembly (%s)\n' "$asm_object"
