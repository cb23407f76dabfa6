#!/usr/bin/env bash
# Makes sure an etcd and a kube-apiserver binary exist in a per-machine cache
# and prints that directory on stdout (and nothing else). Progress goes to
# stderr. internal/kubetest starts a real cluster from these binaries:
#
#   EDGECTL_KUBE_ASSETS="$(hack/kube/assets.sh)" go test ./...
#
# A cold build costs about 10 CPU-minutes and 3 GB of Go build cache; later
# runs return at once. Both binaries are built from the Go module proxy in a
# throw-away module, never inside this project's go.mod.
set -euo pipefail

KUBE_VERSION=v1.37.1
# Kubernetes publishes its staging modules (k8s.io/api, ...) as v0.<minor>.<patch>.
STAGING_VERSION=v0.37.1
ETCD_VERSION=v3.7.3

cache="${EDGECTL_KUBE_CACHE:-$HOME/.cache/edgectl/kube}/${KUBE_VERSION}"

# Keep stdout for the final path only: everything else, including the go
# tool's output, goes to stderr.
exec 3>&1 1>&2

ready() { [[ -x $cache/etcd && -x $cache/kube-apiserver ]]; }

if ready; then
	echo "$cache" >&3
	exit 0
fi

mkdir -p "$cache"

# Serialise concurrent runs (two CI jobs, two terminals): the second waits and
# then finds the binaries in place instead of building them again. flock(1) is
# util-linux; without it (macOS), concurrent runs just build twice.
exec 9>"$cache/.lock"
if command -v flock >/dev/null; then
	flock 9
fi
if ready; then
	echo "$cache" >&3
	exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/edgectl-kube-assets.XXXXXX")"
# On any exit, drop the work dir and any half-written binary.
trap 'rm -rf "$work"; rm -f "$cache/.etcd.tmp.$$" "$cache/.kube-apiserver.tmp.$$"' EXIT

# A go environment independent of the caller's: no workspace, no inherited
# GOFLAGS (e.g. -mod=vendor or -mod=readonly would break tidy), and -mod=mod so
# the throw-away modules may update their go.sum.
gocmd() {
	env GOWORK=off GOFLAGS=-mod=mod go "$@"
}

build_etcd() {
	local dir="$work/etcd"
	mkdir -p "$dir"
	echo "assets: building etcd ${ETCD_VERSION} (about 1.5 min cold)" >&2
	# "go install go.etcd.io/etcd/server/v3@..." refuses the module because its
	# go.mod has replace directives; a wrapper module with a tool directive works.
	cat >"$dir/go.mod" <<EOF
module edgectl.local/kube-assets/etcd

go 1.26

require go.etcd.io/etcd/server/v3 ${ETCD_VERSION}

tool go.etcd.io/etcd/server/v3
EOF
	(cd "$dir" && gocmd mod tidy && gocmd build -trimpath -ldflags '-s -w' \
		-o "$cache/.etcd.tmp.$$" go.etcd.io/etcd/server/v3)
	mv -f "$cache/.etcd.tmp.$$" "$cache/etcd"
}

build_kube_apiserver() {
	local dir="$work/kube-apiserver"
	mkdir -p "$dir"
	echo "assets: building kube-apiserver ${KUBE_VERSION} (about 10 CPU-minutes cold)" >&2

	# k8s.io/kubernetes points its staging modules at ./staging/... in its own
	# go.mod; a consumer must replace each with the published version.
	local gomod
	gomod="$(cd "$work" && gocmd mod download -json "k8s.io/kubernetes@${KUBE_VERSION}" |
		sed -n 's/^[[:space:]]*"GoMod":[[:space:]]*"\(.*\)",\{0,1\}[[:space:]]*$/\1/p')"
	if [[ -z $gomod || ! -f $gomod ]]; then
		echo "assets: cannot find go.mod of k8s.io/kubernetes@${KUBE_VERSION}" >&2
		exit 1
	fi
	local replaces
	# sample-cli-plugin and sample-controller are not published at v0.37.
	replaces="$(awk -v v="$STAGING_VERSION" '
		$1 ~ /^k8s\.io\// && $2 == "=>" && $3 ~ /^\.\/staging\// &&
		$1 != "k8s.io/sample-cli-plugin" && $1 != "k8s.io/sample-controller" {
			printf "replace %s => %s %s\n", $1, $1, v
		}' "$gomod")"
	if [[ -z $replaces ]]; then
		echo "assets: no staging replace lines found in $gomod" >&2
		exit 1
	fi
	echo "assets: $(wc -l <<<"$replaces") staging replace lines" >&2

	cat >"$dir/go.mod" <<EOF
module edgectl.local/kube-assets/kube-apiserver

go 1.26

require k8s.io/kubernetes ${KUBE_VERSION}

${replaces}

tool k8s.io/kubernetes/cmd/kube-apiserver
EOF
	# Without the version stamps the server reports v0.0.0.
	local ldflags="-s -w"
	ldflags+=" -X k8s.io/component-base/version.gitVersion=${KUBE_VERSION}"
	ldflags+=" -X k8s.io/component-base/version.gitMajor=1"
	ldflags+=" -X k8s.io/component-base/version.gitMinor=37"
	ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
	(cd "$dir" && gocmd mod tidy && gocmd build -trimpath -ldflags "$ldflags" \
		-o "$cache/.kube-apiserver.tmp.$$" k8s.io/kubernetes/cmd/kube-apiserver)
	mv -f "$cache/.kube-apiserver.tmp.$$" "$cache/kube-apiserver"
}

[[ -x $cache/etcd ]] || build_etcd
[[ -x $cache/kube-apiserver ]] || build_kube_apiserver

echo "assets: ready in $cache" >&2
echo "$cache" >&3
