#!/usr/bin/env bash
# Installs what booth needs on Debian 12 (bookworm), and only what is missing.
#
#   scripts/setup.sh [build|demo|bench|deb|test]     (default: test, which is everything)
#
#   build  what `cargo build` needs: libclang-dev (bindgen for the V4L2 camera bindings),
#          libasound2-dev and pkg-config (ALSA microphone via cpal), nasm (OpenH264's assembly,
#          about 3x faster encoding; the build fails without it, see scripts/cargo-build.sh)
#   demo   build + ffmpeg (ffprobe prints what the demo recorded)
#   bench  demo + curl (the upload figure compares booth with curl) + the test tus server
#   deb    build + what `make deb` and the package test use: cargo-deb 3.8.0 (`cargo install`,
#          a few minutes once, then found in ~/.cargo/bin), dpkg-dev (dpkg-shlibdeps, for the
#          package's library dependencies), lintian, systemd (systemd-analyze)
#   test   demo + deb + what the tests drive: pulseaudio, pulseaudio-utils (pactl), libasound2-plugins
#          (ALSA's pulse plugin, so ALSA's "default" device reaches a test PulseAudio daemon),
#          alsa-utils (arecord, and aplay in the test VM), tmux (terminal UI tests), curl; for the
#          VM that tests the camera and microphone code against the kernel's own virtual devices
#          (tests/vm.rs): qemu-system-x86, busybox-static, cpio, kmod (depmod, modprobe),
#          v4l-utils (v4l2-ctl), binutils (strip); and the test tus server: npm packages
#          @tus/server + @tus/file-store + proper-lockfile (locks shared by server processes)
#          in tests/tus-server (`npm ci` from the committed lock file when one is missing from
#          node_modules; needs node >= 20.19 and npm on the PATH)
#
# It runs apt-get (with sudo when not root) only when a package is missing; when everything is
# there it only asks dpkg, which takes well under a second. Rust itself (cargo, rustc, rustfmt,
# clippy) is not installed here: it comes from rustup and must already be on the PATH.
set -euo pipefail

readonly MIN_RUST="1.90"

say() { printf 'setup: %s\n' "$*"; }
die() {
    printf 'setup: error: %s\n' "$*" >&2
    exit 1
}

mode="${1:-test}"
build_pkgs=(make gcc pkg-config libclang-dev libasound2-dev nasm)
demo_pkgs=(ffmpeg)
deb_pkgs=(dpkg-dev lintian systemd)
test_pkgs=(pulseaudio pulseaudio-utils libasound2-plugins alsa-utils tmux curl
    qemu-system-x86 busybox-static cpio kmod v4l-utils binutils)
tus_server=false
cargo_deb=false
case "$mode" in
build) wanted=("${build_pkgs[@]}") ;;
demo) wanted=("${build_pkgs[@]}" "${demo_pkgs[@]}") ;;
bench) wanted=("${build_pkgs[@]}" "${demo_pkgs[@]}" curl) tus_server=true ;;
deb) wanted=("${build_pkgs[@]}" "${deb_pkgs[@]}") cargo_deb=true ;;
test | all)
    wanted=("${build_pkgs[@]}" "${demo_pkgs[@]}" "${deb_pkgs[@]}" "${test_pkgs[@]}")
    tus_server=true cargo_deb=true
    ;;
-h | --help)
    sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
*) die "unknown mode '$mode' (expected build, demo, bench, deb or test)" ;;
esac

# --- Rust toolchain: checked, never installed -------------------------------------------------
command -v cargo >/dev/null 2>&1 ||
    die "cargo is not on the PATH. Install Rust $MIN_RUST or newer with rustup (https://rustup.rs), then run this again."
command -v rustc >/dev/null 2>&1 || die "rustc is not on the PATH (install Rust with rustup)."
rust_version="$(rustc --version | awk '{print $2}')"
if [[ "$(printf '%s\n%s\n' "$MIN_RUST" "${rust_version%%-*}" | sort -V | head -n1)" != "$MIN_RUST" ]]; then
    die "rustc $rust_version is too old: booth needs Rust $MIN_RUST or newer (rustup update)."
fi
if [[ "$mode" == test || "$mode" == all ]]; then
    missing_components=()
    cargo fmt --version >/dev/null 2>&1 || missing_components+=(rustfmt)
    cargo clippy --version >/dev/null 2>&1 || missing_components+=(clippy)
    if ((${#missing_components[@]})); then
        if command -v rustup >/dev/null 2>&1; then
            say "adding Rust components: ${missing_components[*]}"
            rustup component add "${missing_components[@]}" ||
                die "could not add ${missing_components[*]}: run 'rustup component add ${missing_components[*]}'."
        else
            die "cargo ${missing_components[*]} missing: install the Rust components ${missing_components[*]} (rustup component add ${missing_components[*]})."
        fi
    fi
fi

# --- The test tus server (npm) -----------------------------------------------------------------
# Node comes from the machine (Debian 12's own nodejs is 18, too old for @tus/server 2.x).
readonly MIN_NODE="20.19.0"
tus_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/tus-server"
install_tus_server() {
    $tus_server || return 0
    local package missing_npm=()
    for package in @tus/server @tus/file-store proper-lockfile; do
        [[ -d "$tus_dir/node_modules/$package" ]] || missing_npm+=("$package")
    done
    ((${#missing_npm[@]} == 0)) && {
        say "the test tus server is installed ($tus_dir)"
        return 0
    }
    command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
        die "node and npm are needed for the test tus server: install Node.js $MIN_NODE or newer (with npm)."
    local v
    v="$(node --version)"
    v="${v#v}"
    [[ "$(printf '%s\n%s\n' "$MIN_NODE" "$v" | sort -V | head -n1)" == "$MIN_NODE" ]] ||
        die "node $v is too old for @tus/server 2.x: install Node.js $MIN_NODE or newer."
    say "running: npm ci in $tus_dir"
    (cd "$tus_dir" && npm ci --no-audit --no-fund --loglevel=error) ||
        die "npm ci in $tus_dir failed (is the npm registry reachable?)."
}

# --- cargo-deb (makes the Debian package) -------------------------------------------------------
# Pinned: the package test and `make deb` rely on how this version reads [package.metadata.deb].
readonly CARGO_DEB_VERSION="3.8.0"
install_cargo_deb() {
    $cargo_deb || return 0
    if [[ "$(cargo deb --version 2>/dev/null)" == "cargo-deb $CARGO_DEB_VERSION" ]]; then
        say "cargo-deb $CARGO_DEB_VERSION is installed"
        return 0
    fi
    say "running: cargo install cargo-deb --version $CARGO_DEB_VERSION --locked (a few minutes, once)"
    cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet ||
        die "cargo install cargo-deb failed (is crates.io reachable?)."
}

# --- Debian packages ----------------------------------------------------------------------------
command -v dpkg-query >/dev/null 2>&1 ||
    die "this is not a Debian-like system (no dpkg-query). Install the equivalents of: ${wanted[*]}"

# One dpkg-query call for all packages; a package dpkg has never heard of prints nothing.
declare -A status=()
while IFS=$'\t' read -r pkg st; do
    status["${pkg%%:*}"]="$st"
done < <(dpkg-query -W -f='${Package}\t${Status}\n' "${wanted[@]}" 2>/dev/null || true)

missing=()
for pkg in "${wanted[@]}"; do
    [[ "${status[$pkg]:-}" == "install ok installed" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    say "all ${#wanted[@]} Debian packages for '$mode' are installed"
    install_tus_server
    install_cargo_deb
    exit 0
fi

say "missing Debian packages: ${missing[*]}"
if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    # A password prompt is fine at a terminal; without one (CI) fail at once instead of hanging.
    if [[ -t 0 ]]; then as_root=(sudo); else as_root=(sudo -n); fi
else
    die "installing needs root: run as root, or install sudo, or run: apt-get install ${missing[*]}"
fi

apt_env=(env DEBIAN_FRONTEND=noninteractive)
sudo_word="${as_root[*]:+${as_root[*]} }"
say "running: ${sudo_word}apt-get update"
"${as_root[@]}" "${apt_env[@]}" apt-get update -q ||
    die "apt-get update failed (network, or sudo needs a password: run 'sudo true' first)."
say "running: ${sudo_word}apt-get install -y --no-install-recommends ${missing[*]}"
"${as_root[@]}" "${apt_env[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" ||
    die "apt-get install ${missing[*]} failed."

# Check again, so a package apt-get skipped cannot slip through.
still=()
for pkg in "${missing[@]}"; do
    st="$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)"
    [[ "$st" == "install ok installed" ]] || still+=("$pkg")
done
((${#still[@]} == 0)) || die "still not installed after apt-get: ${still[*]}"
say "installed: ${missing[*]}"
install_tus_server
install_cargo_deb
