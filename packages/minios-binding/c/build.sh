#!/usr/bin/env bash
# Builds the guest kernel for xen-pv and xen-pvh into ../build/<target>/:
#   start.o (entry object, linked first), libmkernel.a (kernel + rumpuser), image.lds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pkg="$(dirname "$here")"
# The generated rumpuser headers, from @rumpxen/hypercall-api's public exports.
api_include="$(cd "$pkg" && node --input-type=module -e \
	"import('@rumpxen/hypercall-api').then((m) => console.log(m.hypercallApiArtifacts.includeDir))")" || {
	echo "minios-binding: cannot import @rumpxen/hypercall-api to find its include dir; build it first (npx nx run @rumpxen/hypercall-api:build)" >&2
	exit 1
}
CC="${CC:-gcc}"
AR="${AR:-ar}"

common_flags=(-std=gnu11 -O2 -g -ffreestanding -fno-builtin -nostdinc -nostdlib
	-mno-red-zone -fno-pic -fno-pie -mcmodel=small -fno-stack-protector -fstack-clash-protection
	-fno-omit-frame-pointer -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns
	-mgeneral-regs-only -Wall -Wextra -Werror -I "$here/include")

build_target() {
	local target="$1" arch_dir="$2" entry="$3"; shift 3
	local extra=("$@")
	local out="$pkg/build/$target" tmp
	tmp="$(mktemp -d "$pkg/build/.tmp-$target.XXXXXX")"
	trap 'rm -rf "$tmp"' RETURN
	local objs=()
	local src
	for src in "$here"/kern/*.c "$here"/arch/x86_64/*.c "$here"/arch/x86_64/"$arch_dir"/*.c \
		"$here"/arch/x86_64/*.S "$here"/arch/x86_64/"$arch_dir"/*.S; do
		[[ -e "$src" ]] || continue
		case "$(basename "$src")" in start.S) continue ;; esac
		local obj="$tmp/$(echo "${src#$here/}" | tr / _).o"
		"$CC" "${common_flags[@]}" "${extra[@]}" -c "$src" -o "$obj"
		objs+=("$obj")
	done
	for src in "$here"/rumpuser/*.c; do
		local obj="$tmp/rumpuser_$(basename "$src").o"
		"$CC" "${common_flags[@]}" "${extra[@]}" -isystem "$($CC -print-file-name=include)" -I "$api_include" -c "$src" -o "$obj"
		objs+=("$obj")
	done
	"$CC" "${common_flags[@]}" "${extra[@]}" -c "$here/arch/x86_64/$arch_dir/start.S" -o "$tmp/start.o"
	"$AR" rcs "$tmp/libmkernel.a" "${objs[@]}"
	sed "s/@ENTRY@/$entry/" "$here/xen.lds" > "$tmp/image.lds"
	mkdir -p "$out"
	for f in start.o libmkernel.a image.lds; do mv -f "$tmp/$f" "$out/$f"; done
	echo "minios-binding: built $target into $out" >&2
}

if [[ ! -f "$api_include/rumpuser.h" || ! -f "$api_include/rumpxen/netbsd_errno.h" ]]; then
	echo "minios-binding: $api_include/rumpuser.h (or rumpxen/netbsd_errno.h) is missing;" \
		"it is generated: run \`npx nx run @rumpxen/hypercall-api:build\` first" >&2
	exit 1
fi
mkdir -p "$pkg/build"
build_target xen-pv pv mk_start -DMK_PV_FRAME
build_target xen-pvh pvh mk_pvh_start
