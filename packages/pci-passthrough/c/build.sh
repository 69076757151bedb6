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
# The compiler's own freestanding headers (stddef.h, stdint.h), which -nostdinc drops.
compiler_include="$(resolve @rumpxen/protocol "m.compilerIncludeDir(process.env.CC || undefined)")"

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
	-isystem "$compiler_include" -I "$here/include" -I "$mk_include" -I "$api_include")

# Compiled and archived by @rumpxen/protocol's buildGuestArchive, the one build of guest C ($CC,
# default gcc, and $AR; in parallel up to the CPU count; objects and the archive under temp
# names, then renamed; a failed compile named with the compiler's first lines).
out="$pkg/build/xen-pv"
(cd "$pkg" && node --input-type=module -e "
	import('@rumpxen/protocol').then((m) => m.runGuestBuild(process.argv.slice(1))).catch((e) => {
		console.error('pci-passthrough: ' + e.message); process.exit(1); })" -- "$here/src" "$out/libpcix.a" "${flags[@]}" -- "$here"/src/*.c)
echo "pci-passthrough: built $out/libpcix.a" >&2
