#!/usr/bin/env bash
# `just image`: one bootable image for every role, from Debian 12 packages and our published AOT binaries.
#   out/appliance.raw        GPT disk for flashing: ESP (systemd-boot + a unified kernel image) and the root ext4
#   out/appliance.raw.zst    the same, packed
#   out/appliance.qcow2      for VMs (compressed clusters)
#   out/rootfs.tar           the root filesystem without kernel and modules: the base of the Dockerfile
# Needs root (the packages install in a chroot) but no loop device and no mount: the filesystems are
# built from folders (mkfs.ext4 -d, mtools) and the disk is assembled with sfdisk and dd.
# Environment: APPLIANCE_IMAGE_OUT (default image/out), APPLIANCE_IMAGE_MIRROR (default deb.debian.org;
# a snapshot.debian.org URL pins every package for a byte-for-byte rebuild), SOURCE_DATE_EPOCH.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${APPLIANCE_IMAGE_OUT:-$here/out}
mirror=${APPLIANCE_IMAGE_MIRROR:-http://deb.debian.org/debian}
bin=$repo/artifacts/bin
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct 2>/dev/null || date +%s)}
# Fixed identities: the same inputs give the same disk layout (the kernel command line names the root by them).
disk_uuid=6b1f0c52-3a4e-4c1d-9a57-5f0a7e1b2c01
esp_uuid=6b1f0c52-3a4e-4c1d-9a57-5f0a7e1b2c02
root_uuid=6b1f0c52-3a4e-4c1d-9a57-5f0a7e1b2c03
esp_mib=64
export MTOOLS_SKIP_CHECK=1

[ "$(id -u)" -eq 0 ] || { echo "image: building needs root (packages install in a chroot)" >&2; exit 1; }
for b in appliance-agent appliance-balancer appliancectl; do
  [ -x "$bin/$b" ] || { echo "image: $bin/$b is missing: run 'just publish' first" >&2; exit 1; }
done
started=$(date +%s)
step() { echo "image: [$(( $(date +%s) - started ))s] $*"; }

root=$out/rootfs
rm -rf "$root" "$out/work"
mkdir -p "$out/work"
work=$out/work

# 1. The root filesystem: minbase plus what a node runs, without docs, man pages or locales. Debian's default
#    PostgreSQL cluster is never created; the initrd is small from the start (conf.d/appliance).
step "debootstrap: $(grep -cv '^\s*\(#\|$\)' "$here/packages.txt") packages from $mirror"
packages=$(grep -v '^\s*\(#\|$\)' "$here/packages.txt" | awk '{print $1}' | paste -sd, -)
mmdebstrap --variant=minbase --mode=root --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/i18n/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' --dpkgopt='force-confold' \
  --essential-hook='mkdir -p "$1/etc/postgresql-common" && echo "create_main_cluster = false" > "$1/etc/postgresql-common/createcluster.conf"' \
  --essential-hook="cp -a '$here/rootfs/etc/initramfs-tools' \"\$1/etc/\"" \
  --aptopt='Acquire::Languages "none"' \
  bookworm "$root" "$mirror" >"$work/mmdebstrap.log" 2>&1 \
  || { tail -30 "$work/mmdebstrap.log" >&2; echo "image: mmdebstrap failed (log: $work/mmdebstrap.log)" >&2; exit 1; }

# 2. Ours: the binaries, the units, the set-up, the defaults.
step "installing the appliance"
install -m 0755 "$bin/appliance-agent" "$bin/appliance-balancer" "$bin/appliancectl" "$root/usr/bin/"
cp -a "$here/rootfs/." "$root/"
chroot "$root" useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin appliance-balancer
chroot "$root" systemctl enable appliance-setup.service systemd-networkd.service systemd-timesyncd.service >/dev/null
# The distro's own units run the wrong things: we run etcd and PostgreSQL through our roles.
chroot "$root" systemctl mask etcd.service postgresql.service proc-sys-fs-binfmt_misc.automount >/dev/null
echo "appliance" > "$root/etc/hostname"
printf 'NAME="Appliance"\nID=appliance\nID_LIKE=debian\nVERSION_ID=%s\nPRETTY_NAME="Appliance (PostgreSQL HA) %s"\n' \
  "$(git -C "$repo" describe --always 2>/dev/null || echo dev)" "$(git -C "$repo" describe --always 2>/dev/null || echo dev)" > "$root/etc/appliance-release"
# No password anywhere: the console gives root a shell only with systemd's emergency mode.
chroot "$root" passwd -l root >/dev/null

# 3. Trim: the LLVM JIT goes with llvmjit.so (PostgreSQL runs without JIT), the modules a VM or a server does
#    not need, apt's caches, the default cluster and logs.
step "trimming"
kver=$(ls "$root/usr/lib/modules")
"$here/trim-modules.sh" "$root/usr/lib/modules/$kver" "$here/modules.keep"
chroot "$root" depmod "$kver"
rm -rf "$root"/usr/lib/postgresql/15/lib/llvmjit* "$root"/usr/lib/postgresql/15/lib/bitcode
chroot "$root" dpkg --purge --force-depends libllvm14 libz3-4 >/dev/null 2>&1
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old "$root"/var/log/* \
  "$root"/var/lib/postgresql/* "$root"/etc/machine-id "$root"/var/lib/dbus/machine-id
touch "$root/etc/machine-id"   # empty: systemd makes a new one at first boot

# 4. The kernel and a small initrd (only the listed modules) in one unified kernel image behind systemd-boot.
step "initrd and unified kernel image"
chroot "$root" update-initramfs -c -k "$kver" >"$work/initramfs.log" 2>&1 || { cat "$work/initramfs.log" >&2; exit 1; }
cmdline="root=PARTUUID=$root_uuid rw console=tty0 console=ttyS0,115200 panic=10 systemd.show_status=error"
echo "$cmdline" > "$work/cmdline"
cp "$root/etc/appliance-release" "$work/os-release"
stub=$root/usr/lib/systemd/boot/efi/linuxx64.efi.stub
[ -f "$stub" ] || stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub
# systemd 252's stub has no ukify: the sections go at the addresses its documentation gives.
objcopy \
  --add-section .osrel="$work/os-release" --change-section-vma .osrel=0x20000 \
  --add-section .cmdline="$work/cmdline" --change-section-vma .cmdline=0x30000 \
  --add-section .linux="$root/boot/vmlinuz-$kver" --change-section-vma .linux=0x2000000 \
  --add-section .initrd="$root/boot/initrd.img-$kver" --change-section-vma .initrd=0x3000000 \
  "$stub" "$work/appliance.efi"
rm -rf "$root"/boot/* "$root"/vmlinuz* "$root"/initrd.img*

# 5. The container base: everything but the kernel, its modules and the boot-time set-up.
step "rootfs.tar (the Dockerfile's base)"
tar --numeric-owner --sort=name --mtime="@$SOURCE_DATE_EPOCH" -C "$root" \
  --exclude=./usr/lib/modules --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* -cf "$out/rootfs.tar" .

# 6. The ESP (vfat, written with mtools) and the root (ext4 from the folder): no mount.
step "filesystems"
esp=$work/esp.img
rm -f "$esp"
mkfs.vfat -C -n ESP -i 6b1f0c52 "$esp" $((esp_mib * 1024)) >/dev/null
mmd -i "$esp" ::/EFI ::/EFI/BOOT ::/EFI/systemd ::/EFI/Linux ::/loader
mcopy -i "$esp" /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$esp" /usr/lib/systemd/boot/efi/systemd-bootx64.efi ::/EFI/systemd/systemd-bootx64.efi
mcopy -i "$esp" "$work/appliance.efi" ::/EFI/Linux/appliance.efi
printf 'timeout 0\ndefault appliance*\neditor no\n' > "$work/loader.conf"
mcopy -i "$esp" "$work/loader.conf" ::/loader/loader.conf
used_mib=$(du -sm --exclude=./proc --exclude=./sys "$root" | awk '{print $1}')
root_mib=$(( used_mib * 13 / 10 + 256 ))
rootimg=$work/root.img
rm -f "$rootimg"
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -L appliance-root -U "$root_uuid" -E hash_seed="$root_uuid" \
  -d "$root" "$rootimg" "${root_mib}M"

# 7. The GPT disk: ESP then root (the discoverable-partitions type), assembled with dd.
step "disk (root ${root_mib} MiB, ${used_mib} MiB used)"
raw=$out/appliance.raw
total_mib=$((1 + esp_mib + root_mib + 1))
rm -f "$raw"
truncate -s "${total_mib}M" "$raw"
sfdisk -q "$raw" <<EOF
label: gpt
label-id: $disk_uuid
start=1MiB, size=${esp_mib}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=$esp_uuid, name="ESP"
start=$((1 + esp_mib))MiB, size=${root_mib}MiB, type=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709, uuid=$root_uuid, name="appliance-root"
EOF
dd if="$esp" of="$raw" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$rootimg" of="$raw" bs=1M seek=$((1 + esp_mib)) conv=notrunc,sparse status=none

step "qcow2 and packed raw"
qemu-img convert -c -O qcow2 "$raw" "$out/appliance.qcow2"
zstd -q -f -T0 -10 "$raw" -o "$out/appliance.raw.zst"
rm -rf "$work"

mib() { echo "$(( ($(stat -c %s "$1") + 524287) / 1048576 )) MiB"; }
step "done in $(( $(date +%s) - started )) s"
echo "image: appliance.raw $(mib "$raw") (${used_mib} MiB of files), appliance.raw.zst $(mib "$out/appliance.raw.zst"), appliance.qcow2 $(mib "$out/appliance.qcow2"), rootfs.tar $(mib "$out/rootfs.tar") in $out"
