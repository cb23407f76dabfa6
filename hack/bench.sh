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
RUNS=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/edgectl" ./cmd/edgectl
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "bench: needs /usr/bin/time (Debian package 'time')" >&2; exit 1; }

# Allocations per compile, from BenchmarkCompile (1k and 10k routes, plain
# and governed).
declare -A allocs bytes
while read -r name _ _ _ b _ a _; do
	key=${name#BenchmarkCompile/routes=}; key=${key%-*}
	allocs[$key]=$a; bytes[$key]=$b
done < <(go test ./pkg/compile -run '^$' -bench 'BenchmarkCompile' -benchtime 3x -benchmem | grep '^BenchmarkCompile')

# mean_of RUNS times: prints "mean-seconds peak-KB" of edgectl compile.
measure() {
	local repo=$1 out=$2 total=0 peak=0
	for _ in $(seq "$RUNS"); do
		read -r secs kb < <($TIME -f '%e %M' "$work/edgectl" compile "$repo" -o "$out" 2>&1 >/dev/null | tail -1)
		total=$(awk "BEGIN{print $total + $secs}")
		((kb > peak)) && peak=$kb
	done
	echo "$(awk "BEGIN{printf \"%.2f\", $total / $RUNS}") $peak"
}

printf '%-8s %-9s %-6s %-8s %-10s %-12s %-12s %-9s\n' routes variant files wall overhead allocs/op alloc-MB/op peak-RSS
for n in $ROUTES; do
	base=""
	for variant in plain governed; do
		repo="$work/repo-$n-$variant"
		flags=()
		[[ $variant == governed ]] && flags=(-governed)
		go run ./hack/genrepo -routes "$n" "${flags[@]}" -o "$repo" >/dev/null
		files=$(find "$repo" -type f | wc -l)
		read -r secs kb < <(measure "$repo" "$work/out-$n-$variant")
		over=-
		if [[ $variant == plain ]]; then base=$secs; else over=$(awk "BEGIN{printf \"%+.0f%%\", ($secs / $base - 1) * 100}"); fi
		key=$n; [[ $variant == governed ]] && key="$n/governed"
		a=${allocs[$key]:--} b=${bytes[$key]:--}
		[[ $b != - ]] && b=$((b / 1048576))
		printf '%-8s %-9s %-6s %-8s %-10s %-12s %-12s %-9s\n' "$n" "$variant" "$files" "${secs}s" "$over" "$a" "$b" "$((kb / 1024))MB"
	done
done
echo
echo "machine: $(nproc) cores, $(go version | cut -d' ' -f3), $(date -u +%Y-%m-%d)"
echo "wall: mean of $RUNS runs of 'edgectl compile' (validate + compile + write); peak RSS: the largest of them"
echo "governed: teams owning every file, 7 built-in and 5 repository policies (go run ./hack/genrepo -governed)"
echo "allocations: go test ./pkg/compile -bench BenchmarkCompile"
