#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks for building, testing and running the demo.
# Idempotent: installs only missing packages, so a second run takes a second.
set -euo pipefail

packages=(
  postgresql-15        # the database the agent runs (binaries in /usr/lib/postgresql/15/bin)
  etcd-server          # the cluster store (etcd 3.4)
  etcd-client          # etcdctl, for looking at the keys
  patroni python3-etcd # the real patronictl (and its etcd v3 client), for the compatibility tests
  clang zlib1g-dev binutils   # the Native AOT toolchain (clang also compiles native/sockmap for the bpf target)
  linux-libc-dev       # linux/bpf.h, for native/sockmap
  util-linux           # setpriv: PostgreSQL runs as the postgres user when the agent is root
  iproute2 nftables    # namespaces and partitions in the lab
  keepalived tcpdump iputils-ping   # the reference VRRP speaker, packet captures and ping in the namespace tests
  haproxy              # the reference proxy for the proxy benchmark (bench/README.md)
  procps curl ca-certificates
  libfuse3-dev fuse3 pkg-config gcc   # the FUSE watchdog emulator the watchdog device tests compile and mount
  mmdebstrap mtools dosfstools fdisk e2fsprogs zstd systemd-boot-efi   # `just image`: chroot, vfat, GPT, the boot loader
  qemu-system-x86 qemu-utils ovmf   # the image's VM tests (UEFI under QEMU) and its qcow2
  buildah                # the Dockerfile test (builds with --isolation=chroot, no daemon)
  prometheus           # promtool, which checks monitoring/ (scrape config, alert rules and their unit tests)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's packages start a default PostgreSQL cluster, an etcd and a Prometheus service; we run our own.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The packaged services are not ours: stop them if a service manager started them (no-op in containers).
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  systemctl disable --now etcd postgresql patroni haproxy prometheus >/dev/null 2>&1 || true
fi
echo "setup: ok (PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}'), $(etcd --version | head -1), $(dotnet --version | sed 's/^/.NET SDK /'))"
