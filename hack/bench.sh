#!/usr/bin/env bash
# Prints how fast edgectl validates and compiles generated repositories:
# wall time (best and worst of RUNS) and peak memory of the real binary, and
# allocations per compile from the Go benchmark of the same layout.
#
#   hack/bench.sh                                   # the default layouts
#   LAYOUTS="routes=50000/vhosts=1" RUNS=5 hack/bench.sh
#
# A layout is named as BenchmarkCompile names it:
# routes=N[/vhosts=V][/files=F][/governed][/security], the flags of
# hack/genrepo; dialect=gatewayapi/routes=N is N HTTPRoutes (no allocations
# column: BenchmarkCompileGatewayAPI has those).
# On a shared machine the best run is the one to compare; the spread says
# how much the others got in the way.
set -euo pipefail
cd "$(dirname "$0")/.."

LAYOUTS=${LAYOUTS:-"routes=1000 routes=10000 routes=1000/governed routes=10000/governed routes=10000/governed/security routes=20000/vhosts=1 routes=20000/vhosts=1/files=20/governed routes=100000/files=20 routes=100000/vhosts=1/files=20 dialect=gatewayapi/routes=1000 dialect=gatewayapi/routes=10000"}
RUNS=${RUNS:-3}
BENCH=${BENCH:-1} # 0 skips the Go benchmark (allocations)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/edgectl" ./cmd/edgectl
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "bench: needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }

# Allocations per compile, from BenchmarkCompile (every layout it has; the
# table shows those in LAYOUTS).
declare -A allocs bytes
if [[ $BENCH == 1 ]]; then
	while read -r name _ _ _ b _ a _; do
		key=${name#BenchmarkCompile/}; key=${key%-*}
		allocs[$key]=$a; bytes[$key]=$b
	done < <(go test ./pkg/compile -run '^$' -bench '^BenchmarkCompile$' -benchtime 1x -benchmem | grep '^BenchmarkCompile')
fi

# measure REPO: prints "best-seconds worst-seconds peak-KB" of RUNS runs of
# edgectl compile.
measure() {
	local repo=$1 best="" worst=0 peak=0
	for i in $(seq "$RUNS"); do
		read -r secs kb < <($TIME -f '%e %M' "$work/edgectl" compile "$repo" --out-dir "$work/out" 2>&1 >/dev/null | tail -1)
		[[ -z $best ]] || awk "BEGIN{exit !($secs >= $best)}" || best=$secs
		[[ -n $best ]] || best=$secs
		awk "BEGIN{exit !($secs > $worst)}" && worst=$secs
		((kb > peak)) && peak=$kb
		rm -rf "$work/out"
	done
	echo "$best $worst $peak"
}

printf '%-42s %-6s %-8s %-8s %-12s %-12s %-9s\n' layout files best worst allocs/op alloc-MB/op peak-RSS
for layout in $LAYOUTS; do
	flags=()
	IFS=/ read -ra parts <<<"$layout"
	for p in "${parts[@]}"; do
		case $p in
		governed) flags+=(-governed) ;;
		security) flags+=(-security) ;;
		*=*) flags+=("-${p%%=*}" "${p#*=}") ;;
		esac
	done
	repo="$work/repo"
	rm -rf "$repo"
	go run ./hack/genrepo "${flags[@]}" -o "$repo" >/dev/null
	files=$(find "$repo" -type f | wc -l)
	read -r best worst kb < <(measure "$repo")
	a=${allocs[$layout]:--} b=${bytes[$layout]:--}
	[[ $b != - ]] && b=$((b / 1048576))
	printf '%-42s %-6s %-8s %-8s %-12s %-12s %-9s\n' "$layout" "$files" "${best}s" "${worst}s" "$a" "$b" "$((kb / 1024))MB"
done
echo
echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3), load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%d)"
echo "wall: best and worst of $RUNS runs of 'edgectl compile REPO --out-dir OUT' (validate + compile + write); peak RSS: the largest"
echo "layouts: go run ./hack/genrepo [-dialect gatewayapi] -routes N [-vhosts V] [-files F] [-governed] [-security]"
echo "allocations: go test ./pkg/compile -bench BenchmarkCompile -benchmem (one run)"
