# xemu: build, test and benchmark. Every target installs what it needs itself.
SHELL := /bin/bash
export PATH := /usr/local/go/bin:$(PATH)
UNICORN := $(CURDIR)/.cache/unicorn
# libunicorn.a needs --no-relax with Debian 12's linker (see cpu/engine.go).
export CGO_LDFLAGS_ALLOW := -Wl,--no-relax
export GOFLAGS := -ldflags=-linkmode=external
STATIC_LDFLAGS := -linkmode external -extldflags "-static -Wl,--no-relax"
APT_PACKAGES := gcc libc6-dev gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross \
	libc6-dev-armhf-cross gcc-arm-linux-gnueabi libc6-dev-armel-cross qemu-user busybox-static file \
	binutils-aarch64-linux-gnu binutils-arm-linux-gnueabihf debootstrap tmux hyperfine buildah

.PHONY: all deps build demo test bench vet clean fixtures

all: build

# Debian packages (once per change of this list: the stamp remembers), and Unicorn 2.1.4 unpacked into .cache.
# Every build checks that it is the exact Unicorn build cpu/tcgwrap.c was written
# for (version, sha256, symbols: pinned in .ci/unicorn).
deps: .cache/apt.stamp $(UNICORN)/VERSION
	@.ci/unicorn --check $(UNICORN)
.cache/apt.stamp: Makefile
	@mkdir -p .cache
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null; \
	fi
	@touch $@
$(UNICORN)/VERSION:
	.ci/unicorn $(UNICORN)

build: deps
	@mkdir -p bin
	go build -tags netgo,osusergo -ldflags '$(STATIC_LDFLAGS)' -o bin/xemu ./cmd/xemu

# Builds xemu and runs a freshly compiled AArch64 program with it.
demo: build
	@mkdir -p .cache/demo
	printf '#include <stdio.h>\nint main(int c, char **v) { printf("hello from %%s, an AArch64 program\\n", v[0]); return 0; }\n' > .cache/demo/hello.c
	aarch64-linux-gnu-gcc -static -O2 -o .cache/demo/hello .cache/demo/hello.c
	bin/xemu .cache/demo/hello

vet: deps
	go vet ./...
	@test -z "$$(gofmt -l .)" || { gofmt -l .; echo "gofmt: files above need formatting"; exit 1; }

# Real Debian arm64 and armhf binaries the tests run: busybox-static, a
# root file system (debootstrap's first stage) used as sysroot, and Python
# (python3.11-minimal with its run-time dependencies down to libc6, its own
# sysroot: the first stage has no Python; the armhf one goes into the
# image the buildah test builds).
PYTHON_DEBS := python3.11-minimal libpython3.11-minimal libexpat1 zlib1g libssl3 libc6 libgcc-s1 gcc-12-base
# Benchmark tools the first stage lacks (its libraries are there): xz and
# bzip2, run with the root file system as sysroot; for arm64 also Python with
# its standard library (import json), whose own sysroot this directory is.
BENCH_DEBS := xz-utils bzip2
# gcc -O2 -c for the compile benchmark (arm64): the driver, cc1, as, headers
# and the libraries they load, their own sysroot.
GCC_DEBS := gcc-12 cpp-12 gcc-12-base libgcc-12-dev binutils binutils-aarch64-linux-gnu binutils-common \
	libbinutils libctf0 libctf-nobfd0 libgprofng0 libjansson4 libisl23 libmpc3 libmpfr6 libgmp10 libzstd1 \
	zlib1g libstdc++6 libgcc-s1 libc6 libc6-dev linux-libc-dev libcrypt-dev libcrypt1
fixtures: deps
	.ci/debs arm64 .cache/arm64-debs busybox-static
	.ci/debs arm64 .cache/python-arm64 $(PYTHON_DEBS)
	.ci/rootfs arm64 .cache/rootfs-arm64
	.ci/debs armhf .cache/armhf-debs busybox-static
	.ci/rootfs armhf .cache/rootfs-armhf
	.ci/debs armhf .cache/python-armhf $(PYTHON_DEBS)
	.ci/debs arm64 .cache/benchtools-arm64 $(BENCH_DEBS) $(PYTHON_DEBS) libpython3.11-stdlib
	.ci/debs armhf .cache/benchtools-armhf $(BENCH_DEBS)
	.ci/debs arm64 .cache/gcc-arm64 $(GCC_DEBS)

test: build vet fixtures
	XEMU_STRICT=1 go test -count=1 -timeout 40m ./...

# QUICK=1: one run of each row (a few minutes); PROFILE=0: no perf profiles.
# qemu-user-static is unpacked, not installed (it conflicts with
# qemu-user-binfmt): qemu's side of the rows run through binfmt_misc in a
# chroot, where the dynamic qemu-aarch64 has no libraries.
bench: build fixtures
	.ci/debs amd64 .cache/qemu-static qemu-user-static
	QUICK=$(QUICK) PROFILE=$(PROFILE) go test -count=1 -run XXX -bench . -benchtime 1x -timeout 60m ./benchmarks/

clean:
	rm -rf bin .cache/demo
