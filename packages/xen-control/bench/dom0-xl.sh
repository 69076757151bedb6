# Runs in the testbed's dom0 (busybox sh, dom0's own xl): the same measurements
# as dom0-addon.mjs through `xl create`.  Prints "first MS" per run and
# "loop COUNT MS" for each of three loops.  Arguments: KERNEL RUNS LOOP.
set -e
kernel="$1"; runs="$2"; loop="$3"
# busybox date has no %N: /proc/uptime gives 10 ms resolution, enough against xl's ~1 s.
now_ms() { read -r up _ </proc/uptime; echo $(( ${up%.*} * 1000 + 10 * 1${up#*.} - 1000 )); }
cfg() { # name cmdline
	printf 'name="%s"\ntype="pv"\nkernel="%s"\nmemory=16\ncmdline="%s"\non_poweroff="destroy"\non_crash="destroy"\n' "$1" "$kernel" "$2" >"/tmp/$1.cfg"
	echo "/tmp/$1.cfg"
}
gone() { while xl domid "$1" >/dev/null 2>&1; do sleep 0.05; done; }
one() { # name
	c=$(cfg "$1" "")
	t0=$(now_ms)
	xl create -c "$c" </dev/null 2>/dev/null | {
		IFS= read -r line
		t1=$(now_ms)
		echo "first $((t1 - t0))"
		cat >/dev/null
	}
	gone "$1"
}
one bench-xl-warmup >/dev/null
i=0
while [ "$i" -lt "$runs" ]; do
	one "bench-xl-$i"
	i=$((i + 1))
done
# The loop three times, as dom0-addon.mjs does: "loop COUNT MS" each.
for round in 1 2 3; do
	i=0
	t0=$(now_ms)
	while [ "$i" -lt "$loop" ]; do
		c=$(cfg "bench-xl-loop-$round-$i" hang)
		xl create "$c" >/dev/null 2>&1 || { echo "xl create $c failed" >&2; exit 1; }
		xl destroy "bench-xl-loop-$round-$i"
		i=$((i + 1))
	done
	t1=$(now_ms)
	echo "loop $loop $((t1 - t0))"
done
