#!/usr/bin/env bash
# Compiles the sockmap programs for the bpf target: `just bpf`, and the balancer's build (which embeds the
# object) runs it too. Pinned flags: BPF ISA v3 (kernel 5.1 and later), every warning an error.
# Usage: native/sockmap/build.sh [output.o]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/out/sockmap.o}"
mkdir -p "$(dirname "$out")"
clang -O2 -g -target bpf -mcpu=v3 -std=gnu11 -Wall -Wextra -Werror \
    -I/usr/include/x86_64-linux-gnu -I"$here" \
    -c "$here/sockmap.bpf.c" -o "$out"
