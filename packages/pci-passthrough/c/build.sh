#!/usr/bin/env bash
# Builds the guest side of PCI passthrough for xen-pv into ../build/xen-pv/libpcix.a:
# the pcix services (config space, BARs, pirq interrupts, DMA), rumpcomp_pci_* and the
# NetBSD-shaped MD layer. Needs the guest kernel's headers (minios-binding/c/include) and the
# generated pci_user.h (hypercall-api/include).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$(dirname "$here")"
# Include dirs and flags come from the packages' public exports (both are dependencies, built first).
resolve() { # package, expression over the module `m`
	(cd "$pkg" && node --input-type=module -e "import('$1').then((m) => console.log($2))") || {
		echo "pci-passthrough: cannot import $1 to read its include dir or flags; build it first (npx nx run $1:build)" >&2
		exit 1
	}
}
mk_include="$(resolve @rumpxen/minios-binding m.guestIncludeDir)"
api_include="$(resolve @rumpxen/hypercall-api m.hypercallApiArtifacts.includeDir)"
CC="${CC:-gcc}"
AR="${AR:-ar}"

if [[ ! -f "$api_include/pci_user.h" ]]; then
	echo "pci-passthrough: $api_include/pci_user.h is missing; build @rumpxen/hypercall-api first (npx nx run @rumpxen/hypercall-api:build)" >&2
	exit 1
fi
if [[ ! -f "$mk_include/mk/arch.h" ]]; then
	echo "pci-passthrough: the guest kernel headers ($mk_include/mk) are missing; build @rumpxen/minios-binding first (npx nx run @rumpxen/minios-binding:build)" >&2
	exit 1
fi

# pcix runs as part of the guest kernel: the xen-pv target's kernelCflags (the guest toolchain
# contract), then this build's own choices and the include dirs.
contract="$(resolve @rumpxen/minios-binding "m.xenPvTarget.kernelCflags.join('\\n')")"
mapfile -t kernel_flags <<<"$contract"
flags=("${kernel_flags[@]}" -std=gnu11 -O2 -g -fno-asynchronous-unwind-tables -Wall -Wextra -Werror
	-isystem "$($CC -print-file-name=include)" -I "$here/include" -I "$mk_include" -I "$api_include")

mkdir -p "$pkg/build"
out="$pkg/build/xen-pv"
tmp="$(mktemp -d "$pkg/build/.tmp-pcix.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
objs=()
for src in "$here"/src/*.c; do
	obj="$tmp/$(basename "$src" .c).o"
	"$CC" "${flags[@]}" -c "$src" -o "$obj"
	objs+=("$obj")
done
"$AR" rcs "$tmp/libpcix.a" "${objs[@]}"
mkdir -p "$out"
mv -f "$tmp/libpcix.a" "$out/libpcix.a"
echo "pci-passthrough: built $out/libpcix.a" >&2
