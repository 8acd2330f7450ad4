#!/bin/sh
# Builds the probe programs `xemu binfmt status` embeds, from aarch64.S and
# arm.S, with Debian's cross binutils (binutils-aarch64-linux-gnu,
# binutils-arm-linux-gnueabihf). The output is committed; TestProbesRebuild
# runs this into a temporary directory and compares.
#   gen.sh [OUTDIR]
set -eu
src=$(dirname "$0")
out=${1:-$src}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
aarch64-linux-gnu-as -o "$tmp/aarch64.o" "$src/aarch64.S"
aarch64-linux-gnu-ld -static -n -s --build-id=none -o "$out/aarch64.elf" "$tmp/aarch64.o"
arm-linux-gnueabihf-as -meabi=5 -o "$tmp/arm.o" "$src/arm.S"
arm-linux-gnueabihf-ld -static -n -s --build-id=none -o "$out/arm.elf" "$tmp/arm.o"
