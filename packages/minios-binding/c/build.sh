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
# @rumpxen/protocol's C headers (rumpxen/xen_note.h, for mk/elfnote.h), from its public export.
protocol_include="$(cd "$pkg" && node --input-type=module -e \
	"import('@rumpxen/protocol').then((m) => console.log(m.protocolIncludeDir))")" || {
	echo "minios-binding: cannot import @rumpxen/protocol to find its include dir; build it first (npx nx run @rumpxen/protocol:build)" >&2
	exit 1
}
# The compiler's own freestanding headers (stddef.h, stdint.h) for rumpuser, which -nostdinc drops.
compiler_include="$(cd "$pkg" && node --input-type=module -e \
	"import('@rumpxen/protocol').then((m) => console.log(m.compilerIncludeDir(process.env.CC || undefined))).catch((e) => {
		console.error('minios-binding: ' + e.message); process.exit(1); })")"
# Guest C is compiled by @rumpxen/protocol's compile module, the one build of it ($CC, default
# gcc, and $AR; in parallel up to the CPU count; each file under a temp name, then renamed; a
# failed compile named with the compiler's first lines):
#   guest_cc OUT FLAGS... -- SOURCES... [-- OBJECTS...]
# OUT a folder: the objects (named for their path under c/, / as _) are printed, one a line.
# OUT an archive (*.a): the compiled sources, then OBJECTS, archived with ar rcs.
guest_cc() {
	(cd "$pkg" && node --input-type=module -e "
		import('@rumpxen/protocol').then((m) => m.runGuestBuild(process.argv.slice(1))).then(
			(made) => console.log(made.join('\n')),
			(e) => { console.error('minios-binding: ' + e.message); process.exit(1); })" -- "$here" "$@")
}

# The guest toolchain contract: a target's kernelCflags, from this package's target
# definitions (src/targets.ts, which take them from @rumpxen/protocol), read from dist/: the
# package build runs tsup before this script.
kernel_cflags() { # target name
	(cd "$pkg" && RUMPXEN_TARGET="$1" node --input-type=module -e \
		"import('@rumpxen/minios-binding').then((m) => console.log([m.xenPvTarget, m.xenPvhTarget].find((t) => t.name === process.env.RUMPXEN_TARGET).kernelCflags.join('\\n')))") || {
		echo "minios-binding: cannot read target $1's kernelCflags from this package's dist/; build it with \`npx nx run @rumpxen/minios-binding:build\`" >&2
		exit 1
	}
}
# This build's own choices on top of the contract: language, optimisation, debug info, no
# unwind tables, warnings as errors, the kernel's headers.
common_flags=(-std=gnu11 -O2 -g -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -I "$here/include")
common_flags+=(-I "$protocol_include")

build_target() {
	local target="$1" arch_dir="$2" entry="$3"; shift 3
	local contract kernel_flags
	contract="$(kernel_cflags "$target")"
	mapfile -t kernel_flags <<<"$contract"
	local flags=("${kernel_flags[@]}" "${common_flags[@]}" "$@")
	local out="$pkg/build/$target" tmp
	tmp="$(mktemp -d "$pkg/build/.tmp-$target.XXXXXX")"
	# On a failed step too (set -e leaves by EXIT, not RETURN).
	trap "rm -rf '$tmp'" RETURN EXIT
	local sources=() src
	for src in "$here"/kern/*.c "$here"/arch/x86_64/*.c "$here"/arch/x86_64/"$arch_dir"/*.c \
		"$here"/arch/x86_64/*.S "$here"/arch/x86_64/"$arch_dir"/*.S; do
		[[ -e "$src" ]] || continue
		case "$(basename "$src")" in start.S) continue ;; esac
		sources+=("$src")
	done
	local made start
	local -a rumpuser
	made="$(guest_cc "$tmp" "${flags[@]}" -isystem "$compiler_include" -I "$api_include" -- "$here"/rumpuser/*.c)"
	mapfile -t rumpuser <<<"$made"
	start="$(guest_cc "$tmp" "${flags[@]}" -- "$here/arch/x86_64/$arch_dir/start.S")"
	guest_cc "$tmp/libmkernel.a" "${flags[@]}" -- "${sources[@]}" -- "${rumpuser[@]}" >/dev/null
	mv -f "$start" "$tmp/start.o"
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
