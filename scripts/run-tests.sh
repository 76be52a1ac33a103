#!/usr/bin/env bash
# The checking half of `make test`, after the build: doc tests, every test target, then
# `cargo fmt --check` and clippy with -D warnings. Runs all of them even when one fails, then
# prints the lint result and, last, one line with the totals of every cargo test run, e.g.
#   lint: ok
#   tests: 42 passed, 0 failed
# and exits non-zero if anything failed.
set -uo pipefail

cargo="${CARGO:-cargo}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
failed=()

step() {
    local name="$1"
    shift
    printf '\n==> %s\n' "$*"
    "$@" 2>&1 | tee -a "$log" || failed+=("$name")
}

step "doc tests" "$cargo" test --doc
step "tests" "$cargo" test --all-targets --no-fail-fast
lint=ok
step "cargo fmt --check" "$cargo" fmt --check
step "clippy" "$cargo" clippy --all-targets -- -D warnings
for f in "${failed[@]}"; do
    [[ "$f" == "cargo fmt --check" || "$f" == clippy ]] && lint=failed
done

# "test result: ok. 12 passed; 0 failed; 0 ignored; ..." from every test binary.
totals="$(awk '/^test result:/ { p += $4; f += $6 } END { printf "%d passed, %d failed", p, f }' "$log")"
echo
if ((${#failed[@]})); then
    printf 'FAILED: %s\n' "${failed[*]}"
fi
printf 'lint: %s\n' "$lint"
printf 'tests: %s\n' "$totals"
((${#failed[@]} == 0))
