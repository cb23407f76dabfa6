#!/usr/bin/env bash
# Prints how fast edgectl validates and compiles generated repositories:
# wall time and peak memory of the real binary (best of RUNS), and
# allocations per compile from the Go benchmark.
#
#   hack/bench.sh                 # 1k and 10k routes
#   ROUTES="1000 10000 50000" RUNS=5 hack/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."

ROUTES=${ROUTES:-"1000 10000"}
RUNS=${RUNS:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/edgectl" ./cmd/edgectl
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "bench: needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }

# Allocations per compile, from BenchmarkCompile (1k and 10k routes).
declare -A allocs bytes
while read -r name _ _ _ b _ a _; do
	n=${name#BenchmarkCompile/routes=}; n=${n%%-*}
	allocs[$n]=$a; bytes[$n]=$b
done < <(go test ./pkg/compile -run '^$' -bench 'BenchmarkCompile' -benchtime 3x -benchmem | grep '^BenchmarkCompile')

printf '%-8s %-6s %-10s %-12s %-14s %-10s\n' routes files wall allocs/op alloc-MB/op peak-RSS
for n in $ROUTES; do
	repo="$work/repo-$n"
	go run ./hack/genrepo -routes "$n" -o "$repo" >/dev/null
	files=$(find "$repo" -type f | wc -l)
	best="" peak=""
	for _ in $(seq "$RUNS"); do
		out=$($TIME -f '%e %M' "$work/edgectl" compile "$repo" -o "$work/out-$n" 2>&1 >/dev/null | tail -1)
		read -r secs kb <<<"$out"
		if [[ -z $best ]] || awk "BEGIN{exit !($secs < $best)}"; then best=$secs; peak=$kb; fi
	done
	a=${allocs[$n]:--} b=${bytes[$n]:--}
	[[ $b != - ]] && b=$((b / 1048576))
	printf '%-8s %-6s %-10s %-12s %-14s %-10s\n' "$n" "$files" "${best}s" "$a" "$b" "$((peak / 1024))MB"
done
echo
echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
echo "wall and peak RSS: 'edgectl compile' (validate + compile + write), best of $RUNS; allocations: go test -bench BenchmarkCompile"
